package patient

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzReader: any bytes as a FHIR resource or bundle are read or refused
// with a field, never a panic; what is read marshals.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob("../cdshooks/patients/syn-*.json")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte(`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},"valueQuantity":{"value":1e309,"code":"kg"}}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Bundle","entry":[]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := Reader{Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
		if err := r.Add("/x", b); err != nil {
			return
		}
		if _, err := json.Marshal(r.Record()); err != nil {
			t.Fatalf("record does not marshal: %v", err)
		}
	})
}
