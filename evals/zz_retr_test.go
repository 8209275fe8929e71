package evals

import (
	"context"
	"os"
	"testing"

	"github.com/orthocds/orthocds/rag"
)

func TestZZRetr(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	items, err := LoadRetrieval(Data(), os.Getenv("ZZSET"))
	if err != nil {
		t.Fatal(err)
	}
	f := corpus(t)
	for _, it := range items {
		if l := os.Getenv("ZZLANG"); l != "" && it.Lang != l {
			continue
		}
		res, err := f.Retriever.Search(context.Background(), []rag.Query{{Text: it.Question, K: 40}})
		if err != nil {
			t.Fatal(err)
		}
		rank := map[string]int{}
		var top []string
		for j, h := range res[0] {
			rank[h.DocID] = j + 1
			if j < 10 {
				top = append(top, h.DocID)
			}
		}
		for _, g := range it.Gold {
			if r := rank[g]; r == 0 || r > 10 {
				t.Logf("MISS %s [%s] %q gold %s rank %d\n   top: %v", it.ID, it.Kind, it.Question, g, r, top)
			}
		}
	}
}
