package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/audit"
	"github.com/orthocds/orthocds/predictors"
)

// The MCP server offers the HTTP API to agents as Model Context Protocol
// tools, resources and prompts. Each tool calls the API's own route in
// process, as the caller: the same validation (errors name the field), the
// same role checks, rate limits, de-identification and audit, and the same
// result, which the tool returns beside the disclaimer. Every tool call
// adds one row of kind mcp-tool to the audit chain besides whatever the
// route itself records (an answer, a prediction, the cards shown).

// Tool inputs. The schemas agents see are generated from these types,
// which are the HTTP API's request types.
type (
	searchInput    = searchRequest
	guidelineInput struct {
		ID string `json:"id" jsonschema:"the guideline entry's ID, as search results give it"`
	}
	askInput       = answer.Request
	calculateInput struct {
		Name  string          `json:"name" jsonschema:"the calculator: caprini, frax, osta or t-score (GET /v1/calculators lists them)"`
		Input json.RawMessage `json:"input" jsonschema:"the calculator's inputs, as POST /v1/calculators/{name} takes them"`
	}
	predictInput struct {
		Predictor string           `json:"predictor" jsonschema:"the predictor's ID (cement-leakage, vte-arthroplasty, dcm-axial-pain or a hospital's own)"`
		Rows      []predictors.Row `json:"rows" jsonschema:"one object of inputs per patient, as POST /v1/predictors/{id}/predict takes them"`
		Explain   *bool            `json:"explain,omitempty" jsonschema:"add each input's contribution (default true)"`
	}
	predictorCardInput struct {
		Predictor string `json:"predictor" jsonschema:"the predictor's ID"`
	}
	patientCardsInput struct {
		Bundle json.RawMessage `json:"bundle" jsonschema:"a FHIR R4 Bundle of the patient's resources"`
		Lang   string          `json:"lang,omitempty" jsonschema:"zh or en (default en)"`
	}
)

// MCPTools names the tools in the order they are listed.
var MCPTools = []string{"search_guidelines", "get_guideline", "ask", "calculate", "predict", "predictor_card", "patient_cards"}

// callRoute is one in-process call of an API route.
type callRoute struct {
	method, path string
	body         any // nil: no body
}

// MCP returns the API as an MCP server. With fixed set (stdio, where the
// process is the caller) every call runs as that principal; otherwise
// (HTTP) each call is authenticated from its own request's headers, as the
// HTTP API authenticates.
func (s *Server) MCP(fixed *orthocds.Principal) *mcp.Server {
	m := &mcpAPI{s: s, fixed: fixed}
	ms := mcp.NewServer(&mcp.Implementation{Name: "orthocds", Title: "OrthoCDS", Version: "1"}, &mcp.ServerOptions{
		Instructions: "OrthoCDS: osteoporosis and orthopaedic guideline search, cited answers, calculators, risk predictors and " +
			"patient cards. Cite the guideline entry IDs the tools return. " + orthocds.Disclaimer,
	})
	addTool(m, ms, "search_guidelines",
		"Search the guideline corpus (and the hospital's documents) with a batch of queries; each hit carries its citation.",
		func(in searchInput) callRoute { return callRoute{"POST", "/v1/search", in} })
	addTool(m, ms, "get_guideline", "One guideline entry in full, with its source, section and grade.",
		func(in guidelineInput) callRoute {
			return callRoute{"GET", "/v1/guidelines/" + url.PathEscape(in.ID), nil}
		})
	addTool(m, ms, "ask",
		"A cited answer to a clinical question from the guidelines, or retrieval-only when no language model is configured; abstains without evidence.",
		func(in askInput) callRoute { return callRoute{"POST", "/v1/ask", in} })
	addTool(m, ms, "calculate", "Run a calculator: T-score, OSTA, Caprini or FRAX treatment thresholds.",
		func(in calculateInput) callRoute {
			return callRoute{"POST", "/v1/calculators/" + url.PathEscape(in.Name), in.Input}
		})
	addTool(m, ms, "predict", "Score patients with a risk predictor, with each input's contribution.",
		func(in predictInput) callRoute {
			return callRoute{"POST", "/v1/predictors/" + url.PathEscape(in.Predictor) + "/predict",
				predictRequest{Rows: in.Rows, Explain: in.Explain}}
		})
	addTool(m, ms, "predictor_card", "A predictor's model card: intended use, data, performance, limits.",
		func(in predictorCardInput) callRoute {
			return callRoute{"GET", "/v1/predictors/" + url.PathEscape(in.Predictor) + "/card", nil}
		})
	if s.cfg.Viewer != nil {
		addTool(m, ms, "patient_cards", "Decision-support cards for one patient from a FHIR Bundle of their record.",
			func(in patientCardsInput) callRoute {
				return callRoute{"POST", "/v1/patient-cards", map[string]any{"bundle": in.Bundle, "lang": in.Lang}}
			})
	}
	m.resources(ms)
	m.prompts(ms)
	return ms
}

// mcpAPI serves MCP requests through the server's routes.
type mcpAPI struct {
	s     *Server
	fixed *orthocds.Principal
}

// inProcess is the context key under which an MCP call's principal
// reaches handle: it cannot arrive over the network.
type inProcess struct{}

// mcpOrigin is the context key of the /mcp HTTP request a call came in.
type mcpOrigin struct{}

// principal identifies the caller of one MCP request.
func (m *mcpAPI) principal(extra *mcp.RequestExtra) (orthocds.Principal, error) {
	if m.fixed != nil {
		return *m.fixed, nil
	}
	r := &http.Request{Header: http.Header{}}
	if extra != nil && extra.Header != nil {
		r.Header = extra.Header
	}
	return m.s.cfg.Authenticate(r.WithContext(context.Background()))
}

// addTool registers a tool whose input type is In and which calls the
// route that route builds. The input schema is In's, where an object whose
// members are all optional is itself optional (as the HTTP API reads it)
// and a raw JSON member takes any JSON value.
func addTool[In any](m *mcpAPI, ms *mcp.Server, name, description string, route func(In) callRoute) {
	schema, err := jsonschema.For[In](&jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[json.RawMessage](): {},
	}})
	if err != nil {
		panic(fmt.Sprintf("mcp tool %s: %v", name, err)) // a programming error, found by any test
	}
	relaxOptionalObjects(schema)
	mcp.AddTool(ms, &mcp.Tool{Name: name, Description: description, InputSchema: schema},
		func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, any, error) {
			out, err := m.call(ctx, req.Extra, name, req.Params.Arguments, route(in))
			if err != nil {
				return nil, nil, err
			}
			return nil, map[string]any{"result": out, "disclaimer": orthocds.Disclaimer}, nil
		})
}

// relaxOptionalObjects drops from each required list the members whose
// schema is an object with nothing required: leaving one out means its
// zero value, as it does over HTTP ("filter" of a query).
func relaxOptionalObjects(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	var req []string
	for _, name := range s.Required {
		p := s.Properties[name]
		if p != nil && (p.Type == "object" || containsStr(p.Types, "object")) && len(p.Required) == 0 && p.Properties != nil {
			continue
		}
		req = append(req, name)
	}
	s.Required = req
	for _, p := range s.Properties {
		relaxOptionalObjects(p)
	}
	relaxOptionalObjects(s.Items)
	relaxOptionalObjects(s.AdditionalProperties)
}

// call runs one route as the caller and records the tool call in the audit
// chain. A refusal or bad input comes back as an error naming the field.
func (m *mcpAPI) call(ctx context.Context, extra *mcp.RequestExtra, tool string, args json.RawMessage, c callRoute) (json.RawMessage, error) {
	p, err := m.principal(extra)
	if err != nil {
		return nil, toolError(err)
	}
	out, callErr := m.route(ctx, p, c)
	if m.s.cfg.Audit != nil {
		outcome := "ok"
		if callErr != nil {
			outcome = "error: " + orthocds.ErrorCode(callErr)
		}
		if err := m.s.cfg.Audit.Append(ctx, audit.Event{Principal: p.ID, Role: string(p.Role), Kind: audit.KindTool,
			Service: tool, InputHash: audit.HashInput(args), Outcome: outcome}); err != nil {
			return nil, fmt.Errorf("the audit trail could not record the call, so its result is withheld")
		}
	}
	if callErr != nil {
		return nil, toolError(callErr)
	}
	return out, nil
}

// route serves c through the router as principal p and returns the body,
// or the problem as an error.
func (m *mcpAPI) route(ctx context.Context, p orthocds.Principal, c callRoute) (json.RawMessage, error) {
	var body bytes.Buffer
	if c.body != nil {
		if err := json.NewEncoder(&body).Encode(c.body); err != nil {
			return nil, orthocds.Errorf(orthocds.EINVALID, "the input could not be encoded")
		}
	}
	// A fresh routing context: over HTTP, ctx carries the /mcp request's.
	ctx = context.WithValue(context.WithValue(ctx, chi.RouteCtxKey, nil), inProcess{}, p)
	req, err := http.NewRequestWithContext(ctx, c.method, c.path, &body)
	if err != nil {
		return nil, orthocds.Errorf(orthocds.EINVALID, "bad request path")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.RemoteAddr = "mcp"
	// Links in results point where the /mcp request came in.
	if o, ok := ctx.Value(mcpOrigin{}).(*http.Request); ok {
		req.Host, req.TLS = o.Host, o.TLS
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	m.s.router.ServeHTTP(rec, req)
	if rec.status >= 400 {
		var pr Problem
		if err := json.Unmarshal(rec.body.Bytes(), &pr); err != nil {
			return nil, orthocds.Errorf(orthocds.EINTERNAL, "internal error")
		}
		return nil, problemError(pr)
	}
	return json.RawMessage(bytes.TrimSpace(rec.body.Bytes())), nil
}

// problemError turns a problem document back into an error of its kind.
func problemError(p Problem) error {
	code := strings.TrimPrefix(p.Type, "https://orthocds.org/problems/")
	return &orthocds.Error{Code: code, Field: p.Field, Message: p.Detail, FieldErrors: p.Errors}
}

// mcpError is a tool error: its text names the kind and every field at
// fault, as a problem document does.
type mcpError struct{ err error }

func (e mcpError) Error() string {
	var b strings.Builder
	b.WriteString(orthocds.ErrorCode(e.err))
	b.WriteString(": ")
	b.WriteString(orthocds.ErrorMessage(e.err))
	if oe, ok := e.err.(*orthocds.Error); ok {
		switch {
		case len(oe.FieldErrors) > 0:
			for _, f := range oe.FieldErrors {
				fmt.Fprintf(&b, "; %s: %s", f.Field, f.Detail)
			}
		case oe.Field != "":
			fmt.Fprintf(&b, " (field %s)", oe.Field)
		}
	}
	return b.String()
}

func toolError(err error) error { return mcpError{err} }

// recorder is the response of an in-process call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}
func (r *recorder) Flush() {}

// resources: guideline entries and model cards, read as the caller.
func (m *mcpAPI) resources(ms *mcp.Server) {
	read := func(prefix, suffix, route string) mcp.ResourceHandler {
		return func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			uri := req.Params.URI
			id, ok := strings.CutPrefix(uri, prefix)
			if ok {
				id, ok = strings.CutSuffix(id, suffix)
			}
			if !ok || id == "" || strings.Contains(id, "/") {
				return nil, mcp.ResourceNotFoundError(uri)
			}
			p, err := m.principal(req.Extra)
			if err != nil {
				return nil, toolError(err)
			}
			out, err := m.route(ctx, p, callRoute{"GET", strings.Replace(route, "{id}", url.PathEscape(id), 1), nil})
			if err != nil {
				if orthocds.ErrorCode(err) == orthocds.ENOTFOUND {
					return nil, mcp.ResourceNotFoundError(uri)
				}
				return nil, toolError(err)
			}
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(out)}}}, nil
		}
	}
	ms.AddResourceTemplate(&mcp.ResourceTemplate{Name: "guideline", Title: "Guideline entry",
		URITemplate: "orthocds://guidelines/{id}", MIMEType: "application/json",
		Description: "A guideline entry with its source (body, year, section) and grade as the source gives it."},
		read("orthocds://guidelines/", "", "/v1/guidelines/{id}"))
	ms.AddResourceTemplate(&mcp.ResourceTemplate{Name: "model-card", Title: "Predictor model card",
		URITemplate: "orthocds://predictors/{id}/card", MIMEType: "application/json",
		Description: "A risk predictor's model card."},
		read("orthocds://predictors/", "/card", "/v1/predictors/{id}/card"))
}

// prompts: two conversation starters in the project's own words.
func (m *mcpAPI) prompts(ms *mcp.Server) {
	ms.AddPrompt(&mcp.Prompt{Name: "answer_with_citations", Title: "Answer with citations",
		Description: "Answer a clinical question from the OrthoCDS guidelines only, citing entry IDs.",
		Arguments:   []*mcp.PromptArgument{{Name: "question", Description: "the clinical question", Required: true}}},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			q := strings.TrimSpace(req.Params.Arguments["question"])
			if q == "" {
				return nil, toolError(orthocds.Invalid("question", "is required"))
			}
			return &mcp.GetPromptResult{Description: "Answer with citations", Messages: []*mcp.PromptMessage{{Role: "user",
				Content: &mcp.TextContent{Text: "Answer this question using only what the OrthoCDS tools return. Call " +
					"search_guidelines (or ask) first; give every statement the guideline entry ID it rests on, in square " +
					"brackets; say so plainly when the guidelines do not answer it, rather than answering from memory. End " +
					"with: " + orthocds.Disclaimer + "\n\nQuestion: " + q}}}}, nil
		})
	ms.AddPrompt(&mcp.Prompt{Name: "explain_risk_to_patient", Title: "Explain this risk to a patient",
		Description: "Explain a predictor's result to a patient in plain words, with its uncertainty.",
		Arguments: []*mcp.PromptArgument{{Name: "predictor", Description: "the predictor's ID", Required: true},
			{Name: "lang", Description: "zh or en"}}},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			id := strings.TrimSpace(req.Params.Arguments["predictor"])
			if id == "" {
				return nil, toolError(orthocds.Invalid("predictor", "is required"))
			}
			lang := "English"
			if req.Params.Arguments["lang"] == "zh" {
				lang = "simplified Chinese"
			}
			return &mcp.GetPromptResult{Description: "Explain a risk to a patient", Messages: []*mcp.PromptMessage{{Role: "user",
				Content: &mcp.TextContent{Text: "Read the model card of predictor " + id + " (predictor_card) and the result " +
					"of predict for this patient. Explain to the patient, in " + lang + " and plain words, what the number " +
					"means as a count out of 100 people like them, which of their inputs raised or lowered it, how sure the " +
					"model is and what it was not built for (from the card). Do not name a treatment the clinician has not " +
					"discussed. Say that the estimate supports, and does not replace, their clinician's judgement."}}}}, nil
		})
}
