// Package handouts makes plain-language pages a patient takes home: what
// the doctor recommends and why, what to expect, when to call and what to
// ask, every sentence tied to the guideline entries it rests on (numbered
// notes), with a predictor's result drawn as 100 people and said as a
// natural frequency, and the page's reading level measured.
//
// Without a language model the sentences come from templates written by
// the project in both languages (data/templates.yaml), validated at load
// against the guideline corpus.
package handouts

import (
	"embed"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/predictors"
)

//go:embed data
var data embed.FS

// Section kinds, in the order a handout shows them.
var kinds = []string{"recommend", "why", "expect", "warning", "ask"}

var headings = map[string]guidelines.Text{
	"recommend": {EN: "What your doctor recommends", ZH: "医生的建议"},
	"why":       {EN: "Why", ZH: "为什么"},
	"expect":    {EN: "What to expect", ZH: "接下来会怎样"},
	"warning":   {EN: "When to contact your care team", ZH: "什么时候联系医护人员"},
	"ask":       {EN: "Questions you may want to ask", ZH: "您可以问医生的问题"},
	"risk":      {EN: "Your estimated risk", ZH: "您的风险估计"},
}

// Template is a topic's sentences.
type Template struct {
	Topic    string            `yaml:"topic"`
	Title    guidelines.Text   `yaml:"title"`
	Sections []TemplateSection `yaml:"sections"`
}

// TemplateSection is one part of a template.
type TemplateSection struct {
	Kind      string     `yaml:"kind"`
	Sentences []Sentence `yaml:"sentences"`
}

// Sentence is one statement in both languages with the entries it rests on.
type Sentence struct {
	EN      string   `yaml:"en"`
	ZH      string   `yaml:"zh"`
	Entries []string `yaml:"entries"`
}

// Set is the validated templates beside the corpus they cite.
type Set struct {
	templates map[string]*Template
	corpus    *guidelines.Corpus
	common    map[rune]bool
	llm       LLM      // nil: templates only
	concepts  Concepts // with llm
}

// Load reads the embedded templates and checks them against corpus: every
// cited entry exists and is current, every sentence has both languages,
// every section a known kind. Errors name the template and field.
func Load(corpus *guidelines.Corpus) (*Set, error) {
	return LoadFS(data, corpus)
}

// LoadFS is Load from another file system holding data/templates.yaml and
// data/common-chars-3500.txt (tests use it for broken files).
func LoadFS(fsys fs.FS, corpus *guidelines.Corpus) (*Set, error) {
	b, err := fs.ReadFile(fsys, "data/templates.yaml")
	if err != nil {
		return nil, err
	}
	var file struct {
		Templates []Template `yaml:"templates"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("handouts templates.yaml: %w", err)
	}
	s := &Set{templates: map[string]*Template{}, corpus: corpus}
	for i := range file.Templates {
		t := &file.Templates[i]
		at := fmt.Sprintf("templates.yaml/templates/%d", i)
		if t.Topic == "" || s.templates[t.Topic] != nil {
			return nil, fmt.Errorf("%s/topic: missing or used twice", at)
		}
		if t.Title.EN == "" || t.Title.ZH == "" {
			return nil, fmt.Errorf("%s/title: needs en and zh", at)
		}
		for j, sec := range t.Sections {
			if !slices.Contains(kinds, sec.Kind) {
				return nil, fmt.Errorf("%s/sections/%d/kind: %q is not one of %v", at, j, sec.Kind, kinds)
			}
			for k, sn := range sec.Sentences {
				sat := fmt.Sprintf("%s/sections/%d/sentences/%d", at, j, k)
				if strings.TrimSpace(sn.EN) == "" || strings.TrimSpace(sn.ZH) == "" {
					return nil, fmt.Errorf("%s: needs en and zh", sat)
				}
				if len(sn.Entries) == 0 {
					return nil, fmt.Errorf("%s/entries: a sentence must rest on at least one guideline entry", sat)
				}
				for _, id := range sn.Entries {
					e, ok := corpus.Get(id)
					switch {
					case !ok:
						return nil, fmt.Errorf("%s/entries: no guideline entry %q", sat, id)
					case e.SupersededBy != "":
						return nil, fmt.Errorf("%s/entries: %s is superseded by %s", sat, id, e.SupersededBy)
					}
				}
			}
		}
		s.templates[t.Topic] = t
	}
	if s.common, err = readCommon(fsys); err != nil {
		return nil, err
	}
	return s, nil
}

// Topics returns the topics with a template.
func (s *Set) Topics() []string {
	var out []string
	for t := range s.templates {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Template returns a topic's template.
func (s *Set) Template(topic string) (*Template, bool) {
	t, ok := s.templates[topic]
	return t, ok
}

// Auto is the topic that asks for the template covering the most of the
// request's entries (an answer's citations).
const Auto = "auto"

// TopicFor returns the topic whose template has the most sentences resting
// only on entries, or false when none has one.
func (s *Set) TopicFor(entries []string) (string, bool) {
	best, most := "", 0
	for _, topic := range s.Topics() {
		n := 0
		for _, sec := range s.templates[topic].Sections {
			for _, sn := range sec.Sentences {
				if !slices.ContainsFunc(sn.Entries, func(id string) bool { return !slices.Contains(entries, id) }) {
					n++
				}
			}
		}
		if n > most {
			best, most = topic, n
		}
	}
	return best, most > 0
}

// Request asks for one handout. Nothing in it identifies a patient.
type Request struct {
	Topic string
	// Lang is en, zh or both (side by side).
	Lang string
	// Entries, when set, keep only the sentences resting on these entries
	// (a card's sources): the handout says no more than the card cites.
	Entries []string
	// Predictor and Probability draw the risk picture.
	Predictor   string
	Probability *float64
}

// Handout is a page in one or two languages.
type Handout struct {
	Topic string `json:"topic"`
	Langs []Page `json:"pages"`
	// Notes are the entries the sentences rest on, numbered from 1.
	Notes      []Note `json:"notes"`
	Disclaimer string `json:"disclaimer"`
}

// Page is the handout in one language.
type Page struct {
	Lang string `json:"lang"`
	// Mode is template or llm; Model names the model that wrote an llm
	// page; Dropped are the model's sentences removed as unsupported, and
	// Fallback says why a page meant for the model uses the templates.
	// These are for the doctor, not printed.
	Mode        string       `json:"mode"`
	Model       string       `json:"model,omitempty"`
	Dropped     []string     `json:"dropped,omitempty"`
	Fallback    string       `json:"fallback,omitempty"`
	Title       string       `json:"title"`
	Risk        *Risk        `json:"risk,omitempty"`
	Sections    []Section    `json:"sections"`
	Readability Readability  `json:"readability"`
	Disclaimer  string       `json:"disclaimer"`
	NotesTitle  string       `json:"notes_title"`
	NoteLines   []NoteInLang `json:"notes"`
}

// Section is one heading and its sentences.
type Section struct {
	Kind      string           `json:"kind"`
	Heading   string           `json:"heading"`
	Sentences []SentenceInLang `json:"sentences"`
}

// SentenceInLang is a sentence with the numbers of its notes.
type SentenceInLang struct {
	Text  string `json:"text"`
	Notes []int  `json:"notes"`

	entries []string // a model-written sentence's entries, numbered by Write
}

// Note is a guideline entry a handout cites.
type Note struct {
	N       int    `json:"n"`
	EntryID string `json:"entry_id"`
}

// NoteInLang is a note as printed: source, year, section, title, grade.
type NoteInLang struct {
	N       int    `json:"n"`
	EntryID string `json:"entry_id"`
	Text    string `json:"text"`
}

var disclaimer = guidelines.Text{
	EN: "This sheet explains what your doctor discussed with you. It supports, and does not replace, your doctor's advice.",
	ZH: "本资料用于解释医生与您讨论的内容，是对医生建议的补充，不能替代医生的判断。",
}

// Build makes a handout. Bad input is an *orthocds.Error naming the field.
func (s *Set) Build(r Request) (*Handout, error) {
	if r.Topic == Auto {
		if len(r.Entries) == 0 {
			return nil, orthocds.Invalid("entries", "are required with topic %s: the guideline entries to explain", Auto)
		}
		topic, ok := s.TopicFor(r.Entries)
		if !ok {
			return nil, &orthocds.Error{Code: orthocds.ENOTFOUND, Field: "entries", Message: "no handout covers these entries"}
		}
		r.Topic = topic
	}
	t, ok := s.templates[r.Topic]
	if !ok {
		return nil, &orthocds.Error{Code: orthocds.ENOTFOUND, Field: "topic",
			Message: fmt.Sprintf("no handout for topic %q; topics: %s", r.Topic, strings.Join(s.Topics(), ", "))}
	}
	langs := map[string][]string{"": {"en"}, "en": {"en"}, "zh": {"zh"}, "both": {"zh", "en"}}[r.Lang]
	if langs == nil {
		return nil, orthocds.Invalid("lang", "unsupported language %q; use en, zh or both", r.Lang)
	}
	var risk *riskInput
	if r.Probability != nil || r.Predictor != "" {
		if r.Predictor == "" {
			return nil, orthocds.Invalid("predictor", "is required with a probability")
		}
		def, ok := predictors.Get(r.Predictor)
		if !ok {
			return nil, &orthocds.Error{Code: orthocds.ENOTFOUND, Field: "predictor", Message: fmt.Sprintf("no predictor %q", r.Predictor)}
		}
		if r.Probability == nil {
			return nil, orthocds.Invalid("probability", "is required with a predictor")
		}
		if p := *r.Probability; math.IsNaN(p) || p < 0 || p > 1 {
			return nil, orthocds.Invalid("probability", "must be between 0 and 1")
		}
		risk = &riskInput{def: def, p: *r.Probability}
	}
	keep := func(sn Sentence) bool {
		if len(r.Entries) == 0 {
			return true
		}
		for _, id := range sn.Entries {
			if !slices.Contains(r.Entries, id) {
				return false
			}
		}
		return true
	}
	h := &Handout{Topic: t.Topic, Disclaimer: disclaimer.EN}
	number := map[string]int{}
	for _, sec := range t.Sections {
		for _, sn := range sec.Sentences {
			if !keep(sn) {
				continue
			}
			for _, id := range sn.Entries {
				if number[id] == 0 {
					number[id] = len(h.Notes) + 1
					h.Notes = append(h.Notes, Note{N: number[id], EntryID: id})
				}
			}
		}
	}
	if len(h.Notes) == 0 && risk == nil {
		return nil, orthocds.Invalid("entries", "no sentence of the %s handout rests on these entries", t.Topic)
	}
	for _, lang := range langs {
		pg := Page{Lang: lang, Mode: ModeTemplate, Title: pick(t.Title, lang), Disclaimer: pick(disclaimer, lang),
			NotesTitle: pick(guidelines.Text{EN: "Where this comes from", ZH: "资料来源"}, lang)}
		if risk != nil {
			pg.Risk = risk.picture(lang)
		}
		var all []string
		if pg.Risk != nil {
			all = append(all, pg.Risk.Sentence, pg.Risk.Baseline)
		}
		for _, kind := range kinds {
			sec := Section{Kind: kind, Heading: pick(headings[kind], lang)}
			for _, ts := range t.Sections {
				if ts.Kind != kind {
					continue
				}
				for _, sn := range ts.Sentences {
					if !keep(sn) {
						continue
					}
					in := SentenceInLang{Text: pick(guidelines.Text{EN: sn.EN, ZH: sn.ZH}, lang)}
					for _, id := range sn.Entries {
						in.Notes = append(in.Notes, number[id])
					}
					sec.Sentences = append(sec.Sentences, in)
					all = append(all, in.Text)
				}
			}
			if len(sec.Sentences) > 0 {
				pg.Sections = append(pg.Sections, sec)
			}
		}
		pg.NoteLines = s.noteLines(h.Notes, lang)
		pg.Readability = s.Measure(strings.Join(all, "\n"), lang)
		h.Langs = append(h.Langs, pg)
	}
	return h, nil
}

func pick(t guidelines.Text, lang string) string {
	if lang == "zh" && t.ZH != "" {
		return t.ZH
	}
	return t.EN
}
