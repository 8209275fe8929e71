package model

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// mannWhitney is the AUC by its definition: the share of (event,
// non-event) pairs ranked correctly, ties counting half.
func mannWhitney(y, p []float64) float64 {
	var good, pairs float64
	for i := range y {
		for j := range y {
			if y[i] == 1 && y[j] == 0 {
				pairs++
				switch {
				case p[i] > p[j]:
					good++
				case p[i] == p[j]:
					good += 0.5
				}
			}
		}
	}
	return good / pairs
}

func TestAUC(t *testing.T) {
	tests := []struct{ y, p []float64 }{
		{[]float64{0, 0, 1, 1}, []float64{0.1, 0.4, 0.35, 0.8}},
		{[]float64{1, 0, 1, 0, 1, 0}, []float64{0.5, 0.5, 0.9, 0.2, 0.5, 0.7}},
		{[]float64{0, 1}, []float64{0.9, 0.1}},
	}
	for _, tt := range tests {
		if got, want := AUC(tt.y, tt.p), mannWhitney(tt.y, tt.p); math.Abs(got-want) > 1e-12 {
			t.Errorf("AUC(%v, %v) = %v, want %v", tt.y, tt.p, got, want)
		}
		idx := make([]int, len(tt.p))
		ones := make([]float64, len(tt.p))
		for i := range idx {
			idx[i], ones[i] = i, 1
		}
		sortByP(idx, tt.p)
		if got, want := weightedAUC(idx, tt.y, tt.p, ones), mannWhitney(tt.y, tt.p); math.Abs(got-want) > 1e-12 {
			t.Errorf("weightedAUC(%v, %v) = %v, want %v", tt.y, tt.p, got, want)
		}
	}
}

func TestContributionsSumToLogit(t *testing.T) {
	x := [][]float64{{1, 0, 3}, {2, 1, 1}, {3, 0, 2}, {4, 1, 5}, {5, 1, 0}, {6, 0, 4}}
	y := []float64{0, 0, 1, 0, 1, 1}
	m, err := FitLogistic([]string{"a", "b", "c"}, x, y, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range x {
		s := m.Intercept
		for _, c := range m.Contributions(r) {
			s += c
		}
		if math.Abs(s-m.Logit(r)) > 1e-12 {
			t.Errorf("row %v: contributions sum to %v, logit is %v", r, s, m.Logit(r))
		}
	}
}

// A larger penalty shrinks the weights: the fit responds to lambda.
func TestLambdaShrinks(t *testing.T) {
	x := [][]float64{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}}
	y := []float64{0, 0, 1, 0, 1, 0, 1, 1}
	weak, _ := FitLogistic([]string{"a"}, x, y, 0.001)
	strong, _ := FitLogistic([]string{"a"}, x, y, 10)
	if !(math.Abs(strong.Weights[0]) < math.Abs(weak.Weights[0])/5) {
		t.Errorf("weights %v (lambda 10) vs %v (lambda 0.001)", strong.Weights[0], weak.Weights[0])
	}
}

func TestStratifiedFolds(t *testing.T) {
	y := make([]float64, 100)
	for i := range 20 {
		y[i] = 1
	}
	folds := StratifiedFolds(y, 5, 7)
	events := make([]int, 5)
	for i, f := range folds {
		events[f] += int(y[i])
	}
	if diff := cmp.Diff([]int{4, 4, 4, 4, 4}, events); diff != "" {
		t.Errorf("events per fold (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(folds, StratifiedFolds(y, 5, 7)); diff != "" {
		t.Error("folds differ for the same seed")
	}
	if cmp.Equal(folds, StratifiedFolds(y, 5, 8)) {
		t.Error("folds do not depend on the seed")
	}
}

var approx = cmpopts.EquateNaNs()

func TestCrossValidateDeterministic(t *testing.T) {
	d := Data{Features: []string{"a"}}
	for i := range 200 {
		v := float64(i % 17)
		d.X = append(d.X, []float64{v})
		d.Y = append(d.Y, float64((i*7)%3/2))
		d.Groups = append(d.Groups, map[string]string{"sex": []string{"female", "male"}[i%2]})
	}
	cfg := CVConfig{Kind: KindStacking, Folds: 5, Fit: FitConfig{Lambda: 0.01, GBT: GBTConfig{Trees: 10, Depth: 2, LearningRate: 0.3, Lambda: 1, MinChildWeight: 1}}, Threshold: 0.3, Seed: 42}
	a, _, err := CrossValidate(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := CrossValidate(d, cfg)
	if diff := cmp.Diff(a, b, approx); diff != "" {
		t.Errorf("two runs with one seed differ (-a +b):\n%s", diff)
	}
	if len(a.Subgroups["sex"]) != 2 {
		t.Errorf("subgroups: %v", a.Subgroups)
	}
}

func TestEvaluateWithoutEvents(t *testing.T) {
	m := Evaluate([]float64{0, 0, 0}, []float64{0.1, 0.2, 0.3}, 0.5, 1)
	if diff := cmp.Diff([]string{"auc", "auc_ci95_high", "auc_ci95_low", "calibration_intercept", "calibration_slope", "sensitivity"}, m.Undefined); diff != "" {
		t.Errorf("undefined metrics (-want +got):\n%s", diff)
	}
	if m.Specificity != 1 || m.Brier == 0 {
		t.Errorf("specificity %v brier %v", m.Specificity, m.Brier)
	}
}
