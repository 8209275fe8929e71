package llm_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orthocds/orthocds/embedder"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/ollamatest"
)

// The client against a real ollama serve with tiny random-weight models
// written by the test (ollamatest): context and length set on every call,
// the four failure kinds told apart, the OpenAI-compatible path through
// Ollama's /v1, and the server never cutting a prompt.
func TestRealServer(t *testing.T) {
	s := ollamatest.Start(t)
	s.ChatModel(t, "tiny", ollamatest.ChatModel{ContextLength: 32768, Seed: 1})
	s.ChatModel(t, "short", ollamatest.ChatModel{ContextLength: 512, Seed: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	client := func(model string) *llm.Client {
		c, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: s.URL, Model: model})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tiny := client("tiny")

	// A prompt longer than Ollama's default 4096-token context goes whole:
	// num_ctx is sized from it, and the server's count matches.
	long := strings.Repeat("denosumab 地舒单抗 ", 250) // about 7,000 byte tokens
	r, err := tiny.Generate(ctx, llm.Call{System: "You are a test.", User: long, Text: true, MaxTokens: 8})
	if llm.KindOf(err) != llm.Length {
		t.Errorf("8-token reply: kind %q (%v), want %q", llm.KindOf(err), err, llm.Length)
	}
	if r.PromptTokens < llm.EstimateTokens(long) || r.Context < r.PromptTokens+8 || r.Context > 32768 {
		t.Errorf("prompt counted %d tokens (estimate %d) in a context of %d", r.PromptTokens, llm.EstimateTokens(long), r.Context)
	}

	// Structured output: a JSON schema holds the reply.
	reply, err := tiny.CompleteSchema(ctx, "Answer.", "Pick A or B.",
		[]byte(`{"type":"object","properties":{"answer":{"type":"string","enum":["A","B"]}},"required":["answer"]}`), 32, nil)
	// (Random weights may spend the 32 tokens on the white space the
	// grammar allows; what the schema decides is that the reply is that
	// object, which free generation from these weights never is.)
	if !strings.HasPrefix(reply, "{") || !strings.Contains(reply, `"answer"`) || (err != nil && llm.KindOf(err) != llm.Length) {
		t.Errorf("schema reply %q, %v; want the object {\"answer\": ...}", reply, err)
	}

	// A prompt that cannot fit the model's own context is refused before
	// the server would cut it.
	_, err = client("short").Generate(ctx, llm.Call{System: "s", User: strings.Repeat("x", 2000), Text: true, MaxTokens: 16})
	if llm.KindOf(err) != llm.Truncated {
		t.Errorf("2000 tokens into a 512-token model: kind %q (%v), want %q", llm.KindOf(err), err, llm.Truncated)
	}

	// The OpenAI-compatible path, through Ollama's /v1, within the context
	// it is told (Ollama's default 4096).
	oa, err := llm.New(llm.Config{Provider: llm.ProviderOpenAI, BaseURL: s.URL + "/v1", Model: "tiny", ContextTokens: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oa.Generate(ctx, llm.Call{System: "s", User: "hello", Text: true, MaxTokens: 8}); err != nil && llm.KindOf(err) != llm.Length {
		t.Errorf("OpenAI-compatible call: %v (kind %q)", err, llm.KindOf(err))
	}
	if _, err := oa.Generate(ctx, llm.Call{System: "s", User: long, Text: true, MaxTokens: 8}); llm.KindOf(err) != llm.Truncated {
		t.Errorf("OpenAI-compatible call over its context: %v, want refused as %q", err, llm.Truncated)
	}

	// The Ollama embedder reads its dimension from the server.
	s.EmbedModel(t, "tiny-embed", ollamatest.EmbedModel{Dim: 48, Seed: 3})
	emb, err := embedder.NewOllama(ctx, s.Client, "tiny-embed")
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := emb.Embed(ctx, []string{"denosumab after five years", "zoledronic acid"})
	if err != nil || len(vecs) != 2 || len(vecs[0]) != 48 || emb.Model().Dim != 48 {
		t.Errorf("embeddings: %d vectors of %d, model %+v, %v; want 2 of 48", len(vecs), len(vecs[0]), emb.Model(), err)
	}

	if tr := s.Truncations(); len(tr) > 0 {
		t.Errorf("the server cut prompts:\n%s", strings.Join(tr, "\n"))
	}

	// A server that dies mid-stream: Dropped, not a finished answer.
	var got int
	var runners []string
	_, err = tiny.Generate(ctx, llm.Call{System: "s", User: "tell me everything", Text: true, MaxTokens: 4000,
		OnToken: func(string) error {
			if got++; got == 3 {
				runners = children(t, s.Group())
				s.Kill()
			}
			return nil
		}})
	if llm.KindOf(err) != llm.Dropped {
		t.Errorf("server killed mid-stream: kind %q (%v), want %q", llm.KindOf(err), err, llm.Dropped)
	}
	// Killing the server takes its model runners with it: none is left
	// holding a core after the test.
	if len(runners) == 0 {
		t.Error("no model runner found under the server while it streamed; the check below checks nothing")
	}
	if left := alive(t, runners); len(left) > 0 {
		t.Errorf("model runners %v still running after their server was killed", left)
	}
	// And none there at all: Unreachable.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	gone, _ := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: "http://" + addr, Model: "tiny"})
	if _, err := gone.Generate(ctx, llm.Call{System: "s", User: "u"}); llm.KindOf(err) != llm.Unreachable {
		t.Errorf("no server: kind %q (%v), want %q", llm.KindOf(err), err, llm.Unreachable)
	}
}

// children lists the PIDs whose parent is pid, from /proc; it skips where
// /proc is absent.
func children(t *testing.T, pid int) []string {
	t.Helper()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	var out []string
	for _, p := range procStats() {
		if p[2] == strconv.Itoa(pid) {
			out = append(out, p[0])
		}
	}
	return out
}

// alive waits up to five seconds for the given PIDs to end and returns
// those still running (zombies count as ended).
func alive(t *testing.T, pids []string) []string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		running := map[string]bool{}
		for _, p := range procStats() {
			if p[1] != "Z" {
				running[p[0]] = true
			}
		}
		var left []string
		for _, pid := range pids {
			if running[pid] {
				left = append(left, pid)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
	}
}

// procStats reads pid, state and parent pid of every process.
func procStats() [][3]string {
	var out [][3]string
	files, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b) // pid (comm) state ppid ...; comm may hold spaces
		i := strings.LastIndexByte(s, ')')
		rest := strings.Fields(s[i+1:])
		if i < 0 || len(rest) < 2 {
			continue
		}
		out = append(out, [3]string{s[:strings.IndexByte(s, ' ')], rest[0], rest[1]})
	}
	return out
}
