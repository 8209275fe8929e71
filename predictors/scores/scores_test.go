package scores

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/orthocds/orthocds"
)

func f(v float64) *float64 { return &v }

func TestTScore(t *testing.T) {
	tests := []struct {
		in   TScoreInput
		want string
	}{
		{TScoreInput{TScore: f(-0.5)}, "normal"},
		{TScoreInput{TScore: f(-1.0)}, "normal"},
		{TScoreInput{TScore: f(-1.1)}, "low-bone-mass"},
		{TScoreInput{TScore: f(-2.4)}, "low-bone-mass"},
		{TScoreInput{TScore: f(-2.5)}, "osteoporosis"},
		{TScoreInput{TScore: f(-3.2), FragilityFracture: true}, "severe-osteoporosis"},
		{TScoreInput{TScore: f(-2.0), FragilityFracture: true}, "low-bone-mass"},
	}
	for _, tt := range tests {
		r, err := TScore(tt.in)
		if err != nil || r.Category != tt.want {
			t.Errorf("TScore(%v, fracture=%v) = %q, %v; want %q", *tt.in.TScore, tt.in.FragilityFracture, r.Category, err, tt.want)
		}
	}
}

// Worked examples of OSTA = (weight - age) x 0.2 and its bands.
func TestOSTA(t *testing.T) {
	tests := []struct {
		weight, age float64
		value       float64
		band        string
	}{
		{60, 55, 1.0, "low"},
		{50, 55, -1.0, "medium"}, // -1 is the first value that calls for DXA
		{45, 65, -4.0, "medium"},
		{45, 70, -5.0, "high"},
		{52, 56, -0.8, "low"},
	}
	for _, tt := range tests {
		r, err := OSTA(OSTAInput{WeightKg: f(tt.weight), AgeYears: f(tt.age)})
		if err != nil {
			t.Fatal(err)
		}
		if *r.Value != tt.value || r.Category != tt.band {
			t.Errorf("OSTA(%v kg, %v y) = %v %q, want %v %q", tt.weight, tt.age, *r.Value, r.Category, tt.value, tt.band)
		}
	}
}

func TestCaprini(t *testing.T) {
	tests := []struct {
		name  string
		age   float64
		items []string
		score float64
		band  string
	}{
		{"young, nothing", 30, nil, 0, "low"},
		{"age 45 only", 45, nil, 1, "low"},
		{"age 65 only", 65, nil, 2, "moderate"},
		{"age 50 + minor surgery + varicose veins", 50, []string{"minor-surgery", "varicose-veins"}, 3, "high"},
		// A 68-year-old for elective knee arthroplasty with BMI over 25:
		// 5 (arthroplasty) + 2 (age 61-74) + 1 (BMI) = 8.
		{"knee arthroplasty at 68 with BMI over 25", 68, []string{"elective-lower-extremity-arthroplasty", "bmi-over-25"}, 8, "highest"},
		// 78-year-old with previous DVT and a hip fracture: 3 + 3 + 5 = 11.
		{"hip fracture at 78 with previous DVT", 78, []string{"hip-pelvis-leg-fracture-1m", "history-of-vte"}, 11, "highest"},
	}
	for _, tt := range tests {
		r, err := Caprini(CapriniInput{AgeYears: f(tt.age), Items: tt.items})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if *r.Value != tt.score || r.Category != tt.band {
			t.Errorf("%s: score %v band %q, want %v %q", tt.name, *r.Value, r.Category, tt.score, tt.band)
		}
	}
}

func TestCapriniBadItems(t *testing.T) {
	_, err := Caprini(CapriniInput{AgeYears: f(70), Items: []string{"bmi-over-25", "smoking", "bmi-over-25"}})
	var oe *orthocds.Error
	if !asOrthoErr(err, &oe) {
		t.Fatalf("want *orthocds.Error, got %v", err)
	}
	want := []orthocds.FieldError{
		{Field: "/items/1", Detail: `unknown Caprini item "smoking"`},
		{Field: "/items/2", Detail: "listed twice"},
	}
	if diff := cmp.Diff(want, oe.FieldErrors); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
}

func asOrthoErr(err error, target **orthocds.Error) bool {
	e, ok := err.(*orthocds.Error)
	*target = e
	return ok
}

func TestFRAX(t *testing.T) {
	tests := []struct {
		mof, hip float64
		want     string
	}{
		{10, 1, "below-threshold"},
		{20, 1, "treatment-threshold"},
		{10, 3, "treatment-threshold"},
		{31, 2, "very-high-risk"},
		{15, 4.6, "very-high-risk"},
		{30, 4.5, "treatment-threshold"},
	}
	for _, tt := range tests {
		r, err := FRAX(FRAXInput{MajorPercent: f(tt.mof), HipPercent: f(tt.hip)})
		if err != nil || r.Category != tt.want {
			t.Errorf("FRAX(%v, %v) = %q, %v; want %q", tt.mof, tt.hip, r.Category, err, tt.want)
		}
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name, input, wantCode, wantField string
	}{
		{"osta", `{"weight_kg": 50, "age_years": 70}`, "", ""},
		{"osta", `{"weight_kg": 50, "age_years": 250}`, orthocds.EINVALID, "/age_years"},
		{"osta", `{"weight_kg": "heavy", "age_years": 70}`, orthocds.EINVALID, "/"},
		{"osta", `{"weight": 50, "age_years": 70}`, orthocds.EINVALID, "/"},
		{"nope", `{}`, orthocds.ENOTFOUND, "name"},
	}
	for _, tt := range tests {
		_, err := Run(tt.name, json.RawMessage(tt.input))
		if tt.wantCode == "" {
			if err != nil {
				t.Errorf("Run(%s, %s): %v", tt.name, tt.input, err)
			}
			continue
		}
		var oe *orthocds.Error
		if !asOrthoErr(err, &oe) || oe.Code != tt.wantCode || oe.Field != tt.wantField {
			t.Errorf("Run(%s, %s) = %v; want %s at %s", tt.name, tt.input, err, tt.wantCode, tt.wantField)
		}
	}
}
