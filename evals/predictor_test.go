package evals

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/model"
	"github.com/orthocds/orthocds/predictors/shipped"
	"github.com/orthocds/orthocds/predictors/synth"
)

// A predictor task scores a labelled CSV (here a fresh SYNTHETIC cohort
// drawn with another seed than the shipped model's training data) and
// reports AUC with its interval, Brier score and a ten-bin calibration
// curve; a malformed file is refused naming the line.
func TestPredictorTask(t *testing.T) {
	arts, err := shipped.Artefacts()
	if err != nil {
		t.Fatal(err)
	}
	models := map[string]*model.Artefact{}
	for _, a := range arts {
		models[a.Predictor] = a
	}
	id := "vte-arthroplasty"
	def, _ := predictors.Get(id)
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "cohort.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WriteCSV(f, def, synth.Generate(def, synth.Specs[id], 3000, 99, 1)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	e := Env{Models: models}
	suite := Suite{Name: "pred", Tasks: []TaskSpec{{ID: "vte", Type: "predictor", Predictor: id, Data: csvPath}}}
	rep, err := (&Runner{Env: e}).Run(context.Background(), suite, filepath.Join(dir, "run"))
	if err != nil {
		t.Fatal(err)
	}
	tr := rep.Tasks[0]
	m := tr.Metrics
	if tr.N != 3000 || m["auc"] <= 0.55 || m["auc"] > 1 || !(m["auc_ci_low"] < m["auc"] && m["auc"] < m["auc_ci_high"]) ||
		m["brier"] <= 0 || m["brier"] >= 0.25 {
		t.Errorf("predictor task: n %d, metrics %v", tr.N, m)
	}
	rows := 0
	for _, b := range tr.Calibration {
		rows += b.N
	}
	if len(tr.Calibration) != 10 || rows != 3000 || tr.Calibration[0].MeanPredicted >= tr.Calibration[9].MeanPredicted {
		t.Errorf("calibration curve %+v", tr.Calibration)
	}
	// A bad cell is refused with its line.
	b, _ := os.ReadFile(csvPath)
	lines := strings.Split(string(b), "\n")
	cells := strings.Split(lines[5], ",")
	cells[0] = "not-a-number"
	lines[5] = strings.Join(cells, ",")
	os.WriteFile(csvPath, []byte(strings.Join(lines, "\n")), 0o644)
	_, err = (&Runner{Env: e}).Run(context.Background(), suite, filepath.Join(dir, "run2"))
	if err == nil || !strings.Contains(err.Error(), "line 6") {
		t.Errorf("a bad cell: %v, want an error naming line 6", err)
	}
}
