package predictors

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/predictors/model"
)

// OutcomeColumn is the CSV column holding the outcome (0/1 or false/true).
const OutcomeColumn = "outcome"

// maxCSVErrors bounds how many bad cells a refused file lists.
const maxCSVErrors = 20

// ReadCSV reads a training file whose header names schema features and the
// outcome column. Every cell is validated as an API row would be; a file
// with bad cells is refused, listing them by line and column.
func ReadCSV(def Definition, r io.Reader) (model.Data, string, error) {
	return readCSV(def, r, false)
}

// ReadCSVMissing is ReadCSV with empty optional cells left missing (NaN),
// for models that route missing inputs themselves (imported XGBoost and
// LightGBM models).
func ReadCSVMissing(def Definition, r io.Reader) (model.Data, string, error) {
	return readCSV(def, r, true)
}

func readCSV(def Definition, r io.Reader, keepMissing bool) (model.Data, string, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return model.Data{}, "", err
	}
	sum := sha256.Sum256(raw)
	cr := csv.NewReader(bytes.NewReader(raw))
	header, err := cr.Read()
	if err != nil {
		return model.Data{}, "", orthocds.Invalid("line 1", "cannot read the header: %v", err)
	}
	out := -1
	for i, h := range header {
		if strings.TrimSpace(h) == OutcomeColumn {
			out = i
		}
	}
	if out < 0 {
		return model.Data{}, "", orthocds.Invalid("line 1", "no %q column", OutcomeColumn)
	}
	d := model.Data{Features: def.Schema.Names()}
	var bad []orthocds.FieldError
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			bad = append(bad, orthocds.FieldError{Field: fmt.Sprintf("line %d", line), Detail: err.Error()})
			break
		}
		row := Row{}
		var y float64
		for i, cell := range rec {
			name := strings.TrimSpace(header[i])
			cell = strings.TrimSpace(cell)
			if i == out {
				switch strings.ToLower(cell) {
				case "1", "true":
					y = 1
				case "0", "false":
				default:
					bad = append(bad, orthocds.FieldError{Field: fmt.Sprintf("line %d/%s", line, name), Detail: "must be 0 or 1"})
				}
				continue
			}
			if cell != "" {
				row[name] = cellJSON(def.Schema, name, cell)
			}
		}
		enc, errs := def.Schema.Encode(row, fmt.Sprintf("line %d", line), keepMissing)
		bad = append(bad, errs...)
		if len(bad) >= maxCSVErrors {
			break
		}
		d.X, d.Y = append(d.X, enc.X), append(d.Y, y)
		d.Groups = append(d.Groups, Groups(def.Schema, enc.X))
	}
	if len(bad) > 0 {
		return model.Data{}, "", &orthocds.Error{Code: orthocds.EINVALID, Field: bad[0].Field,
			Message: "the training file has bad cells", FieldErrors: bad}
	}
	if len(d.Y) < 50 {
		return model.Data{}, "", orthocds.Invalid("rows", "%d rows; at least 50 are needed to fit and validate", len(d.Y))
	}
	return d, hex.EncodeToString(sum[:]), nil
}

// cellJSON turns a CSV cell into the JSON the schema validator reads.
func cellJSON(s Schema, name, cell string) json.RawMessage {
	for _, f := range s {
		if f.Name != name {
			continue
		}
		switch f.Type {
		case Category:
			b, _ := json.Marshal(cell)
			return b
		case Bool:
			switch strings.ToLower(cell) {
			case "1", "true", "yes":
				return json.RawMessage("true")
			case "0", "false", "no":
				return json.RawMessage("false")
			}
		case Number:
			if _, err := strconv.ParseFloat(cell, 64); err == nil {
				return json.RawMessage(cell)
			}
		}
	}
	b, _ := json.Marshal(cell) // wrong type: the validator names it
	return b
}

// Groups labels a row for subgroup reporting by sex and age band.
func Groups(s Schema, x []float64) map[string]string {
	g := map[string]string{}
	for i, f := range s {
		switch f.Name {
		case "sex":
			g["sex"] = f.Levels[int(x[i])]
		case "age_years":
			switch {
			case x[i] < 65:
				g["age_band"] = "under 65"
			case x[i] < 75:
				g["age_band"] = "65-74"
			default:
				g["age_band"] = "75 and over"
			}
		}
	}
	return g
}

// TrainConfig configures Train.
type TrainConfig struct {
	Kind        string // logistic, gbt or stacking (the default)
	GBT         model.GBTConfig
	Version     string
	Date        string // YYYY-MM-DD; part of the content hash
	Seed        uint64
	Folds       int
	Lambda      float64
	Synthetic   bool
	Description string
	DataSHA256  string
}

// Train cross-validates every kind of model on the same folds, and fits
// the chosen kind on all rows, returning a sealed artefact. The decision
// threshold is the outcome rate of the data.
func Train(def Definition, d model.Data, cfg TrainConfig) (*model.Artefact, error) {
	if cfg.Folds == 0 {
		cfg.Folds = 5
	}
	if cfg.Lambda == 0 {
		cfg.Lambda = 0.01
	}
	if cfg.Kind == "" {
		cfg.Kind = model.KindStacking
	}
	if cfg.GBT.Trees == 0 {
		cfg.GBT = model.DefaultGBT
	}
	var events int
	for _, y := range d.Y {
		events += int(y)
	}
	if events < cfg.Folds || len(d.Y)-events < cfg.Folds {
		return nil, orthocds.Invalid("outcome", "%d events in %d rows; each fold needs events and non-events", events, len(d.Y))
	}
	threshold := float64(events) / float64(len(d.Y))
	fit := model.FitConfig{Lambda: cfg.Lambda, GBT: cfg.GBT, InnerFolds: 3, Seed: cfg.Seed}
	a := &model.Artefact{Format: model.ArtefactFormat, Predictor: def.ID, Version: cfg.Version, Date: cfg.Date,
		Features: d.Features, Fit: fit, Threshold: threshold, BaseRate: threshold, Compared: map[string]model.Metrics{},
		Training: model.Training{Synthetic: cfg.Synthetic, Description: cfg.Description, Rows: len(d.Y), Events: events,
			DataSHA256: cfg.DataSHA256, Seed: cfg.Seed, Lambda: cfg.Lambda, Folds: cfg.Folds}}
	found := false
	for _, kind := range model.Kinds {
		rep, _, err := model.CrossValidate(d, model.CVConfig{Kind: kind, Folds: cfg.Folds, Fit: fit, Threshold: threshold, Seed: cfg.Seed})
		if err != nil {
			return nil, err
		}
		a.Compared[kind] = rep.Overall
		if kind == cfg.Kind {
			a.Report, found = rep, true
		}
	}
	if !found {
		return nil, orthocds.Invalid("kind", "%q is not one of logistic, gbt, stacking", cfg.Kind)
	}
	m, err := model.Fit(cfg.Kind, d.Features, d.X, d.Y, fit)
	if err != nil {
		return nil, err
	}
	if err := a.SetModel(m); err != nil {
		return nil, err
	}
	return a, a.Seal()
}

// Import wraps a model trained outside OrthoCDS (an XGBoost ensemble) in an
// artefact, validated on the rows of d: those figures are an external
// validation, not cross-validation.
func Import(def Definition, e *model.Ensemble, d model.Data, cfg TrainConfig) (*model.Artefact, error) {
	var events int
	for _, y := range d.Y {
		events += int(y)
	}
	if events == 0 || events == len(d.Y) {
		return nil, orthocds.Invalid("outcome", "the validation rows need both outcomes")
	}
	threshold := float64(events) / float64(len(d.Y))
	p := make([]float64, len(d.X))
	for i, x := range d.X {
		p[i] = e.Predict(x)
	}
	rep := model.EvaluateData(d, p, threshold, cfg.Seed)
	rep.Kind = model.KindGBT
	a := &model.Artefact{Format: model.ArtefactFormat, Predictor: def.ID, Version: cfg.Version, Date: cfg.Date,
		Features: def.Schema.Names(), Threshold: threshold, BaseRate: threshold, Report: rep,
		Compared: map[string]model.Metrics{model.KindGBT: rep.Overall},
		Training: model.Training{Synthetic: cfg.Synthetic, Description: cfg.Description, Rows: len(d.Y), Events: events,
			DataSHA256: cfg.DataSHA256, Seed: cfg.Seed}}
	if err := a.SetModel(e); err != nil {
		return nil, err
	}
	return a, a.Seal()
}

// Recalibrate fits a logistic recalibration of a (its log-odds to
// a + b*logit, composed with any recalibration a already has) on local
// rows with outcomes, and returns a new content-hashed artefact; a itself
// is not changed. The new artefact records the figures on the local rows
// before and after.
func Recalibrate(def Definition, a *model.Artefact, d model.Data, cfg TrainConfig) (*model.Artefact, error) {
	if a.Predictor != def.ID {
		return nil, orthocds.Invalid("predictor", "the model is of %q, not %q", a.Predictor, def.ID)
	}
	m := a.Scorer()
	logits := make([]float64, len(d.X))
	before := make([]float64, len(d.X))
	for i, x := range d.X {
		logits[i] = m.Logit(x)
		before[i] = 1 / (1 + math.Exp(-logits[i]))
	}
	ra, rb, err := model.FitRecalibration(logits, d.Y)
	if err != nil {
		return nil, orthocds.Invalid("data", "%v", err)
	}
	after := make([]float64, len(d.X))
	for i, l := range logits {
		after[i] = 1 / (1 + math.Exp(-(ra + rb*l)))
	}
	events := 0
	for _, y := range d.Y {
		events += int(y)
	}
	// A copy of the artefact, its recalibration composed with the new one.
	raw, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	var out model.Artefact
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	base, slope := ra, rb
	if r := a.Recalibration; r != nil {
		base, slope = ra+rb*r.Intercept, rb*r.Slope
	}
	out.Recalibration = &model.Recalibration{Intercept: base, Slope: slope, Of: a.SHA256, OfVersion: a.Version,
		Rows: len(d.Y), Events: events, DataSHA256: cfg.DataSHA256, Synthetic: cfg.Synthetic,
		Before: model.Evaluate(d.Y, before, a.Threshold, cfg.Seed), After: model.Evaluate(d.Y, after, a.Threshold, cfg.Seed),
		BeforeCurve: model.CalibrationCurve(d.Y, before, 10), AfterCurve: model.CalibrationCurve(d.Y, after, 10),
		ObservedExpectedBefore: model.ObservedExpected(d.Y, before), ObservedExpectedAfter: model.ObservedExpected(d.Y, after)}
	out.Version, out.Date = cfg.Version, cfg.Date
	out.BaseRate = float64(events) / float64(len(d.Y))
	if err := out.Seal(); err != nil {
		return nil, err
	}
	return &out, nil
}
