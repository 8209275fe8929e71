package patient

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAgeInCompletedYears(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]float64{"1954-03-02": 71, "1954-03-01": 72, "1954-02-28": 72, "2000-12-31": 25, "2026-03-01": 0}
	for born, want := range cases {
		r := Reader{Now: now}
		if err := r.Add("/p", json.RawMessage(`{"resourceType":"Patient","birthDate":"`+born+`"}`)); err != nil {
			t.Fatal(err)
		}
		if got := *r.Record().AgeYears; got != want {
			t.Errorf("born %s: age %v, want %v", born, got, want)
		}
	}
}

// Resources are read into facts: units converted, fractures classified by
// site and fragility in both languages, drugs by class, refuted
// conditions and entered-in-error observations left out.
func TestRead(t *testing.T) {
	r := Reader{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	bundle := `{"resourceType":"Bundle","entry":[
	 {"resource":{"resourceType":"Patient","gender":"female","birthDate":"1950-01-01","name":[{"text":"Should not be read"}]}},
	 {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"valueQuantity":{"value":132.3,"code":"[lb_av]"}}},
	 {"resource":{"resourceType":"Observation","status":"entered-in-error","code":{"coding":[{"system":"http://loinc.org","code":"38267-1"}]},"valueQuantity":{"value":-4.0}}},
	 {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"38267-1"}]},"valueQuantity":{"value":-2.6}}},
	 {"resource":{"resourceType":"Condition","code":{"text":"股骨颈脆性骨折"},"onsetDateTime":"2026-01-05"}},
	 {"resource":{"resourceType":"Condition","code":{"text":"Traumatic fracture of tibia"}}},
	 {"resource":{"resourceType":"Condition","verificationStatus":{"coding":[{"system":"x","code":"refuted"}]},"code":{"text":"Pulmonary embolism"}}},
	 {"resource":{"resourceType":"MedicationRequest","status":"active","medicationCodeableConcept":{"text":"唑来膦酸注射液"}}},
	 {"resource":{"resourceType":"MedicationRequest","status":"active","medicationCodeableConcept":{"text":"Amlodipine"}}}
	]}`
	if err := r.Add("/b", json.RawMessage(bundle)); err != nil {
		t.Fatal(err)
	}
	rec := r.Record()
	if rec.WeightKg == nil || *rec.WeightKg < 59.9 || *rec.WeightKg > 60.1 {
		t.Errorf("weight %v, want 60 kg from 132.3 lb", rec.WeightKg)
	}
	want := Record{Sex: "female", AgeYears: rec.AgeYears, WeightKg: rec.WeightKg,
		TScores: []TScore{{Site: "lumbar spine", Value: -2.6}},
		Fractures: []Fracture{{Site: "hip", Fragility: true, Onset: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Text: "股骨颈脆性骨折"},
			{Site: "other", Text: "Traumatic fracture of tibia"}},
		Medications: []Medication{{Class: Bisphosphonate, Name: "唑来膦酸注射液", Status: "active"}},
		// Text-only resources reach their facts by words, and say so.
		Facts: map[string]Fact{
			"drug-bisphosphonate":   {By: "text", Active: true},
			"fracture-hip":          {By: "text", Active: true},
			"fracture-osteoporotic": {By: "text", Active: true},
			"obs-tscore":            {By: "code", Active: true, Code: "http://loinc.org|38267-1"},
			"obs-weight":            {By: "code", Active: true, Code: "http://loinc.org|29463-7"},
		}}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	b, _ := json.Marshal(rec)
	if strings.Contains(string(b), "Should not be read") {
		t.Error("the patient's name reached the record")
	}
}

// The patient of issue 17, coded as Synthea and US Core code it and with
// every display text removed: SNOMED CT 443165006 (pathological fracture
// due to osteoporosis), LOINC 38265-5 (DXA T-score) -2.9, weight 48.5 kg.
// The fracture is read as a fragility fracture and the T-score as one;
// a code no value set knows is listed, not dropped.
func TestCodesAlone(t *testing.T) {
	r := Reader{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	bundle := `{"resourceType":"Bundle","entry":[
	 {"resource":{"resourceType":"Patient","gender":"female","birthDate":"1951-06-01"}},
	 {"resource":{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"64859006"}]}}},
	 {"resource":{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"443165006"}]},"onsetDateTime":"2026-03-10"}},
	 {"resource":{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}]}}},
	 {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"38265-5"}]},"valueQuantity":{"value":-2.9,"unit":"{T-score}"}}},
	 {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"valueQuantity":{"value":48.5,"code":"kg"}}},
	 {"resource":{"resourceType":"MedicationRequest","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"H02AB07"}]}}},
	 {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"48066-5"}]},"valueQuantity":{"value":300,"code":"ng/mL{DDU}"}}},
	 {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"48065-7"}]},"valueQuantity":{"value":2,"code":"[stone_av]"}}}
	]}`
	if err := r.Add("/b", json.RawMessage(bundle)); err != nil {
		t.Fatal(err)
	}
	rec := r.Record()
	if len(rec.Fractures) != 1 || !rec.Fractures[0].Fragility {
		t.Errorf("fractures %+v, want one fragility fracture", rec.Fractures)
	}
	if low := rec.LowestTScore(); low == nil || low.Value != -2.9 {
		t.Errorf("T-scores %+v, want -2.9", rec.TScores)
	}
	if rec.WeightKg == nil || *rec.WeightKg != 48.5 || !rec.OnClass(Glucocorticoid) {
		t.Errorf("weight %v, glucocorticoid %v", rec.WeightKg, rec.OnClass(Glucocorticoid))
	}
	for _, f := range []string{"osteoporosis", "fracture-osteoporotic", "obs-tscore", "drug-glucocorticoid"} {
		if rec.Facts[f].By != "code" {
			t.Errorf("fact %s: %+v, want it by code", f, rec.Facts[f])
		}
	}
	// A D-dimer in DDU is not the FEU the predictor takes: its code is
	// shown, not read; a unit we cannot convert from leaves the value
	// unread and says so, without failing the record.
	if _, ok := rec.Labs["obs-ddimer"]; ok {
		t.Errorf("labs %v: a DDU or unconvertible D-dimer was read", rec.Labs)
	}
	want := []Code{{Resource: "Condition", System: "http://snomed.info/sct", Code: "44054006"},
		{Resource: "Observation", System: "http://loinc.org", Code: "48066-5"},
		{Resource: "Observation", System: "http://loinc.org", Code: "48065-7", Display: "unit [stone_av] not read"}}
	if diff := cmp.Diff(want, rec.Uninterpreted); diff != "" {
		t.Errorf("uninterpreted codes (-want +got):\n%s", diff)
	}
}
