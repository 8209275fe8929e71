package predictors

import (
	"bytes"
	"os"
	"testing"
)

// FuzzReadCSV: any bytes as training data are read or refused with the
// line named, never a panic; rows read have one value per feature.
func FuzzReadCSV(f *testing.F) {
	def, _ := Get("cement-leakage")
	b, err := os.ReadFile("testdata/xgb-test.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[:min(len(b), 4000)])
	f.Add([]byte("age_years,outcome\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, _, err := ReadCSV(def, bytes.NewReader(b))
		if err != nil {
			return
		}
		for i, x := range d.X {
			if len(x) != len(def.Schema) {
				t.Fatalf("row %d has %d values for %d features", i, len(x), len(def.Schema))
			}
		}
	})
}
