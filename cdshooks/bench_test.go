package cdshooks_test

import (
	"context"
	"testing"

	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/internal/corpustest"
)

// BenchmarkCall is one hook call of each synthetic patient's services in
// turn, with prefetch, local-document search included.
func BenchmarkCall(b *testing.B) {
	hooks(b, nil)
	f, err := corpustest.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer f.Store.Close()
	h := cdshooks.New(cdshooks.Config{Guidelines: corpus, Predictors: preds, Search: f.Retriever, Scope: f.Analyzer})
	ps, _ := cdshooks.SyntheticPatients()
	type call struct {
		id  string
		req *cdshooks.Request
	}
	var calls []call
	for _, p := range ps {
		for _, s := range p.Services {
			sv := serviceFor[s]
			r, err := p.Request(h, sv[0], sv[1], true)
			if err != nil {
				b.Fatal(err)
			}
			calls = append(calls, call{sv[0], r})
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := calls[i%len(calls)]
		if _, err := h.Call(context.Background(), c.id, c.req, cdshooks.Invocation{Base: base, Lang: "en"}); err != nil {
			b.Fatal(err)
		}
	}
}
