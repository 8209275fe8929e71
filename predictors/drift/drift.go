// Package drift watches a predictor's calibration as outcomes come in:
// every prediction served is recorded by an opaque ID with its probability
// and model version (never its inputs), outcomes posted later by that ID
// are joined to it, and a report gives, per model version, observed
// against expected events and the calibration slope with a bootstrap
// interval, overall and by month, flagging a version whose slope or
// observed/expected ratio leaves a set band.
package drift

import (
	"context"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/internal/jsonl"
	"github.com/orthocds/orthocds/predictors/model"
)

// Scored is one prediction as the watch keeps it: no inputs.
type Scored struct {
	ID          string    `json:"id"`
	Predictor   string    `json:"predictor"`
	Version     string    `json:"version"`
	Model       string    `json:"model"` // the artefact's SHA-256
	Probability float64   `json:"p"`
	At          time.Time `json:"at"`
}

// Outcome is the observed outcome of a scored prediction.
type Outcome struct {
	ID      string    `json:"id"`
	Outcome int       `json:"outcome"` // 0 or 1
	At      time.Time `json:"at"`
}

// Store keeps scored predictions and outcomes.
type Store interface {
	AddScored(ctx context.Context, s []Scored) error
	// AddOutcomes stores outcomes; an ID never scored is refused, naming it,
	// and nothing of the request is stored.
	AddOutcomes(ctx context.Context, o []Outcome) error
	// Pairs returns a predictor's scored predictions that have an outcome.
	Pairs(ctx context.Context, predictor string) ([]Pair, error)
}

// Pair is a scored prediction and its outcome.
type Pair struct {
	Scored
	Outcome int
}

// FileStore keeps the watch in two JSON-lines files of a directory, each
// request's records written and synced together.
type FileStore struct {
	Dir string

	mu       sync.Mutex
	loaded   bool
	scored   map[string]Scored
	outcomes map[string]Outcome
	sf, of   *jsonl.File
}

func (s *FileStore) load() error {
	if s.loaded {
		return nil
	}
	s.sf = &jsonl.File{Path: s.Dir + "/drift-scored.jsonl"}
	s.of = &jsonl.File{Path: s.Dir + "/drift-outcomes.jsonl"}
	sc, err := jsonl.Read[Scored](s.sf)
	if err != nil {
		return err
	}
	oc, err := jsonl.Read[Outcome](s.of)
	if err != nil {
		return err
	}
	s.scored, s.outcomes = map[string]Scored{}, map[string]Outcome{}
	for _, x := range sc {
		s.scored[x.ID] = x
	}
	for _, x := range oc {
		s.outcomes[x.ID] = x // a later outcome corrects an earlier one
	}
	s.loaded = true
	return nil
}

// AddScored implements Store.
func (s *FileStore) AddScored(_ context.Context, recs []Scored) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return err
	}
	vs := make([]any, len(recs))
	for i, r := range recs {
		vs[i] = r
	}
	if err := s.sf.Append(vs...); err != nil {
		return err
	}
	for _, r := range recs {
		s.scored[r.ID] = r
	}
	return nil
}

// AddOutcomes implements Store.
func (s *FileStore) AddOutcomes(_ context.Context, recs []Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return err
	}
	vs := make([]any, len(recs))
	for i, r := range recs {
		if _, ok := s.scored[r.ID]; !ok {
			return orthocds.Invalid("/outcomes/"+itoa(i)+"/id", "no prediction was served with this ID")
		}
		if r.Outcome != 0 && r.Outcome != 1 {
			return orthocds.Invalid("/outcomes/"+itoa(i)+"/outcome", "must be 0 or 1")
		}
		vs[i] = r
	}
	if err := s.of.Append(vs...); err != nil {
		return err
	}
	for _, r := range recs {
		s.outcomes[r.ID] = r
	}
	return nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + itoa(i%10)
}

// Pairs implements Store.
func (s *FileStore) Pairs(_ context.Context, predictor string) ([]Pair, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.load(); err != nil {
		return nil, err
	}
	var out []Pair
	for id, o := range s.outcomes {
		if sc, ok := s.scored[id]; ok && sc.Predictor == predictor {
			out = append(out, Pair{Scored: sc, Outcome: o.Outcome})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].At.Before(out[j].At) || (out[i].At.Equal(out[j].At) && out[i].ID < out[j].ID)
	})
	return out, nil
}

// Band is what counts as calibrated: a version with at least MinN outcomes
// is flagged when its calibration slope or observed/expected ratio falls
// outside.
type Band struct {
	SlopeLow, SlopeHigh float64
	OELow, OEHigh       float64
	MinN                int
}

// DefaultBand: slope 0.8-1.2 and observed/expected 0.8-1.25, once 100
// outcomes are in.
var DefaultBand = Band{SlopeLow: 0.8, SlopeHigh: 1.2, OELow: 0.8, OEHigh: 1.25, MinN: 100}

// Figures are one group's calibration.
type Figures struct {
	N         int        `json:"n"`
	Events    int        `json:"events"`
	Expected  float64    `json:"expected"`
	OE        float64    `json:"observed_expected"`
	Slope     float64    `json:"calibration_slope"`
	SlopeCI   [2]float64 `json:"calibration_slope_ci95"`
	Intercept float64    `json:"calibration_intercept"`
}

// Version is one model version's watch.
type Version struct {
	Version string    `json:"version"`
	Model   string    `json:"model"`
	Overall Figures   `json:"overall"`
	Months  []Month   `json:"months"`
	Flagged bool      `json:"flagged"`
	Reasons []string  `json:"reasons,omitempty"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

// Month is a calendar month's figures, by the predictions' dates.
type Month struct {
	Month string `json:"month"` // 2026-11
	Figures
}

// Report is a predictor's watch, per model version.
type Report struct {
	Predictor string    `json:"predictor"`
	Band      Band      `json:"band"`
	Versions  []Version `json:"versions"`
}

// Summarise computes the report of a predictor's pairs.
func Summarise(predictor string, pairs []Pair, band Band) Report {
	rep := Report{Predictor: predictor, Band: band, Versions: []Version{}}
	byVersion := map[string][]Pair{}
	for _, p := range pairs {
		byVersion[p.Model] = append(byVersion[p.Model], p)
	}
	keys := make([]string, 0, len(byVersion))
	for k := range byVersion {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return byVersion[keys[i]][0].At.Before(byVersion[keys[j]][0].At) })
	for _, k := range keys {
		ps := byVersion[k]
		v := Version{Version: ps[0].Version, Model: k, Overall: figures(ps), First: ps[0].At, Last: ps[len(ps)-1].At}
		months := map[string][]Pair{}
		for _, p := range ps {
			m := p.At.UTC().Format("2006-01")
			months[m] = append(months[m], p)
		}
		for _, m := range slices.Sorted(maps.Keys(months)) {
			v.Months = append(v.Months, Month{Month: m, Figures: figures(months[m])})
		}
		if v.Overall.N >= band.MinN {
			if s := v.Overall.Slope; s < band.SlopeLow || s > band.SlopeHigh || math.IsNaN(s) {
				v.Reasons = append(v.Reasons, "calibration slope outside the band")
			}
			if oe := v.Overall.OE; oe < band.OELow || oe > band.OEHigh {
				v.Reasons = append(v.Reasons, "observed/expected outside the band")
			}
			v.Flagged = len(v.Reasons) > 0
		}
		rep.Versions = append(rep.Versions, v)
	}
	return rep
}

// figures computes a group's calibration, the slope's interval from 200
// bootstrap resamples (seeded: the report is reproducible).
func figures(ps []Pair) Figures {
	y := make([]float64, len(ps))
	p := make([]float64, len(ps))
	f := Figures{N: len(ps)}
	for i, x := range ps {
		y[i], p[i] = float64(x.Outcome), x.Probability
		f.Events += x.Outcome
		f.Expected += x.Probability
	}
	f.OE = model.ObservedExpected(y, p)
	f.Intercept, f.Slope = model.Calibration(y, p)
	f.SlopeCI = [2]float64{math.NaN(), math.NaN()}
	if len(ps) >= 30 {
		r := rand.New(rand.NewPCG(uint64(len(ps)), 0xd71f))
		var slopes []float64
		by, bp := make([]float64, len(ps)), make([]float64, len(ps))
		for range 200 {
			for i := range ps {
				j := r.IntN(len(ps))
				by[i], bp[i] = y[j], p[j]
			}
			if s := model.CalibrationSlope(by, bp); !math.IsNaN(s) {
				slopes = append(slopes, s)
			}
		}
		if len(slopes) > 10 {
			sort.Float64s(slopes)
			f.SlopeCI = [2]float64{slopes[len(slopes)*25/1000], slopes[len(slopes)*975/1000]}
		}
	}
	for _, v := range []*float64{&f.OE, &f.Slope, &f.Intercept, &f.SlopeCI[0], &f.SlopeCI[1]} {
		if math.IsNaN(*v) || math.IsInf(*v, 0) {
			*v = 0 // JSON has no NaN; N and Events say how much there was
		}
	}
	return f
}
