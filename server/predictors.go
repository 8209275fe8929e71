package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/audit"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/drift"
)

// maxPredictBody fits a full batch of 10,000 rows.
const maxPredictBody = 16 << 20

func (s *Server) listPredictors(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Predictors == nil {
		return orthocds.Errorf(orthocds.EUNAVAILABLE, "no predictors are loaded")
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"predictors": s.cfg.Predictors.List(),
		"baselines": []map[string]string{{"id": "caprini", "for": "vte-arthroplasty",
			"description": "Caprini 2005 VTE risk score, the validated baseline", "calculator": "/v1/calculators/caprini"}},
	})
	return nil
}

type predictRequest struct {
	Rows []predictors.Row `json:"rows"`
	// Explain adds each input's contribution (default true).
	Explain *bool `json:"explain,omitempty"`
}

func (s *Server) predict(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Predictors == nil {
		return orthocds.Errorf(orthocds.EUNAVAILABLE, "no predictors are loaded")
	}
	var req predictRequest
	if err := decode(w, r, maxPredictBody, &req); err != nil {
		return err
	}
	res, err := s.cfg.Predictors.Predict(chi.URLParam(r, "id"), req.Rows, req.Explain == nil || *req.Explain)
	if err != nil {
		return err
	}
	if s.cfg.Drift != nil {
		// Each prediction gets an opaque ID under which its outcome can be
		// posted later; the watch keeps no input.
		now := time.Now().UTC()
		recs := make([]drift.Scored, len(res.Predictions))
		for i := range res.Predictions {
			res.Predictions[i].ID = uuid.NewString()
			recs[i] = drift.Scored{ID: res.Predictions[i].ID, Predictor: res.Predictor, Version: res.Model.Version,
				Model: res.Model.SHA256, Probability: res.Predictions[i].Probability, At: now}
		}
		if err := s.cfg.Drift.AddScored(r.Context(), recs); err != nil {
			return err
		}
	}
	if s.cfg.Audit != nil {
		b, _ := json.Marshal(req)
		p, _ := orthocds.PrincipalFrom(r.Context())
		if err := s.cfg.Audit.Append(r.Context(), audit.Event{Principal: p.ID, Role: string(p.Role), Kind: audit.KindPrediction,
			InputHash: audit.HashInput(b), Predictor: res.Predictor, PredictorVersion: res.Model.SHA256,
			Outcome: fmt.Sprintf("%d rows", len(res.Predictions))}); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// card answers JSON, or the readable page when the client asks for HTML.
func (s *Server) card(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Predictors == nil {
		return orthocds.Errorf(orthocds.EUNAVAILABLE, "no predictors are loaded")
	}
	c, err := s.cfg.Predictors.Card(chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "html" || strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		return predictors.RenderCard(w, c)
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

type outcomesRequest struct {
	Outcomes []drift.Outcome `json:"outcomes"`
}

// outcomes takes the observed outcomes of earlier predictions, by the ID
// each prediction was served with; all are stored or none.
func (s *Server) outcomes(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Drift == nil {
		return orthocds.Errorf(orthocds.EUNAVAILABLE, "the drift watch is not configured")
	}
	var req outcomesRequest
	if err := decode(w, r, maxPredictBody, &req); err != nil {
		return err
	}
	if len(req.Outcomes) == 0 {
		return orthocds.Invalid("/outcomes", "at least one outcome is required")
	}
	now := time.Now().UTC()
	for i := range req.Outcomes {
		if req.Outcomes[i].At.IsZero() {
			req.Outcomes[i].At = now
		}
	}
	if err := s.cfg.Drift.AddOutcomes(r.Context(), req.Outcomes); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"stored": len(req.Outcomes)})
	return nil
}

// driftReport is a predictor's calibration as outcomes came in, per model
// version, with the versions outside the band flagged.
func (s *Server) driftReport(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Drift == nil {
		return orthocds.Errorf(orthocds.EUNAVAILABLE, "the drift watch is not configured")
	}
	id := chi.URLParam(r, "id")
	if _, ok := predictors.Get(id); !ok {
		return &orthocds.Error{Code: orthocds.ENOTFOUND, Field: "id", Message: fmt.Sprintf("no predictor %q", id)}
	}
	pairs, err := s.cfg.Drift.Pairs(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, drift.Summarise(id, pairs, drift.DefaultBand))
	return nil
}
