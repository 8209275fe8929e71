package drift

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/shipped"
	"github.com/orthocds/orthocds/predictors/synth"
)

// The shipped VTE model's predictions are fed outcomes from its own
// SYNTHETIC cohort (one version) and from a shifted one (twice the base
// rate, effects at 0.6; another version): the report flags the second and
// not the first. Outcomes for an ID never scored are refused, and the
// store survives a restart.
func TestDriftFlagsAShiftedCohort(t *testing.T) {
	arts, err := shipped.Artefacts()
	if err != nil {
		t.Fatal(err)
	}
	def, _ := predictors.Get("vte-arthroplasty")
	var m = arts[0]
	for _, a := range arts {
		if a.Predictor == def.ID {
			m = a
		}
	}
	shifted := def
	shifted.BaseRate *= 2
	ctx := context.Background()
	dir := t.TempDir()
	store := &FileStore{Dir: dir}
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	feed := func(version string, c synth.Cohort) {
		var sc []Scored
		var oc []Outcome
		for i, x := range c.X {
			id := fmt.Sprintf("%s-%d", version, i)
			p := 1 / (1 + math.Exp(-m.Scorer().Logit(x)))
			at := start.Add(time.Duration(i) * 30 * time.Minute)
			sc = append(sc, Scored{ID: id, Predictor: def.ID, Version: version, Model: "sha-" + version, Probability: p, At: at})
			oc = append(oc, Outcome{ID: id, Outcome: int(c.Y[i]), At: at.Add(30 * 24 * time.Hour)})
		}
		if err := store.AddScored(ctx, sc); err != nil {
			t.Fatal(err)
		}
		if err := store.AddOutcomes(ctx, oc); err != nil {
			t.Fatal(err)
		}
	}
	feed("own", synth.Generate(def, synth.Specs[def.ID], 4000, 81, 1))
	feed("shifted", synth.Generate(shifted, synth.Specs[def.ID], 4000, 82, 0.6))

	err = store.AddOutcomes(ctx, []Outcome{{ID: "own-1", Outcome: 1}, {ID: "never-scored", Outcome: 1}})
	if orthocds.ErrorCode(err) != orthocds.EINVALID || orthocds.ErrorMessage(err) == "" {
		t.Errorf("outcome for an unknown ID: %v", err)
	}

	reopened := &FileStore{Dir: dir}
	pairs, err := reopened.Pairs(ctx, def.ID)
	if err != nil || len(pairs) != 8000 {
		t.Fatalf("%d pairs after reopening, %v; want 8000 (the refused request stored nothing)", len(pairs), err)
	}
	rep := Summarise(def.ID, pairs, DefaultBand)
	got := map[string]Version{}
	for _, v := range rep.Versions {
		got[v.Version] = v
		t.Logf("%s: n %d, O/E %.3f, slope %.3f (95%% CI %.3f-%.3f), %d months, flagged %v %v", v.Version, v.Overall.N, v.Overall.OE,
			v.Overall.Slope, v.Overall.SlopeCI[0], v.Overall.SlopeCI[1], len(v.Months), v.Flagged, v.Reasons)
	}
	if got["own"].Flagged || !got["shifted"].Flagged || len(got["shifted"].Reasons) != 2 {
		t.Errorf("flags: own %v %v, shifted %v %v", got["own"].Flagged, got["own"].Reasons, got["shifted"].Flagged, got["shifted"].Reasons)
	}
	if o := got["own"].Overall; o.SlopeCI[0] > 1 || o.SlopeCI[1] < 1 {
		t.Errorf("own cohort's slope interval %.3f-%.3f excludes 1", o.SlopeCI[0], o.SlopeCI[1])
	}
	if len(got["own"].Months) < 3 {
		t.Errorf("%d months, want the figures over time", len(got["own"].Months))
	}
}
