package shipped

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/orthocds/orthocds/predictors"
)

var update = flag.Bool("update", false, "rewrite the shipped model files")

// The embedded models are exactly what Build makes from the synthetic
// cohorts: same content hash. Run with -update after changing a cohort or
// the trainer.
func TestShippedModelsReproduce(t *testing.T) {
	for _, def := range predictors.Definitions {
		a, err := Build(def)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join("models", def.ID+".json")
		if *update {
			b, _ := json.MarshalIndent(a, "", " ")
			if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test ./predictors/shipped -update)", err)
		}
		var shippedHash struct{ SHA256 string }
		json.Unmarshal(b, &shippedHash)
		if shippedHash.SHA256 != a.SHA256 {
			t.Errorf("%s: shipped hash %s, rebuilt %s (run go test ./predictors/shipped -update)", def.ID, shippedHash.SHA256, a.SHA256)
		}
	}
	arts, err := Artefacts()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := predictors.NewService(arts); err != nil || len(arts) != len(predictors.Definitions) {
		t.Fatalf("%d shipped models, service: %v", len(arts), err)
	}
}
