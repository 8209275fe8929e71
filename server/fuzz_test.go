package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/answer"
)

// FuzzAPI: any body to the JSON endpoints gets an answer or a 4xx
// problem, never a 5xx and never a crash.
func FuzzAPI(f *testing.F) {
	fx := setup(f)
	s := New(Config{Search: fx.Retriever, Answer: answer.New(fx.Retriever, fx.Analyzer, nil, nil, answer.DefaultConfig),
		Guidelines: fx.Corpus, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, seed := range []struct{ path, body string }{
		{"/v1/search", `{"queries":[{"text":"OSTA","k":3,"filter":{"langs":["zh"]}}]}`},
		{"/v1/ask", `{"question":"Can denosumab be stopped?","patient":{"age_years":70,"t_score":-2.6}}`},
		{"/v1/calculators/caprini", `{"age_years":68,"items":["elective-lower-extremity-arthroplasty"]}`},
		{"/v1/calculators/osta", `{"weight_kg":50,"age_years":70}`},
	} {
		f.Add(seed.path, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		switch path {
		case "/v1/search", "/v1/ask", "/v1/calculators/caprini", "/v1/calculators/osta", "/v1/calculators/t-score", "/v1/calculators/frax":
		default:
			return
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body))))
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d: %s", path, rec.Code, rec.Body.String())
		}
	})
}
