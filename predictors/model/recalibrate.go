package model

import (
	"errors"
	"math"
)

// A model fitted elsewhere (or on synthetic data) is recalibrated on a
// hospital's own outcomes by logistic recalibration: the new log-odds are
// a + b * the model's log-odds, a and b fitted by maximum likelihood on the
// local rows (calibration-in-the-large and slope). The model itself is kept
// as it was; the recalibrated version is a new, content-hashed artefact
// that records both calibrations.

// Recalibration is a fitted logistic recalibration and what it was fitted on.
type Recalibration struct {
	Intercept float64 `json:"intercept"`
	Slope     float64 `json:"slope"`
	// Of is the SHA-256 of the artefact recalibrated.
	Of         string `json:"of"`
	OfVersion  string `json:"of_version"`
	Rows       int    `json:"rows"`
	Events     int    `json:"events"`
	DataSHA256 string `json:"data_sha256"`
	Synthetic  bool   `json:"synthetic"`
	// Before and After are the model's figures on the local rows, without
	// and with the recalibration, with their calibration curves.
	Before      Metrics          `json:"before"`
	After       Metrics          `json:"after"`
	BeforeCurve []CalibrationBin `json:"before_curve"`
	AfterCurve  []CalibrationBin `json:"after_curve"`
	// ObservedExpected is observed events over the sum of probabilities,
	// before and after.
	ObservedExpectedBefore float64 `json:"observed_expected_before"`
	ObservedExpectedAfter  float64 `json:"observed_expected_after"`
}

// FitRecalibration fits a + b*logit on the model's log-odds of local rows.
func FitRecalibration(logits, y []float64) (a, b float64, err error) {
	if len(logits) != len(y) || len(y) < 20 {
		return 0, 0, errors.New("recalibration needs at least 20 rows with outcomes")
	}
	var events float64
	for _, v := range y {
		events += v
	}
	if events < 5 || events > float64(len(y))-5 {
		return 0, 0, errors.New("recalibration needs at least 5 rows of each outcome")
	}
	x := make([][]float64, len(logits))
	for i, l := range logits {
		x[i] = []float64{l}
	}
	w, b0, err := fitLogistic(x, y, 0)
	if err != nil {
		return 0, 0, err
	}
	return b0, w[0], nil
}

// ObservedExpected is observed events over expected (the sum of p).
func ObservedExpected(y, p []float64) float64 {
	var o, e float64
	for i := range y {
		o += y[i]
		e += p[i]
	}
	if e == 0 {
		return math.NaN()
	}
	return o / e
}

// recalibrated is a Scorer whose log-odds are a + b * the inner model's.
type recalibrated struct {
	inner Scorer
	a, b  float64
}

func (r recalibrated) Logit(x []float64) float64 { return r.a + r.b*r.inner.Logit(x) }

// Contributions scale with the slope; the intercept moves the baseline.
func (r recalibrated) Contributions(x []float64) []float64 {
	c := r.inner.Contributions(x)
	for i := range c {
		c[i] *= r.b
	}
	return c
}

func (r recalibrated) BaselineLogit() float64 { return r.a + r.b*r.inner.BaselineLogit() }
