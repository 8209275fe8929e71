package handouts

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/ollamareplay"
)

var dmab = []string{"ects-2017-denosumab-transition", "ects-2017-denosumab-rebound", "endo-2019-denosumab-no-stop", "nogg-2022-denosumab-stop"}

func withModel(t *testing.T, reply string) (*Set, *ollamareplay.Server) {
	t.Helper()
	srv := ollamareplay.New([]string{"m"}, func(string, []ollamareplay.Message) ollamareplay.Script {
		return ollamareplay.Script{Chunks: []string{reply}}
	})
	t.Cleanup(srv.Close)
	c, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: srv.URL, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := analysis.Shared()
	if err != nil {
		t.Fatal(err)
	}
	s := set(t)
	s.UseLLM(c, a)
	return s, srv
}

// A handout written by the model (replay server) keeps the sentences its
// cited entries support and drops, and lists for the doctor, one naming a
// drug the entries do not, one with a number they do not hold and one
// citing an entry the model was not given.
func TestWriteDropsUnsupported(t *testing.T) {
	reply := `{"sections":[
 {"kind":"recommend","sentences":[
  {"text":"Do not stop denosumab unless another bone medicine follows it.","notes":["endo-2019-denosumab-no-stop"]},
  {"text":"Take vitamin D every day as well.","notes":["endo-2019-denosumab-no-stop"]},
  {"text":"Aspirin prevents clots after denosumab.","notes":["accp-2012-tha-tka-agents"]}]},
 {"kind":"why","sentences":[
  {"text":"Bone loss starts 7 months after the last denosumab dose.","notes":["ects-2017-denosumab-rebound"]},
  {"text":"After denosumab stops, the bone density gained is lost and several spine fractures have been reported.","notes":["[ects-2017-denosumab-rebound]","endo-2019-denosumab-no-stop"]}]},
 {"kind":"gossip","sentences":[{"text":"Anything.","notes":["ects-2017-denosumab-rebound"]}]}]}`
	s, srv := withModel(t, reply)
	h, err := s.Write(context.Background(), Request{Topic: "osteoporosis", Lang: "en", Entries: dmab})
	if err != nil {
		t.Fatal(err)
	}
	pg := h.Langs[0]
	if pg.Mode != ModeLLM || pg.Model == "" {
		t.Fatalf("mode %s %s (%s)", pg.Mode, pg.Model, pg.Fallback)
	}
	var kept []string
	for _, sec := range pg.Sections {
		for _, sn := range sec.Sentences {
			kept = append(kept, sn.Text)
			for _, n := range sn.Notes {
				if n < 1 || n > len(h.Notes) {
					t.Errorf("%q: note %d of %d", sn.Text, n, len(h.Notes))
				}
			}
		}
	}
	if len(kept) != 2 || !strings.HasPrefix(kept[0], "Do not stop") || !strings.HasPrefix(kept[1], "After denosumab") {
		t.Errorf("kept %q", kept)
	}
	if len(pg.Dropped) != 4 || !slices.ContainsFunc(pg.Dropped, func(d string) bool { return strings.Contains(d, "vitamin D") }) ||
		!slices.ContainsFunc(pg.Dropped, func(d string) bool { return strings.Contains(d, "7 months") }) {
		t.Errorf("dropped %q", pg.Dropped)
	}
	var ids []string
	for _, n := range h.Notes {
		ids = append(ids, n.EntryID)
	}
	if strings.Join(ids, ",") != "endo-2019-denosumab-no-stop,ects-2017-denosumab-rebound" {
		t.Errorf("notes %v", ids)
	}
	// The model saw the card's entries and nothing else.
	reqs := srv.Requests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].Messages[1].Content, "[ects-2017-denosumab-transition]") ||
		strings.Contains(reqs[0].Messages[1].Content, "accp-2012") {
		t.Errorf("prompt: %+v", reqs)
	}
}

// When the model's reply is unusable, or the model is not there, the page
// is the template's and says why.
func TestWriteFallsBack(t *testing.T) {
	s, _ := withModel(t, "I cannot help with that.")
	h, err := s.Write(context.Background(), Request{Topic: "osteoporosis", Lang: "zh", Entries: dmab})
	if err != nil {
		t.Fatal(err)
	}
	if pg := h.Langs[0]; pg.Mode != ModeTemplate || pg.Fallback == "" || len(pg.Sections) == 0 {
		t.Errorf("bad reply: %+v", pg)
	}
	s, srv := withModel(t, "{}")
	srv.Close()
	h, err = s.Write(context.Background(), Request{Topic: "vte", Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if pg := h.Langs[0]; pg.Mode != ModeTemplate || !strings.Contains(pg.Fallback, "templates") {
		t.Errorf("model down: %+v", pg.Fallback)
	}
	if _, err := s.Write(context.Background(), Request{Topic: "vte", Lang: "fr"}); err == nil {
		t.Error("bad input passed with a model set")
	}
}
