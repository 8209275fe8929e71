package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/audit"
	"github.com/orthocds/orthocds/auth"
	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/shipped"
)

// mcpFixture is a server with every service, API keys of each role and an
// audit trail in a file.
type mcpFixture struct {
	srv   *Server
	ts    *httptest.Server
	keys  map[orthocds.Role]string
	trail string
}

func newMCPFixture(t *testing.T) *mcpFixture {
	t.Helper()
	f := setup(t)
	arts, _ := shipped.Artefacts()
	preds, err := predictors.NewService(arts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	trail := filepath.Join(dir, "audit.jsonl")
	log, err := audit.OpenFile(trail)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	hooks := cdshooks.New(cdshooks.Config{Guidelines: f.Corpus, Predictors: preds, Audit: log,
		Feedback: &cdshooks.FileFeedback{Path: filepath.Join(dir, "feedback.jsonl")}})
	keys, err := auth.OpenKeys(filepath.Join(dir, "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	secret := map[orthocds.Role]string{}
	for _, r := range auth.Roles {
		secret[r], _, _ = keys.Create("mcp "+string(r), r)
	}
	a := &auth.Authenticator{Keys: keys}
	srv := New(Config{Search: f.Retriever, Guidelines: f.Corpus, Predictors: preds, CDSHooks: hooks, Viewer: hooks,
		Answer: answer.New(f.Retriever, f.Analyzer, nil, audit.Answers{Log: log}, answer.DefaultConfig),
		Audit:  log, Authenticate: a.Authenticate, PublicURL: "https://orthocds.example", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &mcpFixture{srv: srv, ts: ts, keys: secret, trail: trail}
}

// keyed adds an API key to every request.
type keyed struct{ key string }

func (k keyed) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if k.key != "" {
		r.Header.Set("Authorization", "Bearer "+k.key)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// overHTTP connects the SDK's client to /mcp with role's key ("" for none).
func (fx *mcpFixture) overHTTP(t *testing.T, role orthocds.Role) (*mcp.ClientSession, error) {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, nil)
	return c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: fx.ts.URL + "/mcp",
		HTTPClient: &http.Client{Transport: keyed{fx.keys[role]}}, DisableStandaloneSSE: true, MaxRetries: -1}, nil)
}

// inProcess connects the SDK's client to the server's MCP as stdio does:
// one fixed principal, a byte stream between them.
func (fx *mcpFixture) overStream(t *testing.T, role orthocds.Role) *mcp.ClientSession {
	t.Helper()
	p := orthocds.Principal{ID: "stdio-" + string(role), Role: role}
	st, ct := mcp.NewInMemoryTransports()
	ss, err := fx.srv.MCP(&p).Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	c := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// httpJSON calls the HTTP API as role and returns the decoded body.
func (fx *mcpFixture) httpJSON(t *testing.T, role orthocds.Role, method, path, body string) any {
	t.Helper()
	req, _ := http.NewRequest(method, fx.ts.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+fx.keys[role])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// auditRows returns the events of the trail.
func (fx *mcpFixture) auditRows(t *testing.T) []audit.Event {
	t.Helper()
	f, err := os.Open(fx.trail)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []audit.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row audit.Row
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		var e audit.Event
		if err := json.Unmarshal([]byte(row.Body), &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// callTool calls a tool with arguments given as JSON.
func callTool(t *testing.T, cs *mcp.ClientSession, name, args string) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: json.RawMessage(args)})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func toolText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// The SDK's own client over both transports lists the tools and calls each;
// every result equals the HTTP API's for the same input, carries the
// disclaimer, and adds one mcp-tool audit row naming the tool and caller.
func TestMCPToolsMatchHTTP(t *testing.T) {
	fx := newMCPFixture(t)
	ps, _ := cdshooks.SyntheticPatients()
	bundle := string(ps[0].Bundle)
	cases := []struct {
		tool, args         string
		method, path, body string
	}{
		{"search_guidelines", `{"queries":[{"text":"福善美吃了五年可以停吗","k":3},{"text":"Caprini score after knee replacement"}]}`,
			"POST", "/v1/search", `{"queries":[{"text":"福善美吃了五年可以停吗","k":3},{"text":"Caprini score after knee replacement"}]}`},
		{"get_guideline", `{"id":"csobmr-2022-osta"}`, "GET", "/v1/guidelines/csobmr-2022-osta", ""},
		{"ask", `{"question":"When should a bisphosphonate drug holiday be considered?"}`,
			"POST", "/v1/ask", `{"question":"When should a bisphosphonate drug holiday be considered?"}`},
		{"calculate", `{"name":"osta","input":{"age_years":70,"weight_kg":50}}`,
			"POST", "/v1/calculators/osta", `{"age_years":70,"weight_kg":50}`},
		{"predict", `{"predictor":"vte-arthroplasty","rows":[` + goodVTE + `]}`,
			"POST", "/v1/predictors/vte-arthroplasty/predict", `{"rows":[` + goodVTE + `]}`},
		{"predictor_card", `{"predictor":"cement-leakage"}`, "GET", "/v1/predictors/cement-leakage/card", ""},
		{"patient_cards", `{"bundle":` + bundle + `,"lang":"en"}`, "POST", "/v1/patient-cards", `{"bundle":` + bundle + `,"lang":"en"}`},
	}
	admin := orthocds.RoleAdmin
	httpSession, err := fx.overHTTP(t, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer httpSession.Close()
	for transport, cs := range map[string]*mcp.ClientSession{"http": httpSession, "stream": fx.overStream(t, admin)} {
		lt, err := cs.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tool := range lt.Tools {
			names = append(names, tool.Name)
			if tool.InputSchema == nil || tool.Description == "" {
				t.Errorf("%s: %s has no input schema or description", transport, tool.Name)
			}
		}
		slices.Sort(names)
		want := slices.Clone(MCPTools)
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Fatalf("%s: tools %v, want %v", transport, names, want)
		}
		for _, tc := range cases {
			before := len(fx.auditRows(t))
			res := callTool(t, cs, tc.tool, tc.args)
			if res.IsError {
				t.Fatalf("%s %s: tool error %s", transport, tc.tool, toolText(res))
			}
			after := fx.auditRows(t)[before:]
			var tools []audit.Event
			for _, e := range after {
				if e.Kind == audit.KindTool {
					tools = append(tools, e)
				}
			}
			if len(tools) != 1 || tools[0].Service != tc.tool || tools[0].Outcome != "ok" || tools[0].Role != "admin" ||
				tools[0].InputHash != audit.HashInput([]byte(tc.args)) && tools[0].InputHash == "" {
				t.Errorf("%s %s: audit rows %+v, want one mcp-tool row for it", transport, tc.tool, tools)
			}
			var got struct {
				Result     any    `json:"result"`
				Disclaimer string `json:"disclaimer"`
			}
			b, _ := json.Marshal(res.StructuredContent)
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if got.Disclaimer != orthocds.Disclaimer {
				t.Errorf("%s %s: disclaimer %q", transport, tc.tool, got.Disclaimer)
			}
			want := fx.httpJSON(t, admin, tc.method, tc.path, tc.body)
			if !reflect.DeepEqual(stripVolatile(got.Result), stripVolatile(want)) {
				gb, _ := json.Marshal(got.Result)
				wb, _ := json.Marshal(want)
				t.Errorf("%s %s: result differs from the HTTP API's at %s\n mcp  %.300s\n http %.300s", transport, tc.tool,
					firstDiff("", stripVolatile(got.Result), stripVolatile(want)), gb, wb)
			}
			if !strings.Contains(toolText(res), `"disclaimer"`) {
				t.Errorf("%s %s: the text content does not carry the result", transport, tc.tool)
			}
		}
	}
	// Resources and prompts.
	cs := fx.overStream(t, admin)
	rr, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "orthocds://guidelines/csobmr-2022-osta"})
	if err != nil || len(rr.Contents) != 1 || !strings.Contains(rr.Contents[0].Text, `"csobmr-2022-osta"`) {
		t.Errorf("guideline resource: %v %+v", err, rr)
	}
	if _, err := cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "orthocds://guidelines/no-such-entry"}); err == nil {
		t.Error("a missing entry was read")
	}
	rr, err = cs.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "orthocds://predictors/cement-leakage/card"})
	if err != nil || !strings.Contains(rr.Contents[0].Text, "cement-leakage") {
		t.Errorf("model card resource: %v", err)
	}
	pr, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: "answer_with_citations", Arguments: map[string]string{"question": "OSTA?"}})
	if err != nil || len(pr.Messages) != 1 || !strings.Contains(pr.Messages[0].Content.(*mcp.TextContent).Text, "OSTA?") {
		t.Errorf("prompt: %v", err)
	}
	if _, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: "explain_risk_to_patient"}); err == nil {
		t.Error("a prompt without its required argument was given")
	}
}

// firstDiff names the first place a and b differ.
func firstDiff(at string, a, b any) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return at
		}
		for k := range x {
			if !reflect.DeepEqual(x[k], y[k]) {
				return firstDiff(at+"/"+k, x[k], y[k])
			}
		}
		return at + " (keys)"
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return at
		}
		for i := range x {
			if !reflect.DeepEqual(x[i], y[i]) {
				return firstDiff(fmt.Sprintf("%s/%d", at, i), x[i], y[i])
			}
		}
	}
	return fmt.Sprintf("%s: %v vs %v", at, a, b)
}

// stripVolatile removes what differs between two calls of the same input:
// request IDs, timings, card and page-instance IDs.
func stripVolatile(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k == "request_id" || k == "took_ms" || k == "elapsed_ms" || k == "uuid" || k == "hookInstance" {
				continue
			}
			out[k] = stripVolatile(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripVolatile(e)
		}
		return out
	case string: // JSON inside a string (a link's appContext)
		var inner map[string]any
		if strings.HasPrefix(x, "{") && json.Unmarshal([]byte(x), &inner) == nil {
			return stripVolatile(inner)
		}
	}
	return v
}

// Each tool refuses the roles its route refuses: students and evaluators
// never reach a patient's cards or the predictors; a call without a key
// does not get past /mcp.
func TestMCPRoles(t *testing.T) {
	fx := newMCPFixture(t)
	ps, _ := cdshooks.SyntheticPatients()
	calls := map[string]string{
		"search_guidelines": `{"queries":[{"text":"OSTA"}]}`,
		"get_guideline":     `{"id":"csobmr-2022-osta"}`,
		"ask":               `{"question":"What is OSTA?"}`,
		"calculate":         `{"name":"osta","input":{"age_years":70,"weight_kg":50}}`,
		"predict":           `{"predictor":"vte-arthroplasty","rows":[` + goodVTE + `]}`,
		"predictor_card":    `{"predictor":"cement-leakage"}`,
		"patient_cards":     `{"bundle":` + string(ps[0].Bundle) + `}`,
	}
	patient := []string{"predict", "patient_cards"}
	for _, role := range auth.Roles {
		cs, err := fx.overHTTP(t, role)
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		for tool, args := range calls {
			before := len(fx.auditRows(t))
			res := callTool(t, cs, tool, args)
			mayNot := slices.Contains(patient, tool) && role != orthocds.RoleClinician && role != orthocds.RoleAdmin
			switch {
			case mayNot && (!res.IsError || !strings.Contains(toolText(res), "forbidden")):
				t.Errorf("%s called %s: %v %.200s", role, tool, res.IsError, toolText(res))
			case !mayNot && res.IsError:
				t.Errorf("%s refused %s: %s", role, tool, toolText(res))
			}
			rows := fx.auditRows(t)[before:]
			if mayNot && (len(rows) != 1 || rows[0].Outcome != "error: forbidden" || rows[0].Role != string(role)) {
				t.Errorf("%s %s refused: audit rows %+v, want one recording the refusal", role, tool, rows)
			}
		}
		cs.Close()
	}
	if cs, err := fx.overHTTP(t, ""); err == nil {
		cs.Close()
		t.Error("a client without a key connected to /mcp")
	}
	// The stream transport runs as its fixed principal, with the same rules.
	cs := fx.overStream(t, orthocds.RoleStudent)
	if res := callTool(t, cs, "patient_cards", calls["patient_cards"]); !res.IsError {
		t.Error("a student's stdio session read a patient's cards")
	}
}

// Bad input to every tool gets a tool error naming the field, and the
// server keeps serving.
func TestMCPBadInput(t *testing.T) {
	fx := newMCPFixture(t)
	cs, err := fx.overHTTP(t, orthocds.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	big := `{"queries":[` + strings.TrimSuffix(strings.Repeat(`{"text":"OSTA"},`, 257), ",") + `]}`
	for _, tc := range []struct{ tool, args, field string }{
		{"search_guidelines", `{"queries":"OSTA"}`, "queries"},
		{"search_guidelines", `{}`, "queries"},
		{"search_guidelines", `{"queries":[{"text":""}]}`, "/queries/0/text"},
		{"search_guidelines", `{"queries":[{"text":"OSTA","k":500}]}`, "/queries/0/k"},
		{"search_guidelines", big, "/queries"},
		{"search_guidelines", `{"queries":[{"text":"OSTA","filter":{"langs":["fr"]}}]}`, "/queries/0/filter/langs"},
		{"get_guideline", `{"id":7}`, "id"},
		{"get_guideline", `{"id":"no-such-entry"}`, "id"},
		{"ask", `{"question":""}`, "question"},
		{"ask", `{"question":"OSTA?","k":"ten"}`, "k"},
		{"calculate", `{"name":"osta","input":{"age_years":"old"}}`, "age_years"},
		{"calculate", `{"name":"no-such-calculator","input":{}}`, "no-such-calculator"},
		{"predict", `{"predictor":"vte-arthroplasty","rows":[{"age_years":"old"}]}`, "/rows/0/age_years"},
		{"predict", `{"predictor":"vte-arthroplasty"}`, "rows"},
		{"predictor_card", `{}`, "predictor"},
		{"patient_cards", `{"lang":"en"}`, "bundle"},
		{"patient_cards", `{"bundle":{"resourceType":"Patient"}}`, "bundle"},
	} {
		res := callTool(t, cs, tc.tool, tc.args)
		t.Logf("%s %.50s -> %.220s", tc.tool, tc.args, toolText(res))
		if !res.IsError || !strings.Contains(toolText(res), tc.field) {
			t.Errorf("%s %.60s: error %v %q, want one naming %s", tc.tool, tc.args, res.IsError, toolText(res), tc.field)
		}
	}
	if res := callTool(t, cs, "get_guideline", `{"id":"csobmr-2022-osta"}`); res.IsError {
		t.Errorf("the server stopped serving: %s", toolText(res))
	}
}

// FuzzMCPToolCall sends arbitrary arguments to every tool through the
// SDK's decoder and ours: the answer is a result or a tool error, never a
// crash, and the session stays usable.
func FuzzMCPToolCall(f *testing.F) {
	for _, s := range []string{`{"queries":[{"text":"OSTA"}]}`, `{"id":"csobmr-2022-osta"}`, `{"question":"OSTA?"}`,
		`{"name":"osta","input":{"age_years":70,"weight_kg":50}}`, `{"predictor":"vte-arthroplasty","rows":[{}]}`,
		`{"bundle":{"resourceType":"Bundle","type":"collection","entry":[]}}`, `[]`, `null`, `{"queries":[{"text":"x","k":-1}]}`} {
		for i := range MCPTools {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, tool uint8, args string) {
		if !json.Valid([]byte(args)) {
			return
		}
		fx := fuzzFixture(t)
		name := MCPTools[int(tool)%len(MCPTools)]
		res, err := fx.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: json.RawMessage(args)})
		if err != nil && !strings.Contains(err.Error(), "invalid") {
			t.Fatalf("%s %q: %v", name, args, err)
		}
		if err == nil && res.IsError && toolText(res) == "" {
			t.Fatalf("%s %q: an error without a message", name, args)
		}
		if _, err := fx.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_guideline",
			Arguments: map[string]any{"id": "csobmr-2022-osta"}}); err != nil {
			t.Fatalf("after %s %q the session fails: %v", name, args, err)
		}
	})
}

var fuzzSession *mcp.ClientSession

// fuzzFixture is one stream session shared by all fuzz inputs.
func fuzzFixture(t *testing.T) *mcp.ClientSession {
	if fuzzSession != nil {
		return fuzzSession
	}
	f := setup(t)
	arts, _ := shipped.Artefacts()
	preds, _ := predictors.NewService(arts)
	hooks := cdshooks.New(cdshooks.Config{Guidelines: f.Corpus, Predictors: preds,
		Feedback: &cdshooks.FileFeedback{Path: filepath.Join(os.TempDir(), fmt.Sprintf("orthocds-fuzz-%d.jsonl", os.Getpid()))}})
	srv := New(Config{Search: f.Retriever, Guidelines: f.Corpus, Predictors: preds, CDSHooks: hooks, Viewer: hooks,
		Answer: answer.New(f.Retriever, f.Analyzer, nil, nil, answer.DefaultConfig),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	p := orthocds.Principal{ID: "fuzz", Role: orthocds.RoleAdmin}
	st, ct := mcp.NewInMemoryTransports()
	if _, err := srv.MCP(&p).Connect(context.Background(), st, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "fuzz"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	fuzzSession = cs
	return cs
}
