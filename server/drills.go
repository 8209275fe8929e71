package server

import (
	"context"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/drills"
)

// Drills runs students' case drills; *drills.Service is one.
type Drills interface {
	Cases(lang string) []drills.CaseSummary
	Key(p orthocds.Principal, id, lang string) (*drills.AnswerKey, error)
	Start(ctx context.Context, p orthocds.Principal, caseID, lang string) (*drills.View, error)
	Get(ctx context.Context, p orthocds.Principal, id string) (*drills.View, error)
	List(ctx context.Context, p orthocds.Principal, f drills.Filter) ([]*drills.View, error)
	Ask(ctx context.Context, p orthocds.Principal, id, question string) (*drills.View, error)
	Order(ctx context.Context, p orthocds.Principal, id, request string) (*drills.View, error)
	Pause(ctx context.Context, p orthocds.Principal, id string) (*drills.View, error)
	Resume(ctx context.Context, p orthocds.Principal, id string) (*drills.View, error)
	Submit(ctx context.Context, p orthocds.Principal, id, diagnosis, plan string) (*drills.View, error)
	Class(ctx context.Context, p orthocds.Principal, f drills.Filter, lang string) (*drills.ClassReport, error)
	WriteCSV(ctx context.Context, p orthocds.Principal, f drills.Filter, w io.Writer) error
}

func (s *Server) drillRoutes(r chi.Router) {
	s.handle(r, "GET /v1/cases", everyone, 0, s.listCases)
	s.handle(r, "GET /v1/cases/{id}/key", teaching, 0, s.caseKey)
	s.handle(r, "POST /v1/drills", everyone, 0, s.startDrill)
	s.handle(r, "GET /v1/drills", everyone, 0, s.listDrills)
	s.handle(r, "GET /v1/drills/{id}", everyone, 0, s.getDrill)
	s.handle(r, "POST /v1/drills/{id}/ask", everyone, s.cfg.AskTimeout, s.askDrill)
	s.handle(r, "POST /v1/drills/{id}/order", everyone, 0, s.orderDrill)
	s.handle(r, "POST /v1/drills/{id}/pause", everyone, 0, s.pauseDrill)
	s.handle(r, "POST /v1/drills/{id}/resume", everyone, 0, s.resumeDrill)
	s.handle(r, "POST /v1/drills/{id}/submit", everyone, s.cfg.AskTimeout, s.submitDrill)
	s.handle(r, "GET /v1/class", teaching, 0, s.classReport)
	s.handle(r, "GET /v1/class.csv", teaching, 0, s.classCSV)
}

func principal(r *http.Request) orthocds.Principal {
	p, _ := orthocds.PrincipalFrom(r.Context())
	return p
}

// lang reads the lang query parameter: en (default) or zh.
func lang(r *http.Request) (string, error) {
	switch l := r.URL.Query().Get("lang"); l {
	case "", "en":
		return "en", nil
	case "zh":
		return "zh", nil
	}
	return "", orthocds.Invalid("lang", "is en or zh")
}

func (s *Server) listCases(w http.ResponseWriter, r *http.Request) error {
	l, err := lang(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": s.cfg.Drills.Cases(l), "note": drills.Note})
	return nil
}

func (s *Server) caseKey(w http.ResponseWriter, r *http.Request) error {
	l, err := lang(r)
	if err != nil {
		return err
	}
	k, err := s.cfg.Drills.Key(principal(r), chi.URLParam(r, "id"), l)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, k)
	return nil
}

func (s *Server) startDrill(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		CaseID string `json:"case_id"`
		Lang   string `json:"lang"`
	}
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.Lang == "" {
		req.Lang = "en"
	}
	v, err := s.cfg.Drills.Start(r.Context(), principal(r), req.CaseID, req.Lang)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/drills/"+v.ID)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func filter(r *http.Request) drills.Filter {
	q := r.URL.Query()
	return drills.Filter{Student: q.Get("student"), CaseID: q.Get("case_id")}
}

func (s *Server) listDrills(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.cfg.Drills.List(r.Context(), principal(r), filter(r))
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []*drills.View{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"attempts": vs})
	return nil
}

func (s *Server) getDrill(w http.ResponseWriter, r *http.Request) error {
	v, err := s.cfg.Drills.Get(r.Context(), principal(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// drillStep decodes a step's body (nil: none) and writes the attempt the
// step returns.
func (s *Server) drillStep(w http.ResponseWriter, r *http.Request, body any, step func(p orthocds.Principal, id string) (*drills.View, error)) error {
	if body != nil {
		if err := decode(w, r, s.cfg.MaxBodyBytes, body); err != nil {
			return err
		}
	}
	v, err := step(principal(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) askDrill(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Question string `json:"question"`
	}
	return s.drillStep(w, r, &req, func(p orthocds.Principal, id string) (*drills.View, error) {
		return s.cfg.Drills.Ask(r.Context(), p, id, req.Question)
	})
}

func (s *Server) orderDrill(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Request string `json:"request"`
	}
	return s.drillStep(w, r, &req, func(p orthocds.Principal, id string) (*drills.View, error) {
		return s.cfg.Drills.Order(r.Context(), p, id, req.Request)
	})
}

func (s *Server) pauseDrill(w http.ResponseWriter, r *http.Request) error {
	return s.drillStep(w, r, nil, func(p orthocds.Principal, id string) (*drills.View, error) {
		return s.cfg.Drills.Pause(r.Context(), p, id)
	})
}

func (s *Server) resumeDrill(w http.ResponseWriter, r *http.Request) error {
	return s.drillStep(w, r, nil, func(p orthocds.Principal, id string) (*drills.View, error) {
		return s.cfg.Drills.Resume(r.Context(), p, id)
	})
}

func (s *Server) submitDrill(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Diagnosis string `json:"diagnosis"`
		Plan      string `json:"plan"`
	}
	return s.drillStep(w, r, &req, func(p orthocds.Principal, id string) (*drills.View, error) {
		return s.cfg.Drills.Submit(r.Context(), p, id, req.Diagnosis, req.Plan)
	})
}

func (s *Server) classReport(w http.ResponseWriter, r *http.Request) error {
	l, err := lang(r)
	if err != nil {
		return err
	}
	rep, err := s.cfg.Drills.Class(r.Context(), principal(r), filter(r), l)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) classCSV(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="orthocds-attempts.csv"`)
	return s.cfg.Drills.WriteCSV(r.Context(), principal(r), filter(r), w)
}
