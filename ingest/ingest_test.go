package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/embedder"
	"github.com/orthocds/orthocds/embedstore"
	"github.com/orthocds/orthocds/rag"
)

func mustParse(t *testing.T, name string) []Section {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(context.Background(), name, b, Options{})
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return p.Sections
}

func TestParse(t *testing.T) {
	tests := []struct {
		file string
		want []Section
	}{
		{"protocol.md", []Section{
			{Heading: []string{"Hip fracture pathway (synthetic test document)"}, Text: "Written for OrthoCDS tests; not clinical guidance."},
			{Heading: []string{"Hip fracture pathway (synthetic test document)", "Before surgery"},
				Text: "Check haemoglobin and renal function on admission.\n\nGive analgesia within one hour.\nStart mechanical prophylaxis."},
			{Heading: []string{"Hip fracture pathway (synthetic test document)", "术后处理", "抗骨质疏松治疗"},
				Text: "髋部骨折术后应评估并启动抗骨质疏松治疗。出院前完成骨密度检查的安排。"},
		}},
		{"ward.html", []Section{
			{Heading: []string{"Spine ward (synthetic test document)"}, Text: "Vertebroplasty patients lie flat for two hours after the procedure."},
			{Heading: []string{"Spine ward (synthetic test document)", "Cement leakage watch"},
				Text: "Check lower-limb power every hour. \n\nReport new chest pain at once."},
		}},
		{"protocol.pdf", []Section{
			{Page: 1, Text: "Hospital protocol page one. Tranexamic acid is given before knee arthroplasty incision."},
			{Page: 2, Text: "Page two. Patients mobilise on the day of surgery when safe."},
		}},
		{"note.txt", []Section{{Text: "Plain note (synthetic test document).\n\nDenosumab clinic runs on Tuesdays.\n"}}},
	}
	for _, tt := range tests {
		got := mustParse(t, tt.file)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for name, data := range map[string][]byte{
		"corrupt.pdf":   mustRead(t, "corrupt.pdf"),
		"empty.pdf":     {},
		"truncated.pdf": mustRead(t, "protocol.pdf")[:200],
		"image.png":     {0x89, 'P', 'N', 'G'},
	} {
		_, err := Parse(context.Background(), name, data, Options{})
		if orthocds.ErrorCode(err) != orthocds.EINVALID {
			t.Errorf("Parse(%s) = %v, want an invalid-input error", name, err)
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSplit(t *testing.T) {
	long := strings.Repeat("骨质疏松症患者应规范治疗。", 100) // 1300 characters, sentences of 13
	pieces := split("Intro.\n\n"+long, 100)
	for i, p := range pieces {
		if n := utf8.RuneCountInString(p); n > 100 {
			t.Errorf("piece %d has %d runes, over 100", i, n)
		}
		if i > 0 && !strings.HasSuffix(p, "。") {
			t.Errorf("piece %d does not end at a sentence: %q", i, p[len(p)-6:])
		}
	}
	if got := strings.Join(pieces, ""); strings.Count(got, "。") != 100 {
		t.Errorf("split lost text: %d sentences kept of 100", strings.Count(got, "。"))
	}
}

func newIngester(t testing.TB) (*Ingester, rag.Store, *rag.Retriever) {
	t.Helper()
	a, err := analysis.Shared()
	if err != nil {
		t.Fatal(err)
	}
	e := embedder.NewHash(a)
	st, err := embedstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Init(context.Background(), e.Model()); err != nil {
		t.Fatal(err)
	}
	return New(rag.NewIndexer(st, e, a), st), st, rag.NewRetriever(st, e, a)
}

func TestIngestIdempotentAndAtomic(t *testing.T) {
	in, st, ret := newIngester(t)
	ctx := context.Background()
	dir := t.TempDir()
	for _, f := range []string{"protocol.md", "ward.html", "protocol.pdf", "note.txt", "corrupt.pdf"} {
		os.WriteFile(filepath.Join(dir, f), mustRead(t, f), 0o644)
	}
	files, err := Walk([]string{dir})
	if err != nil || len(files) != 5 {
		t.Fatalf("Walk: %v %v", files, err)
	}
	statuses := map[string]string{}
	for _, f := range files {
		res, err := in.File(ctx, f)
		if err != nil {
			statuses[filepath.Base(f)] = "error"
			continue
		}
		statuses[filepath.Base(f)] = res.Status
	}
	want := map[string]string{"protocol.md": Added, "ward.html": Added, "protocol.pdf": Added, "note.txt": Added, "corrupt.pdf": "error"}
	if diff := cmp.Diff(want, statuses); diff != "" {
		t.Errorf("first ingest (-want +got):\n%s", diff)
	}
	before, _ := st.Stats(ctx)
	for _, f := range files {
		res, err := in.File(ctx, f)
		if err == nil && res.Status != Unchanged {
			t.Errorf("re-ingesting %s: %s, want unchanged", f, res.Status)
		}
	}
	after, _ := st.Stats(ctx)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("re-ingesting changed the store (-before +after):\n%s", diff)
	}
	if before.Documents != 4 {
		t.Errorf("%d documents stored, want 4 (the corrupt PDF must add nothing)", before.Documents)
	}

	// The page and heading path survive into search results.
	res, err := ret.Search(ctx, []rag.Query{
		{Text: "tranexamic acid before knee arthroplasty", K: 1},
		{Text: "髋部骨折术后抗骨质疏松治疗", K: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if h := res[0][0]; h.Page != 1 || h.Citation.Path != "protocol.pdf" {
		t.Errorf("PDF hit: page %d path %q, want page 1 of protocol.pdf", h.Page, h.Citation.Path)
	}
	if h := res[1][0]; !slicesEqual(h.HeadingPath, []string{"Hip fracture pathway (synthetic test document)", "术后处理", "抗骨质疏松治疗"}) || h.Langs[0] != "zh" {
		t.Errorf("Markdown hit: heading %v langs %v", h.HeadingPath, h.Langs)
	}

	// A changed file at the same path replaces its old version.
	md := filepath.Join(dir, "protocol.md")
	os.WriteFile(md, []byte("# Changed\n\nNew text about zoledronic acid infusions.\n"), 0o644)
	r, err := in.File(ctx, md)
	if err != nil || r.Status != Added {
		t.Fatalf("changed file: %+v %v", r, err)
	}
	final, _ := st.Stats(ctx)
	if final.Documents != 4 {
		t.Errorf("after changing a file: %d documents, want 4", final.Documents)
	}
}

func slicesEqual(a, b []string) bool { return cmp.Equal(a, b) }
