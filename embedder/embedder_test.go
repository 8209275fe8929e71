package embedder

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/llm/ollamareplay"
)

func cos(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestHash(t *testing.T) {
	a, err := analysis.Shared()
	if err != nil {
		t.Fatal(err)
	}
	h := NewHash(a)
	texts := []string{
		"Do not stop denosumab without a follow-on drug",
		"停用地舒单抗必须序贯其他药物",
		"Intermittent pneumatic compression after knee arthroplasty",
		"",
	}
	v, err := h.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range v[:3] {
		var n float64
		for _, f := range x {
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
				t.Fatalf("text %d: non-finite component", i)
			}
			n += float64(f) * float64(f)
		}
		if math.Abs(n-1) > 1e-5 {
			t.Errorf("text %d: norm %v, want 1", i, n)
		}
	}
	for _, f := range v[3] {
		if f != 0 {
			t.Fatal("empty text must embed to the zero vector")
		}
	}
	again, _ := h.Embed(context.Background(), texts[:1])
	if cos(v[0], again[0]) < 0.999999 {
		t.Error("embedding is not deterministic")
	}
	// The glossary ties the Chinese and English names of denosumab together:
	// the Chinese sentence is closer to the English one on the same drug
	// than to an unrelated English sentence.
	if same, other := cos(v[1], v[0]), cos(v[1], v[2]); same <= other {
		t.Errorf("cross-language similarity %.3f not above unrelated %.3f", same, other)
	}
}

func TestOllamaEmbedder(t *testing.T) {
	srv := ollamareplay.New([]string{"nomic-embed-text"}, nil)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := api.NewClient(u, srv.Client())
	ctx := context.Background()
	e, err := NewOllama(ctx, c, "nomic-embed-text")
	if err != nil {
		t.Fatal(err)
	}
	if m := e.Model(); m.Name != "ollama:nomic-embed-text" || m.Dim != 8 {
		t.Errorf("model %+v, want ollama:nomic-embed-text of dimension 8", m)
	}
	v, err := e.Embed(ctx, []string{"a", "bb", "ccc"})
	if err != nil || len(v) != 3 {
		t.Fatalf("batch of 3: %d vectors, %v", len(v), err)
	}
	_, err = NewOllama(ctx, c, "missing-model")
	if orthocds.ErrorCode(err) != orthocds.EUNAVAILABLE || !strings.Contains(err.Error(), "ollama pull missing-model") {
		t.Errorf("model not pulled: %v", err)
	}
	srv.Close()
	if _, err := e.Embed(ctx, []string{"a"}); orthocds.ErrorCode(err) != orthocds.EUNAVAILABLE {
		t.Errorf("server gone: %v, want unavailable", err)
	}
}

func TestOpenAIEmbedder(t *testing.T) {
	var calls int
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" {
			http.NotFound(w, r)
			return
		}
		calls++
		var req struct {
			Input []string `json:"input"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		data := []map[string]any{}
		for i, in := range req.Input {
			data = append(data, map[string]any{"object": "embedding", "index": i,
				"embedding": []float32{float32(len(in)), 1, 0}})
		}
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": "e"})
	}))
	defer ts.Close()
	e, err := NewOpenAI(context.Background(), ts.URL+"/v1", "e", "")
	if err != nil {
		t.Fatal(err)
	}
	if m := e.Model(); m.Name != "openai:e" || m.Dim != 3 {
		t.Errorf("model %+v", m)
	}
	before := calls
	v, err := e.Embed(context.Background(), []string{"a", "bb", "ccc"})
	if err != nil || len(v) != 3 || v[2][0] != 3 {
		t.Fatalf("Embed: %v %v", v, err)
	}
	if calls-before != 1 {
		t.Errorf("a batch of 3 took %d requests, want 1", calls-before)
	}
}
