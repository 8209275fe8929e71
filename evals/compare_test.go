package evals

import (
	"testing"
)

// Compare pairs items and calls a change better or worse only when the
// bootstrap interval excludes zero.
func TestCompare(t *testing.T) {
	var a, b []Record
	for i := range 200 {
		id := string(rune('a'+i%26)) + string(rune('a'+i/26))
		// Run B finds the gold first on 20 more questions than run A (i = 1 mod 10).
		ra := Record{Task: "retrieval", Item: id, NGold: 1}
		rb := ra
		if i%2 == 0 {
			ra.Hits = []int{1}
			rb.Hits = []int{1}
		} else if i%5 == 1 {
			rb.Hits = []int{1}
			ra.Hits = []int{4}
		}
		a, b = append(a, ra), append(b, rb)
		// Abstention is the same in both.
		oa := Record{Task: "abstention", Item: "out:" + id, Abstain: i%10 != 0, Answered: i%10 == 0}
		a, b = append(a, oa), append(b, oa)
	}
	got := map[string]Change{}
	for _, c := range Compare(a, b) {
		got[c.Task+"/"+c.Metric] = c
	}
	if c := got["retrieval/hit@1"]; c.Verdict != "better" || c.Diff < 0.099 || c.Diff > 0.101 || c.Low <= 0 {
		t.Errorf("hit@1: %+v, want better by 0.10", c)
	}
	if c := got["retrieval/recall@10"]; c.Verdict != "no clear change" || c.Diff != 0 {
		t.Errorf("recall@10 (the gold is in the top 10 in both runs): %+v", c)
	}
	if c := got["abstention/correct_abstention"]; c.Verdict != "no clear change" || c.N != 200 {
		t.Errorf("correct abstention: %+v", c)
	}
	// Reversed, the same change is worse.
	for _, c := range Compare(b, a) {
		if c.Metric == "hit@1" && c.Verdict != "worse" {
			t.Errorf("reversed hit@1: %+v", c)
		}
	}
}
