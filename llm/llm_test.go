package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/llm/ollamareplay"
)

// openAIServer speaks the part of the OpenAI API that vLLM and llama.cpp
// serve: /models and streaming /chat/completions.
func openAIServer(t *testing.T, reply []string) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"m","object":"model"}]}`)
	})
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Stream         bool            `json:"stream"`
			ResponseFormat json.RawMessage `json:"response_format"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		if !strings.Contains(string(req.ResponseFormat), "json_object") {
			http.Error(w, `{"error":{"message":"json mode not requested"}}`, http.StatusBadRequest)
			return
		}
		if !req.Stream {
			json.NewEncoder(w).Encode(map[string]any{"id": "x", "object": "chat.completion", "model": "m",
				"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
					"message": map[string]string{"role": "assistant", "content": strings.Join(reply, "")}}}})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, c := range reply {
			b, _ := json.Marshal(map[string]any{"id": "x", "object": "chat.completion.chunk", "model": "m",
				"choices": []any{map[string]any{"index": 0, "delta": map[string]string{"content": c}}}})
			fmt.Fprintf(w, "data: %s\n\n", b)
			w.(http.Flusher).Flush()
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func TestOpenAICompatible(t *testing.T) {
	ts := openAIServer(t, []string{`{"summary":`, ` "ok"}`})
	c, err := New(Config{Provider: ProviderOpenAI, BaseURL: ts.URL + "/v1", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	var streamed []string
	got, err := c.Complete(context.Background(), "system", "user", func(s string) error {
		streamed = append(streamed, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != `{"summary": "ok"}` || strings.Join(streamed, "") != got {
		t.Errorf("reply %q, streamed %q", got, streamed)
	}
	got, err = c.Complete(context.Background(), "system", "user", nil)
	if err != nil || got != `{"summary": "ok"}` {
		t.Errorf("non-streaming: %q %v", got, err)
	}
}

func TestOllamaStatus(t *testing.T) {
	srv := ollamareplay.New([]string{"present"}, func(string, []ollamareplay.Message) ollamareplay.Script {
		return ollamareplay.Script{Chunks: []string{"{}"}}
	})
	defer srv.Close()
	for model, wantErr := range map[string]string{"present": "", "absent": "ollama pull absent"} {
		c, err := New(Config{Provider: ProviderOllama, BaseURL: srv.URL, Model: model})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Status(context.Background())
		if wantErr == "" && err != nil || wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
			t.Errorf("%s: Status = %v, want %q", model, err, wantErr)
		}
	}
	c, _ := New(Config{Provider: ProviderOllama, BaseURL: "http://127.0.0.1:1", Model: "x"})
	if err := c.Status(context.Background()); orthocds.ErrorCode(err) != orthocds.EUNAVAILABLE {
		t.Errorf("no server: %v, want unavailable", err)
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Provider: "gpt"}, {Provider: ProviderOllama, BaseURL: "::nonsense"}} {
		if _, err := New(cfg); orthocds.ErrorCode(err) != orthocds.EINVALID {
			t.Errorf("New(%+v) = %v, want invalid", cfg, err)
		}
	}
}
