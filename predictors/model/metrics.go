package model

import (
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"
)

// Metrics describe how well probabilities p fit outcomes y.
type Metrics struct {
	N                    int        `json:"n"`
	Events               int        `json:"events"`
	AUC                  float64    `json:"auc"`
	AUCCI                [2]float64 `json:"auc_ci95"`
	Brier                float64    `json:"brier"`
	CalibrationIntercept float64    `json:"calibration_intercept"`
	CalibrationSlope     float64    `json:"calibration_slope"`
	Threshold            float64    `json:"threshold"`
	Sensitivity          float64    `json:"sensitivity"`
	Specificity          float64    `json:"specificity"`
	// Undefined names the metrics that cannot be computed on these rows
	// (for example AUC in a subgroup without events); they are reported as 0.
	Undefined []string `json:"undefined,omitempty"`
}

// AUC is the area under the ROC curve (gonum's ROC, trapezoidal rule).
func AUC(y, p []float64) float64 {
	pos, neg := 0, 0
	for _, v := range y {
		if v == 1 {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	ps := make([]float64, len(p))
	classes := make([]bool, len(p))
	for i, j := range idx {
		ps[i], classes[i] = p[j], y[j] == 1
	}
	tpr, fpr, _ := stat.ROC(nil, ps, classes, nil)
	return integrate.Trapezoidal(fpr, tpr)
}

// Evaluate computes the metrics of p against y at threshold, with a
// bootstrap 95% CI for the AUC drawn from seed.
func Evaluate(y, p []float64, threshold float64, seed uint64) Metrics {
	m := Metrics{N: len(y), Threshold: threshold, AUC: AUC(y, p)}
	var tp, fn, tn, fp int
	for i := range y {
		d := p[i] - y[i]
		m.Brier += d * d
		switch {
		case y[i] == 1 && p[i] >= threshold:
			tp++
		case y[i] == 1:
			fn++
		case p[i] >= threshold:
			fp++
		default:
			tn++
		}
	}
	m.Events = tp + fn
	m.Brier /= float64(len(y))
	m.Sensitivity = ratio(tp, tp+fn)
	m.Specificity = ratio(tn, tn+fp)
	if m.Events == 0 || m.Events == m.N {
		// With one class only the recalibration fit has no finite optimum.
		m.CalibrationIntercept, m.CalibrationSlope = math.NaN(), math.NaN()
	} else {
		m.CalibrationIntercept, m.CalibrationSlope = calibration(y, p)
	}
	m.AUCCI = bootstrapAUC(y, p, 1000, seed)
	for name, v := range map[string]*float64{"auc": &m.AUC, "auc_ci95_low": &m.AUCCI[0], "auc_ci95_high": &m.AUCCI[1],
		"sensitivity": &m.Sensitivity, "specificity": &m.Specificity,
		"calibration_intercept": &m.CalibrationIntercept, "calibration_slope": &m.CalibrationSlope} {
		if math.IsNaN(*v) || math.IsInf(*v, 0) {
			*v = 0
			m.Undefined = append(m.Undefined, name)
		}
	}
	sort.Strings(m.Undefined)
	return m
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// calibration fits y ~ a + b*logit(p): a perfectly calibrated model has
// intercept 0 and slope 1.
func calibration(y, p []float64) (intercept, slope float64) {
	x := make([][]float64, len(p))
	for i, v := range p {
		v = math.Min(math.Max(v, 1e-12), 1-1e-12)
		x[i] = []float64{math.Log(v / (1 - v))}
	}
	w, b, err := fitLogistic(x, y, 0)
	if err != nil {
		return math.NaN(), math.NaN()
	}
	return b, w[0]
}

// bootstrapAUC is the percentile 95% interval of the AUC over resamples.
// The rows are sorted once; each resample is a count per row, and its AUC
// is computed in one pass over the sorted rows.
func bootstrapAUC(y, p []float64, reps int, seed uint64) [2]float64 {
	r := rand.New(rand.NewPCG(seed, 0xb007))
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sortByP(idx, p)
	counts := make([]float64, len(y))
	aucs := make([]float64, 0, reps)
	for range reps {
		clear(counts)
		for range y {
			counts[r.IntN(len(y))]++
		}
		if a := weightedAUC(idx, y, p, counts); !math.IsNaN(a) {
			aucs = append(aucs, a)
		}
	}
	if len(aucs) == 0 {
		return [2]float64{math.NaN(), math.NaN()}
	}
	sort.Float64s(aucs)
	return [2]float64{stat.Quantile(0.025, stat.Empirical, aucs, nil), stat.Quantile(0.975, stat.Empirical, aucs, nil)}
}

// weightedAUC is the Mann-Whitney AUC with row weights, rows given in
// ascending order of p; ties count half.
func weightedAUC(idx []int, y, p, w []float64) float64 {
	var negBelow, good, pos, neg float64
	for a := 0; a < len(idx); {
		b := a
		var tiePos, tieNeg float64
		for ; b < len(idx) && p[idx[b]] == p[idx[a]]; b++ {
			if y[idx[b]] == 1 {
				tiePos += w[idx[b]]
			} else {
				tieNeg += w[idx[b]]
			}
		}
		good += tiePos * (negBelow + tieNeg/2)
		negBelow += tieNeg
		pos += tiePos
		neg += tieNeg
		a = b
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return good / (pos * neg)
}

func sortByP(idx []int, p []float64) {
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
}

// Calibration fits y ~ a + b*logit(p) and returns the intercept and slope.
func Calibration(y, p []float64) (intercept, slope float64) { return calibration(y, p) }

// CalibrationSlope is Calibration's slope.
func CalibrationSlope(y, p []float64) float64 {
	_, s := calibration(y, p)
	return s
}
