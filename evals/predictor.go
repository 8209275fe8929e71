package evals

import (
	"math"
	"os"
	"slices"

	"gonum.org/v1/gonum/stat"

	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/model"
)

// predictorTask scores a labelled CSV with the predictor's model and
// reports discrimination (AUC with a bootstrap 95% interval), Brier score,
// calibration intercept and slope, and a ten-bin calibration curve.
func (r *Runner) predictorTask(t TaskSpec) (TaskReport, error) {
	def, ok := predictors.Get(t.Predictor)
	if !ok {
		return TaskReport{}, errorf("unknown predictor %q", t.Predictor)
	}
	a := r.Env.Models[t.Predictor]
	if a == nil {
		return TaskReport{Skipped: "no model is loaded for " + t.Predictor}, nil
	}
	f, err := os.Open(t.Data)
	if err != nil {
		return TaskReport{}, err
	}
	defer f.Close()
	d, _, err := predictors.ReadCSV(def, f)
	if err != nil {
		return TaskReport{}, err
	}
	s := a.Scorer()
	p := make([]float64, len(d.X))
	for i, x := range d.X {
		p[i] = 1 / (1 + math.Exp(-s.Logit(x)))
	}
	m := model.Evaluate(d.Y, p, a.Threshold, 1)
	tr := TaskReport{N: m.N, Metrics: map[string]float64{
		"auc": m.AUC, "auc_ci_low": m.AUCCI[0], "auc_ci_high": m.AUCCI[1], "brier": m.Brier,
		"calibration_intercept": m.CalibrationIntercept, "calibration_slope": m.CalibrationSlope,
		"sensitivity": m.Sensitivity, "specificity": m.Specificity,
	}, Calibration: model.CalibrationCurve(d.Y, p, 10), ROC: rocCurve(d.Y, p, 200)}
	for k, v := range tr.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(tr.Metrics, k) // undefined on these rows (for example no events)
		}
	}
	return tr, nil
}

// rocCurve is the ROC curve of scores p against outcomes y (gonum's
// stat.ROC over every distinct score), thinned to at most n points for
// plotting; the ends (0,0) and (1,1) are kept.
func rocCurve(y, p []float64, n int) []ROCPoint {
	if len(p) == 0 {
		return nil
	}
	scores := slices.Clone(p)
	classes := make([]bool, len(y))
	for i, v := range y {
		classes[i] = v == 1
	}
	stat.SortWeightedLabeled(scores, classes, nil)
	tpr, fpr, _ := stat.ROC(nil, scores, classes, nil)
	var out []ROCPoint
	step := max(1, len(tpr)/n)
	for i := 0; i < len(tpr); i += step {
		if !math.IsNaN(tpr[i]) && !math.IsNaN(fpr[i]) {
			out = append(out, ROCPoint{FPR: fpr[i], TPR: tpr[i]})
		}
	}
	if last := len(tpr) - 1; (last)%step != 0 && !math.IsNaN(tpr[last]) && !math.IsNaN(fpr[last]) {
		out = append(out, ROCPoint{FPR: fpr[last], TPR: tpr[last]})
	}
	return out
}
