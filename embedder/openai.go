package embedder

import (
	"context"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/rag"
	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/openai"
)

// OpenAI embeds through any OpenAI-compatible /v1/embeddings endpoint (vLLM,
// llama.cpp server, LocalAI) with langchaingo.
type OpenAI struct {
	e     *embeddings.EmbedderImpl
	model rag.ModelInfo
}

var _ rag.Embedder = (*OpenAI)(nil)

// NewOpenAI returns an embedder for model at baseURL, learning its dimension
// from one probe embedding. token may be empty for local servers.
func NewOpenAI(ctx context.Context, baseURL, model, token string) (*OpenAI, error) {
	if token == "" {
		token = "local" // the client insists on a token; local servers ignore it
	}
	c, err := openai.New(openai.WithBaseURL(baseURL), openai.WithEmbeddingModel(model), openai.WithToken(token))
	if err != nil {
		return nil, err
	}
	e, err := embeddings.NewEmbedder(c, embeddings.WithBatchSize(rag.MaxBatch))
	if err != nil {
		return nil, err
	}
	o := &OpenAI{e: e, model: rag.ModelInfo{Name: "openai:" + model}}
	v, err := o.Embed(ctx, []string{"probe"})
	if err != nil {
		return nil, err
	}
	o.model.Dim = len(v[0])
	return o, nil
}

// Model names the model.
func (o *OpenAI) Model() rag.ModelInfo { return o.model }

// Embed embeds texts.
func (o *OpenAI) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	v, err := o.e.EmbedDocuments(ctx, texts)
	if err != nil {
		return nil, orthocds.Unavailable(err, "embedding server is not reachable")
	}
	return v, nil
}
