package predictors

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/predictors/model"
)

// MaxRows bounds one prediction batch.
const MaxRows = 10_000

// SyntheticWarning is shown with every prediction of a model fitted on
// synthetic data.
var SyntheticWarning = Text{
	EN: "This model was fitted on SYNTHETIC data drawn from published effect sizes. It is not clinically validated; refit it on your hospital's patients before relying on it.",
	ZH: "该模型基于按已发表效应量生成的合成数据拟合，未经临床验证；在依赖其结果前，请用本院患者数据重新拟合。",
}

// Service scores rows with the loaded models. Each predictor has a
// default model; every loaded version stays callable as "id@version".
type Service struct {
	models   map[string]*model.Artefact // by ID: the default
	versions map[string]*model.Artefact // by "id@version"
	baseline map[string]float64         // each model's baseline log-odds, by SHA-256
}

// Artefact returns the model for "id" (its default) or "id@version".
func (s *Service) Artefact(ref string) (*model.Artefact, bool) {
	_, a, ok := s.resolve(ref)
	return a, ok
}

// resolve finds the model for "id" (its default) or "id@version".
func (s *Service) resolve(ref string) (Definition, *model.Artefact, bool) {
	id, version, versioned := strings.Cut(ref, "@")
	def, ok := Get(id)
	if !ok {
		return def, nil, false
	}
	a, has := s.models[id]
	if versioned {
		a, has = s.versions[id+"@"+version]
	}
	return def, a, has
}

// NewService checks that each artefact belongs to a known predictor and
// matches its schema.
func NewService(artefacts []*model.Artefact) (*Service, error) {
	s := &Service{models: map[string]*model.Artefact{}, versions: map[string]*model.Artefact{}, baseline: map[string]float64{}}
	for _, a := range artefacts {
		def, ok := Get(a.Predictor)
		if !ok {
			return nil, fmt.Errorf("model for unknown predictor %q", a.Predictor)
		}
		if fmt.Sprint(a.Features) != fmt.Sprint(def.Schema.Names()) {
			return nil, fmt.Errorf("model %s %s: features %v do not match the schema %v",
				a.Predictor, a.Version, a.Features, def.Schema.Names())
		}
		// The later artefact is the default, except that a model does not
		// displace its own recalibration.
		if cur := s.models[a.Predictor]; cur == nil || cur.Recalibration == nil || cur.Recalibration.Of != a.SHA256 {
			s.models[a.Predictor] = a
		}
		s.versions[a.Predictor+"@"+a.Version] = a
		s.baseline[a.SHA256] = a.Scorer().BaselineLogit()
	}
	return s, nil
}

// ModelInfo identifies the model behind a prediction.
type ModelInfo struct {
	Version   string `json:"version"`
	SHA256    string `json:"sha256"`
	Kind      string `json:"kind"`
	Synthetic bool   `json:"synthetic"`
	Date      string `json:"date"`
	// Recalibrated says the model's log-odds are recalibrated on local
	// outcomes (the card shows both calibrations).
	Recalibrated bool `json:"recalibrated,omitempty"`
}

// Summary lists a predictor with its schema.
type Summary struct {
	Definition
	Model ModelInfo `json:"model"`
	// Versions are every loaded model, each callable as "id@version".
	Versions []ModelInfo `json:"versions,omitempty"`
}

// List returns every predictor that has a model, with its default model
// and every version loaded.
func (s *Service) List() []Summary {
	var out []Summary
	for _, d := range All() {
		a, ok := s.models[d.ID]
		if !ok {
			continue
		}
		sum := Summary{Definition: d, Model: info(a)}
		for key, v := range s.versions {
			if strings.HasPrefix(key, d.ID+"@") {
				sum.Versions = append(sum.Versions, info(v))
			}
		}
		sort.Slice(sum.Versions, func(i, j int) bool { return sum.Versions[i].Version < sum.Versions[j].Version })
		out = append(out, sum)
	}
	return out
}

func info(a *model.Artefact) ModelInfo {
	return ModelInfo{Version: a.Version, SHA256: a.SHA256, Kind: a.Kind, Synthetic: a.Training.Synthetic, Date: a.Date,
		Recalibrated: a.Recalibration != nil}
}

// Contribution is one feature's share of a prediction's log-odds.
type Contribution struct {
	Feature      string  `json:"feature"`
	Value        float64 `json:"value"`
	Contribution float64 `json:"contribution"` // log-odds; baseline_logit plus all contributions is logit
	Imputed      bool    `json:"imputed,omitempty"`
	Missing      bool    `json:"missing,omitempty"` // not recorded, left missing for the model
}

// Prediction is one scored row.
type Prediction struct {
	Probability float64 `json:"probability"`
	// RiskBand compares the probability with the development cohort's
	// outcome rate: "lower" under half of it, "higher" above one and a half
	// times it, "average" between. These are display bands, not validated
	// clinical cut-offs.
	RiskBand      string         `json:"risk_band"`
	BaseRate      float64        `json:"base_rate"`
	Logit         float64        `json:"logit"`
	Baseline      float64        `json:"baseline_logit"`
	Contributions []Contribution `json:"contributions,omitempty"` // largest effect first; left out when explain is false
	Imputed       []string       `json:"imputed,omitempty"`
	// Missing are absent optional inputs left missing, sent where the
	// imported model learned to send them.
	Missing []string `json:"missing,omitempty"`
	// ID names the prediction for the drift watch: post its outcome later
	// under it (set by the server when the watch is on).
	ID string `json:"id,omitempty"`
}

// Result is a batch of predictions from one model.
type Result struct {
	Predictor   string       `json:"predictor"`
	Model       ModelInfo    `json:"model"`
	Predictions []Prediction `json:"predictions"`
	Warning     *Text        `json:"warning,omitempty"`
	Disclaimer  string       `json:"disclaimer"`
}

// Predict validates every row, and scores them only if all are valid.
// Without explain, contributions are left out: large batches then score
// many times faster.
func (s *Service) Predict(ref string, rows []Row, explain bool) (*Result, error) {
	def, a, ok := s.resolve(ref)
	if !ok {
		return nil, &orthocds.Error{Code: orthocds.ENOTFOUND, Field: "id", Message: fmt.Sprintf("no predictor %q", ref)}
	}
	id := def.ID
	if len(rows) == 0 {
		return nil, orthocds.Invalid("/rows", "at least one row is required")
	}
	if len(rows) > MaxRows {
		return nil, orthocds.Invalid("/rows", "%d rows sent; at most %d per request", len(rows), MaxRows)
	}
	encs := make([]Encoded, len(rows))
	var bad []orthocds.FieldError
	for i, r := range rows {
		var errs []orthocds.FieldError
		encs[i], errs = def.Schema.Encode(r, fmt.Sprintf("/rows/%d", i), keepsMissing(a))
		bad = append(bad, errs...)
	}
	if len(bad) > 0 {
		return nil, &orthocds.Error{Code: orthocds.EINVALID, Field: bad[0].Field, Message: "invalid inputs; nothing was scored", FieldErrors: bad}
	}
	res := &Result{Predictor: id, Model: info(a), Predictions: make([]Prediction, len(rows)), Disclaimer: orthocds.Disclaimer}
	if a.Training.Synthetic {
		res.Warning = &SyntheticWarning
	}
	for i, e := range encs {
		res.Predictions[i] = score(a, s.baseline[a.SHA256], def.Schema, e, explain)
	}
	return res, nil
}

// keepsMissing reports whether a model routes missing inputs itself (an
// imported XGBoost or LightGBM model): absent optional inputs then stay
// missing, as where the model was trained, rather than imputed.
func keepsMissing(a *model.Artefact) bool {
	return a.Kind == model.KindGBT && a.GBT != nil && a.GBT.Missing
}

func score(a *model.Artefact, baseline float64, s Schema, e Encoded, explain bool) Prediction {
	m := a.Scorer()
	logit := m.Logit(e.X)
	p := 1 / (1 + math.Exp(-logit))
	pred := Prediction{Probability: p, BaseRate: a.BaseRate, Logit: logit, Baseline: baseline, Imputed: e.Imputed,
		Missing: e.Missing, RiskBand: band(p, a.BaseRate)}
	if !explain {
		return pred
	}
	imputed := map[string]bool{}
	for _, n := range e.Imputed {
		imputed[n] = true
	}
	cs := m.Contributions(e.X)
	pred.Contributions = make([]Contribution, len(cs))
	for j, c := range cs {
		ct := Contribution{Feature: s[j].Name, Value: e.X[j], Contribution: c, Imputed: imputed[s[j].Name]}
		if math.IsNaN(ct.Value) {
			ct.Value, ct.Missing = 0, true // JSON has no NaN
		}
		pred.Contributions[j] = ct
	}
	sort.SliceStable(pred.Contributions, func(i, j int) bool {
		return math.Abs(pred.Contributions[i].Contribution) > math.Abs(pred.Contributions[j].Contribution)
	})
	return pred
}

func band(p, base float64) string {
	switch {
	case p < base/2:
		return "lower"
	case p > base*1.5:
		return "higher"
	}
	return "average"
}
