package evals

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/cases"
)

func TestZZProbe(t *testing.T) {
	file := os.Getenv("ZZFILE")
	if file == "" {
		t.Skip()
	}
	byID := graderCases(t)
	scope, err := analysis.Shared()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, a := range loadGrader(t, file) {
		c := byID[a.Case]
		g := cases.NewDrill(c, a.Lang).Submit(a.Diagnosis, a.Plan, scope)
		met := map[string]string{}
		for _, m := range a.Met {
			met[m] = "examiner"
		}
		want := c.Score(a.Lang, met).Score
		if math.Abs(g.Score-want) <= 0.15 && os.Getenv("ZZALL") == "" {
			continue
		}
		fmt.Fprintf(&b, "== %s [%s] grader %.2f examiner %.2f want %v\n  plan: %s\n", a.ID, a.Kind, g.Score, want, a.Met, a.Plan)
		for _, it := range g.Items {
			mn := ""
			if it.MustNot {
				mn = " MUSTNOT"
			}
			fmt.Fprintf(&b, "   %-20s met=%v%s pts=%d why=%q voided=%q\n", it.ID, it.Met, mn, it.Points, it.Why, it.Voided)
		}
	}
	os.WriteFile(os.Getenv("ZZOUT"), []byte(b.String()), 0o644)
}
