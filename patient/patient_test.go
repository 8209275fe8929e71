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
		Medications: []Medication{{Class: Bisphosphonate, Name: "唑来膦酸注射液", Status: "active"}}}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	b, _ := json.Marshal(rec)
	if strings.Contains(string(b), "Should not be read") {
		t.Error("the patient's name reached the record")
	}
}
