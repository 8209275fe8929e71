package llm

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/ollama/ollama/api"
	"github.com/tmc/langchaingo/llms"

	"github.com/orthocds/orthocds"
)

// Why a model's reply could not be used. The four kinds a clinician sees
// differ: only Unreachable means that no language model was used.
const (
	// Unreachable: no server answered, or it does not have the model.
	Unreachable = "unreachable"
	// Dropped: the server closed the stream before it was done.
	Dropped = "dropped"
	// Length: the reply reached its length limit before it was complete.
	Length = "length"
	// Truncated: the server cut the prompt to fit its context window.
	Truncated = "truncated"
	// BadReply: the reply came whole but was not what was asked for (not
	// the JSON, or citing nothing retrieved). Callers that check replies
	// report it.
	BadReply = "bad-reply"
)

// Failure is a model call that failed, with its kind.
type Failure struct {
	Kind string
	Err  *orthocds.Error
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

func failure(kind string, cause error, format string, args ...any) error {
	return &Failure{Kind: kind, Err: orthocds.Unavailable(cause, format, args...)}
}

// Fail makes a failure of kind, for callers that judge a reply (BadReply).
func Fail(kind, format string, args ...any) error { return failure(kind, nil, format, args...) }

// KindOf is the failure kind of err: one of the constants, "" when err is
// no model failure (a cancelled request, say).
func KindOf(err error) string {
	var f *Failure
	if errors.As(err, &f) {
		return f.Kind
	}
	return ""
}

// Call is one request to the model.
type Call struct {
	System, User string
	// Schema is the JSON schema the reply must follow (Ollama's format);
	// nil asks for a JSON object; Text asks for free text.
	Schema json.RawMessage
	Text   bool
	// MaxTokens bounds the reply (num_predict); 0 is DefaultMaxTokens.
	MaxTokens int
	OnToken   func(string) error
}

// Reply is a model's reply and what the server said about it.
type Reply struct {
	Text         string
	PromptTokens int // prompt_eval_count
	ReplyTokens  int // eval_count
	Context      int // num_ctx sent
}

// DefaultMaxTokens bounds a reply when the call does not say.
const DefaultMaxTokens = 1024

// DefaultContext is the context window assumed for an OpenAI-compatible
// server, which does not report one (Ollama's own default): set
// Config.ContextTokens to what the server runs with.
const DefaultContext = 4096

// templateTokens is room for the chat template around the messages.
const templateTokens = 64

// EstimateTokens bounds the tokens of s from above, before the client has
// seen the server count any: one per byte (three per Chinese character,
// three per space), as a byte-level tokeniser counts; real vocabularies
// use far fewer.
// After each reply the client scales it by what the server counted.
func EstimateTokens(s string) int {
	n := 0
	for _, r := range s {
		if r == ' ' {
			n += 3 // SentencePiece writes a space as "▁", three bytes
			continue
		}
		n += utf8.RuneLen(r)
	}
	return n
}

// Fits reports whether a prompt (system and user messages) leaves room for
// a reply of maxTokens in the model's context window, by the client's
// estimate of its tokens.
func (c *Client) Fits(ctx context.Context, system, user string, maxTokens int) (bool, error) {
	window, err := c.contextWindow(ctx)
	if err != nil {
		return false, err
	}
	return c.estimate(system, user)+cmpOr(maxTokens, DefaultMaxTokens) <= window, nil
}

func cmpOr(a, b int) int {
	if a > 0 {
		return a
	}
	return b
}

// estimate is the client's token estimate of a prompt: the upper bound
// scaled by the largest ratio of counted to estimated tokens seen (1 until
// the server has counted one).
func (c *Client) estimate(system, user string) int {
	c.mu.Lock()
	scale := c.tokenScale
	c.mu.Unlock()
	if scale == 0 {
		scale = 1
	}
	return int(math.Ceil(float64(EstimateTokens(system)+EstimateTokens(user))*scale)) + templateTokens
}

// learn records what the server counted for a prompt it evaluated whole
// (no cached prefix: the first call, or any whose count exceeds the
// estimate).
func (c *Client) learn(system, user string, counted int) {
	est := EstimateTokens(system) + EstimateTokens(user)
	if counted <= 0 || est == 0 {
		return
	}
	ratio := float64(counted) / float64(est)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokenScale == 0 || ratio > c.tokenScale || !c.learned {
		c.tokenScale = ratio
		c.learned = true
	}
}

// contextWindow is the model's context length: from /api/show for Ollama
// (cached), Config.ContextTokens (or DefaultContext) otherwise.
func (c *Client) contextWindow(ctx context.Context) (int, error) {
	if c.ollama == nil {
		return cmpOr(c.cfg.ContextTokens, DefaultContext), nil
	}
	c.mu.Lock()
	w := c.window
	c.mu.Unlock()
	if w > 0 {
		return w, nil
	}
	show, err := c.ollama.Show(ctx, &api.ShowRequest{Model: c.cfg.Model})
	if err != nil {
		return 0, c.diagnose(err)
	}
	w = DefaultContext
	for k, v := range show.ModelInfo {
		if strings.HasSuffix(k, ".context_length") {
			if f, ok := v.(float64); ok && f > 0 {
				w = int(f)
			}
		}
	}
	if c.cfg.ContextTokens > 0 && c.cfg.ContextTokens < w {
		w = c.cfg.ContextTokens // a hospital may cap it to save memory
	}
	c.mu.Lock()
	c.window = w
	c.mu.Unlock()
	return w, nil
}

// numCtx is the context to ask Ollama for: room for the prompt and the
// reply, rounded up to a power of two (so that the server does not reload
// the model for every size), never beyond the model's window.
func numCtx(need, window int) int {
	n := 2048
	for n < need {
		n *= 2
	}
	return min(n, window)
}

// Generate sends one call. With Ollama it sets num_ctx from the prompt's
// estimated size and the model's window, and num_predict; a prompt that
// does not fit is refused (Truncated) rather than cut by the server; a
// reply that filled its limit is Length, a stream that ended early
// Dropped, a server that is not there Unreachable; and the server's own
// prompt count is checked, a cut prompt reported.
func (c *Client) Generate(ctx context.Context, call Call) (Reply, error) {
	if c.ollama == nil {
		return c.generateOpenAI(ctx, call)
	}
	maxTokens := cmpOr(call.MaxTokens, DefaultMaxTokens)
	window, err := c.contextWindow(ctx)
	if err != nil {
		return Reply{}, err
	}
	est := c.estimate(call.System, call.User)
	if est+maxTokens > window {
		return Reply{}, failure(Truncated, nil, "the prompt (about %d tokens) and a reply of %d do not fit the model's context of %d tokens", est, maxTokens, window)
	}
	nctx := numCtx(est+maxTokens, window)
	stream := true
	req := &api.ChatRequest{
		Model:    c.cfg.Model,
		Messages: []api.Message{{Role: "system", Content: call.System}, {Role: "user", Content: call.User}},
		Stream:   &stream,
		Options:  map[string]any{"temperature": 0, "num_ctx": nctx, "num_predict": maxTokens},
	}
	switch {
	case call.Schema != nil:
		req.Format = call.Schema
	case !call.Text:
		req.Format = json.RawMessage(`"json"`)
	}
	var b strings.Builder
	var last api.ChatResponse
	done := false
	err = c.ollama.Chat(ctx, req, func(r api.ChatResponse) error {
		b.WriteString(r.Message.Content)
		if r.Done {
			done, last = true, r
		}
		if call.OnToken != nil && r.Message.Content != "" {
			return call.OnToken(r.Message.Content)
		}
		return nil
	})
	reply := Reply{Text: b.String(), Context: nctx, PromptTokens: last.PromptEvalCount, ReplyTokens: last.EvalCount}
	switch {
	case ctx.Err() != nil:
		return reply, ctx.Err()
	case err != nil && b.Len() > 0:
		return reply, failure(Dropped, err, "the connection to the language model dropped before the answer was complete")
	case err != nil:
		return reply, c.diagnose(err)
	case !done:
		return reply, failure(Dropped, nil, "the connection to the language model dropped before the answer was complete")
	}
	if reply.PromptTokens > 0 && reply.PromptTokens+templateTokens/2 >= nctx {
		// The server's count filled the window: it cut the prompt.
		return reply, failure(Truncated, nil, "the language model server cut the prompt to %d tokens to fit its context", reply.PromptTokens)
	}
	c.learn(call.System, call.User, reply.PromptTokens)
	if last.DoneReason == "length" {
		return reply, failure(Length, nil, "the language model's reply reached its length limit (%d tokens) before it was complete", maxTokens)
	}
	return reply, nil
}

// generateOpenAI sends the call to an OpenAI-compatible server, which
// reports no context length: the prompt must fit Config.ContextTokens.
func (c *Client) generateOpenAI(ctx context.Context, call Call) (Reply, error) {
	maxTokens := cmpOr(call.MaxTokens, DefaultMaxTokens)
	window := cmpOr(c.cfg.ContextTokens, DefaultContext)
	if est := c.estimate(call.System, call.User); est+maxTokens > window {
		return Reply{}, failure(Truncated, nil, "the prompt (about %d tokens) and a reply of %d do not fit the server's context of %d tokens (ORTHOCDS_LLM_CONTEXT)", est, maxTokens, window)
	}
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, call.System),
		llms.TextParts(llms.ChatMessageTypeHuman, call.User),
	}
	opts := []llms.CallOption{llms.WithTemperature(0), llms.WithMaxTokens(maxTokens)}
	if !call.Text {
		opts = append(opts, llms.WithJSONMode())
	}
	got := false
	if call.OnToken != nil {
		opts = append(opts, llms.WithStreamingFunc(func(_ context.Context, chunk []byte) error {
			got = got || len(chunk) > 0
			return call.OnToken(string(chunk))
		}))
	}
	resp, err := c.model.GenerateContent(ctx, msgs, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return Reply{}, ctx.Err()
		}
		if got {
			return Reply{}, failure(Dropped, err, "the connection to the language model dropped before the answer was complete")
		}
		return Reply{}, failure(Unreachable, err, "the language model server is not reachable or failed to answer")
	}
	if len(resp.Choices) == 0 {
		return Reply{}, failure(BadReply, nil, "the language model returned no answer")
	}
	ch := resp.Choices[0]
	reply := Reply{Text: ch.Content}
	if n, ok := ch.GenerationInfo["PromptTokens"].(int); ok {
		reply.PromptTokens = n
		c.learn(call.System, call.User, n)
	}
	if ch.StopReason == "length" {
		return reply, failure(Length, nil, "the language model's reply reached its length limit (%d tokens) before it was complete", maxTokens)
	}
	return reply, nil
}

// Complete asks for a JSON object and returns the reply's text.
func (c *Client) Complete(ctx context.Context, system, user string, onToken func(string) error) (string, error) {
	r, err := c.Generate(ctx, Call{System: system, User: user, OnToken: onToken})
	return r.Text, err
}

// CompleteSchema asks for a reply that follows a JSON schema.
func (c *Client) CompleteSchema(ctx context.Context, system, user string, schema json.RawMessage, maxTokens int, onToken func(string) error) (string, error) {
	r, err := c.Generate(ctx, Call{System: system, User: user, Schema: schema, MaxTokens: maxTokens, OnToken: onToken})
	return r.Text, err
}

// CompleteText asks for free text (the drills' patient speaks, it does not
// write JSON).
func (c *Client) CompleteText(ctx context.Context, system, user string, maxTokens int) (string, error) {
	r, err := c.Generate(ctx, Call{System: system, User: user, Text: true, MaxTokens: maxTokens})
	return r.Text, err
}
