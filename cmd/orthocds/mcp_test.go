package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/auth"
	"github.com/orthocds/orthocds/cdshooks"
)

// stdioSession runs "orthocds mcp" with env, its stdin and stdout joined
// to the SDK's client, and returns the session and a stop that waits for
// the command's end.
func stdioSession(t *testing.T, env map[string]string) (*mcp.ClientSession, func() error) {
	t.Helper()
	inR, inW := io.Pipe()   // client -> orthocds
	outR, outW := io.Pipe() // orthocds -> client
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"mcp"}, mapEnv(env), inR, outW, io.Discard)
		outW.Close()
		done <- err
	}()
	c := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, nil)
	cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer ccancel()
	cs, err := c.Connect(cctx, &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		cancel()
		t.Fatalf("connect: %v (command: %v)", err, <-done)
	}
	return cs, func() error {
		cs.Close()
		cancel()
		inW.Close()
		return <-done
	}
}

// "orthocds mcp" serves the API's tools over stdio as the process's
// caller: on an install with no keys the local user (admin) calls every
// tool, and each call adds an mcp-tool row to the audit trail; on a keyed
// install it refuses to start without ORTHOCDS_API_KEY, naming it, and
// with a student's key the student's rules apply.
func TestMCPStdio(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"ORTHOCDS_DATA": data, "ORTHOCDS_LLM_PROVIDER": "none"}
	cs, stop := stdioSession(t, env)
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil || len(tools.Tools) != 7 {
		t.Fatalf("tools: %v %d", err, len(tools.Tools))
	}
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "search_guidelines",
		Arguments: map[string]any{"queries": []map[string]any{{"text": "福善美吃了五年可以停吗", "k": 3}}}})
	if err != nil || res.IsError {
		t.Fatalf("search: %v %+v", err, res)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if !strings.Contains(string(b), `"doc_id"`) || !strings.Contains(string(b), orthocds.Disclaimer[:20]) {
		t.Errorf("search result without hits or disclaimer: %.300s", b)
	}
	if err := stop(); err != nil {
		t.Fatalf("mcp ended with %v", err)
	}
	trail, _ := os.ReadFile(filepath.Join(data, "audit.jsonl"))
	if !strings.Contains(string(trail), `\"kind\":\"mcp-tool\"`) || !strings.Contains(string(trail), `search_guidelines`) {
		t.Errorf("no mcp-tool audit row:\n%.500s", trail)
	}

	keys, err := auth.OpenKeys(filepath.Join(data, "api-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	student, _, err := keys.Create("class of 2027", orthocds.RoleStudent)
	if err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"mcp"}, mapEnv(env), strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ORTHOCDS_API_KEY") {
		t.Errorf("a keyed install without ORTHOCDS_API_KEY: %v, want a refusal naming it", err)
	}
	env["ORTHOCDS_API_KEY"] = student
	cs, stop = stdioSession(t, env)
	defer stop()
	ps, _ := cdshooks.SyntheticPatients()
	res, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "patient_cards",
		Arguments: map[string]any{"bundle": json.RawMessage(ps[0].Bundle)}})
	if err != nil || !res.IsError {
		t.Errorf("a student's stdio session read a patient's cards: %v %+v", err, res)
	}
	res, err = cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_guideline", Arguments: map[string]any{"id": "csobmr-2022-osta"}})
	if err != nil || res.IsError {
		t.Errorf("a student could not read a guideline: %v %+v", err, res)
	}
}
