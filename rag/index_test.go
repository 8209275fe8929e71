package rag

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// fieldsAnalyzer splits on spaces and new lines.
type fieldsAnalyzer struct{}

func (fieldsAnalyzer) Terms(text string) []string { return strings.Fields(text) }

// textEmbedder records the texts it embeds.
type textEmbedder struct{ texts []string }

func (e *textEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	e.texts = append(e.texts, texts...)
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = []float32{1}
	}
	return out, nil
}
func (e *textEmbedder) Model() ModelInfo { return ModelInfo{Name: "test", Dim: 1} }

// A chunk's asks are indexed and embedded with it; a chunk without them
// is indexed as its title and text alone.
func TestPrepareIndexesAsks(t *testing.T) {
	e := &textEmbedder{}
	docs := []Document{{ID: "d", Chunks: []Chunk{
		{ID: "a", Title: "Drug holiday", Text: "Reassess after five years.", Asks: []string{"Can I stop my bone pills?"}},
		{ID: "b", Title: "Calcium", Text: "Eat enough."},
	}}}
	if err := NewIndexer(nil, e, fieldsAnalyzer{}).Prepare(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	a, b := docs[0].Chunks[0], docs[0].Chunks[1]
	if !slices.Contains(a.Terms, "pills?") || !strings.Contains(e.texts[0], "Can I stop my bone pills?") {
		t.Errorf("chunk with asks: terms %q, embedded %q", a.Terms, e.texts[0])
	}
	if a.Text != "Reassess after five years." {
		t.Errorf("the asks reached the text: %q", a.Text)
	}
	if !slices.Equal(b.Terms, []string{"Calcium", "Eat", "enough."}) || e.texts[1] != "Calcium\nEat enough." {
		t.Errorf("chunk without asks: terms %q, embedded %q", b.Terms, e.texts[1])
	}
}
