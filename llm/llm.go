// Package llm connects OrthoCDS to a locally hosted language model: Ollama
// (the production host) through the official Ollama client, or any
// OpenAI-compatible server such as vLLM through langchaingo.
//
// Ollama chat goes through the official client rather than langchaingo
// because langchaingo's stream hides Ollama's "done" flag: a connection
// dropped mid-answer would look like a finished, truncated answer.
package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/orthocds/orthocds"
)

// Providers.
const (
	ProviderOllama = "ollama"
	ProviderOpenAI = "openai"
)

// Config names the server and the model.
type Config struct {
	Provider string // ollama or openai
	BaseURL  string // e.g. http://127.0.0.1:11434 or http://127.0.0.1:8000/v1
	Model    string
	APIKey   string // openai only; local servers usually ignore it
	// HTTPClient, when set, is used for every request (timeouts, tests).
	HTTPClient *http.Client
	// ContextTokens is the context window to plan for: an OpenAI-compatible
	// server reports none (DefaultContext when 0); for Ollama it caps the
	// model's own length, which /api/show gives.
	ContextTokens int
}

// Client generates text with one model.
type Client struct {
	cfg    Config
	model  llms.Model
	ollama *api.Client // model checks; nil for openai
	http   *http.Client

	mu        sync.Mutex
	checkedAt time.Time
	checkErr  error
	digest    string
	digestAt  time.Time
	// window is the model's context length; tokenScale the ratio of the
	// server's token counts to EstimateTokens seen so far.
	window     int
	tokenScale float64
	learned    bool
}

// New returns a Client. It does not contact the server.
func New(cfg Config) (*Client, error) {
	hc := cfg.HTTPClient
	if hc == nil {
		// No overall timeout: answers stream for as long as the request's
		// context allows. Connection set-up is bounded by the transport.
		hc = &http.Client{Transport: http.DefaultTransport}
	}
	c := &Client{cfg: cfg, http: hc}
	var err error
	switch cfg.Provider {
	case ProviderOllama:
		u, perr := url.Parse(cfg.BaseURL)
		if perr != nil || u.Host == "" {
			return nil, orthocds.Invalid("OLLAMA_HOST", "%q is not a URL", cfg.BaseURL)
		}
		c.ollama = api.NewClient(u, hc)
	case ProviderOpenAI:
		key := cfg.APIKey
		if key == "" {
			key = "local"
		}
		c.model, err = openai.New(openai.WithBaseURL(cfg.BaseURL), openai.WithModel(cfg.Model),
			openai.WithToken(key), openai.WithHTTPClient(hc))
	default:
		return nil, orthocds.Invalid("ORTHOCDS_LLM_PROVIDER", "%q is not ollama or openai", cfg.Provider)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Name is the provider and model, recorded with every answer.
func (c *Client) Name() string { return c.cfg.Provider + ":" + c.cfg.Model }

// Check reports whether the server answers and has the model.
func (c *Client) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if c.ollama != nil {
		_, err := c.ollama.Show(ctx, &api.ShowRequest{Model: c.cfg.Model})
		return c.diagnose(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.cfg.BaseURL, "/")+"/models", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return failure(Unreachable, err, "the language model server is not reachable")
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return failure(Unreachable, nil, "the language model server answered %s", resp.Status)
	}
	return nil
}

// Digest is the model's digest as Ollama lists it, so that an evaluation
// records exactly which weights answered; "" for OpenAI-compatible
// servers, which do not report one.
func (c *Client) Digest(ctx context.Context) (string, error) {
	if c.ollama == nil {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	list, err := c.ollama.List(ctx)
	if err != nil {
		return "", c.diagnose(err)
	}
	// Ollama lists "name:tag"; a model asked for without a tag is ":latest".
	want := c.cfg.Model
	if !strings.Contains(want, ":") {
		want += ":latest"
	}
	for _, m := range list.Models {
		if m.Name == want || m.Model == want || m.Name == c.cfg.Model {
			return m.Digest, nil
		}
	}
	return "", &orthocds.Error{Code: orthocds.EUNAVAILABLE,
		Message: fmt.Sprintf("ollama model %q is not pulled; run: ollama pull %s", c.cfg.Model, c.cfg.Model)}
}

// CachedDigest is Digest, asked again at most every five minutes; "" when
// the server does not say. The audit trail records it with every answer.
func (c *Client) CachedDigest(ctx context.Context) string {
	c.mu.Lock()
	if time.Since(c.digestAt) < 5*time.Minute {
		d := c.digest
		c.mu.Unlock()
		return d
	}
	c.mu.Unlock()
	d, _ := c.Digest(ctx)
	c.mu.Lock()
	c.digest, c.digestAt = d, time.Now()
	c.mu.Unlock()
	return d
}

// diagnose turns a client error into a clear kind and message.
func (c *Client) diagnose(err error) error {
	if err == nil {
		return nil
	}
	var se api.StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		return failure(Unreachable, err, "ollama model %q is not pulled; run: ollama pull %s", c.cfg.Model, c.cfg.Model)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return failure(Unreachable, err, "the language model server is not reachable")
}

// availabilityTTL is how long a Check result is trusted by Available.
const availabilityTTL = 30 * time.Second

// Available reports whether the server answered a Check within the last
// availabilityTTL, checking again when the result is older. A missing
// server then costs one quick check every 30 s, not one per question.
func (c *Client) Available(ctx context.Context) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checkedAt) < availabilityTTL {
		return c.checkErr == nil
	}
	c.checkErr = c.Check(ctx)
	c.checkedAt = time.Now()
	return c.checkErr == nil
}

// Status is the last Check result, for readiness reports.
func (c *Client) Status(ctx context.Context) error {
	c.Available(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checkErr
}
