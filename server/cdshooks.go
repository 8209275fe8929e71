package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/audit"
	"github.com/orthocds/orthocds/cdshooks"
)

// CDSHooks answers HL7 CDS Hooks calls; *cdshooks.Hooks is one.
type CDSHooks interface {
	Discovery() cdshooks.Discovery
	Call(ctx context.Context, id string, req *cdshooks.Request, inv cdshooks.Invocation) (*cdshooks.Response, error)
	Feedback(ctx context.Context, id string, fr *cdshooks.FeedbackRequest) error
}

// ClientVerifier authenticates CDS clients by the JWT in the
// Authorization header; aud is the URL the client called.
// *cdshooks.Verifier is one.
type ClientVerifier interface {
	// Trusts reports whether the header claims to come from a trusted
	// client (unverified: it only routes the call to Verify).
	Trusts(authorization string) bool
	Verify(ctx context.Context, authorization, aud string) (cdshooks.Client, error)
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

// Why a CDS Hooks call was refused, as counted in /metrics and recorded
// in the audit trail.
const (
	refusedNoCredentials  = "no-credentials"
	refusedBadCredentials = "bad-credentials"
	refusedRole           = "role"
	refusedFHIRServer     = "fhir-server"
)

// cdsCaller decides, from the headers alone and before the body is read,
// who is calling a CDS endpoint: a trusted CDS client by its JWT (with
// the FHIR servers it may name), or a user whose API key or
// identity-provider token carries a role that may see patient data (the
// sidebar page's own calls). Only an install with no authentication of
// any kind (CDSOpen) admits callers without credentials. The returned
// request carries the caller as its principal.
func (s *Server) cdsCaller(r *http.Request) (*http.Request, []string, error) {
	authz := r.Header.Get("Authorization")
	if v := s.cfg.CDSClients; v != nil && v.Trusts(authz) {
		c, err := v.Verify(r.Context(), authz, s.baseURL(r)+r.URL.Path)
		if err != nil {
			return r, nil, s.refuseCDS(r, "unverified", refusedBadCredentials, err)
		}
		p := orthocds.Principal{ID: c.Issuer, Role: orthocds.RoleCDSClient}
		return r.WithContext(orthocds.WithPrincipal(r.Context(), p)), c.FHIRServers, nil
	}
	if s.cfg.CDSOpen {
		p := orthocds.Principal{ID: "local", Role: orthocds.RoleAdmin}
		return r.WithContext(orthocds.WithPrincipal(r.Context(), p)), nil, nil
	}
	if authz == "" && r.Header.Get("X-API-Key") == "" {
		return r, nil, s.refuseCDS(r, "", refusedNoCredentials, orthocds.Errorf(orthocds.EUNAUTHORIZED,
			"credentials required: a trusted CDS client's JWT (ORTHOCDS_CDS_CLIENTS), or an API key or identity-provider token with the clinician role"))
	}
	p, err := s.cfg.Authenticate(r)
	if err != nil {
		return r, nil, s.refuseCDS(r, "unverified", refusedBadCredentials, orthocds.Errorf(orthocds.EUNAUTHORIZED,
			"not a trusted CDS client's JWT, nor a valid API key or identity-provider token"))
	}
	if !allowed(patientContext, p.Role) {
		return r, nil, s.refuseCDS(r, p.ID, refusedRole, orthocds.Errorf(orthocds.EFORBIDDEN,
			"role %s may not call CDS services: they see patient data", p.Role))
	}
	return r.WithContext(orthocds.WithPrincipal(r.Context(), p)), nil, nil
}

// refuseCDS counts and records a refused CDS call (who: the verified
// caller, "unverified" or "anonymous"; where from; why; nothing of the
// request) and returns err. The refusal stands even when
// the audit trail cannot take the row; that failure is logged.
func (s *Server) refuseCDS(r *http.Request, caller, reason string, err error) error {
	s.metrics.cdsRefused.WithLabelValues(reason).Inc()
	if s.cfg.Audit == nil {
		return err
	}
	if caller == "" {
		caller = "anonymous"
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	e := audit.Event{Kind: audit.KindRefused, Principal: caller, Remote: host,
		Service: chi.URLParam(r, "id"), Outcome: "refused: " + reason}
	if aerr := s.cfg.Audit.Append(r.Context(), e); aerr != nil {
		s.log.Error("audit of a refused CDS call failed", "request_id", middleware.GetReqID(r.Context()), "cause", safeCause(aerr))
	}
	return err
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
	if _, _, err := s.cdsCaller(r); err != nil {
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
	r, fhirServers, err := s.cdsCaller(r)
	if err != nil {
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
	resp, err := s.cfg.CDSHooks.Call(r.Context(), chi.URLParam(r, "id"), req,
		cdshooks.Invocation{Base: s.baseURL(r), Lang: lang, FHIRServers: fhirServers})
	if errors.Is(err, cdshooks.ErrFHIRServerNotAllowed) {
		s.metrics.cdsRefused.WithLabelValues(refusedFHIRServer).Inc() // audited by the service, with the request's hash
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) cdsFeedback(w http.ResponseWriter, r *http.Request) error {
	cdsHeaders(w)
	r, _, err := s.cdsCaller(r)
	if err != nil {
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
