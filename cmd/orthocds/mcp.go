package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/orthocds/orthocds"
)

// runMCP serves the API as MCP tools over stdin and stdout, for an agent
// that starts orthocds as its tool server. The caller is the process's
// user: with API keys or an identity provider configured, ORTHOCDS_API_KEY
// must hold a key (or token), whose role every call runs as; with no
// authentication configured the local user is admin, as on loopback.
// Logs go to stderr; stdout carries only the protocol.
func runMCP(ctx context.Context, cfg Config, env func(string) string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	models := fs.String("models", env("ORTHOCDS_MODELS"), "directory of refitted predictor models that replace the shipped ones (env ORTHOCDS_MODELS)")
	cfg.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.logTo(stderr)
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	// stdio never listens on a network, so the loopback rule of serve does
	// not apply; the caller is settled before anything is opened.
	authn, err := authenticator(ctx, cfg, env, true, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	if key := env("ORTHOCDS_API_KEY"); key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	p, err := authn.Authenticate(r)
	if err != nil {
		return orthocds.Errorf(orthocds.EUNAUTHORIZED,
			"mcp: %s; set ORTHOCDS_API_KEY to an API key (orthocds keys create --name agent --role clinician)", orthocds.ErrorMessage(err))
	}
	// Links in results (cards, guideline entries) point at the HTTP
	// server: ORTHOCDS_PUBLIC_URL, or serve's address on this machine.
	envLinks := func(k string) string {
		if v := env(k); k != "ORTHOCDS_PUBLIC_URL" || v != "" {
			return v
		}
		return "http://" + cfg.Addr
	}
	srv, closeAll, err := buildServer(ctx, cfg, envLinks, *models, authn, log, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	log.Info("mcp: serving on stdio", "principal", p.ID, "role", string(p.Role))
	err = srv.MCP(&p).Run(ctx, &mcp.IOTransport{Reader: io.NopCloser(stdin), Writer: nopWriteCloser{stdout}})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
