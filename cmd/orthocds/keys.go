package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/auth"
)

// keysPath is where API keys are kept: ORTHOCDS_KEYS, or api-keys.json in
// the data directory.
func keysPath(cfg Config, env func(string) string) string {
	if p := env("ORTHOCDS_KEYS"); p != "" {
		return p
	}
	return filepath.Join(cfg.DataDir, "api-keys.json")
}

// runKeys manages API keys: create (prints the key once), list, revoke.
func runKeys(cfg Config, env func(string) string, args []string, stdout, stderr io.Writer) error {
	const use = `keys: use "orthocds keys create --name NAME --role clinician|student|instructor|evaluator|admin", "orthocds keys list" or "orthocds keys revoke ID"`
	if len(args) == 0 {
		return errors.New(use)
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory holding api-keys.json (env ORTHOCDS_DATA)")
	name := fs.String("name", "", "who or what the key is for")
	role := fs.String("role", "", "clinician, student, instructor, evaluator or admin")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	store, err := auth.OpenKeys(keysPath(cfg, env))
	if err != nil {
		return err
	}
	switch args[0] {
	case "create":
		secret, k, err := store.Create(*name, orthocds.Role(*role))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", secret)
		fmt.Fprintf(stderr, "key %s (%s, %s) created; the key above is shown once and stored only as a hash\n", k.ID, k.Name, k.Role)
	case "list":
		for _, k := range store.List() {
			state := "active"
			if k.Revoked {
				state = "revoked"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, state, k.Created.Format("2006-01-02"), k.Name)
		}
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("keys revoke: give the key ID")
		}
		return store.Revoke(fs.Arg(0))
	default:
		return errors.New(use)
	}
	return nil
}

// authenticator builds the server's caller identification: API keys,
// and an OpenID Connect provider when ORTHOCDS_OIDC_ISSUER is set. With
// neither, the install is open to every caller as admin: fine for its one
// user on loopback, refused on any other address unless insecureOpen says
// so, which is then logged at every start.
func authenticator(ctx context.Context, cfg Config, env func(string) string, insecureOpen bool, log *slog.Logger) (*auth.Authenticator, error) {
	keys, err := auth.OpenKeys(keysPath(cfg, env))
	if err != nil {
		return nil, err
	}
	a := &auth.Authenticator{Keys: keys, Open: true}
	if iss := env("ORTHOCDS_OIDC_ISSUER"); iss != "" {
		o, err := auth.NewOIDC(ctx, auth.OIDCConfig{Issuer: iss, Audience: env("ORTHOCDS_OIDC_AUDIENCE"), RoleClaim: env("ORTHOCDS_OIDC_ROLE_CLAIM")})
		if err != nil {
			return nil, err
		}
		a.OIDC = o
	}
	if keys.Len() > 0 || a.OIDC != nil {
		return a, nil
	}
	switch {
	case insecureOpen:
		log.Warn("--insecure-open: no API keys and no identity provider, so every caller who reaches this address is admin and may read patient data; create keys with 'orthocds keys create'", "addr", cfg.Addr)
	case !loopback(cfg.Addr):
		return nil, fmt.Errorf("serve: %s is reachable beyond this machine and no authentication is configured, so every caller would be admin: "+
			"create an API key (orthocds keys create --name NAME --role admin), set ORTHOCDS_OIDC_ISSUER, or listen on 127.0.0.1; "+
			"--insecure-open (ORTHOCDS_INSECURE_OPEN=1) starts it open anyway", cfg.Addr)
	}
	return a, nil
}

// loopback reports whether a listen address admits only this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}
