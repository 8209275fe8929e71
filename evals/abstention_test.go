package evals

import (
	"context"
	"testing"

	"github.com/orthocds/orthocds/answer"
)

// TestAbstention holds the answer service's abstention on the bundled sets:
// it must abstain on at least 90% of out-of-scope questions and on at most
// 10% of the in-scope retrieval questions. Measured last: 32/32 abstained
// out of scope, 0/375 in scope.
func TestAbstention(t *testing.T) {
	oos, err := LoadOutOfScope(Data(), "out-of-scope.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	in, err := LoadRetrieval(Data(), "retrieval-starter.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	f := corpus(t)
	svc := answer.New(f.Retriever, f.Analyzer, nil, nil, answer.DefaultConfig)
	ask := func(q string) bool {
		a, err := svc.Ask(context.Background(), answer.Request{Question: q}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return a.Mode == answer.ModeAbstained
	}
	var right, wrong int
	for _, it := range oos {
		if ask(it.Question) {
			right++
		} else {
			t.Logf("answered out-of-scope %s %q", it.ID, it.Question)
		}
	}
	for _, it := range in {
		if ask(it.Question) {
			wrong++
			t.Logf("abstained on in-scope %s %q", it.ID, it.Question)
		}
	}
	rate, wrongRate := float64(right)/float64(len(oos)), float64(wrong)/float64(len(in))
	t.Logf("correct abstention %d/%d (%.2f); wrong abstention %d/%d (%.2f)", right, len(oos), rate, wrong, len(in), wrongRate)
	if rate < 0.9 {
		t.Errorf("abstained on %.2f of out-of-scope questions, bound 0.90", rate)
	}
	if wrongRate > 0.1 {
		t.Errorf("abstained on %.2f of in-scope questions, bound 0.10", wrongRate)
	}
}
