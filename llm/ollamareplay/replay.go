// Package ollamareplay is an HTTP server that speaks the Ollama API as the
// real server does (NDJSON streaming chat, show, embed, tags), replaying
// scripted replies. Tests point the real clients at it: nothing of OrthoCDS
// is mocked, only the model server, and it can drop a connection mid-stream,
// hang until the client cancels, or lack a model.
package ollamareplay

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Script is how the server answers one chat request.
type Script struct {
	Chunks []string // message content pieces, streamed one line each
	// Drop aborts the connection after the chunks, before the final
	// done line, as a crashed or killed server would.
	Drop bool
	// Hang streams the chunks and then waits until the client goes away.
	Hang bool
}

// Server is the replaying server.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	models   map[string]bool
	script   func(model string, messages []Message) Script
	requests []ChatRequest
	// Cancelled receives a value when a hanging stream sees its client go.
	Cancelled chan struct{}
	// ContextLength is the models' context window /api/show reports
	// (32768 unless set before the first request).
	ContextLength int
}

// Message is a chat message as Ollama receives it.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatRequest is the part of Ollama's chat request the server reads.
type ChatRequest struct {
	Model    string         `json:"model"`
	Messages []Message      `json:"messages"`
	Stream   *bool          `json:"stream"`
	Format   any            `json:"format"`
	Options  map[string]any `json:"options"`
}

// New starts a server that has the given models and answers chats with
// script.
func New(models []string, script func(model string, messages []Message) Script) *Server {
	s := &Server{models: map[string]bool{}, script: script, Cancelled: make(chan struct{}, 16), ContextLength: 32768}
	for _, m := range models {
		s.models[m] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/chat", s.chat)
	mux.HandleFunc("POST /api/show", s.show)
	mux.HandleFunc("POST /api/embed", s.embed)
	mux.HandleFunc("GET /api/tags", s.tags)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "Ollama is running") })
	s.Server = httptest.NewServer(mux)
	return s
}

// Requests returns the chat requests received so far.
func (s *Server) Requests() []ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ChatRequest(nil), s.requests...)
}

func notFound(w http.ResponseWriter, model string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, `{"error":"model %q not found, try pulling it first"}`, model)
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req ChatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	has := s.models[req.Model]
	s.mu.Unlock()
	if !has {
		notFound(w, req.Model)
		return
	}
	sc := s.script(req.Model, req.Messages)
	w.Header().Set("Content-Type", "application/x-ndjson")
	fl := w.(http.Flusher)
	enc := json.NewEncoder(w)
	for _, c := range sc.Chunks {
		enc.Encode(map[string]any{"model": req.Model, "created_at": time.Now().UTC().Format(time.RFC3339Nano),
			"message": map[string]string{"role": "assistant", "content": c}, "done": false})
		fl.Flush()
	}
	switch {
	case sc.Drop:
		panic(http.ErrAbortHandler) // closes the connection mid-response
	case sc.Hang:
		<-r.Context().Done()
		s.Cancelled <- struct{}{}
		return
	}
	enc.Encode(map[string]any{"model": req.Model, "created_at": time.Now().UTC().Format(time.RFC3339Nano),
		"message": map[string]string{"role": "assistant", "content": ""}, "done": true, "done_reason": "stop",
		"total_duration": 1000000, "eval_count": len(sc.Chunks)})
}

func (s *Server) show(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model string `json:"model"`
		Name  string `json:"name"`
	}
	json.NewDecoder(r.Body).Decode(&req)
	m := req.Model
	if m == "" {
		m = req.Name
	}
	s.mu.Lock()
	has := s.models[m]
	s.mu.Unlock()
	if !has {
		notFound(w, m)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"modelfile":"FROM replay","details":{"format":"gguf","family":"replay","parameter_size":"1M"},"model_info":{"general.architecture":"replay","replay.context_length":%d}}`, s.ContextLength)
}

// embed returns deterministic 8-dimensional vectors derived from the text.
func (s *Server) embed(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model string `json:"model"`
		Input any    `json:"input"`
	}
	json.NewDecoder(r.Body).Decode(&req)
	s.mu.Lock()
	has := s.models[req.Model]
	s.mu.Unlock()
	if !has {
		notFound(w, req.Model)
		return
	}
	var inputs []string
	switch v := req.Input.(type) {
	case string:
		inputs = []string{v}
	case []any:
		for _, x := range v {
			str, _ := x.(string)
			inputs = append(inputs, str)
		}
	}
	vecs := make([][]float32, len(inputs))
	for i, in := range inputs {
		v := make([]float32, 8)
		for j, b := range []byte(in) {
			v[j%8] += float32(b) / 255
		}
		vecs[i] = v
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "embeddings": vecs})
}

func (s *Server) tags(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var models []map[string]string
	for m := range s.models {
		sum := sha256.Sum256([]byte(m))
		models = append(models, map[string]string{"name": m, "model": m, "digest": hex.EncodeToString(sum[:])})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"models": models})
}
