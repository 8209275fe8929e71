package server

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/handouts"
)

func (s *Server) listHandouts(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"topics": s.cfg.Handouts.Topics()})
	return nil
}

// handout answers GET /v1/handouts/{topic}: JSON, or the printable page
// with format=html (or Accept: text/html). The query carries no patient
// identifier: lang (en, zh, both), entries (a card's sources, comma-
// separated), predictor and probability.
func (s *Server) handout(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "lang", "entries", "predictor", "probability", "format":
		default:
			return orthocds.Invalid(k, "unknown parameter; use lang, entries, predictor, probability or format")
		}
	}
	req := handouts.Request{Topic: chi.URLParam(r, "topic"), Lang: q.Get("lang"), Predictor: q.Get("predictor")}
	if v := q.Get("entries"); v != "" {
		req.Entries = strings.Split(v, ",")
	}
	if v := q.Get("probability"); v != "" {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return orthocds.Invalid("probability", "must be a number between 0 and 1")
		}
		req.Probability = &p
	}
	h, err := s.cfg.Handouts.Write(r.Context(), req)
	if err != nil {
		return err
	}
	switch f := q.Get("format"); {
	case f == "html" || f == "" && strings.Contains(r.Header.Get("Accept"), "text/html"):
		var b bytes.Buffer
		if err := handouts.Render(&b, h); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b.Bytes())
		return nil
	case f != "" && f != "json":
		return orthocds.Invalid("format", "use json or html")
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}
