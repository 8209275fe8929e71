package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/drift"
	"github.com/orthocds/orthocds/predictors/shipped"
)

func predictorServer(t *testing.T) *httptest.Server {
	arts, err := shipped.Artefacts()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := predictors.NewService(arts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(Config{Predictors: svc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(ts.Close)
	return ts
}

const goodVTE = `{"age_years": 70, "sex": "female", "bmi_kg_m2": 31, "joint": "knee", "bilateral": false,
	"surgery_hours": {"value": 150, "unit": "minutes"}, "hypertension": true, "prior_vte": false}`

func TestPredict(t *testing.T) {
	ts := predictorServer(t)
	resp, body := post(t, ts.URL+"/v1/predictors/vte-arthroplasty/predict", `{"rows": [`+goodVTE+`, `+
		strings.Replace(goodVTE, `"hypertension": true`, `"hypertension": false`, 1)+`]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var res predictors.Result
	json.Unmarshal(body, &res)
	if len(res.Predictions) != 2 || res.Warning == nil || !res.Model.Synthetic || res.Disclaimer == "" {
		t.Fatalf("result: %+v", res)
	}
	with, without := res.Predictions[0], res.Predictions[1]
	if !(with.Probability > without.Probability) {
		t.Errorf("hypertension did not raise the risk: %v vs %v", with.Probability, without.Probability)
	}
	c := with.Contributions
	for i := 1; i < len(c); i++ {
		if abs(c[i].Contribution) > abs(c[i-1].Contribution) {
			t.Fatalf("contributions not sorted by size: %v", c)
		}
	}
	if diff := cmp.Diff([]string{"d_dimer_mg_l_feu", "hours_to_ambulation"}, with.Imputed); diff != "" {
		t.Errorf("imputed (-want +got):\n%s", diff)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// Every bad field of every row is listed in one 422, and nothing is scored.
func TestPredictBadRows(t *testing.T) {
	ts := predictorServer(t)
	bad := `{"rows": [` + goodVTE + `,
		{"age_years": 250, "sex": "female", "bmi_kg_m2": -2, "joint": "knee", "bilateral": false, "surgery_hours": 2,
		 "hypertension": "yes", "prior_vte": false, "d_dimer_mg_l_feu": {"value": 1, "unit": "mmol/L"}, "shoe_size": 42},
		{"sex": "female", "bmi_kg_m2": 25, "joint": "hip", "bilateral": false, "surgery_hours": 2, "hypertension": true, "prior_vte": true}]}`
	resp, body := post(t, ts.URL+"/v1/predictors/vte-arthroplasty/predict", bad)
	if resp.StatusCode != 422 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var p Problem
	json.Unmarshal(body, &p)
	var fields []string
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	want := []string{"/rows/1/age_years", "/rows/1/bmi_kg_m2", "/rows/1/hypertension", "/rows/1/d_dimer_mg_l_feu",
		"/rows/1/shoe_size", "/rows/2/age_years"}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("bad fields (-want +got):\n%s", diff)
	}
	if strings.Contains(string(body), "probability") {
		t.Error("a refused batch returned scores")
	}
	for path, status := range map[string]int{
		"/v1/predictors/nope/predict":           404,
		"/v1/predictors/cement-leakage/predict": 422, // no rows
	} {
		if resp, body := post(t, ts.URL+path, `{"rows": []}`); resp.StatusCode != status {
			t.Errorf("%s: %d, want %d: %s", path, resp.StatusCode, status, body)
		}
	}
	many := `{"rows": [` + strings.Repeat(goodVTE+",", predictors.MaxRows) + goodVTE + `]}`
	if resp, _ := post(t, ts.URL+"/v1/predictors/vte-arthroplasty/predict", many); resp.StatusCode != 422 {
		t.Errorf("10,001 rows: status %d, want 422", resp.StatusCode)
	}
}

func TestCard(t *testing.T) {
	ts := predictorServer(t)
	resp, err := http.Get(ts.URL + "/v1/predictors/cement-leakage/card")
	if err != nil {
		t.Fatal(err)
	}
	var c predictors.Card
	json.NewDecoder(resp.Body).Decode(&c)
	resp.Body.Close()
	if c.Warning == nil || !c.TrainingData.Synthetic || len(c.TrainingData.Notes) == 0 || c.Validation.Overall.AUC < 0.6 ||
		len(c.Validation.Subgroups["age_band"]) == 0 || len(c.Inputs) != 12 {
		t.Errorf("card: %+v", c)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/v1/predictors/cement-leakage/card", nil)
	req.Header.Set("Accept", "text/html")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"SYNTHETIC", "Intended use", "Out of scope", "Subgroups", "Calibration", c.Model.SHA256, "OR 5.215"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("card page lacks %q", want)
		}
	}
	var unknown Problem
	resp, _ = http.Get(ts.URL + "/v1/predictors/nope/card")
	json.NewDecoder(resp.Body).Decode(&unknown)
	if unknown.Status != 404 || orthocds.ENOTFOUND == "" {
		t.Errorf("unknown card: %+v", unknown)
	}
}

// TestDriftWatch: predictions served carry an ID; outcomes posted for them
// reach the drift report of their model version; an outcome for an ID
// never served is 422 naming it and stores nothing.
func TestDriftWatch(t *testing.T) {
	arts, err := shipped.Artefacts()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := predictors.NewService(arts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(Config{Predictors: svc, Drift: &drift.FileStore{Dir: t.TempDir()},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer ts.Close()
	resp, body := post(t, ts.URL+"/v1/predictors/vte-arthroplasty/predict", `{"rows": [`+goodVTE+`,`+goodVTE+`], "explain": false}`)
	if resp.StatusCode != 200 {
		t.Fatalf("predict: %d %s", resp.StatusCode, body)
	}
	var res predictors.Result
	json.Unmarshal(body, &res)
	a, b := res.Predictions[0].ID, res.Predictions[1].ID
	if a == "" || a == b {
		t.Fatalf("prediction IDs %q %q", a, b)
	}
	resp, body = post(t, ts.URL+"/v1/predictors/outcomes", `{"outcomes": [{"id": "`+a+`", "outcome": 1}, {"id": "no-such-id", "outcome": 0}]}`)
	if resp.StatusCode != 422 || !strings.Contains(string(body), "/outcomes/1/id") {
		t.Errorf("unknown ID: %d %s", resp.StatusCode, body)
	}
	resp, body = post(t, ts.URL+"/v1/predictors/outcomes", `{"outcomes": [{"id": "`+a+`", "outcome": 1}, {"id": "`+b+`", "outcome": 0}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("outcomes: %d %s", resp.StatusCode, body)
	}
	r, err := http.Get(ts.URL + "/v1/predictors/vte-arthroplasty/drift")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var rep drift.Report
	json.NewDecoder(r.Body).Decode(&rep)
	if len(rep.Versions) != 1 || rep.Versions[0].Overall.N != 2 || rep.Versions[0].Overall.Events != 1 ||
		rep.Versions[0].Model != res.Model.SHA256 || rep.Versions[0].Flagged {
		t.Errorf("drift report %+v", rep)
	}
}
