package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/auth"
)

// Each key gets its own rate limit: past its burst a key gets 429 with
// Retry-After while another key is still served; /metrics counts requests
// by route pattern (never by URL) and the refusals.
func TestRateLimitAndMetrics(t *testing.T) {
	f := setup(t)
	keys, _ := auth.OpenKeys(filepath.Join(t.TempDir(), "keys.json"))
	a, _, _ := keys.Create("a", orthocds.RoleClinician)
	b, _, _ := keys.Create("b", orthocds.RoleClinician)
	authn := &auth.Authenticator{Keys: keys}
	ts := httptest.NewServer(New(Config{Guidelines: f.Corpus, Authenticate: authn.Authenticate, RateLimit: 1, RateBurst: 3,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer ts.Close()
	get := func(key, path string) *http.Response {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	codes := []int{}
	for range 5 {
		codes = append(codes, get(a, "/v1/guidelines/csobmr-2022-osta").StatusCode)
	}
	if codes[0] != 200 || codes[2] != 200 || codes[4] != http.StatusTooManyRequests {
		t.Errorf("key a, 5 quick requests with burst 3: %v", codes)
	}
	if r := get(a, "/v1/guidelines/csobmr-2022-osta"); r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if r := get(b, "/v1/guidelines/csobmr-2022-osta"); r.StatusCode != 200 {
		t.Errorf("key b limited by key a's requests: %d", r.StatusCode)
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(body)
	for _, want := range []string{`orthocds_http_requests_total{method="GET",route="/v1/guidelines/{id}",status="200"}`,
		`status="429"`, "orthocds_rate_limited_total", "process_resident_memory_bytes", "go_goroutines"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(m, "csobmr-2022-osta") {
		t.Error("/metrics holds a request value")
	}
}
