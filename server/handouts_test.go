package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/handouts"
)

// GET /v1/handouts/{topic}: JSON and the printable page; bad input gets
// problem JSON naming the field.
func TestHandoutsOverHTTP(t *testing.T) {
	f := setup(t)
	sheets, err := handouts.Load(f.Corpus)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Config{Guidelines: f.Corpus, Handouts: sheets, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		req, _ := http.NewRequest("GET", path, nil)
		srv.ServeHTTP(rec, req)
		return &http.Response{StatusCode: rec.status, Header: rec.header}, rec.body.Bytes()
	}
	resp, b := get("/v1/handouts")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"vte"`) {
		t.Fatalf("list: %d %s", resp.StatusCode, b)
	}
	resp, b = get("/v1/handouts/vte?lang=zh&predictor=vte-arthroplasty&probability=0.256")
	var h handouts.Handout
	if resp.StatusCode != 200 || json.Unmarshal(b, &h) != nil || h.Langs[0].Risk == nil || h.Langs[0].Risk.Affected != 26 {
		t.Fatalf("handout: %d %.300s", resp.StatusCode, b)
	}
	resp, b = get("/v1/handouts/osteoporosis?lang=both&format=html")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || strings.Count(string(b), `<article class="page"`) != 2 {
		t.Errorf("page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for path, field := range map[string]string{
		"/v1/handouts/knitting":                                        "topic",
		"/v1/handouts/vte?lang=fr":                                     "lang",
		"/v1/handouts/vte?predictor=vte-arthroplasty&probability=1.2":  "probability",
		"/v1/handouts/vte?predictor=vte-arthroplasty&probability=lots": "probability",
		"/v1/handouts/vte?probability=0.2":                             "predictor",
		"/v1/handouts/vte?patient=Zhang+San":                           "patient",
		"/v1/handouts/vte?entries=ects-2017-denosumab-rebound":         "entries",
		"/v1/handouts/vte?format=pdf":                                  "format",
	} {
		resp, b := get(path)
		var p Problem
		if resp.StatusCode < 400 || json.Unmarshal(b, &p) != nil || p.Field != field {
			t.Errorf("%s: %d %s, want a problem naming %s", path, resp.StatusCode, b, field)
		}
		if strings.Contains(string(b), "Zhang") {
			t.Errorf("%s: the problem repeats the input", path)
		}
	}
}
