// Package server is the OrthoCDS HTTP API: batched search, cited answers
// (JSON or server-sent events), guidelines, calculators, health and
// readiness, and the OpenAPI document. Handlers return errors; one adapter
// writes them as RFC 9457 problem JSON. Every route declares the roles it
// admits.
package server

import (
	"context"
	_ "embed"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/time/rate"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/audit"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/handouts"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/drift"
	"github.com/orthocds/orthocds/rag"
)

// Searcher runs batched hybrid search.
type Searcher interface {
	Search(ctx context.Context, qs []rag.Query) ([][]rag.Hit, error)
	Model() rag.ModelInfo
}

// Answerer answers questions.
type Answerer interface {
	Ask(ctx context.Context, r answer.Request, emit func(answer.Event) error) (*answer.Answer, error)
}

// Predictors scores risk models and describes them.
type Predictors interface {
	List() []predictors.Summary
	Predict(id string, rows []predictors.Row, explain bool) (*predictors.Result, error)
	Card(id string) (*predictors.Card, error)
}

// DriftStore keeps predictions and their outcomes; drift.FileStore is one.
type DriftStore interface {
	AddScored(ctx context.Context, s []drift.Scored) error
	AddOutcomes(ctx context.Context, o []drift.Outcome) error
	Pairs(ctx context.Context, predictor string) ([]drift.Pair, error)
}

// Auditor records what the server told whom; audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, e audit.Event) error
}

// Check is one readiness probe. Required checks failing make /readyz 503;
// optional ones (the LLM) only change what it reports.
type Check struct {
	Name     string
	Required bool
	Run      func(ctx context.Context) (detail string, err error)
}

// Authenticator identifies the caller. Issue-level auth (API keys, OIDC)
// plugs in here; the default admits every local caller as admin.
type Authenticator func(r *http.Request) (orthocds.Principal, error)

// Config holds the server's dependencies and bounds.
type Config struct {
	Search     Searcher
	Answer     Answerer
	Guidelines *guidelines.Corpus
	Predictors Predictors
	// Drift, when set, records every prediction served (ID, probability,
	// model version; no inputs) and takes outcomes for them later.
	Drift        DriftStore
	Checks       []Check
	Web          fs.FS // the embedded pages; nil serves none
	Logger       *slog.Logger
	Authenticate Authenticator
	// CDSHooks serves /cds-services; nil serves none. CDSClients verifies
	// the JWTs of trusted CDS clients; other callers need an API key or
	// identity-provider token of a role that sees patient data, unless
	// CDSOpen, which admits every caller without credentials: set it only
	// when no authentication of any kind is configured (the loopback demo).
	CDSHooks   CDSHooks
	CDSClients ClientVerifier
	CDSOpen    bool
	// Audit, when set, records every prediction (answers and cards are
	// recorded by their services).
	Audit Auditor
	// Viewer serves the sidebar page's patient view; nil serves none.
	Viewer Viewer
	// Handouts makes patient handouts; nil serves none.
	Handouts *handouts.Set
	// Drills serves students' case drills; nil serves none.
	Drills Drills
	// SMART configures the sidebar page's SMART App Launch.
	SMART SMARTConfig
	// PublicURL is the URL clients reach this server at, used in links
	// (cards, SMART launch); empty derives it from each request.
	PublicURL string

	// RateLimit is each caller's sustained requests a second (0: none),
	// with bursts of RateBurst (default 2 x RateLimit).
	RateLimit float64
	RateBurst int

	MaxBodyBytes  int64         // default 4 MiB: a full batch of 256 long Chinese queries fits
	SearchTimeout time.Duration // default 15 s
	AskTimeout    time.Duration // default 120 s
	CDSTimeout    time.Duration // default 10 s: a hook call, FHIR fetches included
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	router  chi.Router
	metrics *metrics
	limit   *limiter
	mcp     *mcp.Server // the API as MCP tools, for /mcp
}

// New builds the router.
func New(cfg Config) *Server {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 4 << 20
	}
	if cfg.SearchTimeout == 0 {
		cfg.SearchTimeout = 15 * time.Second
	}
	if cfg.AskTimeout == 0 {
		cfg.AskTimeout = 120 * time.Second
	}
	if cfg.CDSTimeout == 0 {
		cfg.CDSTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Authenticate == nil {
		cfg.Authenticate = func(*http.Request) (orthocds.Principal, error) {
			return orthocds.Principal{ID: "local", Role: orthocds.RoleAdmin}, nil
		}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: newMetrics()}
	if cfg.RateLimit > 0 {
		burst := cfg.RateBurst
		if burst <= 0 {
			burst = max(1, int(2*cfg.RateLimit))
		}
		s.limit = &limiter{perSec: rate.Limit(cfg.RateLimit), burst: burst, callers: map[string]*rate.Limiter{}}
	}
	s.router = s.routes()
	s.mcp = s.MCP(nil)
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

var (
	everyone = []orthocds.Role{orthocds.RoleClinician, orthocds.RoleStudent, orthocds.RoleInstructor, orthocds.RoleEvaluator, orthocds.RoleAdmin}
	// teaching endpoints see a class's drill attempts.
	teaching = []orthocds.Role{orthocds.RoleInstructor, orthocds.RoleAdmin}
	// patientContext endpoints see a patient's data: never students or
	// evaluators.
	patientContext = []orthocds.Role{orthocds.RoleClinician, orthocds.RoleAdmin}
	anonymous      []orthocds.Role // nil: no authentication at all
	// monitoring endpoints report on models' calibration.
	monitoring = []orthocds.Role{orthocds.RoleClinician, orthocds.RoleEvaluator, orthocds.RoleAdmin}
)

// handler is an HTTP handler that returns an error.
type handler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, s.recoverer, s.accessLog)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, orthocds.Errorf(orthocds.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, &orthocds.Error{Code: orthocds.EINVALID, Message: "method not allowed"})
	})
	s.handle(r, "GET /healthz", anonymous, 0, s.healthz)
	s.handle(r, "GET /readyz", anonymous, 5*time.Second, s.readyz)
	s.handle(r, "GET /openapi.json", anonymous, 0, s.openapi)
	s.handle(r, "GET /metrics", anonymous, 0, s.metricsHandler)
	s.handle(r, "POST /v1/search", everyone, s.cfg.SearchTimeout, s.search)
	s.handle(r, "POST /v1/ask", everyone, s.cfg.AskTimeout, s.ask) // with patient data: patientContext only
	s.handle(r, "GET /v1/guidelines", everyone, 0, s.listGuidelines)
	s.handle(r, "GET /v1/guidelines/{id}", everyone, 0, s.getGuideline)
	s.handle(r, "GET /v1/calculators", everyone, 0, s.listCalculators)
	s.handle(r, "POST /v1/calculators/{name}", everyone, 0, s.calculate)
	s.handle(r, "GET /v1/predictors", everyone, 0, s.listPredictors)
	s.handle(r, "POST /v1/predictors/{id}/predict", patientContext, s.cfg.SearchTimeout, s.predict)
	s.handle(r, "GET /v1/predictors/{id}/card", everyone, 0, s.card)
	s.handle(r, "POST /v1/predictors/outcomes", patientContext, 0, s.outcomes)
	s.handle(r, "GET /v1/predictors/{id}/drift", monitoring, 0, s.driftReport)
	if s.cfg.Viewer != nil {
		s.handle(r, "POST /v1/patient-cards", patientContext, s.cfg.CDSTimeout, s.patientCards)
		s.handle(r, "GET /v1/synthetic-patients", everyone, 0, s.listSyntheticPatients)
		s.handle(r, "GET /v1/synthetic-patients/{id}", everyone, 0, s.getSyntheticPatient)
		s.handle(r, "GET /v1/smart/config", anonymous, 0, s.smartConfig)
	}
	if s.cfg.Drills != nil {
		s.drillRoutes(r)
	}
	if s.cfg.Handouts != nil {
		s.handle(r, "GET /v1/handouts", everyone, 0, s.listHandouts)
		s.handle(r, "GET /v1/handouts/{topic}", everyone, 0, s.handout)
	}
	if s.cfg.CDSHooks != nil {
		// CDS callers are checked by cdsCaller: a trusted client's JWT, or a
		// user of a role that sees patient data.
		s.handle(r, "GET /cds-services", anonymous, 0, s.cdsDiscovery)
		s.handle(r, "OPTIONS /cds-services", anonymous, 0, s.cdsPreflight)
		s.handle(r, "OPTIONS /cds-services/{id}", anonymous, 0, s.cdsPreflight)
		s.handle(r, "OPTIONS /cds-services/{id}/feedback", anonymous, 0, s.cdsPreflight)
		s.handle(r, "POST /cds-services/{id}", anonymous, s.cfg.CDSTimeout, s.cdsCall)
		s.handle(r, "POST /cds-services/{id}/feedback", anonymous, 0, s.cdsFeedback)
	}
	// MCP over streamable HTTP: the door admits authenticated callers (any
	// role); each tool then admits the roles of the route it calls.
	mcpHTTP := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	mcpDoor := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p, err := s.cfg.Authenticate(req)
		if err == nil && !allowed(everyone, p.Role) {
			err = orthocds.Errorf(orthocds.EFORBIDDEN, "role %s may not use this endpoint", p.Role)
		}
		if err != nil {
			s.writeError(w, req, err)
			return
		}
		mcpHTTP.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), mcpOrigin{}, req)))
	})
	for _, m := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} { // the streamable HTTP transport's
		r.Method(m, "/mcp", mcpDoor)
	}
	if s.cfg.Web != nil {
		r.Handle("/*", http.FileServerFS(s.cfg.Web))
	}
	return r
}

// handle registers h for pattern ("METHOD /path"), admitting roles (nil
// for unauthenticated endpoints) and bounding it by timeout (0: none).
func (s *Server) handle(r chi.Router, pattern string, roles []orthocds.Role, timeout time.Duration, h handler) {
	r.HandleFunc(pattern, func(w http.ResponseWriter, req *http.Request) {
		if roles != nil {
			// An MCP tool call arrives in process with its caller already
			// identified; a network request never carries this value.
			p, inproc := req.Context().Value(inProcess{}).(orthocds.Principal)
			var err error
			if !inproc {
				p, err = s.cfg.Authenticate(req)
			}
			if err != nil {
				s.writeError(w, req, err)
				return
			}
			if !allowed(roles, p.Role) {
				s.writeError(w, req, orthocds.Errorf(orthocds.EFORBIDDEN, "role %s may not use this endpoint", p.Role))
				return
			}
			req = req.WithContext(orthocds.WithPrincipal(req.Context(), p))
			if s.limit != nil && !s.limit.allow(p.ID) {
				s.metrics.limited.Inc()
				s.writeError(w, req, rateLimited())
				return
			}
		}
		if timeout > 0 {
			ctx, cancel := context.WithTimeout(req.Context(), timeout)
			defer cancel()
			req = req.WithContext(ctx)
		}
		if err := h(w, req); err != nil {
			s.writeError(w, req, err)
		}
	})
}

func allowed(roles []orthocds.Role, r orthocds.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// recoverer turns a panic into a 500 problem and keeps the process alive.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				// The stack, not the panic value, which may hold request data.
				s.log.Error("panic", "request_id", middleware.GetReqID(r.Context()), "route", routePattern(r),
					"type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
				s.writeError(w, r, orthocds.Errorf(orthocds.EINTERNAL, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// accessLog logs the route pattern, status and duration: never the body or
// the query string, which may hold clinical text.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		route := routePattern(r)
		s.metrics.observe(route, r.Method, ww.Status(), time.Since(start))
		s.log.Info("request", "request_id", middleware.GetReqID(r.Context()), "method", r.Method,
			"route", route, "status", ww.Status(), "ms", time.Since(start).Milliseconds())
	})
}

func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		return rc.RoutePattern()
	}
	return "unmatched"
}
