// Package drills runs students' case drills as stored attempts: start a
// case, ask the patient, order tests, pause and resume, submit a diagnosis
// and plan, and get a graded, cited result. Each attempt belongs to the
// student who started it; other students never see it, and nobody sees a
// case's expected answers through an attempt before it is submitted.
// Instructors see their class's attempts as a report and as CSV.
//
// The patient is scripted (case facts matched by the question's cues) or,
// when an LLM is configured, an LLM that rewords only those facts; a reply
// that brings a number the facts do not hold is replaced by the scripted
// one. Grading is deterministic (package cases); an LLM judge, when
// configured, is reported beside it and never replaces it.
package drills

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/cases"
	"github.com/orthocds/orthocds/deid"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/llm/judge"
)

// Status is where an attempt stands.
type Status string

// Attempt statuses.
const (
	Active    Status = "active"
	Paused    Status = "paused"
	Submitted Status = "submitted"
)

// Attempt is one student's drill on one case.
type Attempt struct {
	ID      string `json:"id"`
	Student string `json:"student"` // the principal's ID (API key ID or OIDC subject)
	CaseID  string `json:"case_id"`
	Status  Status `json:"status"`
	cases.Drill
	Diagnosis string       `json:"diagnosis,omitempty"`
	Plan      string       `json:"plan,omitempty"`
	Grade     *cases.Grade `json:"grade,omitempty"`
	Judge     *JudgeGrade  `json:"judge,omitempty"`
	Started   time.Time    `json:"started"`
	Updated   time.Time    `json:"updated"`
	Submitted *time.Time   `json:"submitted,omitempty"`
	// ActiveSeconds is the time spent on the case, pauses excluded, up to
	// ActiveSince (nil while paused or once submitted).
	ActiveSeconds float64    `json:"active_seconds"`
	ActiveSince   *time.Time `json:"active_since,omitempty"`
	// Version is bumped by every save; a save from a stale copy is refused.
	Version int `json:"version"`
}

// JudgeGrade is an LLM judge's grade of a submission, beside (never
// instead of) the deterministic one.
type JudgeGrade struct {
	Model string       `json:"model"`
	Grade *cases.Grade `json:"grade,omitempty"`
	// Unscorable says why the judge gave no grade (no valid reply, or the
	// model could not be reached).
	Unscorable string `json:"unscorable,omitempty"`
}

// Filter selects attempts; empty fields select all.
type Filter struct {
	Student string
	CaseID  string
}

// Store keeps attempts. Save creates an attempt whose Version is 0 and
// otherwise replaces the stored one only if its Version matches (ECONFLICT
// if not); it sets the new Version. Get returns ENOTFOUND for an unknown
// ID. List returns attempts in the order they were started.
type Store interface {
	Save(ctx context.Context, a *Attempt) error
	Get(ctx context.Context, id string) (*Attempt, error)
	List(ctx context.Context, f Filter) ([]*Attempt, error)
}

// LLM plays the patient; *llm.Client is one.
type LLM interface {
	Name() string
	Complete(ctx context.Context, system, user string, onToken func(string) error) (string, error)
}

// Config holds a Service's dependencies.
type Config struct {
	Cases  []cases.Case
	Store  Store
	Scope  cases.Scope
	Corpus *guidelines.Corpus
	// Patient, when set, words the patient's replies (constrained to the
	// matched facts); Judge, when set, grades beside the rubric.
	Patient LLM
	Judge   judge.Model
	// PatientTimeout and JudgeTimeout bound each LLM call (defaults 30 s
	// and 60 s); past them the scripted patient answers, or the judge's
	// grade is unscorable.
	PatientTimeout time.Duration
	JudgeTimeout   time.Duration
	Now            func() time.Time
}

// Bounds on what a student sends.
const (
	MaxQuestion = 500  // characters of a question or test request
	MaxAnswer   = 4000 // characters of a diagnosis or of a plan
	MaxTurns    = 200  // questions and orders in one attempt
)

// Service runs drills.
type Service struct {
	cfg  Config
	byID map[string]*cases.Case
}

// New returns a Service over cfg's cases.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PatientTimeout == 0 {
		cfg.PatientTimeout = 30 * time.Second
	}
	if cfg.JudgeTimeout == 0 {
		cfg.JudgeTimeout = 60 * time.Second
	}
	s := &Service{cfg: cfg, byID: map[string]*cases.Case{}}
	for i := range cfg.Cases {
		s.byID[cfg.Cases[i].ID] = &cfg.Cases[i]
	}
	return s
}

// CaseSummary is what a student sees of a case before starting it.
type CaseSummary struct {
	ID         string `json:"id"`
	Topic      string `json:"topic"`
	Title      string `json:"title"`
	Presenting string `json:"presenting"`
	Synthetic  bool   `json:"synthetic"`
}

func summary(c *cases.Case, lang string) CaseSummary {
	return CaseSummary{ID: c.ID, Topic: c.Topic, Title: c.Title.In(lang), Presenting: c.Presenting.In(lang), Synthetic: c.Synthetic}
}

// Cases lists the cases in lang.
func (s *Service) Cases(lang string) []CaseSummary {
	out := make([]CaseSummary, len(s.cfg.Cases))
	for i := range s.cfg.Cases {
		out[i] = summary(&s.cfg.Cases[i], lang)
	}
	return out
}

// AnswerKey is a whole case as its instructor sees it: every fact with its
// cue words, every test, the expected answers and the rubric with what
// meets each item.
type AnswerKey struct {
	CaseSummary
	History     []KeyFact `json:"history"`
	Examination []KeyFact `json:"examination"`
	Tests       []KeyTest `json:"tests"`
	Diagnosis   string    `json:"expected_diagnosis"`
	Plan        string    `json:"expected_plan"`
	Expert      string    `json:"expert"`
	Rubric      []KeyItem `json:"rubric"`
}

// KeyFact is a fact and the words that reveal it.
type KeyFact struct {
	ID   string   `json:"id"`
	Cues []string `json:"cues"`
	Text string   `json:"text"`
}

// KeyTest is a test, the words that order it and its result.
type KeyTest struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Cues   []string `json:"cues"`
	Result string   `json:"result"`
}

// KeyItem is a rubric item and what meets it.
type KeyItem struct {
	ID        string   `json:"id"`
	Criterion string   `json:"criterion"`
	Points    int      `json:"points"`
	MustNot   bool     `json:"must_not,omitempty"`
	Phrases   []string `json:"phrases,omitempty"`
	Concepts  []string `json:"concepts,omitempty"`
	// RulingOut are concepts whose ruling out meets the item.
	RulingOut []string `json:"ruling_out,omitempty"`
	Entries   []string `json:"entries"`
}

// Key returns a case's answer key in lang: for instructors and admins
// only.
func (s *Service) Key(p orthocds.Principal, id, lang string) (*AnswerKey, error) {
	if !teaches(p) {
		return nil, orthocds.Errorf(orthocds.EFORBIDDEN, "only instructors see a case's expected answers")
	}
	c, ok := s.byID[id]
	if !ok {
		return nil, orthocds.Errorf(orthocds.ENOTFOUND, "no case %s", id)
	}
	k := &AnswerKey{CaseSummary: summary(c, lang),
		Diagnosis: c.Expected.Diagnosis.In(lang), Plan: c.Expected.Plan.In(lang), Expert: c.Expected.Expert.In(lang)}
	for _, f := range c.History {
		k.History = append(k.History, KeyFact{ID: f.ID, Cues: f.Ask, Text: f.Text.In(lang)})
	}
	for _, f := range c.Exam {
		k.Examination = append(k.Examination, KeyFact{ID: f.ID, Cues: f.Ask, Text: f.Text.In(lang)})
	}
	for _, t := range c.Tests {
		k.Tests = append(k.Tests, KeyTest{ID: t.ID, Name: t.Name.In(lang), Cues: t.Order, Result: t.Result.In(lang)})
	}
	for _, it := range c.Rubric {
		k.Rubric = append(k.Rubric, KeyItem{ID: it.ID, Criterion: it.Criterion.In(lang), Points: it.Points, MustNot: it.MustNot,
			Phrases: it.Phrases, Concepts: it.Concepts, RulingOut: it.RulingOut, Entries: it.Entries})
	}
	return k, nil
}

func teaches(p orthocds.Principal) bool {
	return p.Role == orthocds.RoleInstructor || p.Role == orthocds.RoleAdmin
}

// Note is carried by every attempt shown.
const Note = "SYNTHETIC teaching case written by the OrthoCDS project; not a real patient. / 教学用合成病例，非真实患者。"

// View is an attempt as its student (or an instructor) sees it: the case's
// public part, the results of the tests ordered, and, once submitted, the
// grade with the guideline entries behind each rubric item.
type View struct {
	*Attempt
	Title      string         `json:"title"`
	Presenting string         `json:"presenting"`
	Topic      string         `json:"topic"`
	Results    []cases.Result `json:"results"`
	Citations  []Citation     `json:"citations,omitempty"`
	Note       string         `json:"note"`
}

// Citation is a guideline entry a rubric item rests on.
type Citation struct {
	ID        string `json:"id"`
	Entry     string `json:"entry"`     // the entry's title
	Guideline string `json:"guideline"` // the source document's title
	Body      string `json:"body"`
	Year      int    `json:"year"`
	Section   string `json:"section,omitempty"`
	// Grade is the evidence grade and strength as the source states them,
	// or why none is shown.
	Grade string `json:"grade"`
	URL   string `json:"url,omitempty"`
}

func citation(e guidelines.Entry, lang string) Citation {
	g := e.GradeLabel(lang)
	title := e.Title.EN
	if lang == "zh" && e.Title.ZH != "" {
		title = e.Title.ZH
	}
	return Citation{ID: e.ID, Entry: title, Guideline: e.Source.Title, Body: e.Source.Body, Year: e.Source.Year,
		Section: e.Section, Grade: g, URL: e.Source.URL}
}

func (s *Service) view(a *Attempt) *View {
	c := s.byID[a.CaseID]
	v := &View{Attempt: a, Note: Note}
	if c == nil { // a case removed from the library since
		return v
	}
	a.Drill.Case = c
	v.Title, v.Presenting, v.Topic = c.Title.In(a.Lang), c.Presenting.In(a.Lang), c.Topic
	for _, id := range a.Ordered {
		for _, t := range c.Tests {
			if t.ID == id {
				v.Results = append(v.Results, cases.Result{ID: t.ID, Name: t.Name.In(a.Lang), Result: t.Result.In(a.Lang)})
			}
		}
	}
	if a.Grade != nil && s.cfg.Corpus != nil {
		seen := map[string]bool{}
		for _, it := range a.Grade.Items {
			for _, id := range it.Entries {
				if seen[id] {
					continue
				}
				seen[id] = true
				if e, ok := s.cfg.Corpus.Get(id); ok {
					v.Citations = append(v.Citations, citation(e, a.Lang))
				}
			}
		}
	}
	return v
}

// Start begins a drill on case caseID in lang (en or zh).
func (s *Service) Start(ctx context.Context, p orthocds.Principal, caseID, lang string) (*View, error) {
	c, ok := s.byID[caseID]
	if !ok {
		return nil, orthocds.Invalid("case_id", "no case %q (GET /v1/cases lists them)", caseID)
	}
	if lang != "en" && lang != "zh" {
		return nil, orthocds.Invalid("lang", "is en or zh")
	}
	now := s.cfg.Now().UTC()
	a := &Attempt{ID: newID(), Student: p.ID, CaseID: c.ID, Status: Active, Drill: *cases.NewDrill(c, lang),
		Started: now, Updated: now, ActiveSince: &now}
	a.Asked, a.Ordered, a.Turns = []string{}, []string{}, []cases.Turn{}
	if err := s.cfg.Store.Save(ctx, a); err != nil {
		return nil, err
	}
	return s.view(a), nil
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "att_" + hex.EncodeToString(b)
}

// Get returns an attempt to its student or to an instructor. Another
// student gets ENOTFOUND, as for an attempt that does not exist.
func (s *Service) Get(ctx context.Context, p orthocds.Principal, id string) (*View, error) {
	a, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Student != p.ID && !teaches(p) {
		return nil, orthocds.Errorf(orthocds.ENOTFOUND, "no attempt %s", id)
	}
	return s.view(a), nil
}

// List returns the caller's attempts; instructors may list any student's
// (f.Student) or all. Student "me" is the caller.
func (s *Service) List(ctx context.Context, p orthocds.Principal, f Filter) ([]*View, error) {
	if f.Student == "me" {
		f.Student = p.ID
	}
	if !teaches(p) {
		if f.Student != "" && f.Student != p.ID {
			return nil, orthocds.Errorf(orthocds.EFORBIDDEN, "students see only their own attempts")
		}
		f.Student = p.ID
	}
	as, err := s.cfg.Store.List(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]*View, len(as))
	for i, a := range as {
		v := s.view(a)
		v.Turns = nil // the list is a summary; GET the attempt for the transcript
		out[i] = v
	}
	return out, nil
}

// update loads the caller's own attempt, applies change and saves it,
// retrying when another request saved it in between.
func (s *Service) update(ctx context.Context, p orthocds.Principal, id string, change func(a *Attempt, c *cases.Case) error) (*View, error) {
	for try := 0; ; try++ {
		a, err := s.cfg.Store.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if a.Student != p.ID {
			return nil, orthocds.Errorf(orthocds.ENOTFOUND, "no attempt %s", id)
		}
		c := s.byID[a.CaseID]
		if c == nil {
			return nil, orthocds.Errorf(orthocds.ECONFLICT, "case %s is no longer in the library", a.CaseID)
		}
		a.Drill.Case = c
		if err := change(a, c); err != nil {
			return nil, err
		}
		a.Updated = s.cfg.Now().UTC()
		err = s.cfg.Store.Save(ctx, a)
		if err == nil {
			return s.view(a), nil
		}
		if orthocds.ErrorCode(err) != orthocds.ECONFLICT || try == 2 {
			return nil, err
		}
	}
}

func working(a *Attempt) error {
	switch {
	case a.Status == Paused:
		return orthocds.Errorf(orthocds.ECONFLICT, "the drill is paused; resume it first")
	case a.Status == Submitted:
		return orthocds.Errorf(orthocds.ECONFLICT, "the drill was submitted; start the case again to retry it")
	case len(a.Turns)+len(a.Ordered) >= MaxTurns:
		return orthocds.Errorf(orthocds.ECONFLICT, "the drill has reached %d questions and orders; submit it", MaxTurns)
	}
	return nil
}

// bounded checks a student's text and de-identifies it: a student might
// paste a real patient's details, which must reach neither the LLM nor
// the stored attempt.
func bounded(field, text string, limit int) (string, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return "", orthocds.Invalid(field, "is empty")
	case utf8.RuneCountInString(text) > limit:
		return "", orthocds.Invalid(field, "is longer than %d characters", limit)
	}
	return deid.String(text), nil
}

// Ask puts a question to the patient and returns the attempt with the
// answer as its last turn.
func (s *Service) Ask(ctx context.Context, p orthocds.Principal, id, question string) (*View, error) {
	q, err := bounded("question", question, MaxQuestion)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, p, id, func(a *Attempt, c *cases.Case) error {
		if err := working(a); err != nil {
			return err
		}
		facts := a.Drill.Match(q)
		if len(facts) == 0 {
			a.Drill.Record(q, cases.NotUnderstood.In(a.Lang), nil)
			return nil
		}
		a.Drill.Record(q, s.patientReply(ctx, a.Lang, q, facts), facts)
		return nil
	})
}

const patientSystem = `You play a patient in a medical-school exercise (a synthetic teaching case).
Answer the student's question in the first person, briefly, in %s, using only the facts listed.
Do not add any symptom, finding, number, test result, diagnosis or history that the facts do not state.
If the facts do not answer the question, say that you do not know.`

// textCompleter is an LLM that can reply in free text.
type textCompleter interface {
	CompleteText(ctx context.Context, system, user string, maxTokens int) (string, error)
}

// patientTokens bounds the patient's reply.
const patientTokens = 200

var digits = regexp.MustCompile(`\d+(?:\.\d+)?`)

// patientReply words the matched facts as the patient. Without an LLM, or
// when the LLM fails or its reply holds a number the facts do not, the
// reply is the facts' own text.
func (s *Service) patientReply(ctx context.Context, lang, question string, facts []cases.Fact) string {
	parts := make([]string, len(facts))
	for i, f := range facts {
		parts[i] = f.Text.In(lang)
	}
	scripted := strings.Join(parts, " ")
	if s.cfg.Patient == nil {
		return scripted
	}
	language := map[string]string{"en": "English", "zh": "Chinese"}[lang]
	user := "Facts:\n- " + strings.Join(parts, "\n- ") + "\n\nThe student asks: " + question
	ctx, cancel := context.WithTimeout(ctx, s.cfg.PatientTimeout)
	defer cancel()
	system := strings.Replace(patientSystem, "%s", language, 1)
	var reply string
	var err error
	if tc, ok := s.cfg.Patient.(textCompleter); ok {
		reply, err = tc.CompleteText(ctx, system, user, patientTokens) // the patient speaks, not in JSON
	} else {
		reply, err = s.cfg.Patient.Complete(ctx, system, user, nil)
	}
	reply = strings.TrimSpace(reply)
	if err != nil || !faithful(reply, scripted) {
		return scripted
	}
	return reply
}

// faithful reports whether a reworded reply keeps to the facts as far as a
// machine can check: not empty, not much longer than the facts, and no
// number that the facts do not hold.
func faithful(reply, facts string) bool {
	if reply == "" || utf8.RuneCountInString(reply) > 2*utf8.RuneCountInString(facts)+120 {
		return false
	}
	known := digits.FindAllString(facts, -1)
	for _, n := range digits.FindAllString(reply, -1) {
		if !slices.Contains(known, n) {
			return false
		}
	}
	return true
}

// Order orders the tests a request names; the attempt's results then hold
// them. A request that names no test of the case orders nothing.
func (s *Service) Order(ctx context.Context, p orthocds.Principal, id, request string) (*View, error) {
	r, err := bounded("request", request, MaxQuestion)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, p, id, func(a *Attempt, c *cases.Case) error {
		if err := working(a); err != nil {
			return err
		}
		if len(a.Drill.Order(r)) == 0 {
			return orthocds.Invalid("request", "names no investigation available for this patient; name the test (for example a blood test, an X-ray or a scan)")
		}
		return nil
	})
}

// Pause stops the clock on an active drill; Resume restarts it.
func (s *Service) Pause(ctx context.Context, p orthocds.Principal, id string) (*View, error) {
	return s.update(ctx, p, id, func(a *Attempt, c *cases.Case) error {
		if a.Status != Active {
			return orthocds.Errorf(orthocds.ECONFLICT, "only an active drill can be paused (this one is %s)", a.Status)
		}
		s.stopClock(a)
		a.Status = Paused
		return nil
	})
}

// Resume continues a paused drill.
func (s *Service) Resume(ctx context.Context, p orthocds.Principal, id string) (*View, error) {
	return s.update(ctx, p, id, func(a *Attempt, c *cases.Case) error {
		if a.Status != Paused {
			return orthocds.Errorf(orthocds.ECONFLICT, "only a paused drill can be resumed (this one is %s)", a.Status)
		}
		now := s.cfg.Now().UTC()
		a.Status, a.ActiveSince = Active, &now
		return nil
	})
}

func (s *Service) stopClock(a *Attempt) {
	if a.ActiveSince != nil {
		a.ActiveSeconds += max(0, s.cfg.Now().Sub(*a.ActiveSince).Seconds())
		a.ActiveSince = nil
	}
}

// Submit grades a diagnosis and plan: the rubric always, the judge beside
// it when one is configured. A paused drill may be submitted.
func (s *Service) Submit(ctx context.Context, p orthocds.Principal, id, diagnosis, plan string) (*View, error) {
	dx, err := bounded("diagnosis", diagnosis, MaxAnswer)
	if err != nil {
		return nil, err
	}
	pl, err := bounded("plan", plan, MaxAnswer)
	if err != nil {
		return nil, err
	}
	var judged *JudgeGrade // judged once, outside the retry loop
	return s.update(ctx, p, id, func(a *Attempt, c *cases.Case) error {
		if a.Status == Submitted {
			return orthocds.Errorf(orthocds.ECONFLICT, "the drill was already submitted")
		}
		g := a.Drill.Submit(dx, pl, s.cfg.Scope)
		if s.cfg.Judge != nil && judged == nil {
			judged = s.judge(ctx, c, a.Lang, dx, pl)
		}
		s.stopClock(a)
		now := s.cfg.Now().UTC()
		a.Status, a.Diagnosis, a.Plan, a.Grade, a.Judge, a.Submitted = Submitted, dx, pl, &g, judged, &now
		return nil
	})
}

func (s *Service) judge(ctx context.Context, c *cases.Case, lang, diagnosis, plan string) *JudgeGrade {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.JudgeTimeout)
	defer cancel()
	return Judge(ctx, s.cfg.Judge, c, lang, diagnosis, plan)
}

// Judge has model j grade a diagnosis and plan for case c against the
// case's rubric (the same items and points as the deterministic grader),
// or says why it could not. The drill service and the evaluation of the
// grader set both use it.
func Judge(ctx context.Context, j judge.Model, c *cases.Case, lang, diagnosis, plan string) *JudgeGrade {
	items := make([]judge.Item, len(c.Rubric))
	for i, it := range c.Rubric {
		crit := it.Criterion.In(lang)
		if it.MustNot {
			crit = "The response does this (something it must not do): " + crit
		}
		items[i] = judge.Item{ID: it.ID, Criterion: crit}
	}
	question := c.Presenting.In(lang) + "\nGive the diagnosis and the management plan."
	jg := &JudgeGrade{Model: j.Name()}
	met, why, err := judge.Met(ctx, j, question, "Diagnosis: "+diagnosis+"\nPlan: "+plan, items)
	switch {
	case err != nil:
		jg.Unscorable = "the judge model could not be reached"
		if errors.Is(err, context.DeadlineExceeded) {
			jg.Unscorable = "the judge model did not answer in time"
		}
	case why != "":
		jg.Unscorable = why
	default:
		m := map[string]string{}
		for _, id := range met {
			m[id] = "judge: " + j.Name()
		}
		g := c.Score(lang, m)
		jg.Grade = &g
	}
	return jg
}
