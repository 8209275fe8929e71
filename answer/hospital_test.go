package answer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orthocds/orthocds/ingest"
	"github.com/orthocds/orthocds/internal/browsertest"
	"github.com/orthocds/orthocds/internal/corpustest"
	"github.com/orthocds/orthocds/internal/doctest"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/ollamareplay"
	"github.com/orthocds/orthocds/rag"
)

// TestHospitalDocumentFirst: the SYNTHETIC hospital protocol, printed to
// PDF by Chromium and ingested beside the guideline corpus, answers a
// question that names the hospital ahead of the guidelines, cited with
// its page, and the answer says which statements come from it; a model's
// statement citing it is marked too.
func TestHospitalDocumentFirst(t *testing.T) {
	ctx := browsertest.Context(t, 2*time.Minute)
	pdf := doctest.PrintPDF(t, ctx, doctest.Protocol.HTML())
	f, err := corpustest.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Store.Close()
	path := filepath.Join(t.TempDir(), "关节置换血栓预防规范.pdf")
	os.WriteFile(path, pdf, 0o644)
	in := ingest.New(rag.NewIndexer(f.Store, f.Embedder, f.Analyzer), f.Store)
	if _, err := in.File(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	retrievalOnly := New(f.Retriever, f.Analyzer, nil, nil, DefaultConfig)
	for _, tc := range []struct {
		question string
		page     int
		quote    string
	}{
		{"本院全膝置换术后利伐沙班吃几天", 1, "12天"},
		{"我院髋关节置换后利伐沙班疗程多长", 1, "32天"},
		{"What is our protocol for compression after joint replacement when bleeding risk is high?", 2, "compression alone"},
	} {
		a, err := retrievalOnly.Ask(context.Background(), Request{Question: tc.question}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Sources) == 0 || !a.Sources[0].Hospital || a.Sources[0].Page != tc.page || !strings.Contains(a.Sources[0].Quote, tc.quote) {
			t.Errorf("%q: first source %+v, want the hospital PDF's page %d quoting %q", tc.question, first(a.Sources), tc.page, tc.quote)
			continue
		}
		if a.Sources[0].Citation.Path != filepath.Base(path) || a.HospitalNote == "" || len(a.Quotes) == 0 || !a.Quotes[0].Hospital {
			t.Errorf("%q: path %q, note %q, first quote %+v; want the file named and the hospital statement marked",
				tc.question, a.Sources[0].Citation.Path, a.HospitalNote, first(a.Quotes))
		}
		if tc.page == 1 && !strings.Contains(a.HospitalNote, "本院文件") {
			t.Errorf("%q: note %q, want it in Chinese", tc.question, a.HospitalNote)
		}
	}

	// Without naming the hospital, the guidelines keep their place.
	const plain = "How long is VTE prophylaxis given after total hip arthroplasty?"
	a, err := retrievalOnly.Ask(context.Background(), Request{Question: plain}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Sources) == 0 || a.Sources[0].Hospital {
		t.Errorf("a question not naming the hospital: first source %+v, want a guideline", first(a.Sources))
	}
	// The sidebar's flag does what naming the hospital does.
	a, err = retrievalOnly.Ask(context.Background(), Request{Question: plain, LocalFirst: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Sources) == 0 || !a.Sources[0].Hospital {
		t.Errorf("local_first: first source %+v, want the hospital PDF", first(a.Sources))
	}

	// A model's statement citing the hospital source is marked; the
	// prompt told the model which source is the hospital's own.
	var prompt string
	srv := ollamareplay.New([]string{"m"}, func(_ string, msgs []ollamareplay.Message) ollamareplay.Script {
		prompt = msgs[len(msgs)-1].Content
		return ollamareplay.Script{Chunks: []string{`{"summary":{"text":"本院规定全膝关节置换术后利伐沙班连续服用十二天。","citations":["S1"]},` +
			`"diagnoses":[],"tests":[],"treatments":[{"text":"指南建议至少10至14天。","reasoning":"","citations":["S2"]}],"abstain":false,"abstain_reason":""}`}}
	})
	defer srv.Close()
	model, err := llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: srv.URL, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	a, err = New(f.Retriever, f.Analyzer, model, nil, DefaultConfig).Ask(context.Background(), Request{Question: "本院全膝置换术后利伐沙班吃几天"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Summary.Hospital || a.HospitalNote == "" || !strings.Contains(prompt, "this hospital's own document") || !strings.Contains(prompt, "page 1") {
		t.Errorf("model answer: summary %+v, note %q; prompt names the hospital source: %v", a.Summary, a.HospitalNote, strings.Contains(prompt, "this hospital's own document"))
	}
	if len(a.Treatments) == 1 && a.Treatments[0].Hospital && !a.Sources[1].Hospital {
		t.Errorf("a statement citing a guideline is marked as the hospital's: %+v", a.Treatments[0])
	}
}

func first[T any](xs []T) any {
	if len(xs) == 0 {
		return nil
	}
	return xs[0]
}
