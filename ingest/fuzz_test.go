package ingest

import (
	"context"
	"os"
	"testing"

	"github.com/orthocds/orthocds/internal/doctest"
)

// FuzzParse: any bytes as a Markdown, HTML, PDF, Word or text file are parsed
// or refused, never a panic.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"protocol.md", "ward.html", "protocol.pdf", "corrupt.pdf", "note.txt"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(name, b)
	}
	f.Add("x.html", []byte("<html><body><h1>a<h2>b<script>c</script>"))
	f.Add("x.docx", doctest.Protocol.DOCX(f))
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		p, err := Parse(context.Background(), name, b, Options{})
		if err != nil {
			return
		}
		for _, s := range p.Sections {
			_ = split(s.Text, ChunkRunes)
		}
	})
}
