package embedder

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ollama/ollama/api"
	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/rag"
)

// Ollama embeds through an Ollama server's /api/embed, a whole batch per
// request, with the official client.
type Ollama struct {
	client *api.Client
	model  rag.ModelInfo
}

var _ rag.Embedder = (*Ollama)(nil)

// NewOllama returns an embedder for model, learning its dimension from one
// probe embedding. It fails clearly when the server is unreachable or the
// model has not been pulled.
func NewOllama(ctx context.Context, client *api.Client, model string) (*Ollama, error) {
	o := &Ollama{client: client, model: rag.ModelInfo{Name: "ollama:" + model}}
	vecs, err := o.embed(ctx, model, []string{"probe"})
	if err != nil {
		return nil, err
	}
	o.model.Dim = len(vecs[0])
	return o, nil
}

// Model names the model; the "ollama:" prefix keeps it distinct from the
// same name served elsewhere.
func (o *Ollama) Model() rag.ModelInfo { return o.model }

// Embed embeds texts in one request.
func (o *Ollama) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return o.embed(ctx, o.model.Name[len("ollama:"):], texts)
}

func (o *Ollama) embed(ctx context.Context, model string, texts []string) ([][]float32, error) {
	resp, err := o.client.Embed(ctx, &api.EmbedRequest{Model: model, Input: texts})
	if err != nil {
		return nil, OllamaError(err, model)
	}
	if len(resp.Embeddings) != len(texts) {
		return nil, orthocds.Errorf(orthocds.EUNAVAILABLE,
			"ollama returned %d embeddings for %d texts", len(resp.Embeddings), len(texts))
	}
	return resp.Embeddings, nil
}

// OllamaError turns an Ollama client error into a kind the API can report:
// a model that is not pulled is named with the command that fixes it.
func OllamaError(err error, model string) error {
	var se api.StatusError
	if errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
		return &orthocds.Error{Code: orthocds.EUNAVAILABLE, Err: err,
			Message: fmt.Sprintf("ollama model %q is not pulled; run: ollama pull %s", model, model)}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return orthocds.Unavailable(err, "ollama is not reachable")
}
