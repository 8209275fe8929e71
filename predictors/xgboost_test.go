package predictors

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/predictors/model"
)

// TestXGBoostImport checks a model trained in XGBoost 1.7.4 (fixtures made
// once by testdata/make_xgboost_fixtures.py; no Python needed here):
// probabilities match XGBoost's own to 1e-6, TreeSHAP values match
// XGBoost's pred_contribs, and AUC, Brier score and calibration computed
// here match scikit-learn 1.2.1's on the same predictions.
func TestXGBoostImport(t *testing.T) {
	def, _ := Get("cement-leakage")
	b, err := os.ReadFile("testdata/xgb-cement-leakage.json")
	if err != nil {
		t.Fatal(err)
	}
	e, err := model.ParseXGBoost(b, def.Schema.Names())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/xgb-test.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, _, err := ReadCSV(def, f)
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Probabilities        []float64
		SHAP                 [][]float64
		AUC, Brier           float64
		CalibrationIntercept float64 `json:"calibration_intercept"`
		CalibrationSlope     float64 `json:"calibration_slope"`
	}
	eb, _ := os.ReadFile("testdata/xgb-expected.json")
	if err := json.Unmarshal(eb, &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Probabilities) != len(d.X) {
		t.Fatalf("%d expected probabilities for %d rows", len(want.Probabilities), len(d.X))
	}
	bias := e.ExpectedLogit()
	for i, x := range d.X {
		if got := e.Predict(x); math.Abs(got-want.Probabilities[i]) > 1e-6 {
			t.Fatalf("row %d: probability %.9f, XGBoost %.9f", i, got, want.Probabilities[i])
		}
		phi := e.Contributions(x)
		for j := range phi {
			if math.Abs(phi[j]-want.SHAP[i][j]) > 1e-5 {
				t.Fatalf("row %d %s: SHAP %.7f, XGBoost %.7f", i, def.Schema[j].Name, phi[j], want.SHAP[i][j])
			}
		}
		if math.Abs(bias-want.SHAP[i][len(phi)]) > 1e-5 {
			t.Fatalf("bias %.7f, XGBoost %.7f", bias, want.SHAP[i][len(phi)])
		}
	}
	m := model.Evaluate(d.Y, want.Probabilities, 0.25, 1)
	for name, c := range map[string][3]float64{
		"AUC":                   {m.AUC, want.AUC, 1e-9},
		"Brier":                 {m.Brier, want.Brier, 1e-12},
		"calibration intercept": {m.CalibrationIntercept, want.CalibrationIntercept, 1e-5},
		"calibration slope":     {m.CalibrationSlope, want.CalibrationSlope, 1e-5},
	} {
		if math.Abs(c[0]-c[1]) > c[2] {
			t.Errorf("%s: %.9f here, scikit-learn %.9f", name, c[0], c[1])
		}
	}
}

func TestXGBoostImportRefusesMismatch(t *testing.T) {
	b, _ := os.ReadFile("testdata/xgb-cement-leakage.json")
	vte, _ := Get("vte-arthroplasty")
	if _, err := model.ParseXGBoost(b, vte.Schema.Names()); err == nil {
		t.Error("a cement-leakage model was accepted for the VTE predictor")
	}
	if _, err := model.ParseXGBoost([]byte(`{"learner": {"objective": {"name": "reg:squarederror"}}}`), vte.Schema.Names()); err == nil {
		t.Error("a regression model was accepted")
	}
}

// TestXGBoostMissingValues checks models trained by XGBoost 1.7.4 itself
// with the optional inputs (D-dimer, hours to ambulation) missing in 30% of
// rows (fixtures made by testdata/make_missing_fixtures.py): saved as JSON
// and as UBJSON, and with sex and joint as categories (partition splits).
// Every validation row's probability matches XGBoost's to 1e-6, the 256
// rows that miss an input included, and TreeSHAP matches pred_contribs.
// Scoring the same rows with the default directions ignored, or with the
// missing inputs imputed, is wrong, so the test can fail.
func TestXGBoostMissingValues(t *testing.T) {
	def, _ := Get("vte-arthroplasty")
	f, err := os.Open("testdata/xgb-vte-valid.csv")
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := ReadCSVMissing(def, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Missing     []float64   `json:"missing_probabilities"`
		SHAP        [][]float64 `json:"missing_shap"`
		Categorical []float64   `json:"categorical_probabilities"`
	}
	eb, _ := os.ReadFile("testdata/xgb-vte-expected.json")
	if err := json.Unmarshal(eb, &want); err != nil {
		t.Fatal(err)
	}
	missingRows := 0
	for _, x := range d.X {
		if slices.ContainsFunc(x, math.IsNaN) {
			missingRows++
		}
	}
	if missingRows != 256 || len(d.X) != 500 {
		t.Fatalf("%d of %d rows miss an input, want 256 of 500", missingRows, len(d.X))
	}
	load := func(name string) *model.Ensemble {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		e, err := model.ParseXGBoost(b, def.Schema.Names())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return e
	}
	worst := func(e *model.Ensemble, want []float64) (float64, int) {
		var w float64
		var at int
		for i, x := range d.X {
			if diff := math.Abs(e.Predict(x) - want[i]); diff > w {
				w, at = diff, i
			}
		}
		return w, at
	}
	for _, tc := range []struct {
		file string
		want []float64
	}{
		{"xgb-vte-missing.json", want.Missing},
		{"xgb-vte-missing.ubj", want.Missing},
		{"xgb-vte-categorical.json", want.Categorical},
	} {
		e := load(tc.file)
		if w, at := worst(e, tc.want); w > 1e-6 {
			t.Errorf("%s: row %d off XGBoost by %.2g", tc.file, at, w)
		}
	}
	e := load("xgb-vte-missing.json")
	bias := e.ExpectedLogit()
	for i, x := range d.X {
		phi := e.Contributions(x)
		for j := range phi {
			if math.Abs(phi[j]-want.SHAP[i][j]) > 1e-5 {
				t.Fatalf("row %d %s: SHAP %.7f, XGBoost %.7f", i, def.Schema[j].Name, phi[j], want.SHAP[i][j])
			}
		}
		if math.Abs(bias-want.SHAP[i][len(phi)]) > 1e-5 {
			t.Fatalf("bias %.7f, XGBoost %.7f", bias, want.SHAP[i][len(phi)])
		}
	}
	// Without the default directions, or imputing instead, rows go wrong.
	ignored := load("xgb-vte-missing.json")
	for ti := range ignored.Trees {
		for ni := range ignored.Trees[ti].Nodes {
			ignored.Trees[ti].Nodes[ni].DefaultLeft = !ignored.Trees[ti].Nodes[ni].DefaultLeft
		}
	}
	if w, _ := worst(ignored, want.Missing); w < 0.01 {
		t.Errorf("with the default directions reversed the worst row is off by only %.3g: the fixture does not test them", w)
	}
	f, _ = os.Open("testdata/xgb-vte-valid.csv")
	imputed, _, _ := ReadCSV(def, f)
	f.Close()
	var w float64
	for i, x := range imputed.X {
		w = max(w, math.Abs(e.Predict(x)-want.Missing[i]))
	}
	t.Logf("imputing the schema defaults instead: worst row off by %.3f", w)
	if w < 0.01 {
		t.Errorf("imputing instead of leaving missing changes rows by only %.3g", w)
	}
}

// TestXGBoostFormats: the 2.x base_score ("[5E-1]"), feature names in
// another order than the schema's, and refusals naming the input.
func TestXGBoostFormats(t *testing.T) {
	def, _ := Get("vte-arthroplasty")
	b, _ := os.ReadFile("testdata/xgb-vte-missing.json")
	e1, err := model.ParseXGBoost(b, def.Schema.Names())
	if err != nil {
		t.Fatal(err)
	}
	v2 := bytes.Replace(b, []byte(`"base_score":"5E-1"`), []byte(`"base_score":"[5E-1]"`), 1)
	if bytes.Equal(v2, b) {
		t.Fatal("fixture has no base_score to rewrite")
	}
	e2, err := model.ParseXGBoost(v2, def.Schema.Names())
	if err != nil || e2.BaseScore != e1.BaseScore {
		t.Errorf("2.x base_score: %v, %v vs %v", err, e2.BaseScore, e1.BaseScore)
	}
	bad := bytes.Replace(b, []byte(`"d_dimer_mg_l_feu"`), []byte(`"hounsfield_units"`), 1)
	if _, err := model.ParseXGBoost(bad, def.Schema.Names()); err == nil || !strings.Contains(err.Error(), "hounsfield_units") {
		t.Errorf("an input the predictor lacks: %v", err)
	}
	if _, err := model.ParseXGBoost([]byte("{U\x03abc"), def.Schema.Names()); err == nil {
		t.Error("truncated UBJSON accepted")
	}
}
