package model

import (
	"fmt"
)

// Kinds of model.
const (
	KindLogistic = "logistic"
	KindGBT      = "gbt"
	KindStacking = "stacking"
)

// Kinds lists the model kinds in the order they are reported.
var Kinds = []string{KindLogistic, KindGBT, KindStacking}

// Scorer gives a row's log-odds and its exact additive decomposition:
// Logit(x) == BaselineLogit() + the sum of Contributions(x).
type Scorer interface {
	Logit(x []float64) float64
	Contributions(x []float64) []float64
	BaselineLogit() float64
}

// BaselineLogit of a logistic model: contributions are measured from the
// average development row.
func (m *Logistic) BaselineLogit() float64 { return m.Intercept }

// BaselineLogit of a tree ensemble is its cover-weighted expectation.
func (e *Ensemble) BaselineLogit() float64 { return e.ExpectedLogit() }

// Stack is a stacking ensemble: a logistic meta-learner over the log-odds
// of a logistic model and a tree ensemble, fitted on out-of-fold
// predictions.
type Stack struct {
	LR        *Logistic `json:"logistic"`
	GBT       *Ensemble `json:"gbt"`
	Intercept float64   `json:"intercept"`
	WeightLR  float64   `json:"weight_logistic"`
	WeightGBT float64   `json:"weight_gbt"`
}

// Logit combines the base models' log-odds.
func (s *Stack) Logit(x []float64) float64 {
	return s.Intercept + s.WeightLR*s.LR.Logit(x) + s.WeightGBT*s.GBT.Logit(x)
}

// Contributions are exact: the meta-learner is linear in the base log-odds,
// so each feature's share is the weighted sum of its base shares.
func (s *Stack) Contributions(x []float64) []float64 {
	a, b := s.LR.Contributions(x), s.GBT.Contributions(x)
	for i := range a {
		a[i] = s.WeightLR*a[i] + s.WeightGBT*b[i]
	}
	return a
}

// BaselineLogit is the meta-learner applied to the base baselines.
func (s *Stack) BaselineLogit() float64 {
	return s.Intercept + s.WeightLR*s.LR.BaselineLogit() + s.WeightGBT*s.GBT.BaselineLogit()
}

// FitConfig configures Fit.
type FitConfig struct {
	Lambda     float64   `json:"lambda"` // L2 penalty of the logistic model
	GBT        GBTConfig `json:"gbt"`
	InnerFolds int       `json:"inner_folds"` // for the stacking meta-learner
	Seed       uint64    `json:"seed"`
}

// Fit fits a model of kind on x, y.
func Fit(kind string, features []string, x [][]float64, y []float64, cfg FitConfig) (Scorer, error) {
	switch kind {
	case KindLogistic:
		return FitLogistic(features, x, y, cfg.Lambda)
	case KindGBT:
		return FitGBT(features, x, y, cfg.GBT)
	case KindStacking:
		return fitStack(features, x, y, cfg)
	}
	return nil, fmt.Errorf("unknown model kind %q", kind)
}

func fitStack(features []string, x [][]float64, y []float64, cfg FitConfig) (*Stack, error) {
	k := cfg.InnerFolds
	if k < 2 {
		k = 3
	}
	folds := StratifiedFolds(y, k, cfg.Seed+1)
	meta := make([][]float64, len(y))
	for f := range k {
		var tx [][]float64
		var ty []float64
		for i, fi := range folds {
			if fi != f {
				tx, ty = append(tx, x[i]), append(ty, y[i])
			}
		}
		lr, err := FitLogistic(features, tx, ty, cfg.Lambda)
		if err != nil {
			return nil, err
		}
		gbt, err := FitGBT(features, tx, ty, cfg.GBT)
		if err != nil {
			return nil, err
		}
		for i, fi := range folds {
			if fi == f {
				meta[i] = []float64{lr.Logit(x[i]), gbt.Logit(x[i])}
			}
		}
	}
	w, b, err := fitLogistic(meta, y, 1e-4)
	if err != nil {
		return nil, err
	}
	lr, err := FitLogistic(features, x, y, cfg.Lambda)
	if err != nil {
		return nil, err
	}
	gbt, err := FitGBT(features, x, y, cfg.GBT)
	if err != nil {
		return nil, err
	}
	return &Stack{LR: lr, GBT: gbt, Intercept: b, WeightLR: w[0], WeightGBT: w[1]}, nil
}
