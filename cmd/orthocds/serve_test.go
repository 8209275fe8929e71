package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/auth"
)

// serve on an address beyond loopback with no authentication refuses to
// start, naming the fix; --insecure-open (or ORTHOCDS_INSECURE_OPEN=1)
// starts it and says so in the log; with an API key it starts without
// the flag, and its CDS services then refuse anonymous calls.
func TestServeRefusesAnOpenDoor(t *testing.T) {
	base := func() map[string]string {
		return map[string]string{"ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_LLM_PROVIDER": "none", "ORTHOCDS_ADDR": "0.0.0.0:0"}
	}
	var stderr strings.Builder
	err := run(context.Background(), []string{"serve"}, mapEnv(base()), nil, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "orthocds keys create") || !strings.Contains(err.Error(), "--insecure-open") {
		t.Fatalf("serve on 0.0.0.0 with no keys: %v, want a refusal naming the fix", err)
	}
	if strings.Contains(stderr.String(), "guidelines:") {
		t.Errorf("the refusal came after the store was opened:\n%s", stderr.String())
	}

	for name, open := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"--insecure-open":          {[]string{"--insecure-open"}, nil},
		"ORTHOCDS_INSECURE_OPEN=1": {nil, map[string]string{"ORTHOCDS_INSECURE_OPEN": "1"}},
	} {
		env := base()
		for k, v := range open.env {
			env[k] = v
		}
		addr, stop, logs := startServeArgs(t, env, open.args...)
		if !strings.Contains(logs.String(), "insecure-open") || !strings.Contains(logs.String(), "every caller") {
			t.Errorf("%s: no warning in the log:\n%s", name, logs.String())
		}
		loop := strings.Replace(addr, "0.0.0.0", "127.0.0.1", 1)
		resp, err := http.Get(loop + "/v1/guidelines/csobmr-2022-osta")
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: open install: %v %v", name, resp, err)
		} else {
			resp.Body.Close()
		}
		if err := stop(); err != nil {
			t.Error(err)
		}
	}

	env := base()
	keys, err := auth.OpenKeys(filepath.Join(env["ORTHOCDS_DATA"], "api-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := keys.Create("ward 7", orthocds.RoleClinician); err != nil {
		t.Fatal(err)
	}
	addr, stop, logs := startServeArgs(t, env)
	defer stop()
	if strings.Contains(logs.String(), "insecure-open") {
		t.Errorf("a keyed install warns of an open door:\n%s", logs.String())
	}
	loop := strings.Replace(addr, "0.0.0.0", "127.0.0.1", 1)
	resp, err := http.Post(loop+"/cds-services/orthocds-osteoporosis", "application/json",
		strings.NewReader(`{"hook":"patient-view","hookInstance":"x","context":{"patientId":"1"},"prefetch":{"patient":null,"observations":null,"conditions":null,"medications":null}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an anonymous CDS call to a keyed install: %d, want 401", resp.StatusCode)
	}
}

// Query rewriting and reranking need a language model provider; asking
// for them with none is refused, naming the setting.
func TestAssistNeedsAProvider(t *testing.T) {
	env := map[string]string{"ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_LLM_PROVIDER": "none", "ORTHOCDS_REWRITE_MODEL": "qwen2.5:7b"}
	err := run(context.Background(), []string{"search", "denosumab"}, mapEnv(env), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ORTHOCDS_REWRITE_MODEL") {
		t.Errorf("rewrite model with no provider: %v", err)
	}
}

// A fault found after the store is open (here a refitted model file that
// is not JSON) stops serve with an error naming it, closing what was
// opened, rather than crashing the process.
func TestServeFaultAfterOpenIsAnError(t *testing.T) {
	models := t.TempDir()
	if err := os.WriteFile(filepath.Join(models, "broken.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ORTHOCDS_DATA": t.TempDir(), "ORTHOCDS_ADDR": "127.0.0.1:0", "ORTHOCDS_LLM_PROVIDER": "none", "ORTHOCDS_MODELS": models}
	var stderr syncBuffer
	err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, nil, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Fatalf("serve with a broken model file: err %v, want one naming broken.json", err)
	}
}
