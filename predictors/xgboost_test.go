package predictors

import (
	"encoding/json"
	"math"
	"os"
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
