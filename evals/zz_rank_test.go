package evals

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/orthocds/orthocds/rag"
)

func TestZZRank(t *testing.T) {
	if os.Getenv("ZZRANK") == "" {
		t.Skip()
	}
	items, err := LoadRetrieval(Data(), os.Getenv("ZZSET"))
	if err != nil {
		t.Fatal(err)
	}
	f := corpus(t)
	out, _ := os.Create(os.Getenv("ZZRANK"))
	defer out.Close()
	for _, it := range items {
		res, _ := f.Retriever.Search(context.Background(), []rag.Query{{Text: it.Question, K: 10}})
		gold := map[string]bool{}
		for _, g := range it.Gold {
			gold[g] = true
		}
		var hits []int
		for j, h := range res[0] {
			if gold[h.DocID] {
				hits = append(hits, j+1)
			}
		}
		fmt.Fprintf(out, "%s %v %q\n", it.ID, hits, it.Question)
	}
}
