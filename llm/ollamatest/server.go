package ollamatest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ollama/ollama/api"
)

// Template is the chat template of the tiny chat models: each message
// after its role, then the assistant's turn.
const Template = `{{- range .Messages }}<|{{ .Role }}|>{{ .Content }}
{{ end }}<|assistant|>`

// Version is the Ollama module version go.mod requires: from the test
// binary's build information, else from the go.mod above the working
// directory (go test runs in the package's directory).
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/ollama/ollama" {
				return d.Version
			}
		}
	}
	dir, _ := os.Getwd()
	for dir != "" && dir != "/" {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) >= 2 && f[0] == "github.com/ollama/ollama" {
					return f[1]
				}
			}
			return ""
		}
		dir = filepath.Dir(dir)
	}
	return ""
}

// Binary finds the ollama server: $ORTHOCDS_OLLAMA_BIN, else the cache
// scripts/build-ollama.sh fills, else "ollama" on PATH.
func Binary() (string, error) {
	if p := os.Getenv("ORTHOCDS_OLLAMA_BIN"); p != "" {
		return p, nil
	}
	cache := os.Getenv("ORTHOCDS_OLLAMA_CACHE")
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, ".cache", "orthocds")
		}
	}
	if p := filepath.Join(cache, "ollama-"+Version(), "ollama"); fileExists(p) {
		return p, nil
	}
	return exec.LookPath("ollama")
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// Server is a running ollama serve.
type Server struct {
	URL    string
	Client *api.Client
	log    *syncBuffer
	cmd    *exec.Cmd
}

// Kill stops the server at once, as a crash would: a stream in flight ends
// without its last line.
func (s *Server) Kill() { killGroup(s.cmd) }

// Group is the process group of the server and the model runners it
// started (the server's PID on Unix).
func (s *Server) Group() int { return s.cmd.Process.Pid }

// Start runs ollama serve on a free loopback port with an empty model
// directory, stopped when the test ends. Without a binary the test is
// skipped, or fails when ORTHOCDS_REQUIRE_OLLAMA is set (CI sets it).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("ORTHOCDS_REQUIRE_OLLAMA") != "" {
			t.Fatalf("no ollama binary (%v), and ORTHOCDS_REQUIRE_OLLAMA is set: run scripts/build-ollama.sh", err)
		}
		t.Skipf("no ollama binary (%v); scripts/build-ollama.sh builds one", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	log := &syncBuffer{}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"OLLAMA_HOST="+addr,
		"OLLAMA_MODELS="+t.TempDir(),
		"OLLAMA_NUM_PARALLEL=1",
		"OLLAMA_MAX_LOADED_MODELS=2",
		"OLLAMA_NOPRUNE=1",
		"HOME="+t.TempDir(), // its key pair and history stay in the test's directory
	)
	cmd.Stdout, cmd.Stderr = log, log
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		killGroup(cmd)
		cmd.Wait()
		if t.Failed() {
			t.Logf("ollama serve log (last 4000 bytes):\n%s", tail(log.String(), 4000))
		}
	})
	u, _ := url.Parse("http://" + addr)
	s := &Server{URL: u.String(), Client: api.NewClient(u, http.DefaultClient), log: log, cmd: cmd}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.Client.Heartbeat(ctx)
		cancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("ollama serve did not start: %v\n%s", err, tail(log.String(), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Create loads a GGUF file into the server as model name, with the tiny
// chat template for chat models.
func (s *Server) Create(t testing.TB, name, gguf string, chat bool) {
	t.Helper()
	data, err := os.ReadFile(gguf)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.Client.CreateBlob(ctx, digest, bytes.NewReader(data)); err != nil {
		t.Fatalf("upload %s: %v", gguf, err)
	}
	req := &api.CreateRequest{Model: name, Files: map[string]string{filepath.Base(gguf): digest}}
	if chat {
		req.Template = Template
	}
	if err := s.Client.Create(ctx, req, func(api.ProgressResponse) error { return nil }); err != nil {
		t.Fatalf("ollama create %s: %v", name, err)
	}
}

// ChatModel writes a tiny chat model and loads it as name.
func (s *Server) ChatModel(t testing.TB, name string, m ChatModel) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name+".gguf")
	if err := WriteChat(p, m); err != nil {
		t.Fatal(err)
	}
	s.Create(t, name, p, true)
}

// EmbedModel writes a tiny embedding model and loads it as name.
func (s *Server) EmbedModel(t testing.TB, name string, m EmbedModel) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name+".gguf")
	if err := WriteEmbed(p, m); err != nil {
		t.Fatal(err)
	}
	s.Create(t, name, p, false)
}

// Log is what the server has printed so far.
func (s *Server) Log() string { return s.log.String() }

// Truncations are the server's log lines saying it cut a prompt to fit the
// context: a request OrthoCDS sized wrongly.
func (s *Server) Truncations() []string {
	var out []string
	for _, l := range strings.Split(s.log.String(), "\n") {
		if strings.Contains(l, "truncating input prompt") {
			out = append(out, l)
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for the server's two pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("...%s", s[len(s)-n:])
}
