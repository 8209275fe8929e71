package predictors

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orthocds/orthocds"
)

func row(t *testing.T, s string) Row {
	t.Helper()
	var r Row
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestValidateEveryBadField(t *testing.T) {
	d, _ := Get("vte-arthroplasty")
	_, bad := d.Schema.Validate(row(t, `{
		"age_years": 250,
		"sex": "female",
		"bmi_kg_m2": -3,
		"joint": "shoulder",
		"bilateral": "yes",
		"surgery_hours": {"value": 90, "unit": "furlongs"},
		"hypertension": false,
		"colour": "red"
	}`), "/rows/0")
	want := []orthocds.FieldError{
		{Field: "/rows/0/age_years", Detail: "250 years is outside 18 to 110"},
		{Field: "/rows/0/bmi_kg_m2", Detail: "-3 kg/m2 is outside 12 to 70"},
		{Field: "/rows/0/joint", Detail: `"shoulder" is not one of hip, knee`},
		{Field: "/rows/0/bilateral", Detail: "must be true or false"},
		{Field: "/rows/0/surgery_hours", Detail: `unit "furlongs" is not accepted; use hours, h, min, minutes`},
		{Field: "/rows/0/prior_vte", Detail: "is required"},
		{Field: "/rows/0/colour", Detail: "unknown field"},
	}
	if diff := cmp.Diff(want, bad); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
}

func TestValidateEncodes(t *testing.T) {
	d, _ := Get("vte-arthroplasty")
	enc, bad := d.Schema.Validate(row(t, `{
		"age_years": 70, "sex": "female", "bmi_kg_m2": 31.5, "joint": "knee", "bilateral": false,
		"surgery_hours": {"value": 150, "unit": "minutes"}, "hypertension": true, "prior_vte": false,
		"d_dimer_mg_l_feu": {"value": 800, "unit": "ng/mL FEU"}
	}`), "")
	if len(bad) != 0 {
		t.Fatalf("valid row refused: %v", bad)
	}
	want := []float64{70, 1, 31.5, 1, 0, 2.5, 1, 0, 0.8, 24}
	if diff := cmp.Diff(want, enc.X); diff != "" {
		t.Errorf("encoded (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"hours_to_ambulation"}, enc.Imputed); diff != "" {
		t.Errorf("imputed (-want +got):\n%s", diff)
	}
}

func TestDefinitionsAreSourced(t *testing.T) {
	for _, d := range Definitions {
		if d.BaseRate <= 0 || d.BaseRate >= 1 || d.BaseRateSource == "" {
			t.Errorf("%s: base rate %v without source", d.ID, d.BaseRate)
		}
		for _, f := range d.Schema {
			if f.Description.EN == "" || f.Description.ZH == "" {
				t.Errorf("%s.%s: description missing a language", d.ID, f.Name)
			}
			if len(f.Sources) == 0 && f.Name != "sex" {
				t.Errorf("%s.%s: no source says why it predicts", d.ID, f.Name)
			}
		}
	}
}
