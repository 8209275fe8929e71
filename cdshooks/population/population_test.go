package population_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/cdshooks/population"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/patient"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/shipped"
)

var now = time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)

type tally struct{ tp, fn, tn, fp int }

func (t tally) sens() float64 { return ratio(t.tp, t.tp+t.fn) }
func (t tally) spec() float64 { return ratio(t.tn, t.tn+t.fp) }

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// score reads every patient's bundle (as chosen by pick) and counts, per
// fact, how its reading agrees with what the patient has.
func score(t *testing.T, pop []population.Patient, pick func(population.Patient) []byte) map[string]*tally {
	t.Helper()
	out := map[string]*tally{}
	for _, f := range population.Facts {
		out[f] = &tally{}
	}
	for _, p := range pop {
		r := patient.Reader{Now: now}
		if err := r.Add("/bundle", pick(p)); err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		rec := r.Record()
		for _, f := range population.Facts {
			_, got := rec.Facts[f]
			switch want := p.Expect.Facts[f]; {
			case want && got:
				out[f].tp++
			case want:
				out[f].fn++
			case got:
				out[f].fp++
			default:
				out[f].tn++
			}
		}
	}
	return out
}

func report(t *testing.T, name string, s map[string]*tally) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%-24s %5s %5s %8s %8s\n", name, "fact", "with", "w/o", "sens", "spec")
	for _, f := range population.Facts {
		x := s[f]
		fmt.Fprintf(&b, "%-24s %5d %5d %8.3f %8.3f\n", f, x.tp+x.fn, x.tn+x.fp, x.sens(), x.spec())
	}
	t.Log(b.String())
}

// 240 SYNTHETIC patients, coded as Synthea, US ICD-10-CM, a Chinese
// hospital's ICD-10 with Chinese names and ATC, and UK SNOMED CT with
// ATC, each read with codes alone (every display removed): every fact is
// read at sensitivity and specificity of 0.98 or more. The same patients
// with text alone (every code removed) are scored as the fallback's figure.
// Every patient then goes through every service: the bone density category,
// the risk tier and which order services give cards are as expected.
func TestCodedPopulation(t *testing.T) {
	pop := population.Generate(17, 240, now)
	coded := score(t, pop, func(p population.Patient) []byte { return p.CodesOnly })
	report(t, "codes alone", coded)
	for _, f := range population.Facts {
		x := coded[f]
		if x.tp+x.fn < 5 {
			t.Errorf("%s: only %d patients have it; the population tests too little", f, x.tp+x.fn)
		}
		if x.sens() < 0.98 || x.spec() < 0.98 {
			t.Errorf("%s from codes alone: sensitivity %.3f, specificity %.3f; want 0.98 or more", f, x.sens(), x.spec())
		}
	}
	text := score(t, pop, func(p population.Patient) []byte { return p.TextOnly })
	report(t, "text alone (the fallback)", text)
	if path := os.Getenv("ORTHOCDS_POPULATION_REPORT"); path != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "| fact | sensitivity, codes | specificity, codes | sensitivity, text | specificity, text |\n| --- | --- | --- | --- | --- |\n")
		for _, f := range population.Facts {
			fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %.3f |\n", f, coded[f].sens(), coded[f].spec(), text[f].sens(), text[f].spec())
		}
		os.WriteFile(path, []byte(b.String()), 0o644)
	}

	corpus, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	arts, _ := shipped.Artefacts()
	preds, err := predictors.NewService(arts)
	if err != nil {
		t.Fatal(err)
	}
	h := cdshooks.New(cdshooks.Config{Guidelines: corpus, Predictors: preds, Now: func() time.Time { return now }})
	categories := map[string]string{"Severe (established) osteoporosis": "severe-osteoporosis", "Osteoporosis:": "osteoporosis",
		"Low bone mass": "low-bone-mass", "Normal bone density": "normal"}
	orderServices := []string{cdshooks.VTEID, cdshooks.CementID, cdshooks.AxialPainID}
	for _, p := range pop {
		v, err := h.View(context.Background(), p.CodesOnly, "https://cds.example.org", "en")
		if err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		category, tier := "", ""
		var fired []string
		for _, c := range v.Cards {
			if strings.HasPrefix(c.Summary, "Lowest T-score") {
				for phrase, cat := range categories {
					if strings.Contains(c.Summary, phrase) {
						category = cat
					}
				}
				switch {
				case strings.Contains(c.Detail, "Fracture risk tier: very high"):
					tier = "very-high"
				case strings.Contains(c.Detail, "Fracture risk tier: high"):
					tier = "high"
				}
			}
			if slices.Contains(orderServices, c.Service) && !slices.Contains(fired, c.Service) {
				fired = append(fired, c.Service)
			}
		}
		if category != p.Expect.Category || tier != p.Expect.Tier || !slices.Equal(fired, p.Expect.Services) {
			t.Errorf("%s (%s): category %q tier %q services %v; want %q %q %v", p.ID, p.Style, category, tier, fired,
				p.Expect.Category, p.Expect.Tier, p.Expect.Services)
		}
	}
}

// The generator is reproducible: the same seed gives the same patients.
func TestGenerateIsSeeded(t *testing.T) {
	a, b := population.Generate(3, 20, now), population.Generate(3, 20, now)
	for i := range a {
		if string(a[i].Coded) != string(b[i].Coded) {
			t.Fatalf("patient %d differs between two runs with one seed", i)
		}
	}
	if c := population.Generate(4, 20, now); string(c[0].Coded) == string(a[0].Coded) && string(c[1].Coded) == string(a[1].Coded) {
		t.Error("another seed gave the same patients")
	}
}
