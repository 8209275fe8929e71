package analysis

import (
	"math"
	"testing"

	"github.com/orthocds/orthocds/rag"
)

func TestCoverage(t *testing.T) {
	a, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	// A small reference corpus: osteoporosis is named everywhere,
	// alendronate and the drug holiday once each.
	ref := []rag.Document{{ID: "ref", Chunks: []rag.Chunk{
		{ID: "r1", Title: "Osteoporosis in men", Text: "Osteoporosis is common in older men."},
		{ID: "r2", Title: "Screening for osteoporosis", Text: "DXA finds osteoporosis."},
		{ID: "r3", Title: "Alendronate", Text: "Alendronate treats osteoporosis."},
		{ID: "r4", Title: "Drug holiday", Text: "A drug holiday after five years of a bisphosphonate."},
	}}}
	cov := NewCoverage(a, ref, CoverageWeights())
	q := a.QueryTerms("福善美吃了五年可以停吗？") // Fosamax (alendronate), five years, can I stop
	tests := []struct {
		name     string
		e        entry
		min, max float64
	}{
		{"names nothing asked", entry{ID: "x1", Title: "Cement leakage", Text: "Leakage into veins during vertebroplasty."}, 0, 0},
		{"names the drug and the stop", entry{ID: "x2", Title: "Alendronate drug holiday", Text: "Stop alendronate after five years for a drug holiday."}, 0.99, 1},
		{"names the drug only", entry{ID: "x3", Title: "Alendronate dosing", Text: "Alendronate 70 mg weekly."}, 0.2, 0.9},
		{"names the drug and the stop in its tags", entry{ID: "x4", Title: "Reassess after five years", Text: "Reassess the need to continue.", Topics: []string{"stopping", "alendronate"}}, 0.99, 1},
	}
	for _, tt := range tests {
		got := cov.Measure(q, tt.e.ID, tt.e.Title, tt.e.Text, tt.e.Topics)
		if got < tt.min || got > tt.max {
			t.Errorf("%s: coverage %.3f, want %.2f to %.2f", tt.name, got, tt.min, tt.max)
		}
	}
	// A rare concept weighs more than a common one: of a question naming
	// osteoporosis and alendronate, the entry naming only alendronate
	// covers more than the one naming only osteoporosis.
	q2 := a.QueryTerms("alendronate for osteoporosis")
	rare := cov.Measure(q2, "y1", "Alendronate", "Alendronate weekly.", nil)
	common := cov.Measure(q2, "y2", "Osteoporosis", "Osteoporosis is common.", nil)
	if rare <= common {
		t.Errorf("coverage by the rare concept %.3f, by the common one %.3f: want the rare one higher", rare, common)
	}
	// The cache follows an entry's text: the same ID with new text is
	// measured again.
	before := cov.Measure(q, "z1", "Cement", "Cement leakage.", nil)
	after := cov.Measure(q, "z1", "Alendronate holiday", "Stop alendronate for a drug holiday.", nil)
	if before != 0 || after < 0.99 {
		t.Errorf("same ID, new text: coverage %.3f then %.3f, want 0 then 1", before, after)
	}
	if got := cov.Measure(a.QueryTerms("hello"), "x2", "Alendronate drug holiday", "Stop.", nil); got != 0 || math.IsNaN(got) {
		t.Errorf("a question naming no concept: coverage %v, want 0", got)
	}
	if cov.Weight("福善美吃了五年可以停吗") <= 0 || cov.Weight("Can I stop Fosamax after five years?") != CoverageWeights()["en"] {
		t.Errorf("weights by language: zh %v, en %v", cov.Weight("福善美吃了五年可以停吗"), cov.Weight("Can I stop Fosamax after five years?"))
	}
	// With a weight for a language besides Chinese, questions in it get
	// that weight and the others none; Chinese is told by its characters.
	other := NewCoverage(a, nil, map[string]float64{"zh": 0.06, "en": 0, "fr": 0.1})
	for q, want := range map[string]float64{
		"Puis-je arrêter l'alendronate après cinq ans de traitement continu ?": 0.1,
		"Can I stop alendronate after five years of continuous treatment?":     0,
		"阿仑膦酸钠吃了五年可以停吗":                                                        0.06,
		"Fosamax 吃了五年": 0.06,
	} {
		if got := other.Weight(q); got != want {
			t.Errorf("Weight(%q) = %v, want %v", q, got, want)
		}
	}
}

// An entry of the reference corpus is covered by its asks too: a hit with
// the same ID, title and text is measured with them; the same ID with
// other text is measured on its own words.
func TestCoverageCountsAsks(t *testing.T) {
	a, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	ch := rag.Chunk{ID: "h1", Title: "Reassess after a first course", Text: "Review the need to continue.", Asks: []string{"Can I stop Fosamax after five years?"}}
	cov := NewCoverage(a, []rag.Document{{ID: "h1", Chunks: []rag.Chunk{ch}}}, CoverageWeights())
	q := a.QueryTerms("阿仑膦酸钠能停吗")
	if got := cov.Measure(q, ch.ID, ch.Title, ch.Text, nil); got < 0.5 {
		t.Errorf("the entry asked as 'stop Fosamax' covers %.3f of an alendronate-stopping question, want at least 0.5", got)
	}
	if got := cov.Measure(q, ch.ID, ch.Title, "Other text.", nil); got != 0 {
		t.Errorf("same ID, other text: coverage %.3f, want 0", got)
	}
}
