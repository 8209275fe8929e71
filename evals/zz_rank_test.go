package evals

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/rag"
)

func TestZZRank(t *testing.T) {
	set := os.Getenv("ZZSET")
	if set == "" {
		t.Skip()
	}
	f := corpus(t)
	items, err := LoadRetrieval(Data(), set)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, it := range items {
		if l := os.Getenv("ZZLANG"); l != "" && it.Lang != l {
			continue
		}
		res, err := f.Retriever.Search(context.Background(), []rag.Query{{Text: it.Question, K: 50}})
		if err != nil {
			t.Fatal(err)
		}
		gold := map[string]bool{}
		for _, g := range it.Gold {
			gold[g] = true
		}
		var ranks []int
		for j, h := range res[0] {
			if gold[h.DocID] {
				ranks = append(ranks, j+1)
			}
		}
		miss := len(ranks) < len(it.Gold) || ranks[len(ranks)-1] > 10
		if !miss && os.Getenv("ZZALL") == "" {
			continue
		}
		fmt.Fprintf(&b, "== %s [%s] %q gold ranks %v of %d\n   terms %v\n", it.ID, it.Kind, it.Question, ranks, len(it.Gold), f.Analyzer.QueryTerms(it.Question))
		for j, h := range res[0][:min(10, len(res[0]))] {
			m := " "
			if gold[h.DocID] {
				m = "*"
			}
			fmt.Fprintf(&b, "   %s%2d %-45s d%d l%d c%.2f\n", m, j+1, h.DocID, h.DenseRank, h.LexicalRank, h.Coverage)
		}
		for _, g := range it.Gold {
			found := false
			for j, h := range res[0] {
				if h.DocID == g {
					found = true
					if j >= 10 {
						fmt.Fprintf(&b, "   gold %s at %d d%d l%d c%.2f\n", g, j+1, h.DenseRank, h.LexicalRank, h.Coverage)
					}
				}
			}
			if !found {
				e, _ := f.Corpus.Get(g)
				fmt.Fprintf(&b, "   gold %s ABSENT: %s\n", g, e.Title.EN)
			}
		}
	}
	os.WriteFile(os.Getenv("ZZOUT"), []byte(b.String()), 0o644)
}
