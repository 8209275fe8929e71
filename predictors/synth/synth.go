// Package synth draws SYNTHETIC development cohorts for the OrthoCDS
// predictors. OrthoCDS cannot ship patient data, so the shipped models are
// fitted on cohorts drawn here: every outcome is simulated from a logistic
// model whose effect sizes are published odds ratios (each line below names
// its source) and whose intercept is solved so that the outcome rate equals
// the published rate. The distributions of the inputs are assumptions made
// for simulation, not measurements; a feature with a published direction but
// no published effect size in our sources is drawn but given no effect.
// Nothing drawn here describes real patients.
package synth

import (
	"encoding/csv"
	"io"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/orthocds/orthocds/predictors"
)

// Effect adds LogOR to the log-odds of a row when its condition holds (or
// LogOR times the value, for a linear effect).
type Effect struct {
	Feature string  `json:"feature"`
	Kind    string  `json:"kind"` // "flag" (value 1), "above", "at-most", "per-unit", "level"
	Cut     float64 `json:"cut,omitempty"`
	LogOR   float64 `json:"log_or"`
	Source  string  `json:"source"`
}

// Sampler draws one encoded feature value; its doc says what it assumes.
type Sampler struct {
	Assumption string
	Draw       func(r *rand.Rand) float64
}

// Spec is how one predictor's cohort is drawn.
type Spec struct {
	Samplers map[string]Sampler
	Effects  []Effect
	// NoEffect lists features drawn without an effect, and why.
	NoEffect map[string]string
}

func normal(mean, sd, lo, hi float64) Sampler {
	return Sampler{Assumption: fmtf("normal(mean %g, sd %g) clipped to %g-%g", mean, sd, lo, hi),
		Draw: func(r *rand.Rand) float64 { return clip(mean+sd*r.NormFloat64(), lo, hi) }}
}

func roundedNormal(mean, sd, lo, hi float64) Sampler {
	s := normal(mean, sd, lo, hi)
	s.Assumption = "rounded " + s.Assumption
	d := s.Draw
	s.Draw = func(r *rand.Rand) float64 { return math.Round(d(r)) }
	return s
}

func bernoulli(p float64) Sampler {
	return Sampler{Assumption: fmtf("true with probability %g", p), Draw: func(r *rand.Rand) float64 {
		if r.Float64() < p {
			return 1
		}
		return 0
	}}
}

// levels draws a category index with the given probabilities.
func levels(ps ...float64) Sampler {
	return Sampler{Assumption: fmtf("levels with probabilities %v", ps), Draw: func(r *rand.Rand) float64 {
		u := r.Float64()
		for i, p := range ps {
			if u < p {
				return float64(i)
			}
			u -= p
		}
		return float64(len(ps) - 1)
	}}
}

func logNormal(median, sigma, lo, hi float64) Sampler {
	return Sampler{Assumption: fmtf("log-normal(median %g, sigma %g) clipped to %g-%g", median, sigma, lo, hi),
		Draw: func(r *rand.Rand) float64 { return clip(median*math.Exp(sigma*r.NormFloat64()), lo, hi) }}
}

func clip(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// Cohort is a drawn data set in schema order.
type Cohort struct {
	Schema  predictors.Schema
	X       [][]float64
	Y       []float64
	LogOdds []float64 // the true log-odds of each row, for checking fitted models
}

// Generate draws n rows for def from seed. signal scales every effect: 1
// draws the published effects, 0 draws outcomes unrelated to the inputs.
func Generate(def predictors.Definition, spec Spec, n int, seed uint64, signal float64) Cohort {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	c := Cohort{Schema: def.Schema, X: make([][]float64, n), Y: make([]float64, n), LogOdds: make([]float64, n)}
	idx := map[string]int{}
	for i, f := range def.Schema {
		idx[f.Name] = i
	}
	eta := make([]float64, n)
	for i := range n {
		x := make([]float64, len(def.Schema))
		for j, f := range def.Schema {
			x[j] = spec.Samplers[f.Name].Draw(r)
		}
		for _, e := range spec.Effects {
			eta[i] += signal * e.contribution(x[idx[e.Feature]])
		}
		c.X[i] = x
	}
	b := intercept(eta, def.BaseRate)
	for i := range n {
		c.LogOdds[i] = b + eta[i]
		if r.Float64() < sigmoid(c.LogOdds[i]) {
			c.Y[i] = 1
		}
	}
	return c
}

func (e Effect) contribution(v float64) float64 {
	switch e.Kind {
	case "flag", "level":
		if v == e.Cut {
			return e.LogOR
		}
	case "above":
		if v > e.Cut {
			return e.LogOR
		}
	case "at-most":
		if v <= e.Cut {
			return e.LogOR
		}
	case "per-unit":
		return e.LogOR * v
	}
	return 0
}

// intercept solves mean(sigmoid(b + eta)) = rate by bisection.
func intercept(eta []float64, rate float64) float64 {
	lo, hi := -30.0, 30.0
	for range 100 {
		mid := (lo + hi) / 2
		var m float64
		for _, e := range eta {
			m += sigmoid(mid + e)
		}
		if m/float64(len(eta)) < rate {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// WriteCSV writes a cohort in the layout orthocds train reads.
func WriteCSV(w io.Writer, def predictors.Definition, c Cohort) error {
	cw := csv.NewWriter(w)
	header := append(def.Schema.Names(), predictors.OutcomeColumn)
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(header))
	for i, x := range c.X {
		for j, f := range def.Schema {
			switch f.Type {
			case predictors.Bool:
				rec[j] = strconv.FormatBool(x[j] == 1)
			case predictors.Category:
				rec[j] = f.Levels[int(x[j])]
			default:
				rec[j] = strconv.FormatFloat(x[j], 'f', -1, 64)
			}
		}
		rec[len(rec)-1] = strconv.Itoa(int(c.Y[i]))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
