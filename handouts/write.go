package handouts

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/orthocds/orthocds/guidelines"
)

// LLM completes a prompt; *llm.Client is one.
type LLM interface {
	Name() string
	Complete(ctx context.Context, system, user string, onToken func(string) error) (string, error)
}

// Concepts finds the clinical concepts a text names (drugs, tests,
// procedures, conditions, scores): the specific ones a text names itself,
// and every concept, broader ones included, of a list of words;
// *analysis.Analyzer is one.
type Concepts interface {
	DomainConcepts(text string) []string
	Words(text string) []string
	Concepts(words []string) map[string]int
}

// UseLLM has Write ask model for the sentences, checked against the
// entries they cite with concepts. Without it Write uses the templates.
func (s *Set) UseLLM(model LLM, concepts Concepts) {
	s.llm, s.concepts = model, concepts
}

// Modes of a page.
const (
	ModeTemplate = "template"
	ModeLLM      = "llm"
)

const writeSystem = `You write patient handouts from guideline entries. Write for a patient, in short plain sentences at a primary-school reading level.
Say only what the entries say: no drug, test, number or advice that is not in the entries you cite. Every sentence cites the entry IDs it rests on.
Reply with JSON only: {"sections":[{"kind":"recommend|why|expect|warning|ask","sentences":[{"text":"...","notes":["entry-id"]}]}]}.
Kinds: recommend (what the doctor recommends), why, expect (what to expect), warning (when to contact the care team), ask (questions to ask the doctor).`

// Write is Build with the sentences written by the language model when one
// is set: each sentence must cite entries given to the model, and every
// specific concept and number in it must be in those entries (either
// language), or it is dropped and listed for the doctor. A language where
// no sentence survives, or the model fails, falls back to the template and
// says so. The risk picture is computed, never written by the model.
func (s *Set) Write(ctx context.Context, r Request) (*Handout, error) {
	h, err := s.Build(r)
	if err != nil || s.llm == nil {
		return h, err
	}
	entries := r.Entries
	if len(entries) == 0 {
		for _, n := range h.Notes {
			entries = append(entries, n.EntryID)
		}
	}
	var given []*guidelines.Entry
	for _, id := range entries {
		if e, ok := s.corpus.Get(id); ok && e.SupersededBy == "" {
			given = append(given, &e)
		}
	}
	var order []string // entries in order of first use, across pages
	for i := range h.Langs {
		pg := &h.Langs[i]
		secs, dropped, err := s.written(ctx, given, pg.Lang)
		if err != nil || len(secs) == 0 {
			pg.Mode = ModeTemplate
			pg.Fallback = "the language model's text could not be used; these sentences are the project's templates"
			if err != nil {
				pg.Fallback += ": " + err.Error()
			}
			pg.Dropped = dropped
			for _, sec := range pg.Sections {
				for _, sn := range sec.Sentences {
					for _, n := range sn.Notes {
						order = appendNew(order, h.Notes[n-1].EntryID)
					}
				}
			}
			continue
		}
		pg.Mode, pg.Model, pg.Dropped = ModeLLM, s.llm.Name(), dropped
		pg.Sections = secs
		for _, sec := range secs {
			for _, sn := range sec.Sentences {
				for _, id := range sn.entries {
					order = appendNew(order, id)
				}
			}
		}
	}
	// Number the notes afresh over what the pages now cite.
	number := map[string]int{}
	h.Notes = nil
	for i, id := range order {
		number[id] = i + 1
		h.Notes = append(h.Notes, Note{N: i + 1, EntryID: id})
	}
	for i := range h.Langs {
		pg := &h.Langs[i]
		var all []string
		if pg.Risk != nil {
			all = append(all, pg.Risk.Sentence, pg.Risk.Baseline)
		}
		for j := range pg.Sections {
			for k := range pg.Sections[j].Sentences {
				sn := &pg.Sections[j].Sentences[k]
				if sn.entries != nil {
					sn.Notes = nil
					for _, id := range sn.entries {
						sn.Notes = append(sn.Notes, number[id])
					}
				}
				all = append(all, sn.Text)
			}
		}
		pg.NoteLines = s.noteLines(h.Notes, pg.Lang)
		pg.Readability = s.Measure(strings.Join(all, "\n"), pg.Lang)
	}
	return h, nil
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// written asks the model for one language's sections and keeps the
// supported sentences.
func (s *Set) written(ctx context.Context, given []*guidelines.Entry, lang string) ([]Section, []string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Language of the handout: %s.\n\nEntries:\n", map[string]string{"en": "English", "zh": "simplified Chinese"}[lang])
	for _, e := range given {
		fmt.Fprintf(&b, "[%s] %s. %s\n", e.ID, pick(e.Title, lang), pick(e.Text, lang))
	}
	text, err := s.llm.Complete(ctx, writeSystem, b.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	var rep struct {
		Sections []struct {
			Kind      string `json:"kind"`
			Sentences []struct {
				Text  string   `json:"text"`
				Notes []string `json:"notes"`
			} `json:"sentences"`
		} `json:"sections"`
	}
	if err := json.Unmarshal([]byte(jsonObject(text)), &rep); err != nil {
		return nil, nil, fmt.Errorf("the reply was not the JSON asked for")
	}
	byID := map[string]*guidelines.Entry{}
	for _, e := range given {
		byID[e.ID] = e
	}
	var dropped []string
	out := map[string]*Section{}
	for _, sec := range rep.Sections {
		if !slices.Contains(kinds, sec.Kind) {
			for _, sn := range sec.Sentences {
				dropped = append(dropped, sn.Text)
			}
			continue
		}
		for _, sn := range sec.Sentences {
			var cited []*guidelines.Entry
			var ids []string
			for _, id := range sn.Notes {
				if e, ok := byID[strings.Trim(strings.TrimSpace(id), "[]")]; ok && !slices.Contains(ids, e.ID) {
					cited, ids = append(cited, e), append(ids, e.ID)
				}
			}
			if strings.TrimSpace(sn.Text) == "" || len(cited) == 0 || !s.supported(sn.Text, cited) {
				dropped = append(dropped, sn.Text)
				continue
			}
			if out[sec.Kind] == nil {
				out[sec.Kind] = &Section{Kind: sec.Kind, Heading: pick(headings[sec.Kind], lang)}
			}
			out[sec.Kind].Sentences = append(out[sec.Kind].Sentences, SentenceInLang{Text: strings.TrimSpace(sn.Text), entries: ids})
		}
	}
	var secs []Section
	for _, k := range kinds {
		if out[k] != nil {
			secs = append(secs, *out[k])
		}
	}
	return secs, dropped, nil
}

var number = regexp.MustCompile(`\d+(?:[.,]\d+)*`)

// supported reports whether every specific concept and every number of a
// sentence is in the entries it cites (title or text, either language; a
// concept also when the entries name a narrower one).
func (s *Set) supported(text string, cited []*guidelines.Entry) bool {
	var src strings.Builder
	for _, e := range cited {
		for _, t := range []string{e.Title.EN, e.Title.ZH, e.Text.EN, e.Text.ZH} {
			src.WriteString(t)
			src.WriteString("\n")
		}
	}
	source := src.String()
	for _, n := range number.FindAllString(text, -1) {
		if !strings.Contains(source, n) && !strings.Contains(source, strings.ReplaceAll(n, ",", "")) {
			return false
		}
	}
	// A sentence may name a concept by a broader one ("bone medicine" for
	// a bisphosphonate), not one the entries do not reach.
	have := s.concepts.Concepts(s.concepts.Words(source))
	for _, c := range s.concepts.DomainConcepts(text) {
		if have[c] == 0 {
			return false
		}
	}
	return true
}

// jsonObject takes the outermost JSON object out of a reply.
func jsonObject(s string) string {
	i, j := strings.Index(s, "{"), strings.LastIndex(s, "}")
	if i < 0 || j < i {
		return s
	}
	return s[i : j+1]
}

// noteLines prints notes in lang.
func (s *Set) noteLines(notes []Note, lang string) []NoteInLang {
	var out []NoteInLang
	for _, n := range notes {
		e, _ := s.corpus.Get(n.EntryID)
		out = append(out, NoteInLang{N: n.N, EntryID: n.EntryID,
			Text: fmt.Sprintf("%s %d, %s: %s (%s)", e.Source.Key, e.Source.Year, e.Section, pick(e.Title, lang), e.GradeLabel(lang))})
	}
	return out
}
