// Package cdshooks is OrthoCDS as an HL7 CDS Hooks service: discovery,
// four services (osteoporosis on patient-view; VTE prophylaxis, cement
// leakage and axial neck pain on order-select and order-sign), prefetch
// templates with a fallback to the client's FHIR server, feedback, and
// the verification of CDS clients' JWTs.
//
// Cards are computed from rules, calculators and the risk predictors, with
// every statement citing guideline entries; no language model is called,
// so a card request costs milliseconds. The HTTP adapter (package server)
// maps the errors returned here to problem JSON; a service that cannot
// get the data it needs returns an orthocds.EPRECONDITION error (412).
package cdshooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/audit"
	"github.com/orthocds/orthocds/deid"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/patient"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/rag"
	"github.com/orthocds/orthocds/valuesets"
)

// Predictors scores the risk models; *predictors.Service is one.
type Predictors interface {
	Predict(id string, rows []predictors.Row, explain bool) (*predictors.Result, error)
}

// Searcher runs batched hybrid search; *rag.Retriever is one.
type Searcher interface {
	Search(ctx context.Context, qs []rag.Query) ([][]rag.Hit, error)
}

// Scope names the clinical concepts of a text; *analysis.Analyzer is one.
type Scope interface {
	DomainConcepts(text string) []string
}

// Auditor records what the services told whom; audit.Log is one.
type Auditor interface {
	Append(ctx context.Context, e audit.Event) error
}

// FeedbackStore keeps what users did with cards.
type FeedbackStore interface {
	AddFeedback(ctx context.Context, service string, fb []Feedback) error
}

// Config holds the services' dependencies.
type Config struct {
	Guidelines *guidelines.Corpus
	Predictors Predictors
	Feedback   FeedbackStore
	// Search and Scope, when set, attach to each card the hospital's own
	// document that best matches it (one batched search a request), when
	// it shares a clinical concept with the card.
	Search Searcher
	Scope  Scope
	// Audit, when set, records every call's cards and every feedback.
	// CorpusVersion is recorded with the entries cited.
	Audit         Auditor
	CorpusVersion string
	// FHIR fetches prefetch data a client did not send; nil uses a client
	// with a 5 s timeout per request.
	FHIR *FHIRClient
	// ValueSets are the codes that mean each fact read from the record and
	// each procedure of the order services; nil uses the shipped ones.
	ValueSets *valuesets.Sets
	// FHIRServers are the FHIR base URLs that any caller's requests may
	// have us read from (ParseFHIRServers); a trusted client may add its
	// own (Invocation.FHIRServers). With neither, nothing is fetched.
	FHIRServers []string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Hooks is the set of CDS services.
type Hooks struct {
	cfg         Config
	services    []*service
	docs        docCache
	fhirServers []string // canonical
}

// service is one CDS service.
type service struct {
	info  ServiceInfo
	cards func(ctx context.Context, c *call) ([]Card, error)
}

// New returns the services.
func New(cfg Config) *Hooks {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FHIR == nil {
		cfg.FHIR = NewFHIRClient(nil)
	}
	if cfg.ValueSets == nil {
		sets, err := valuesets.Shipped()
		if err != nil {
			panic(err) // embedded data, tested in package valuesets
		}
		cfg.ValueSets = sets
	}
	h := &Hooks{cfg: cfg}
	// An entry that is no base URL can match nothing: it is dropped, so a
	// mistake closes the door rather than opening it.
	for _, u := range cfg.FHIRServers {
		if c, ok := canonicalFHIRBase(u); ok {
			h.fhirServers = append(h.fhirServers, c)
		}
	}
	h.services = []*service{osteoporosisService(), vteService("order-select"), vteService("order-sign"),
		cementService(), axialPainService()}
	if len(hospitalPredictors()) > 0 {
		h.services = append(h.services, hospitalService())
	}
	return h
}

// Discovery lists the services.
func (h *Hooks) Discovery() Discovery {
	d := Discovery{Services: []ServiceInfo{}}
	for _, s := range h.services {
		d.Services = append(d.Services, s.info)
	}
	return d
}

// find returns the service with id for hook ("" matches the first).
func (h *Hooks) find(id, hook string) (*service, []string) {
	var hooks []string
	for _, s := range h.services {
		if s.info.ID != id {
			continue
		}
		hooks = append(hooks, s.info.Hook)
		if hook == "" || s.info.Hook == hook {
			return s, hooks
		}
	}
	return nil, hooks
}

// Known reports whether a service ID exists.
func (h *Hooks) Known(id string) bool {
	return slices.ContainsFunc(h.services, func(s *service) bool { return s.info.ID == id })
}

// MaxRequestBytes bounds a hook request (prefetch bundles included).
const MaxRequestBytes = 8 << 20

// DecodeRequest reads a hook request. Members the specification does not
// define are ignored (clients may be newer); members it does define must
// have the right types.
func DecodeRequest(r io.Reader) (*Request, error) {
	var req Request
	dec := json.NewDecoder(r)
	if err := dec.Decode(&req); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, orthocds.Errorf(orthocds.EMALFORMED, "the body holds more than one JSON value")
	}
	return &req, nil
}

func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		big *http.MaxBytesError
	)
	switch {
	case errors.As(err, &big):
		return orthocds.Errorf(orthocds.ETOOLARGE, "the body is over %d bytes", big.Limit)
	case errors.As(err, &syn):
		return orthocds.Errorf(orthocds.EMALFORMED, "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return orthocds.Errorf(orthocds.EINVALID, "the body must be a JSON object: a CDS Hooks request")
	case errors.As(err, &typ):
		return orthocds.Invalid("/"+strings.ReplaceAll(typ.Field, ".", "/"), "has the wrong JSON type (a %s)", typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return orthocds.Errorf(orthocds.EMALFORMED, "the body is empty or cut short")
	}
	return orthocds.Errorf(orthocds.EMALFORMED, "the body is not valid JSON")
}

// call is one validated hook request and what was read for it.
type call struct {
	h       *Hooks
	svc     *service
	req     *Request
	patient patient.Record
	orders  []order
	lang    string // en or zh
	base    string // public base URL for links
	fhir    string // the FHIR server missing prefetch is read from; "" for none
	now     time.Time
	// the predictor a card used, for the audit trail
	predictor, predictorVersion string
}

// Invocation is what the server knows of a hook call beyond its body.
type Invocation struct {
	// Base is the public URL the client reached us at; links in cards are
	// built on it.
	Base string
	// Lang is "zh" for Chinese cards, anything else English.
	Lang string
	// FHIRServers are the FHIR base URLs this caller may have us read
	// from (a trusted client's own list), beside Config.FHIRServers.
	FHIRServers []string
}

// Call answers a hook request to service id. A request naming a
// fhirServer off the allow-lists is refused (403) and the refusal audited.
func (h *Hooks) Call(ctx context.Context, id string, req *Request, inv Invocation) (*Response, error) {
	resp, c, err := h.call(ctx, id, req, inv)
	if errors.Is(err, ErrFHIRServerNotAllowed) {
		if aerr := h.auditRefusal(ctx, id, req, "refused: fhirServer not on the allow-list"); aerr != nil {
			return nil, aerr
		}
	}
	if err != nil {
		return nil, err
	}
	if err := c.audit(ctx, audit.KindCards, resp.Cards); err != nil {
		return nil, err
	}
	return resp, nil
}

// call answers a hook request without recording it.
func (h *Hooks) call(ctx context.Context, id string, req *Request, inv Invocation) (*Response, *call, error) {
	if !h.Known(id) {
		return nil, nil, orthocds.Errorf(orthocds.ENOTFOUND, "no CDS service %q", id)
	}
	svc, hooks := h.find(id, req.Hook)
	if err := validate(req, svc, hooks); err != nil {
		return nil, nil, err
	}
	fhir, err := h.fhirSource(req, inv.FHIRServers)
	if err != nil {
		return nil, nil, err
	}
	c := &call{h: h, svc: svc, req: req, lang: inv.Lang, base: strings.TrimSuffix(inv.Base, "/"), fhir: fhir, now: h.cfg.Now()}
	if c.lang != "zh" {
		c.lang = "en"
	}
	if err := c.gather(ctx); err != nil {
		return nil, nil, err
	}
	if svc.info.Hook != "patient-view" {
		var err error
		if c.orders, err = readOrders(req, c.h.cfg.ValueSets); err != nil {
			return nil, nil, err
		}
	}
	cards, err := svc.cards(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	if err := c.localDocuments(ctx, cards); err != nil {
		return nil, nil, err
	}
	for i := range cards {
		cards[i].UUID = newUUID()
		for j := range cards[i].Suggestions {
			cards[i].Suggestions[j].UUID = newUUID()
		}
		if len(cards[i].Suggestions) > 0 && cards[i].SelectionBehavior == "" {
			cards[i].SelectionBehavior = "at-most-one"
		}
		if len([]rune(cards[i].Summary)) >= 140 {
			return nil, nil, fmt.Errorf("cdshooks: card summary of %s over 140 characters", id) // a bug of ours
		}
	}
	if cards == nil {
		cards = []Card{}
	}
	return &Response{Cards: cards}, c, nil
}

// auditRefusal records a refused call: who, the service, the hash of the
// request and why; no patient data.
func (h *Hooks) auditRefusal(ctx context.Context, id string, req *Request, why string) error {
	if h.cfg.Audit == nil {
		return nil
	}
	b, _ := json.Marshal(req)
	e := audit.Event{Kind: audit.KindRefused, InputHash: audit.HashInput(b), Service: id, Outcome: why}
	e.Principal, e.Role = principalOf(ctx)
	return h.cfg.Audit.Append(ctx, e)
}

// principalOf names the caller for the audit trail.
func principalOf(ctx context.Context) (id, role string) {
	if p, ok := orthocds.PrincipalFrom(ctx); ok {
		return p.ID, string(p.Role)
	}
	return "cds-client", ""
}

// audit records the call: who, the hash of the request, the entries cited
// and the predictor and model version used; no patient data.
func (c *call) audit(ctx context.Context, kind string, cards []Card) error {
	if c.h.cfg.Audit == nil {
		return nil
	}
	b, _ := json.Marshal(c.req)
	e := audit.Event{Kind: kind, InputHash: audit.HashInput(b), Service: c.svc.info.ID,
		CorpusVersion: c.h.cfg.CorpusVersion, Outcome: fmt.Sprintf("%d cards", len(cards)),
		Predictor: c.predictor, PredictorVersion: c.predictorVersion}
	e.Principal, e.Role = principalOf(ctx)
	for _, card := range cards {
		for _, id := range card.entries {
			if !slices.Contains(e.Entries, id) {
				e.Entries = append(e.Entries, id)
			}
		}
	}
	return c.h.cfg.Audit.Append(ctx, e)
}

var tokenRe = regexp.MustCompile(`\{\{\s*([A-Za-z.]+)\s*\}\}`)

func validate(req *Request, svc *service, hooks []string) error {
	switch {
	case req.Hook == "":
		return orthocds.Invalid("/hook", "is required")
	case svc == nil:
		return orthocds.Invalid("/hook", "this service answers %s, not %q", strings.Join(hooks, " and "), req.Hook)
	case strings.TrimSpace(req.HookInstance) == "":
		return orthocds.Invalid("/hookInstance", "is required")
	case req.Context == nil:
		return orthocds.Invalid("/context", "is required")
	}
	if pid, ok := contextString(req, "patientId"); !ok || pid == "" {
		return orthocds.Invalid("/context/patientId", "is required, a string")
	}
	if req.FHIRServer != "" {
		u, err := url.Parse(req.FHIRServer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return orthocds.Invalid("/fhirServer", "must be an http or https URL")
		}
	}
	if a := req.FHIRAuthorization; a != nil {
		switch {
		case req.FHIRServer == "":
			return orthocds.Invalid("/fhirServer", "is required when fhirAuthorization is given")
		case a.AccessToken == "":
			return orthocds.Invalid("/fhirAuthorization/access_token", "is required")
		case !strings.EqualFold(a.TokenType, "Bearer"):
			return orthocds.Invalid("/fhirAuthorization/token_type", "must be Bearer")
		case a.ExpiresIn <= 0:
			return orthocds.Invalid("/fhirAuthorization/expires_in", "is required, a positive number of seconds")
		case a.Scope == "":
			return orthocds.Invalid("/fhirAuthorization/scope", "is required")
		case a.Subject == "":
			return orthocds.Invalid("/fhirAuthorization/subject", "is required")
		}
	}
	for key, v := range req.Prefetch {
		t := bytes.TrimSpace(v)
		if len(t) == 0 || (t[0] != '{' && !bytes.Equal(t, []byte("null"))) {
			return orthocds.Invalid("/prefetch/"+key, "must be a FHIR resource or null")
		}
	}
	if svc.info.Hook != "patient-view" {
		if _, ok := req.Context["draftOrders"]; !ok {
			return orthocds.Invalid("/context/draftOrders", "is required for %s", svc.info.Hook)
		}
	}
	return nil
}

func contextString(req *Request, name string) (string, bool) {
	raw, ok := req.Context[name]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// gather reads the service's prefetch data: from the request where the
// client sent it (null meaning "none"), otherwise from the client's FHIR
// server. Without either it answers 412.
func (c *call) gather(ctx context.Context) error {
	rd := patient.Reader{Now: c.now, Sets: c.h.cfg.ValueSets}
	keys := make([]string, 0, len(c.svc.info.Prefetch))
	for k := range c.svc.info.Prefetch {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	type fetched struct {
		key  string
		raws []json.RawMessage
	}
	var missing []string
	for _, k := range keys {
		if _, ok := c.req.Prefetch[k]; !ok {
			missing = append(missing, k)
		}
	}
	switch {
	case len(missing) == 0:
	case c.req.FHIRServer == "":
		return orthocds.Errorf(orthocds.EPRECONDITION,
			"prefetch %s missing and no fhirServer to fetch it from", strings.Join(missing, ", "))
	case c.fhir == "":
		return orthocds.Errorf(orthocds.EPRECONDITION,
			"prefetch %s missing; OrthoCDS reads from a FHIR server only when it is on an allow-list (%s), and none is configured",
			strings.Join(missing, ", "), FHIRServersSetting)
	}
	got := make([]fetched, len(missing))
	errs := make(chan error, len(missing))
	for i, k := range missing {
		go func() {
			q, err := fill(c.svc.info.Prefetch[k], c.req)
			if err == nil {
				got[i] = fetched{key: k}
				got[i].raws, err = c.h.cfg.FHIR.Get(ctx, c.fhir, q, c.req.FHIRAuthorization)
			}
			if err != nil {
				err = &orthocds.Error{Code: orthocds.EPRECONDITION, Err: err,
					Message: fmt.Sprintf("prefetch %s was not sent and the FHIR server did not supply it: %s", k, orthocds.ErrorMessage(err))}
			}
			errs <- err
		}()
	}
	for range missing {
		if err := <-errs; err != nil {
			return err
		}
	}
	for _, k := range keys {
		raw, ok := c.req.Prefetch[k]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		if err := rd.Add("/prefetch/"+k, raw); err != nil {
			return err
		}
	}
	for _, f := range got {
		for i, raw := range f.raws {
			if err := rd.Add(fmt.Sprintf("/fhirServer/%s/%d", f.key, i), raw); err != nil {
				return err
			}
		}
	}
	c.patient = rd.Record()
	return nil
}

// fill replaces the prefetch tokens of a template with context values.
func fill(tmpl string, req *Request) (string, error) {
	var bad error
	out := tokenRe.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := tokenRe.FindStringSubmatch(m)[1]
		field, ok := strings.CutPrefix(name, "context.")
		if !ok {
			bad = fmt.Errorf("token %s is not supported", name)
			return ""
		}
		v, ok := contextString(req, field)
		if !ok {
			bad = fmt.Errorf("context.%s is missing", field)
			return ""
		}
		return url.QueryEscape(v)
	})
	return out, bad
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// localDocuments adds to each card the best-matching passage of the
// hospital's own documents. The query is the card's topic, which does not
// depend on the patient, so results are cached for LocalDocumentsTTL:
// under load, cards cost no search at all, and a newly ingested document
// shows within the TTL. Cache misses of one call go in one batched search.
func (c *call) localDocuments(ctx context.Context, cards []Card) error {
	if c.h.cfg.Search == nil || c.h.cfg.Scope == nil || len(cards) == 0 {
		return nil
	}
	hits, err := c.h.docs.lookup(ctx, c.h.cfg.Search, c.h.cfg.Scope, cards, c.now)
	if err != nil {
		return err
	}
	for i, h := range hits {
		if h == nil {
			continue
		}
		where := h.Title
		if len(h.HeadingPath) > 0 {
			where += " › " + strings.Join(h.HeadingPath, " › ")
		}
		if h.Page > 0 {
			where += fmt.Sprintf(c.tr(", page %d", "，第%d页"), h.Page)
		}
		cards[i].Detail = fmt.Sprintf("**%s**: %s\n\n> %s\n\n", c.tr("Your hospital's documents", "本院文件"), where,
			strings.ReplaceAll(excerpt(h.Text, 280), "\n", " ")) + cards[i].Detail
		if cards[i].Extension == nil {
			cards[i].Extension = map[string]any{}
		}
		cards[i].Extension[HospitalPassageExtension] = map[string]any{
			"document": h.Citation.Path, "page": h.Page, "chunk": h.ID}
	}
	return nil
}

// HospitalPassageExtension names the card extension that carries the
// hospital document a card quotes.
const HospitalPassageExtension = "org.orthocds.hospital-passage"

// HandoutExtension names the card extension that says how to ask for the
// card's patient handout (GET /v1/handouts/{topic}): its topic, the
// entries it cites and, for a risk estimate, the predictor and probability.
// It holds no patient identifier.
const HandoutExtension = "org.orthocds.handout"

// LocalDocumentsTTL is how long a topic's hospital document is cached.
const LocalDocumentsTTL = time.Minute

// docCache holds the best hospital document per card topic.
type docCache struct {
	mu      sync.Mutex
	entries map[string]docEntry
	flight  singleflight.Group
}

type docEntry struct {
	hit *rag.Hit // nil: no document
	at  time.Time
}

// lookup returns, per card, the cached or searched best hit, nil when
// there is none or it shares no clinical concept with the card's topic.
func (d *docCache) lookup(ctx context.Context, s Searcher, scope Scope, cards []Card, now time.Time) ([]*rag.Hit, error) {
	out := make([]*rag.Hit, len(cards))
	var missing []string
	d.mu.Lock()
	if d.entries == nil {
		d.entries = map[string]docEntry{}
	}
	for i, c := range cards {
		e, ok := d.entries[c.topic]
		if ok && now.Sub(e.at) < LocalDocumentsTTL {
			out[i] = e.hit
		} else if !slices.Contains(missing, c.topic) {
			missing = append(missing, c.topic)
		}
	}
	d.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	// Concurrent calls missing the same topics share one search.
	key := strings.Join(missing, "\x00")
	_, err, _ := d.flight.Do(key, func() (any, error) {
		qs := make([]rag.Query, len(missing))
		for i, t := range missing {
			qs[i] = rag.Query{Text: t, K: 1, Filter: rag.Filter{Kinds: []string{rag.KindDocument}}}
		}
		res, err := s.Search(ctx, qs)
		if err != nil {
			return nil, err
		}
		for i, t := range missing {
			e := docEntry{at: now}
			if len(res[i]) > 0 && sharesAny(scope.DomainConcepts(t), scope.DomainConcepts(res[i][0].Title+"\n"+res[i][0].Text)) {
				h := res[i][0]
				e.hit = &h
			}
			d.mu.Lock()
			d.entries[t] = e
			d.mu.Unlock()
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, c := range cards {
		out[i] = d.entries[c.topic].hit
	}
	return out, nil
}

func sharesAny(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func excerpt(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "…"
}

// Feedback validates and stores a feedback request for service id.
func (h *Hooks) Feedback(ctx context.Context, id string, fr *FeedbackRequest) error {
	if !h.Known(id) {
		return orthocds.Errorf(orthocds.ENOTFOUND, "no CDS service %q", id)
	}
	if len(fr.Feedback) == 0 {
		return orthocds.Invalid("/feedback", "is required, a non-empty array")
	}
	if len(fr.Feedback) > 1000 {
		return orthocds.Invalid("/feedback", "at most 1000 items a request")
	}
	for i, f := range fr.Feedback {
		at := fmt.Sprintf("/feedback/%d", i)
		switch {
		case f.Card == "":
			return orthocds.Invalid(at+"/card", "is required")
		case f.Outcome != "accepted" && f.Outcome != "overridden":
			return orthocds.Invalid(at+"/outcome", "must be accepted or overridden")
		case f.Outcome == "accepted" && len(f.AcceptedSuggestions) == 0:
			return orthocds.Invalid(at+"/acceptedSuggestions", "is required for an accepted outcome")
		case f.OutcomeTimestamp == "":
			return orthocds.Invalid(at+"/outcomeTimestamp", "is required")
		}
		if _, err := time.Parse(time.RFC3339Nano, f.OutcomeTimestamp); err != nil {
			return orthocds.Invalid(at+"/outcomeTimestamp", "must be an RFC 3339 date-time")
		}
		for j, s := range f.AcceptedSuggestions {
			if s.ID == "" {
				return orthocds.Invalid(fmt.Sprintf("%s/acceptedSuggestions/%d/id", at, j), "is required")
			}
		}
		if r := f.OverrideReason; r != nil && r.Reason != nil && (r.Reason.Code == "" || r.Reason.System == "") {
			return orthocds.Invalid(at+"/overrideReason/reason", "needs a code and a system")
		}
		if r := f.OverrideReason; r != nil && len(r.UserComment) > 2000 {
			return orthocds.Invalid(at+"/overrideReason/userComment", "at most 2000 characters")
		}
	}
	if h.cfg.Feedback == nil {
		return orthocds.Errorf(orthocds.EUNAVAILABLE, "no feedback store is configured")
	}
	for i, f := range fr.Feedback {
		if f.OverrideReason != nil && f.OverrideReason.UserComment != "" {
			r := *f.OverrideReason
			r.UserComment = deid.String(r.UserComment) // clinicians' comments may name the patient
			fr.Feedback[i].OverrideReason = &r
		}
	}
	if err := h.cfg.Feedback.AddFeedback(ctx, id, fr.Feedback); err != nil {
		return err
	}
	if h.cfg.Audit == nil {
		return nil
	}
	b, _ := json.Marshal(fr)
	e := audit.Event{Kind: audit.KindFeedback, InputHash: audit.HashInput(b), Service: id}
	e.Principal, e.Role = principalOf(ctx)
	var accepted, overridden int
	for _, f := range fr.Feedback {
		if f.Outcome == "accepted" {
			accepted++
		} else {
			overridden++
		}
	}
	e.Outcome = fmt.Sprintf("%d accepted, %d overridden", accepted, overridden)
	return h.cfg.Audit.Append(ctx, e)
}
