package model

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// ArtefactFormat names the artefact layout.
const ArtefactFormat = "orthocds-model/1"

// Training says what data fitted a model and how.
type Training struct {
	Synthetic   bool    `json:"synthetic"`
	Description string  `json:"description"`
	Rows        int     `json:"rows"`
	Events      int     `json:"events"`
	DataSHA256  string  `json:"data_sha256"`
	Seed        uint64  `json:"seed"`
	Lambda      float64 `json:"lambda"`
	Folds       int     `json:"folds"`
	// Notes say line by line how the data were made (for synthetic data:
	// each effect with its source, each input distribution as an assumption).
	Notes []string `json:"notes,omitempty"`
}

// Artefact is a fitted model with its provenance and validation report.
type Artefact struct {
	Format    string    `json:"format"`
	Predictor string    `json:"predictor"`
	Version   string    `json:"version"`
	Date      string    `json:"date"`
	Kind      string    `json:"kind"` // logistic, gbt or stacking
	Features  []string  `json:"features"`
	Logistic  *Logistic `json:"logistic,omitempty"`
	GBT       *Ensemble `json:"gbt,omitempty"`
	Stack     *Stack    `json:"stacking,omitempty"`
	Fit       FitConfig `json:"fit"`
	Threshold float64   `json:"threshold"`
	BaseRate  float64   `json:"base_rate"`
	Training  Training  `json:"training"`
	// Report is the cross-validation of the served kind; Compared holds the
	// overall figures of every kind on the same folds.
	Report   Report             `json:"report"`
	Compared map[string]Metrics `json:"compared,omitempty"`
	// Recalibration, when set, maps the model's log-odds to a + b*logit,
	// fitted on local outcomes; the model above is unchanged.
	Recalibration *Recalibration `json:"recalibration,omitempty"`
	SHA256        string         `json:"sha256"`
}

// Scorer returns the served model, recalibrated when the artefact says so.
func (a *Artefact) Scorer() Scorer {
	m := a.model()
	if r := a.Recalibration; r != nil && m != nil {
		return recalibrated{inner: m, a: r.Intercept, b: r.Slope}
	}
	return m
}

func (a *Artefact) model() Scorer {
	switch a.Kind {
	case KindLogistic:
		return a.Logistic
	case KindGBT:
		return a.GBT
	case KindStacking:
		return a.Stack
	}
	return nil
}

// SetModel stores m as the served model.
func (a *Artefact) SetModel(m Scorer) error {
	switch v := m.(type) {
	case *Logistic:
		a.Kind, a.Logistic = KindLogistic, v
	case *Ensemble:
		a.Kind, a.GBT = KindGBT, v
	case *Stack:
		a.Kind, a.Stack = KindStacking, v
	default:
		return fmt.Errorf("unknown model type %T", m)
	}
	return nil
}

// Seal computes the content hash over everything but the hash itself.
func (a *Artefact) Seal() error {
	a.SHA256 = ""
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	a.SHA256 = hex.EncodeToString(sum[:])
	return nil
}

// Parse decodes an artefact and checks its format and hash.
func Parse(b []byte) (*Artefact, error) {
	var a Artefact
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("decode model artefact: %w", err)
	}
	if a.Format != ArtefactFormat {
		return nil, fmt.Errorf("model artefact format %q, want %q", a.Format, ArtefactFormat)
	}
	want := a.SHA256
	if err := a.Seal(); err != nil {
		return nil, err
	}
	if a.SHA256 != want {
		return nil, fmt.Errorf("model artefact %s %s: content hash mismatch (file altered?)", a.Predictor, a.Version)
	}
	complete := a.Kind == KindLogistic && a.Logistic != nil || a.Kind == KindGBT && a.GBT != nil ||
		a.Kind == KindStacking && a.Stack != nil && a.Stack.LR != nil && a.Stack.GBT != nil
	if !complete {
		return nil, fmt.Errorf("model artefact %s: kind %q without its model", a.Predictor, a.Kind)
	}
	return &a, nil
}
