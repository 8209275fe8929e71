package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/model"
	"github.com/orthocds/orthocds/predictors/shipped"
	"github.com/orthocds/orthocds/predictors/synth"
)

// loadPredictors returns the shipped models, replaced by any models a
// hospital has refitted into dir.
func loadPredictors(dir string) (*predictors.Service, error) {
	arts, err := shipped.Artefacts()
	if err != nil {
		return nil, err
	}
	if dir != "" {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			return nil, err
		}
		var own []*model.Artefact
		for _, f := range files {
			if filepath.Ext(f[:len(f)-len(".json")]) == ".report" {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			a, err := model.Parse(b)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			own = append(own, a)
		}
		// The directory's models follow the shipped ones, oldest first: the
		// newest becomes each predictor's default (a model never displaces
		// its own recalibration); every version stays callable.
		sort.SliceStable(own, func(i, j int) bool { return own[i].Date < own[j].Date })
		arts = append(arts, own...)
	}
	return predictors.NewService(arts)
}

func runPredict(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("predictor", "", "predictor ID: cement-leakage, vte-arthroplasty or dcm-axial-pain")
	models := fs.String("models", "", "directory of refitted models that replace the shipped ones")
	if err := fs.Parse(args); err != nil {
		return err
	}
	svc, err := loadPredictors(*models)
	if err != nil {
		return err
	}
	in := stdin
	if fs.NArg() > 0 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	var req struct {
		Rows []predictors.Row `json:"rows"`
	}
	b, err := io.ReadAll(io.LimitReader(in, 64<<20))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &req); err != nil || req.Rows == nil {
		var one predictors.Row // a single row object is accepted too
		if err := json.Unmarshal(b, &one); err != nil {
			return errors.New(`predict: give {"rows": [{...}]} or one row object as JSON`)
		}
		req.Rows = []predictors.Row{one}
	}
	res, err := svc.Predict(*id, req.Rows, true)
	if err != nil {
		return userError(err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("predictor", "", "predictor ID")
	data := fs.String("data", "", "training CSV: one column per input, plus outcome (0/1)")
	out := fs.String("out", "models", "directory for the model artefact and its report")
	version := fs.String("version", time.Now().UTC().Format("2006.01.02"), "model version")
	seed := fs.Uint64("seed", 1, "seed for folds and bootstrap")
	folds := fs.Int("folds", 5, "cross-validation folds")
	lambda := fs.Float64("lambda", 0.01, "L2 penalty")
	kind := fs.String("kind", "stacking", "model to serve: logistic, gbt or stacking (all three are cross-validated and reported)")
	synthetic := fs.Bool("synthetic", false, "the data are synthetic (from orthocds synth): the model is labelled so everywhere")
	if err := fs.Parse(args); err != nil {
		return err
	}
	def, ok := predictors.Get(*id)
	if !ok {
		return fmt.Errorf("train: unknown predictor %q", *id)
	}
	d, sum, err := readCSV(def, *data)
	if err != nil {
		return err
	}
	a, err := predictors.Train(def, d, predictors.TrainConfig{Kind: *kind, Version: *version, Date: time.Now().UTC().Format("2006-01-02"),
		Seed: *seed, Folds: *folds, Lambda: *lambda, DataSHA256: sum, Synthetic: *synthetic,
		Description: "fitted on " + filepath.Base(*data)})
	if err != nil {
		return userError(err)
	}
	fmt.Fprintf(stdout, "%s: %d rows, %d events; serving %s\n", a.Predictor, a.Training.Rows, a.Training.Events, a.Kind)
	for _, k := range model.Kinds {
		m := a.Compared[k]
		fmt.Fprintf(stdout, "  %-9s cross-validated AUC %.3f (95%% CI %.3f-%.3f), Brier %.3f, calibration slope %.2f\n",
			k, m.AUC, m.AUCCI[0], m.AUCCI[1], m.Brier, m.CalibrationSlope)
	}
	return writeArtefact(stdout, *out, a)
}

func runSynth(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("predictor", "", "predictor ID")
	n := fs.Int("rows", 2000, "rows to draw")
	seed := fs.Uint64("seed", 1, "seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	def, ok := predictors.Get(*id)
	spec, has := synth.Specs[*id]
	if !ok || !has {
		return fmt.Errorf("synth: unknown predictor %q", *id)
	}
	if *n < 1 || *n > 1_000_000 {
		return orthocds.Invalid("rows", "must be between 1 and 1,000,000")
	}
	fmt.Fprintf(stderr, "orthocds: writing a SYNTHETIC cohort (%d rows, seed %d); it describes no real patients\n", *n, *seed)
	return synth.WriteCSV(stdout, def, synth.Generate(def, spec, *n, *seed, 1))
}

// runImport wraps an XGBoost (JSON or UBJSON) or LightGBM (text) model in
// a content-hashed artefact, validated on the given CSV (empty optional
// cells left missing, as the model learned them). With --expected (the
// library's own probabilities for the CSV's rows, one a line), every row
// must match to 1e-6 and the rows that do not are named.
func runImport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import-model", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("predictor", "", "predictor ID")
	modelPath := fs.String("model", "", "XGBoost model (booster.save_model(\"m.json\") or \"m.ubj\") or LightGBM text model (booster.save_model(\"m.txt\"))")
	data := fs.String("data", "", "validation CSV: one column per input (empty when not recorded), plus outcome (0/1)")
	expected := fs.String("expected", "", "optional: the library's probabilities for the CSV's rows, one a line; the import checks every row")
	out := fs.String("out", "models", "directory for the model artefact and its report")
	version := fs.String("version", time.Now().UTC().Format("2006.01.02"), "model version")
	synthetic := fs.Bool("synthetic", false, "the validation data are synthetic")
	if err := fs.Parse(args); err != nil {
		return err
	}
	def, ok := predictors.Get(*id)
	if !ok {
		return fmt.Errorf("import-model: unknown predictor %q", *id)
	}
	b, err := os.ReadFile(*modelPath)
	if err != nil {
		return err
	}
	e, err := model.ParseModel(b, def.Schema.Names())
	if err != nil {
		return fmt.Errorf("%s: %w", *modelPath, err)
	}
	f, err := os.Open(*data)
	if err != nil {
		return err
	}
	d, sum, err := predictors.ReadCSVMissing(def, f)
	f.Close()
	if err != nil {
		return userError(err)
	}
	if *expected != "" {
		if err := checkExpected(e, d, *expected, stdout); err != nil {
			return err
		}
	}
	a, err := predictors.Import(def, e, d, predictors.TrainConfig{Version: *version, Date: time.Now().UTC().Format("2006-01-02"),
		Seed: 1, DataSHA256: sum, Synthetic: *synthetic,
		Description: fmt.Sprintf("model %s, validated on %s", filepath.Base(*modelPath), filepath.Base(*data))})
	if err != nil {
		return userError(err)
	}
	return writeArtefact(stdout, *out, a)
}

// checkExpected compares the imported model with the library's own
// probabilities, row by row, and refuses the import when any differs by
// more than 1e-6, naming the rows.
func checkExpected(e *model.Ensemble, d model.Data, path string, stdout io.Writer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var want []float64
	for i, l := range strings.Fields(string(b)) {
		v, err := strconv.ParseFloat(l, 64)
		if err != nil {
			return userError(orthocds.Invalid("expected", "line %d: %q is not a probability", i+1, l))
		}
		want = append(want, v)
	}
	if len(want) != len(d.X) {
		return userError(orthocds.Invalid("expected", "%d probabilities for %d rows", len(want), len(d.X)))
	}
	var bad []string
	worst := 0.0
	for i, x := range d.X {
		diff := math.Abs(e.Predict(x) - want[i])
		worst = max(worst, diff)
		if diff > 1e-6 {
			bad = append(bad, strconv.Itoa(i+2)) // CSV line
		}
	}
	if len(bad) > 0 {
		if len(bad) > 20 {
			bad = append(bad[:20], "...")
		}
		return userError(orthocds.Invalid("expected", "%d rows are not scored as the library scored them (worst by %.3g): CSV lines %s",
			len(bad), worst, strings.Join(bad, ", ")))
	}
	fmt.Fprintf(stdout, "every one of %d rows scores as the library did (worst difference %.2g)\n", len(d.X), worst)
	return nil
}

func writeArtefact(stdout io.Writer, dir string, a *model.Artefact) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%s-%s", a.Predictor, a.Version, a.SHA256[:12]))
	ab, _ := json.MarshalIndent(a, "", " ")
	rb, _ := json.MarshalIndent(a.Report, "", " ")
	if err := os.WriteFile(base+".json", append(ab, '\n'), 0o640); err != nil {
		return err
	}
	if err := os.WriteFile(base+".report.json", append(rb, '\n'), 0o640); err != nil {
		return err
	}
	m := a.Report.Overall
	fmt.Fprintf(stdout, "%s (%s): AUC %.3f (95%% CI %.3f-%.3f), Brier %.3f, calibration slope %.2f on %d rows\n",
		a.Predictor, a.Kind, m.AUC, m.AUCCI[0], m.AUCCI[1], m.Brier, m.CalibrationSlope, m.N)
	fmt.Fprintf(stdout, "wrote %s.json and %s.report.json\n", base, base)
	return nil
}

// readCSV reads a training or validation file for def.
func readCSV(def predictors.Definition, path string) (model.Data, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return model.Data{}, "", err
	}
	defer f.Close()
	d, sum, err := predictors.ReadCSV(def, f)
	if err != nil {
		return model.Data{}, "", userError(err)
	}
	return d, sum, nil
}

// runRecalibrate fits a logistic recalibration of a predictor's current
// model on local outcomes and writes it as a new version; the model it
// recalibrates stays as it was and callable as "id@version".
func runRecalibrate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("recalibrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("predictor", "", "predictor ID, or ID@version")
	data := fs.String("data", "", "local CSV: one column per input, plus outcome (0/1)")
	models := fs.String("models", "", "directory of models (the shipped ones when empty); the recalibrated one goes to --out")
	out := fs.String("out", "models", "directory for the recalibrated artefact and its report (serve it with the model it recalibrates)")
	version := fs.String("version", "recal-"+time.Now().UTC().Format("2006.01.02"), "version of the recalibrated model")
	synthetic := fs.Bool("synthetic", false, "the local data are synthetic")
	if err := fs.Parse(args); err != nil {
		return err
	}
	svc, err := loadPredictors(*models)
	if err != nil {
		return err
	}
	a, ok := svc.Artefact(*id)
	if !ok {
		return userError(orthocds.Invalid("predictor", "no model for %q", *id))
	}
	def, _ := predictors.Get(a.Predictor)
	f, err := os.Open(*data)
	if err != nil {
		return err
	}
	read := predictors.ReadCSV
	if a.GBT != nil && a.GBT.Missing {
		read = predictors.ReadCSVMissing
	}
	d, sum, err := read(def, f)
	f.Close()
	if err != nil {
		return userError(err)
	}
	r, err := predictors.Recalibrate(def, a, d, predictors.TrainConfig{Version: *version, Date: time.Now().UTC().Format("2006-01-02"),
		Seed: 1, DataSHA256: sum, Synthetic: *synthetic})
	if err != nil {
		return userError(err)
	}
	rc := r.Recalibration
	fmt.Fprintf(stdout, "%s %s recalibrated on %d rows: log-odds %.3f + %.3f x; calibration slope %.2f -> %.2f, observed/expected %.2f -> %.2f\n",
		a.Predictor, a.Version, rc.Rows, rc.Intercept, rc.Slope, rc.Before.CalibrationSlope, rc.After.CalibrationSlope,
		rc.ObservedExpectedBefore, rc.ObservedExpectedAfter)
	if err := writeArtefact(stdout, *out, r); err != nil {
		return err
	}
	if *models != *out {
		// The model recalibrated goes beside its recalibration, so that
		// serving --out keeps both callable.
		if err := writeArtefact(io.Discard, *out, a); err != nil {
			return err
		}
	}
	return nil
}
