// Package answer turns a clinical question into a structured, cited answer:
// it retrieves guideline text, runs the calculators the patient data allows,
// asks a local language model for a JSON answer over numbered sources, and
// checks every citation against what was retrieved. Without a model it
// answers extractively, labelled retrieval-only; without good evidence it
// abstains and says why.
package answer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/deid"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/predictors/scores"
	"github.com/orthocds/orthocds/rag"
)

// LLM is the language model the service asks.
type LLM interface {
	Name() string
	Complete(ctx context.Context, system, user string, onToken func(string) error) (string, error)
}

// Searcher is the batched retriever.
type Searcher interface {
	Search(ctx context.Context, qs []rag.Query) ([][]rag.Hit, error)
}

// Scope finds the specific clinical concepts a question names; a question
// that names none of the domain's concepts is out of scope unless its best
// hit matches strongly (a hospital's own document on another subject).
type Scope interface {
	DomainConcepts(text string) []string
}

// Auditor records what the system told whom. It receives IDs and hashes,
// never the question text.
type Auditor interface {
	Record(ctx context.Context, r AuditRecord) error
}

// AuditRecord is one answer in the audit trail.
type AuditRecord struct {
	At        time.Time `json:"at"`
	Principal string    `json:"principal"`
	Role      string    `json:"role"`
	Kind      string    `json:"kind"` // "answer"
	InputHash string    `json:"input_hash"`
	Mode      string    `json:"mode"`
	Model     string    `json:"model,omitempty"`
	// ModelDigest is the model's digest when the LLM reports one.
	ModelDigest string   `json:"model_digest,omitempty"`
	EntryIDs    []string `json:"entry_ids"`
}

// Modes of an answer.
const (
	ModeLLM           = "llm"
	ModeRetrievalOnly = "retrieval-only"
	ModeAbstained     = "abstained"
)

// Bounds.
const (
	MaxQuestionLen = 4000
	DefaultK       = 6
	MaxK           = 20
)

// Config tunes the service.
type Config struct {
	// StrongCosine is the dense similarity at which the best hit counts as
	// evidence even when the question names no domain concept.
	StrongCosine float64
	// ReplyTokens bounds the model's reply (num_predict); 0 is 1024.
	ReplyTokens int
}

// DefaultConfig holds thresholds measured on the built-in embedder: in-scope
// guideline questions score 0.09-0.37 and out-of-scope ones up to 0.21, so
// cosine alone cannot decide; the concept check does, and StrongCosine only
// admits near-verbatim matches.
var DefaultConfig = Config{StrongCosine: 0.45}

// Service answers questions.
type Service struct {
	search Searcher
	scope  Scope
	llm    LLM // nil: retrieval-only
	audit  Auditor
	cfg    Config
}

// New returns a Service. llm and audit may be nil.
func New(s Searcher, scope Scope, llm LLM, audit Auditor, cfg Config) *Service {
	return &Service{search: s, scope: scope, llm: llm, audit: audit, cfg: cfg}
}

// Request is a question with optional structured patient data.
type Request struct {
	Question string     `json:"question"`
	K        int        `json:"k,omitempty"`
	Filter   rag.Filter `json:"filter"`
	Patient  *Patient   `json:"patient,omitempty"`
	// LocalFirst ranks the hospital's own documents ahead of the
	// guidelines (the sidebar sets it when a card quotes one); a question
	// naming the hospital ("本院", "our protocol") does so by itself.
	LocalFirst bool `json:"local_first,omitempty"`
}

// Patient is structured, de-identified patient data. It has no field for
// names, IDs or dates by design.
type Patient struct {
	AgeYears          *float64 `json:"age_years,omitempty"`
	Sex               string   `json:"sex,omitempty"`
	WeightKg          *float64 `json:"weight_kg,omitempty"`
	TScore            *float64 `json:"t_score,omitempty"`
	FragilityFracture bool     `json:"fragility_fracture,omitempty"`
	FRAXMajorPercent  *float64 `json:"frax_major_percent,omitempty"`
	FRAXHipPercent    *float64 `json:"frax_hip_percent,omitempty"`
	CapriniItems      []string `json:"caprini_items,omitempty"`
}

// Item is one statement of an answer with the source IDs that support it.
type Item struct {
	Text      string   `json:"text"`
	Reasoning string   `json:"reasoning,omitempty"`
	Citations []string `json:"citations"`
	// Hospital marks a statement resting on the hospital's own documents
	// rather than a published guideline.
	Hospital bool `json:"hospital,omitempty"`
}

// Source is a retrieved entry shown with the answer.
type Source struct {
	N        int          `json:"n"`
	ID       string       `json:"id"`
	Kind     string       `json:"kind"`
	Title    string       `json:"title"`
	Quote    string       `json:"quote"`
	Citation rag.Citation `json:"citation"`
	// Page is the page of a hospital PDF the passage is on.
	Page int `json:"page,omitempty"`
	// Hospital marks the hospital's own document, not a published
	// guideline.
	Hospital   bool    `json:"hospital,omitempty"`
	Superseded bool    `json:"superseded,omitempty"`
	Score      float64 `json:"score"`
}

// Answer is the structured answer.
type Answer struct {
	Mode             string          `json:"mode"`
	Label            string          `json:"label"`
	Summary          Item            `json:"summary"`
	Diagnoses        []Item          `json:"diagnoses"`
	Tests            []Item          `json:"tests"`
	Treatments       []Item          `json:"treatments"`
	Quotes           []Item          `json:"quotes,omitempty"` // retrieval-only
	Calculations     []scores.Result `json:"calculations,omitempty"`
	Sources          []Source        `json:"sources"`
	DroppedCitations []string        `json:"dropped_citations,omitempty"`
	DroppedItems     int             `json:"dropped_items,omitempty"`
	AbstainReason    string          `json:"abstain_reason,omitempty"`
	// HospitalNote says which statements come from the hospital's own
	// documents, when any does.
	HospitalNote string `json:"hospital_note,omitempty"`
	Model        string `json:"model,omitempty"`
	LLMError     string `json:"llm_error,omitempty"`
	// LLMFailure is why a model's reply was not used: unreachable,
	// dropped, length, truncated or bad-reply (package llm).
	LLMFailure string `json:"llm_failure,omitempty"`
	// SourcesOmitted counts the lowest-ranked sources left out of the
	// model's prompt so that it fits the model's context.
	SourcesOmitted int    `json:"sources_omitted,omitempty"`
	Lang           string `json:"lang"`
	Disclaimer     string `json:"disclaimer"`
}

// Event is one server-sent event of a streamed answer.
type Event struct {
	Type string `json:"type"` // sources, token, error, answer
	Data any    `json:"data"`
}

// Validate checks a request and fills defaults.
func Validate(r *Request) error {
	switch n := utf8.RuneCountInString(r.Question); {
	case strings.TrimSpace(r.Question) == "":
		return orthocds.Invalid("/question", "must not be empty")
	case n > MaxQuestionLen:
		return orthocds.Invalid("/question", "%d characters; at most %d", n, MaxQuestionLen)
	}
	if r.K == 0 {
		r.K = DefaultK
	}
	if r.K < 1 || r.K > MaxK {
		return orthocds.Invalid("/k", "must be between 1 and %d", MaxK)
	}
	return rag.Validate([]rag.Query{{Text: r.Question, K: r.K, Filter: r.Filter}})
}

// Ask answers r. emit, when not nil, receives events as the answer is
// built (sources first, then tokens); the final answer is also returned.
func (s *Service) Ask(ctx context.Context, r Request, emit func(Event) error) (*Answer, error) {
	if err := Validate(&r); err != nil {
		return nil, err
	}
	// Identifiers in the question (names, ID and phone numbers, record
	// numbers, dates of birth, addresses) go no further: not to the
	// language model, not to the audit trail.
	r.Question = deid.String(r.Question)
	if emit == nil {
		emit = func(Event) error { return nil }
	}
	calcs, err := calculate(r.Patient)
	if err != nil {
		return nil, err
	}
	hits, err := s.search.Search(ctx, []rag.Query{{Text: r.Question, K: r.K, Filter: r.Filter, LocalFirst: r.LocalFirst}})
	if err != nil {
		return nil, err
	}
	lang := analysis.DetectLang(r.Question)
	if lang != "zh" {
		lang = "en"
	}
	a := &Answer{Lang: lang, Calculations: calcs, Disclaimer: orthocds.Disclaimer,
		Diagnoses: []Item{}, Tests: []Item{}, Treatments: []Item{}}
	relevant := s.relevant(r.Question, hits[0])
	a.Sources = sources(relevant, lang)
	if err := emit(Event{Type: "sources", Data: a.Sources}); err != nil {
		return nil, err
	}
	switch {
	case len(relevant) == 0:
		s.abstain(a, lang)
	case s.llm == nil:
		s.extractive(a, lang, nil)
	default:
		err := status(ctx, s.llm)
		if err == nil {
			err = s.generate(ctx, a, r, emit)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			msg := orthocds.ErrorMessage(err)
			if err := emit(Event{Type: "error", Data: map[string]string{"message": msg, "kind": llm.KindOf(err)}}); err != nil {
				return nil, err
			}
			s.extractive(a, lang, err)
		}
	}
	markHospital(a)
	// An answer the audit trail cannot record is not given.
	if err := s.record(ctx, r, a); err != nil {
		return nil, err
	}
	if err := emit(Event{Type: "answer", Data: a}); err != nil {
		return nil, err
	}
	return a, nil
}

// relevant keeps the hits that are evidence rather than noise, or none
// when the question is out of scope. A hit is kept when it shares a
// specific clinical concept with the question (denosumab, DVT, laminoplasty)
// or is first in either ranking; a question with no such concept is in
// scope only when its best hit matches strongly.
func (s *Service) relevant(question string, hits []rag.Hit) []rag.Hit {
	if len(hits) == 0 {
		return nil
	}
	asked := s.scope.DomainConcepts(question)
	if len(asked) == 0 {
		if hits[0].Cosine < s.cfg.StrongCosine {
			return nil
		}
		return hits[:min(3, len(hits))]
	}
	var keep []rag.Hit
	for _, h := range hits {
		if h.DenseRank == 1 || h.LexicalRank == 1 || sharesAny(asked, s.scope.DomainConcepts(h.Title+"\n"+h.Text)) {
			keep = append(keep, h)
		}
	}
	return keep
}

func sharesAny(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// status asks an LLM that can tell whether it is reachable (cheaply, from
// a cached check); others are assumed to be.
func status(ctx context.Context, l LLM) error {
	if a, ok := l.(interface{ Status(context.Context) error }); ok {
		return a.Status(ctx)
	}
	return nil
}

func (s *Service) abstain(a *Answer, lang string) {
	a.Mode = ModeAbstained
	a.AbstainReason = "No guideline entry in the index matches this question closely enough to answer it with a source. " +
		"It may be outside the osteoporosis, VTE, vertebral augmentation and cervical myelopathy guidelines held here."
	a.Label = "Abstained: not enough evidence in the indexed guidelines."
	if lang == "zh" {
		a.AbstainReason = "索引中的指南条目与该问题的匹配度不足，无法给出有出处的回答。该问题可能超出本系统收录的骨质疏松、VTE、椎体强化及脊髓型颈椎病指南范围。"
		a.Label = "未作答：已收录指南中缺乏足够证据。"
	}
	a.Summary = Item{Text: a.AbstainReason, Citations: []string{}}
}

// extractive fills a retrieval-only answer: the best matching entries,
// quoted in the question's language, each with its source. The label says
// why: no language model configured or reachable ("no language model was
// used"), or a model that answered with a reply that could not be used
// (cut at its length limit, the connection dropped, the prompt cut, not
// the JSON asked for or citing nothing retrieved), which is not the same.
func (s *Service) extractive(a *Answer, lang string, llmErr error) {
	a.Mode = ModeRetrievalOnly
	kind := llm.KindOf(llmErr)
	if llmErr != nil {
		a.LLMError, a.LLMFailure = orthocds.ErrorMessage(llmErr), kind
	}
	switch {
	case llmErr == nil || kind == llm.Unreachable || kind == "":
		a.Label = "Retrieval-only answer: no language model was used. These are the best-matching guideline recommendations, quoted with their sources."
		if lang == "zh" {
			a.Label = "仅检索结果：未使用语言模型。以下为最匹配的指南推荐原文及其出处。"
		}
	default:
		a.Label = "Retrieval-only answer: the language model's reply could not be used. These are the best-matching guideline recommendations, quoted with their sources."
		if lang == "zh" {
			a.Label = "仅检索结果：语言模型的回复无法使用。以下为最匹配的指南推荐原文及其出处。"
		}
	}
	a.Summary = Item{Text: a.Label, Citations: []string{}}
	a.Quotes = nil
	for _, src := range a.Sources {
		a.Quotes = append(a.Quotes, Item{Text: src.Quote, Citations: []string{src.ID}})
	}
}

func (s *Service) record(ctx context.Context, r Request, a *Answer) error {
	if s.audit == nil {
		return nil
	}
	p, _ := orthocds.PrincipalFrom(ctx)
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	ids := make([]string, len(a.Sources))
	for i, src := range a.Sources {
		ids[i] = src.ID
	}
	rec := AuditRecord{At: time.Now().UTC(), Principal: p.ID, Role: string(p.Role), Kind: "answer",
		InputHash: hex.EncodeToString(sum[:]), Mode: a.Mode, Model: a.Model, EntryIDs: ids}
	if d, ok := s.llm.(interface{ CachedDigest(context.Context) string }); ok && a.Model != "" {
		rec.ModelDigest = d.CachedDigest(ctx)
	}
	return s.audit.Record(ctx, rec)
}

// sources numbers the hits and quotes each in the answer's language.
func sources(hits []rag.Hit, lang string) []Source {
	out := make([]Source, len(hits))
	for i, h := range hits {
		out[i] = Source{N: i + 1, ID: h.DocID, Kind: h.Kind, Title: h.Title, Quote: quote(h.Chunk, lang),
			Citation: h.Citation, Page: h.Page, Hospital: h.Kind == rag.KindDocument, Superseded: h.Superseded, Score: h.Score}
	}
	return out
}

// markHospital marks the statements that cite the hospital's own
// documents and says so in the answer's language.
func markHospital(a *Answer) {
	hospital := map[string]bool{}
	for _, src := range a.Sources {
		if src.Hospital {
			hospital[src.ID] = true
		}
	}
	if len(hospital) == 0 {
		return
	}
	found := false
	mark := func(it *Item) {
		for _, c := range it.Citations {
			if hospital[c] {
				it.Hospital, found = true, true
			}
		}
	}
	mark(&a.Summary)
	for _, items := range [][]Item{a.Diagnoses, a.Tests, a.Treatments, a.Quotes} {
		for i := range items {
			mark(&items[i])
		}
	}
	if !found {
		return
	}
	a.HospitalNote = "Statements marked \"hospital document\" come from this hospital's own documents (named with their page), " +
		"not from a published guideline: check them against the document's current version."
	if a.Lang == "zh" {
		a.HospitalNote = "标注“本院文件”的内容来自本院自有文件（注明文件和页码），并非已发表的指南；请核对该文件的现行版本。"
	}
}

// quote picks the part of a bilingual guideline chunk in lang; other
// chunks are quoted whole.
func quote(c rag.Chunk, lang string) string {
	if c.Kind != rag.KindGuideline {
		return c.Text
	}
	parts := strings.SplitN(c.Text, "\n\n", 2)
	if len(parts) == 2 && lang == "zh" {
		return parts[1]
	}
	return parts[0]
}

func calculate(p *Patient) ([]scores.Result, error) {
	if p == nil {
		return nil, nil
	}
	var out []scores.Result
	add := func(r scores.Result, err error) error {
		if err != nil {
			return prefix(err, "/patient")
		}
		out = append(out, r)
		return nil
	}
	if p.TScore != nil {
		if err := add(scores.TScore(scores.TScoreInput{TScore: p.TScore, FragilityFracture: p.FragilityFracture})); err != nil {
			return nil, err
		}
	}
	if p.WeightKg != nil && p.AgeYears != nil && p.Sex == "female" {
		if err := add(scores.OSTA(scores.OSTAInput{WeightKg: p.WeightKg, AgeYears: p.AgeYears})); err != nil {
			return nil, err
		}
	}
	if p.FRAXMajorPercent != nil || p.FRAXHipPercent != nil {
		if err := add(scores.FRAX(scores.FRAXInput{MajorPercent: p.FRAXMajorPercent, HipPercent: p.FRAXHipPercent})); err != nil {
			return nil, err
		}
	}
	if len(p.CapriniItems) > 0 {
		if err := add(scores.Caprini(scores.CapriniInput{AgeYears: p.AgeYears, Items: p.CapriniItems})); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// prefix moves a calculator's field errors under the patient object.
func prefix(err error, p string) error {
	oe, ok := err.(*orthocds.Error)
	if !ok {
		return err
	}
	e := *oe
	e.Field = p + patientField(e.Field)
	e.FieldErrors = nil
	for _, fe := range oe.FieldErrors {
		e.FieldErrors = append(e.FieldErrors, orthocds.FieldError{Field: p + patientField(fe.Field), Detail: fe.Detail})
	}
	return &e
}

// patientField names a calculator input by the Patient field it came from.
func patientField(f string) string {
	switch {
	case f == "/major_osteoporotic_percent":
		return "/frax_major_percent"
	case f == "/hip_percent":
		return "/frax_hip_percent"
	case strings.HasPrefix(f, "/items/"):
		return "/caprini_items/" + strings.TrimPrefix(f, "/items/")
	}
	return f
}
