// Package cases holds the virtual patient cases students drill on: each a
// SYNTHETIC patient written by the project, with the history and
// examination findings a student must ask for, investigations to order,
// the expected diagnosis and plan, a rubric (points, must-not-do items)
// and the guideline entries that justify each expected answer. Cases are
// validated when they load.
//
// A drill reveals only what is asked or ordered: the scripted patient
// answers from the case facts whose cues match the question, and says so
// when none does. Grading is deterministic (phrases and clinical concepts
// in both languages); an LLM judge, when configured, is reported beside
// it and never replaces it.
package cases

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/orthocds/orthocds/internal/yamlx"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/guidelines"
)

// Text is a sentence in English and Chinese.
type Text struct {
	EN string `yaml:"en" json:"en"`
	ZH string `yaml:"zh" json:"zh"`
}

// In returns the text in lang (zh or en).
func (t Text) In(lang string) string {
	if lang == "zh" {
		return t.ZH
	}
	return t.EN
}

// Fact is a history or examination finding, told only when asked for.
type Fact struct {
	ID string `yaml:"id" json:"id"`
	// Ask are the cue words (English and Chinese, lower case) of the
	// questions that reveal the fact.
	Ask  []string `yaml:"ask" json:"-"`
	Text Text     `yaml:"text" json:"text"`
}

// Test is an investigation the student may order.
type Test struct {
	ID     string   `yaml:"id" json:"id"`
	Name   Text     `yaml:"name" json:"name"`
	Order  []string `yaml:"order" json:"-"` // cue words that order it
	Result Text     `yaml:"result" json:"result"`
}

// Item is one rubric item.
type Item struct {
	ID        string `yaml:"id" json:"id"`
	Criterion Text   `yaml:"criterion" json:"criterion"`
	Points    int    `yaml:"points" json:"points"`
	// MustNot marks something the student must not do; its points are
	// negative and it is matched by phrases only.
	MustNot bool `yaml:"must_not" json:"must_not,omitempty"`
	// Phrases (lower case, either language) and Concepts (glossary
	// concept IDs, which carry both languages' synonyms) that meet it.
	Phrases  []string `yaml:"phrases" json:"-"`
	Concepts []string `yaml:"concepts" json:"-"`
	// RulingOut, on a positive item phrased as an omission ("does not
	// offer prophylactic surgery"), names concepts whose ruling out meets
	// it: "no preventive operation", "don't operate", 不做手术.
	RulingOut []string `yaml:"ruling_out" json:"-"`
	// Clause, on a positive item, names concepts that meet it together:
	// one clause of the plan, outside its negations, naming every one of
	// them (or a narrower concept) in any order and wording: with
	// [discontinuation, oestrogen], "her HRT should come off", "pause the
	// oestrogen", 把激素替代停下来.
	Clause []string `yaml:"clause" json:"-"`
	// InPlan items are met by the plan alone, not the diagnosis: naming
	// the leakage risk factors is a plan's work even when the diagnosis
	// names the cleft.
	InPlan bool `yaml:"in_plan" json:"-"`
	// A selectivity item is a must-not item with MaxDrugs: a plan that
	// names, outside its negations, more drugs falling under Counts (drug
	// classes, e.g. osteodrug) than MaxDrugs, or that names among two or
	// more drugs one the case rules out for this patient (RuledOut, with
	// its narrower concepts), lists options rather than choosing one.
	// Negates, on a must-not item phrased as an omission ("continues
	// alendronate"), names the positive item whose negation commits it: a
	// plan that names that item only where it rules it out ("do not stop
	// alendronate") does the must-not.
	Negates string `yaml:"negates" json:"negates,omitempty"`
	// Alone, on a must-not item, names what does it when the plan gives
	// it with nothing that falls under Besides: calcium and vitamin D with
	// no osteoporosis drug outside the plan's negations is "calcium and
	// vitamin D alone", however the drug was turned down.
	Alone    []string `yaml:"alone" json:"-"`
	Besides  []string `yaml:"besides" json:"-"`
	MaxDrugs int      `yaml:"max_drugs" json:"max_drugs,omitempty"`
	Counts   []string `yaml:"counts" json:"-"`
	RuledOut []string `yaml:"ruled_out" json:"ruled_out,omitempty"`
	// Entries justify the item.
	Entries []string `yaml:"entries" json:"entries"`
}

// Selective reports whether the item judges selectivity.
func (it *Item) Selective() bool { return it.MaxDrugs > 0 }

// Case is one virtual patient.
type Case struct {
	ID         string `yaml:"id" json:"id"`
	Topic      string `yaml:"topic" json:"topic"`
	Synthetic  bool   `yaml:"synthetic" json:"synthetic"`
	Title      Text   `yaml:"title" json:"title"`
	Presenting Text   `yaml:"presenting" json:"presenting"`
	History    []Fact `yaml:"history" json:"-"`
	Exam       []Fact `yaml:"examination" json:"-"`
	Tests      []Test `yaml:"tests" json:"-"`
	Expected   struct {
		Diagnosis Text `yaml:"diagnosis" json:"diagnosis"`
		Plan      Text `yaml:"plan" json:"plan"`
		// Expert is what an expert would point out afterwards.
		Expert Text `yaml:"expert" json:"expert"`
	} `yaml:"expected" json:"-"`
	Rubric []Item `yaml:"rubric" json:"-"`
}

//go:embed data/*.yaml
var data embed.FS

// Embedded returns the project's cases.
func Embedded() fs.FS {
	sub, err := fs.Sub(data, "data")
	if err != nil {
		panic(err)
	}
	return sub
}

// Load reads and validates every case file of fsys against the corpus.
func Load(fsys fs.FS, corpus *guidelines.Corpus) ([]Case, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	var out []Case
	seen := map[string]bool{}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		var c Case
		if err := yamlx.UnmarshalStrict(b, &c); err != nil {
			return nil, orthocds.Invalid(n, "%v", err)
		}
		if err := c.validate(corpus); err != nil {
			return nil, orthocds.Invalid(n, "%v", err)
		}
		if seen[c.ID] {
			return nil, orthocds.Invalid(n, "case ID %s is used twice", c.ID)
		}
		seen[c.ID] = true
		out = append(out, c)
	}
	return out, nil
}

// LoadWith reads the embedded cases and then those of each extra directory
// (a hospital's own teaching cases), validating all and refusing an ID
// used twice.
func LoadWith(corpus *guidelines.Corpus, extra ...fs.FS) ([]Case, error) {
	out, err := Load(Embedded(), corpus)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range out {
		seen[c.ID] = true
	}
	for _, fsys := range extra {
		more, err := Load(fsys, corpus)
		if err != nil {
			return nil, err
		}
		for _, c := range more {
			if seen[c.ID] {
				return nil, orthocds.Invalid(c.ID, "case ID %s is already used by another case", c.ID)
			}
			seen[c.ID] = true
		}
		out = append(out, more...)
	}
	return out, nil
}

// positiveItem reports whether the rubric has a positive item id.
func (c *Case) positiveItem(id string) bool {
	return slices.ContainsFunc(c.Rubric, func(it Item) bool { return it.ID == id && !it.MustNot })
}

func (t Text) complete() bool { return strings.TrimSpace(t.EN) != "" && strings.TrimSpace(t.ZH) != "" }

func (c *Case) validate(corpus *guidelines.Corpus) error {
	switch {
	case c.ID == "" || c.Topic == "":
		return fmt.Errorf("a case needs an id and a topic")
	case !c.Synthetic:
		return fmt.Errorf("case %s: cases are SYNTHETIC patients; say so with synthetic: true", c.ID)
	case !c.Title.complete() || !c.Presenting.complete() || !c.Expected.Diagnosis.complete() || !c.Expected.Plan.complete() || !c.Expected.Expert.complete():
		return fmt.Errorf("case %s: title, presenting complaint, expected diagnosis, plan and expert note need both languages", c.ID)
	case len(c.History) == 0 || len(c.Exam) == 0 || len(c.Tests) == 0:
		return fmt.Errorf("case %s: needs history, examination and investigations", c.ID)
	}
	ids := map[string]bool{}
	for _, f := range append(slices.Clone(c.History), c.Exam...) {
		if ids[f.ID] {
			return fmt.Errorf("case %s: fact id %q is used twice", c.ID, f.ID)
		}
		if f.ID == "" || len(f.Ask) == 0 || !f.Text.complete() {
			return fmt.Errorf("case %s: fact %q needs a unique id, cue words and text in both languages", c.ID, f.ID)
		}
		ids[f.ID] = true
	}
	for _, t := range c.Tests {
		if ids[t.ID] {
			return fmt.Errorf("case %s: test id %q is used twice (IDs of facts, tests and items share one space)", c.ID, t.ID)
		}
		if t.ID == "" || len(t.Order) == 0 || !t.Name.complete() || !t.Result.complete() {
			return fmt.Errorf("case %s: test %q needs a unique id, cue words, and name and result in both languages", c.ID, t.ID)
		}
		ids[t.ID] = true
	}
	positive, mustNot := 0, 0
	for _, it := range c.Rubric {
		switch {
		case ids[it.ID]:
			return fmt.Errorf("case %s: rubric item id %q is used twice (IDs of facts, tests and items share one space)", c.ID, it.ID)
		case it.ID == "" || !it.Criterion.complete():
			return fmt.Errorf("case %s: rubric item %q needs a unique id and a criterion in both languages", c.ID, it.ID)
		case it.MustNot && (it.Points >= 0 || len(it.Phrases) == 0 && !it.Selective() && it.Negates == "" && len(it.Alone) == 0 || len(it.Concepts)+len(it.RulingOut)+len(it.Clause) > 0):
			return fmt.Errorf("case %s: must-not item %s needs negative points and phrases, negates, alone or max_drugs (no concepts, ruling_out or clause)", c.ID, it.ID)
		case len(it.Clause) == 1:
			return fmt.Errorf("case %s: item %s: a clause names at least two concepts (one is concepts)", c.ID, it.ID)
		case (len(it.Alone) == 0) != (len(it.Besides) == 0) || len(it.Alone) > 0 && !it.MustNot:
			return fmt.Errorf("case %s: item %s: alone and besides go together, on a must-not item only", c.ID, it.ID)
		case it.Negates != "" && (!it.MustNot || !c.positiveItem(it.Negates)):
			return fmt.Errorf("case %s: item %s negates %q, which is not a positive item of the case (only a must-not item negates one)", c.ID, it.ID, it.Negates)
		case it.Selective() && (!it.MustNot || len(it.Counts) == 0):
			return fmt.Errorf("case %s: selectivity item %s must be a must-not item and say which drug classes count (counts)", c.ID, it.ID)
		case it.Selective() && (!strings.Contains(it.Criterion.EN, strconv.Itoa(it.MaxDrugs)) || !strings.Contains(it.Criterion.ZH, strconv.Itoa(it.MaxDrugs))):
			return fmt.Errorf("case %s: selectivity item %s: its criterion must state max_drugs (%d) in both languages", c.ID, it.ID, it.MaxDrugs)
		case !it.Selective() && len(it.Counts)+len(it.RuledOut) > 0:
			return fmt.Errorf("case %s: item %s has counts or ruled_out without max_drugs", c.ID, it.ID)
		case !it.MustNot && (it.Points <= 0 || len(it.Phrases)+len(it.Concepts)+len(it.RulingOut) == 0):
			return fmt.Errorf("case %s: item %s needs positive points and phrases, concepts or ruling_out", c.ID, it.ID)
		case len(it.Entries) == 0:
			return fmt.Errorf("case %s: item %s names no guideline entry that justifies it", c.ID, it.ID)
		}
		ids[it.ID] = true
		for _, e := range it.Entries {
			entry, ok := corpus.Get(e)
			if !ok || entry.SupersededBy != "" {
				return fmt.Errorf("case %s: item %s cites %s, which is not a current guideline entry", c.ID, it.ID, e)
			}
		}
		if it.MustNot {
			mustNot++
		} else {
			positive += it.Points
		}
	}
	if positive == 0 || mustNot == 0 {
		return fmt.Errorf("case %s: the rubric needs positive items and at least one must-not item", c.ID)
	}
	return nil
}
