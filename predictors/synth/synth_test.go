package synth

import (
	"math"
	"testing"

	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/model"
)

func data(c Cohort) model.Data {
	return model.Data{Features: c.Schema.Names(), X: c.X, Y: c.Y}
}

func rate(y []float64) float64 {
	var s float64
	for _, v := range y {
		s += v
	}
	return s / float64(len(y))
}

func sigmoids(z []float64) []float64 {
	p := make([]float64, len(z))
	for i, v := range z {
		p[i] = 1 / (1 + math.Exp(-v))
	}
	return p
}

// For every predictor: the drawn outcome rate matches the published rate,
// the cross-validated AUC of the fitted model lands near the AUC of the
// generating model itself, and a cohort drawn with no signal gives an AUC
// near 0.5.
func TestCohortsCarryTheirEffects(t *testing.T) {
	for _, def := range predictors.Definitions {
		t.Run(def.ID, func(t *testing.T) {
			spec, ok := Specs[def.ID]
			if !ok {
				t.Fatal("no cohort spec")
			}
			for _, f := range def.Schema {
				if _, ok := spec.Samplers[f.Name]; !ok {
					t.Fatalf("no sampler for %s", f.Name)
				}
			}
			c := Generate(def, spec, 4000, 1, 1)
			if r := rate(c.Y); math.Abs(r-def.BaseRate) > 0.03 {
				t.Errorf("outcome rate %.3f, published %.3f", r, def.BaseRate)
			}
			oracle := model.AUC(c.Y, sigmoids(c.LogOdds))
			rep, _, err := model.CrossValidate(data(c), model.CVConfig{Kind: model.KindLogistic, Folds: 5, Fit: model.FitConfig{Lambda: 0.01}, Threshold: def.BaseRate, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("rate %.3f, generating-model AUC %.3f, cross-validated AUC %.3f [%.3f, %.3f]",
				rate(c.Y), oracle, rep.Overall.AUC, rep.Overall.AUCCI[0], rep.Overall.AUCCI[1])
			if math.Abs(rep.Overall.AUC-oracle) > 0.05 {
				t.Errorf("cross-validated AUC %.3f is not near the generating model's %.3f", rep.Overall.AUC, oracle)
			}
			none := Generate(def, spec, 4000, 2, 0)
			rep0, _, err := model.CrossValidate(data(none), model.CVConfig{Kind: model.KindLogistic, Folds: 5, Fit: model.FitConfig{Lambda: 0.01}, Threshold: def.BaseRate, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(rep0.Overall.AUC-0.5) > 0.05 {
				t.Errorf("no-signal cohort gives AUC %.3f, want about 0.5", rep0.Overall.AUC)
			}
		})
	}
}
