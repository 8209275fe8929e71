package model

import (
	"fmt"
	"math/rand/v2"
)

// Data is a training set in schema order.
type Data struct {
	Features []string
	X        [][]float64
	Y        []float64
	// Groups gives each row's subgroup labels, e.g. "sex" -> "female".
	Groups []map[string]string
}

// CVConfig configures cross-validation.
type CVConfig struct {
	Kind      string
	Folds     int
	Fit       FitConfig
	Threshold float64
	Seed      uint64
}

// Report is the cross-validated performance of a model on Data.
type Report struct {
	Kind      string                        `json:"kind"`
	Folds     int                           `json:"folds"`
	Seed      uint64                        `json:"seed"`
	Overall   Metrics                       `json:"overall"`
	Subgroups map[string]map[string]Metrics `json:"subgroups"`
	// Calibration is the observed rate per decile of predicted risk.
	Calibration []CalibrationBin `json:"calibration"`
}

// CalibrationBin is one bin of a calibration curve.
type CalibrationBin struct {
	MeanPredicted float64 `json:"mean_predicted"`
	Observed      float64 `json:"observed"`
	N             int     `json:"n"`
}

// StratifiedFolds assigns each row a fold so that every fold has about the
// same share of events. It is deterministic for a seed.
func StratifiedFolds(y []float64, k int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 0xf01d))
	fold := make([]int, len(y))
	for _, class := range []float64{0, 1} {
		var idx []int
		for i, v := range y {
			if v == class {
				idx = append(idx, i)
			}
		}
		r.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for n, i := range idx {
			fold[i] = n % k
		}
	}
	return fold
}

// CrossValidate fits a model of cfg.Kind on k-1 folds and predicts the
// held-out fold, for every fold, and evaluates the out-of-fold predictions
// overall and per subgroup.
func CrossValidate(d Data, cfg CVConfig) (Report, []float64, error) {
	if cfg.Folds < 2 {
		return Report{}, nil, fmt.Errorf("need at least 2 folds, got %d", cfg.Folds)
	}
	folds := StratifiedFolds(d.Y, cfg.Folds, cfg.Seed)
	oof := make([]float64, len(d.Y))
	for k := range cfg.Folds {
		var tx [][]float64
		var ty []float64
		for i, f := range folds {
			if f != k {
				tx, ty = append(tx, d.X[i]), append(ty, d.Y[i])
			}
		}
		m, err := Fit(cfg.Kind, d.Features, tx, ty, cfg.Fit)
		if err != nil {
			return Report{}, nil, fmt.Errorf("fold %d: %w", k, err)
		}
		for i, f := range folds {
			if f == k {
				oof[i] = sigmoid(m.Logit(d.X[i]))
			}
		}
	}
	rep := EvaluateData(d, oof, cfg.Threshold, cfg.Seed)
	rep.Kind, rep.Folds = cfg.Kind, cfg.Folds
	return rep, oof, nil
}

// EvaluateData evaluates predictions p for the rows of d overall, per
// subgroup and as a calibration curve.
func EvaluateData(d Data, p []float64, threshold float64, seed uint64) Report {
	rep := Report{Seed: seed, Overall: Evaluate(d.Y, p, threshold, seed),
		Subgroups: map[string]map[string]Metrics{}, Calibration: CalibrationCurve(d.Y, p, 10)}
	groups := map[string]map[string][]int{}
	for i, g := range d.Groups {
		for name, label := range g {
			if groups[name] == nil {
				groups[name] = map[string][]int{}
			}
			groups[name][label] = append(groups[name][label], i)
		}
	}
	for name, byLabel := range groups {
		rep.Subgroups[name] = map[string]Metrics{}
		for label, idx := range byLabel {
			sy, sp := make([]float64, len(idx)), make([]float64, len(idx))
			for n, i := range idx {
				sy[n], sp[n] = d.Y[i], p[i]
			}
			rep.Subgroups[name][label] = Evaluate(sy, sp, threshold, seed)
		}
	}
	return rep
}

// CalibrationCurve bins rows by predicted risk into equal-count bins: the
// mean prediction against the observed event rate in each.
func CalibrationCurve(y, p []float64, bins int) []CalibrationBin {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sortByP(idx, p)
	var out []CalibrationBin
	for b := range bins {
		lo, hi := b*len(idx)/bins, (b+1)*len(idx)/bins
		if hi <= lo {
			continue
		}
		var sp, sy float64
		for _, i := range idx[lo:hi] {
			sp += p[i]
			sy += y[i]
		}
		n := float64(hi - lo)
		out = append(out, CalibrationBin{MeanPredicted: sp / n, Observed: sy / n, N: hi - lo})
	}
	return out
}
