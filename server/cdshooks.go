package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/orthocds/orthocds/cdshooks"
)

// CDSHooks answers HL7 CDS Hooks calls; *cdshooks.Hooks is one.
type CDSHooks interface {
	Discovery() cdshooks.Discovery
	Call(ctx context.Context, id string, req *cdshooks.Request, base, lang string) (*cdshooks.Response, error)
	Feedback(ctx context.Context, id string, fr *cdshooks.FeedbackRequest) error
}

// ClientVerifier authenticates CDS clients by the JWT in the
// Authorization header; aud is the URL the client called.
type ClientVerifier interface {
	Verify(ctx context.Context, authorization, aud string) error
}

// baseURL is the public URL of this server: PublicURL when configured,
// otherwise the scheme and host the request reached.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// cdsClient checks the caller's JWT when client verification is
// configured; the audience is the endpoint's URL, as the specification
// says.
func (s *Server) cdsClient(r *http.Request) error {
	if s.cfg.CDSClients == nil {
		return nil
	}
	return s.cfg.CDSClients.Verify(r.Context(), r.Header.Get("Authorization"), s.baseURL(r)+r.URL.Path)
}

// cdsHeaders lets browser-based CDS clients (the CDS Hooks sandbox) call.
func cdsHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
}

func (s *Server) cdsDiscovery(w http.ResponseWriter, r *http.Request) error {
	cdsHeaders(w)
	if err := s.cdsClient(r); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.cfg.CDSHooks.Discovery())
	return nil
}

func (s *Server) cdsPreflight(w http.ResponseWriter, r *http.Request) error {
	cdsHeaders(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) cdsCall(w http.ResponseWriter, r *http.Request) error {
	cdsHeaders(w)
	if err := s.cdsClient(r); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, cdshooks.MaxRequestBytes)
	req, err := cdshooks.DecodeRequest(r.Body)
	if err != nil {
		return err
	}
	lang := "en"
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Accept-Language")), "zh") {
		lang = "zh"
	}
	resp, err := s.cfg.CDSHooks.Call(r.Context(), chi.URLParam(r, "id"), req, s.baseURL(r), lang)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) cdsFeedback(w http.ResponseWriter, r *http.Request) error {
	cdsHeaders(w)
	if err := s.cdsClient(r); err != nil {
		return err
	}
	var fr cdshooks.FeedbackRequest
	if err := decode(w, r, 1<<20, &fr); err != nil {
		return err
	}
	if err := s.cfg.CDSHooks.Feedback(r.Context(), chi.URLParam(r, "id"), &fr); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"stored": len(fr.Feedback)})
	return nil
}
