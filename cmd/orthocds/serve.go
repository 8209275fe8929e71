package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/audit"
	"github.com/orthocds/orthocds/auth"
	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/handouts"
	"github.com/orthocds/orthocds/predictors/drift"
	"github.com/orthocds/orthocds/server"
	"github.com/orthocds/orthocds/web"
)

func runServe(ctx context.Context, cfg Config, env func(string) string, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (env ORTHOCDS_ADDR)")
	models := fs.String("models", env("ORTHOCDS_MODELS"), "directory of refitted predictor models that replace the shipped ones (env ORTHOCDS_MODELS)")
	insecureOpen := fs.Bool("insecure-open", env("ORTHOCDS_INSECURE_OPEN") == "1",
		"start with no authentication on an address beyond loopback: every caller is admin (env ORTHOCDS_INSECURE_OPEN=1)")
	cfg.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.logTo(stderr)
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	// Who may call is settled before anything is opened: a refusal to
	// start costs nothing.
	authn, err := authenticator(ctx, cfg, env, *insecureOpen, log)
	if err != nil {
		return err
	}
	srv, closeAll, err := buildServer(ctx, cfg, env, *models, authn, log, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 120 * time.Second}
	fmt.Fprintf(stderr, "orthocds: serving on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "orthocds: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// buildServer opens what the API serves (store, models, audit trail, drills,
// CDS services) and returns the server and what closes them. serve and mcp
// share it, so an agent over MCP meets exactly the HTTP API.
func buildServer(ctx context.Context, cfg Config, env func(string) string, models string, authn *auth.Authenticator,
	log *slog.Logger, stderr io.Writer) (_ *server.Server, closeAll func(), err error) {
	var closers []func()
	closeAll = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	// An error return sets closeAll to nil, so the deferred close keeps
	// its own reference.
	closeOnError := closeAll
	defer func() {
		if err != nil {
			closeOnError()
		}
	}()
	cdsClients, fhirServers, err := cdsTrust(env)
	if err != nil {
		return nil, nil, err
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() { a.Close() })
	preds, err := loadPredictors(models)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, nil, err
	}
	trail, closeTrail, err := openAudit(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() { closeTrail() })
	drillSvc, closeDrills, err := openDrills(ctx, cfg, a, env("ORTHOCDS_JUDGE_MODEL"), env("ORTHOCDS_CASES"))
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() { closeDrills() })
	sheets, err := handouts.Load(a.guidelines)
	if err != nil {
		return nil, nil, err
	}
	if a.llm != nil {
		sheets.UseLLM(a.llm, a.analyzer) // sentences by the model, checked; templates otherwise
	}
	hooks := cdshooks.New(cdshooks.Config{Guidelines: a.guidelines, Predictors: preds, Search: a.plain, Scope: a.analyzer,
		Audit: trail, CorpusVersion: a.guidelines.Version(), FHIRServers: fhirServers,
		Feedback: &cdshooks.FileFeedback{Path: filepath.Join(cfg.DataDir, "cds-feedback.jsonl")}})
	var clients server.ClientVerifier
	if cdsClients != nil {
		clients = cdsClients
	}
	rateLimit := 0.0
	if authn.Keys.Len() > 0 || authn.OIDC != nil {
		rateLimit = 30 // requests a second a key, bursts of 60; a single-user open install is not limited
	}
	if v := env("ORTHOCDS_RATE_LIMIT"); v != "" {
		if rateLimit, err = strconv.ParseFloat(v, 64); err != nil || rateLimit < 0 {
			return nil, nil, orthocds.Invalid("ORTHOCDS_RATE_LIMIT", "is a number of requests a second per key (0: no limit)")
		}
	}
	return server.New(server.Config{
		Authenticate: authn.Authenticate,
		RateLimit:    rateLimit,
		CDSHooks:     hooks,
		CDSClients:   clients,
		// Only an install with no authentication of any kind admits CDS
		// calls without credentials.
		CDSOpen:    authn.Keys.Len() == 0 && authn.OIDC == nil && cdsClients == nil,
		Viewer:     hooks,
		Drills:     drillSvc,
		SMART:      server.SMARTConfig{ClientID: env("ORTHOCDS_SMART_CLIENT_ID")},
		PublicURL:  env("ORTHOCDS_PUBLIC_URL"),
		Predictors: preds,
		// Predictions and their later outcomes, for the drift watch.
		Drift:      &drift.FileStore{Dir: cfg.DataDir},
		Search:     a.retriever,
		Answer:     a.answerer(audit.Answers{Log: trail, CorpusVersion: a.guidelines.Version()}),
		Audit:      trail,
		Guidelines: a.guidelines,
		Handouts:   sheets,
		Checks:     a.checks(),
		Web:        web.Pages(),
		Logger:     log,
	}), closeAll, nil
}

// cdsTrust reads who may call the CDS services and which FHIR servers
// they may have us read from: the trusted clients file
// (ORTHOCDS_CDS_CLIENTS, each client with its own fhirServers) and the
// global list (ORTHOCDS_FHIR_SERVERS, comma-separated base URLs).
func cdsTrust(env func(string) string) (*cdshooks.Verifier, []string, error) {
	var fhir []string
	if v := strings.TrimSpace(env("ORTHOCDS_FHIR_SERVERS")); v != "" {
		var err error
		if fhir, err = cdshooks.ParseFHIRServers("ORTHOCDS_FHIR_SERVERS", strings.Split(v, ",")); err != nil {
			return nil, nil, err
		}
	}
	path := env("ORTHOCDS_CDS_CLIENTS")
	if path == "" {
		return nil, fhir, nil
	}
	trusted, err := cdshooks.LoadClients(path)
	if err != nil {
		return nil, nil, err
	}
	v, err := cdshooks.NewVerifier(trusted, nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("ORTHOCDS_CDS_CLIENTS %s: %w", path, err)
	}
	return v, fhir, nil
}

// checks are the readiness probes: the store and embedder are required,
// the LLM is optional (without it answers are retrieval-only).
func (a *app) checks() []server.Check {
	cs := []server.Check{
		{Name: "store", Required: true, Run: func(ctx context.Context) (string, error) {
			if err := a.store.Ping(ctx); err != nil {
				return "", err
			}
			st, err := a.store.Stats(ctx)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%d documents, %d chunks", st.Documents, st.Chunks), nil
		}},
		{Name: "embedder", Required: true, Run: func(ctx context.Context) (string, error) {
			m := a.embedder.Model()
			return fmt.Sprintf("%s (dimension %d)", m.Name, m.Dim), nil
		}},
	}
	cs = append(cs, server.Check{Name: "llm", Run: func(ctx context.Context) (string, error) {
		if a.llm == nil {
			return "none configured: answers are retrieval-only", nil
		}
		if err := a.llm.Status(ctx); err != nil {
			return "", fmt.Errorf("%w (answers are retrieval-only)", err)
		}
		return a.llm.Name(), nil
	}})
	return cs
}
