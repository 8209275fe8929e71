// Package model fits and applies the OrthoCDS predictor models: L2-
// regularised logistic regression (exact per-feature contributions), with
// the metrics, cross-validation and artefacts around them.
package model

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/optimize"
)

// Logistic is a fitted L2-regularised logistic regression on standardised
// inputs.
type Logistic struct {
	Features  []string  `json:"features"`
	Mean      []float64 `json:"mean"`
	Scale     []float64 `json:"scale"`
	Weights   []float64 `json:"weights"` // per standardised feature
	Intercept float64   `json:"intercept"`
	Lambda    float64   `json:"lambda"`
}

// FitLogistic standardises x and fits weights minimising the mean negative
// log-likelihood plus lambda/2 times the squared weights (the intercept is
// not penalised). The fit is deterministic.
func FitLogistic(features []string, x [][]float64, y []float64, lambda float64) (*Logistic, error) {
	if len(x) == 0 {
		return nil, errors.New("no rows to fit")
	}
	d := len(x[0])
	m := &Logistic{Features: features, Mean: make([]float64, d), Scale: make([]float64, d), Lambda: lambda}
	for j := range d {
		var s, ss float64
		for _, r := range x {
			s += r[j]
		}
		m.Mean[j] = s / float64(len(x))
		for _, r := range x {
			ss += (r[j] - m.Mean[j]) * (r[j] - m.Mean[j])
		}
		m.Scale[j] = math.Sqrt(ss / float64(len(x)))
		if m.Scale[j] == 0 {
			m.Scale[j] = 1 // a constant feature gets weight 0 under the penalty
		}
	}
	z := make([][]float64, len(x))
	for i, r := range x {
		z[i] = m.standardise(r)
	}
	w, b, err := fitLogistic(z, y, lambda)
	if err != nil {
		return nil, err
	}
	m.Weights, m.Intercept = w, b
	return m, nil
}

func (m *Logistic) standardise(r []float64) []float64 {
	z := make([]float64, len(r))
	for j, v := range r {
		z[j] = (v - m.Mean[j]) / m.Scale[j]
	}
	return z
}

// Logit is the log-odds of one row.
func (m *Logistic) Logit(r []float64) float64 {
	s := m.Intercept
	for j, v := range r {
		s += m.Weights[j] * (v - m.Mean[j]) / m.Scale[j]
	}
	return s
}

// Predict returns the probability of one row.
func (m *Logistic) Predict(r []float64) float64 { return sigmoid(m.Logit(r)) }

// Contributions returns each feature's exact additive share of the logit
// relative to the average training row: Intercept plus the contributions
// equals Logit.
func (m *Logistic) Contributions(r []float64) []float64 {
	c := make([]float64, len(r))
	for j, v := range r {
		c[j] = m.Weights[j] * (v - m.Mean[j]) / m.Scale[j]
	}
	return c
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// fitLogistic minimises the penalised mean negative log-likelihood with
// gonum's L-BFGS. Parameters: weights then intercept.
func fitLogistic(x [][]float64, y []float64, lambda float64) ([]float64, float64, error) {
	d := len(x[0])
	n := float64(len(x))
	p := optimize.Problem{
		Func: func(theta []float64) float64 {
			var loss float64
			for i, r := range x {
				s := theta[d]
				for j, v := range r {
					s += theta[j] * v
				}
				// log(1+exp(s)) - y*s, computed stably.
				loss += math.Max(s, 0) + math.Log1p(math.Exp(-math.Abs(s))) - y[i]*s
			}
			var pen float64
			for j := range d {
				pen += theta[j] * theta[j]
			}
			return loss/n + lambda/2*pen
		},
		Grad: func(grad, theta []float64) {
			for j := range grad {
				grad[j] = 0
			}
			for i, r := range x {
				s := theta[d]
				for j, v := range r {
					s += theta[j] * v
				}
				e := sigmoid(s) - y[i]
				for j, v := range r {
					grad[j] += e * v
				}
				grad[d] += e
			}
			for j := range grad {
				grad[j] /= n
			}
			for j := range d {
				grad[j] += lambda * theta[j]
			}
		},
	}
	res, err := optimize.Minimize(p, make([]float64, d+1), &optimize.Settings{GradientThreshold: 1e-8}, &optimize.LBFGS{})
	if err != nil && res == nil {
		return nil, 0, err
	}
	return res.X[:d], res.X[d], nil
}
