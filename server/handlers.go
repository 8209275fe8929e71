package server

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/predictors/scores"
	"github.com/orthocds/orthocds/rag"
)

//go:embed openapi.json
var openapiDoc []byte

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

type checkResult struct {
	Name     string `json:"name"`
	OK       bool   `json:"ok"`
	Required bool   `json:"required"`
	Detail   string `json:"detail"`
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	status := http.StatusOK
	results := make([]checkResult, 0, len(s.cfg.Checks))
	for _, c := range s.cfg.Checks {
		detail, err := c.Run(r.Context())
		res := checkResult{Name: c.Name, OK: err == nil, Required: c.Required, Detail: detail}
		if err != nil {
			res.Detail = orthocds.ErrorMessage(err)
			if c.Required {
				status = http.StatusServiceUnavailable
			}
		}
		results = append(results, res)
	}
	writeJSON(w, status, map[string]any{"ready": status == http.StatusOK, "checks": results})
	return nil
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiDoc)
	return nil
}

type searchRequest struct {
	Queries []rag.Query `json:"queries"`
}

type searchResult struct {
	Hits []rag.Hit `json:"hits"`
}

type searchResponse struct {
	Model   rag.ModelInfo  `json:"model"`
	Results []searchResult `json:"results"`
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	var req searchRequest
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	hits, err := s.cfg.Search.Search(r.Context(), req.Queries)
	if err != nil {
		return err
	}
	resp := searchResponse{Model: s.cfg.Search.Model(), Results: make([]searchResult, len(hits))}
	for i, h := range hits {
		if h == nil {
			h = []rag.Hit{}
		}
		resp.Results[i] = searchResult{Hits: h}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// ask answers as JSON, or as server-sent events when the client accepts
// text/event-stream: "sources", then "token" pieces, then "answer" (or
// "error" then the retrieval-only "answer").
func (s *Server) ask(w http.ResponseWriter, r *http.Request) error {
	var req answer.Request
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if p, _ := orthocds.PrincipalFrom(r.Context()); req.Patient != nil && !allowed(patientContext, p.Role) {
		return &orthocds.Error{Code: orthocds.EFORBIDDEN, Field: "/patient",
			Message: fmt.Sprintf("role %s may ask questions but not about a patient", p.Role)}
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		a, err := s.cfg.Answer.Ask(r.Context(), req, nil)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, a)
		return nil
	}
	if err := answer.Validate(&req); err != nil {
		return err // before any event, so the client gets a problem document
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		return orthocds.Errorf(orthocds.EINTERNAL, "streaming unsupported")
	}
	started := false
	send := func(e answer.Event) error {
		if !started {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("X-Accel-Buffering", "no")
			w.WriteHeader(http.StatusOK)
			started = true
		}
		b, err := json.Marshal(e.Data)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.Type, b); err != nil {
			return err
		}
		fl.Flush()
		return nil
	}
	_, err := s.cfg.Answer.Ask(r.Context(), req, send)
	if err != nil && !started {
		return err
	}
	if err != nil && r.Context().Err() == nil {
		send(answer.Event{Type: "error", Data: map[string]string{"message": orthocds.ErrorMessage(err)}})
	}
	return nil
}

// guidelineSummary is an entry in a list.
type guidelineSummary struct {
	ID           string           `json:"id"`
	Domain       string           `json:"domain"`
	Topics       []string         `json:"topics"`
	Title        guidelines.Text  `json:"title"`
	Source       string           `json:"source"`
	Year         int              `json:"year"`
	Section      string           `json:"section"`
	Grade        guidelines.Grade `json:"grade"`
	SupersededBy string           `json:"superseded_by,omitempty"`
}

func (s *Server) listGuidelines(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for k := range q {
		if k != "domain" && k != "topic" && k != "source" {
			return orthocds.Invalid(k, "unknown filter; use domain, topic or source")
		}
	}
	domain, topic, source := q.Get("domain"), q.Get("topic"), q.Get("source")
	out := []guidelineSummary{}
	for _, e := range s.cfg.Guidelines.Entries {
		if domain != "" && e.Domain != domain || source != "" && e.Source.Key != source ||
			topic != "" && !containsStr(e.Topics, topic) {
			continue
		}
		out = append(out, guidelineSummary{ID: e.ID, Domain: e.Domain, Topics: e.Topics, Title: e.Title,
			Source: e.Source.Key, Year: e.Source.Year, Section: e.Section, Grade: e.Grade, SupersededBy: e.SupersededBy})
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "entries": out})
	return nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Server) getGuideline(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	e, ok := s.cfg.Guidelines.Get(id)
	if !ok {
		return &orthocds.Error{Code: orthocds.ENOTFOUND, Field: "id", Message: fmt.Sprintf("no guideline entry %q", id)}
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) listCalculators(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"calculators": scores.Names(), "caprini_items": scores.CapriniItems})
	return nil
}

func (s *Server) calculate(w http.ResponseWriter, r *http.Request) error {
	var raw json.RawMessage
	if err := decode(w, r, s.cfg.MaxBodyBytes, &raw); err != nil {
		return err
	}
	res, err := scores.Run(chi.URLParam(r, "name"), raw)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": res, "disclaimer": orthocds.Disclaimer})
	return nil
}
