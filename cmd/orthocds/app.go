package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/embedder"
	"github.com/orthocds/orthocds/embedstore"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/postgres"
	"github.com/orthocds/orthocds/rag"
	"github.com/orthocds/orthocds/rag/llmassist"
)

// app is the wired platform: store, analysis, embedder, retrieval, answers.
type app struct {
	cfg       Config
	store     rag.Store
	analyzer  *analysis.Analyzer
	embedder  rag.Embedder
	indexer   *rag.Indexer
	retriever *rag.Retriever
	// plain is retriever without language-model stages: CDS cards never
	// wait for a model.
	plain      *rag.Retriever
	llm        *llm.Client // nil when the provider is none
	guidelines *guidelines.Corpus
}

// open wires the platform and brings the guideline index up to date.
func open(ctx context.Context, cfg Config, stderr io.Writer) (_ *app, err error) {
	a := &app{cfg: cfg}
	defer func() {
		if err != nil && a.store != nil {
			a.store.Close()
		}
	}()
	if a.guidelines, err = guidelines.Load(guidelines.Embedded()); err != nil {
		return nil, fmt.Errorf("guideline corpus: %w", err)
	}
	if a.analyzer, err = analysis.Shared(); err != nil {
		return nil, fmt.Errorf("load the Chinese dictionary: %w", err)
	}
	if a.embedder, err = newEmbedder(ctx, cfg, a.analyzer); err != nil {
		return nil, err
	}
	if cfg.DatabaseURL != "" {
		var replicas []string
		for _, u := range strings.Split(cfg.ReplicaURLs, ",") {
			if u = strings.TrimSpace(u); u != "" {
				replicas = append(replicas, u)
			}
		}
		a.store, err = postgres.Open(ctx, postgres.Config{URL: cfg.DatabaseURL, ReplicaURLs: replicas,
			Index: postgres.IndexOptions{VectorType: cfg.VectorType, M: cfg.HNSWM, EfConstruction: cfg.HNSWEfConstruction}})
	} else {
		a.store, err = embedstore.Open(filepath.Join(cfg.DataDir, "store"))
	}
	if err != nil {
		return nil, err
	}
	if err := bind(ctx, a.store, a.embedder.Model(), stderr); err != nil {
		return nil, err
	}
	if db, ok := a.store.(*postgres.DB); ok && cfg.VectorType != "" && db.Index().VectorType != cfg.VectorType {
		fmt.Fprintf(stderr, "orthocds: the store keeps %s embeddings, as it was built; DATABASE_VECTOR_TYPE=%s applies to a new store\n",
			db.Index().VectorType, cfg.VectorType)
	}
	a.indexer = rag.NewIndexer(a.store, a.embedder, a.analyzer)
	a.retriever = rag.NewRetriever(a.store, a.embedder, a.analyzer).
		WithCoverage(analysis.NewCoverage(a.analyzer, a.guidelines.Documents(), analysis.CoverageWeights()))
	start := time.Now()
	res, err := a.indexer.Sync(ctx, rag.KindGuideline, a.guidelines.Documents())
	if err != nil {
		return nil, fmt.Errorf("index guidelines: %w", err)
	}
	fmt.Fprintf(stderr, "orthocds: guidelines: %d written, %d unchanged, %d removed (%s)\n",
		res.Written, res.Unchanged, res.Deleted, time.Since(start).Round(time.Millisecond))
	if a.llm, err = newLLM(cfg); err != nil {
		return nil, err
	}
	a.plain = a.retriever
	if a.retriever, err = withAssist(cfg, a.retriever, stderr); err != nil {
		return nil, err
	}
	return a, nil
}

// withAssist adds the optional language-model stages of retrieval
// (--rewrite-model, --rerank-model); each falls back to plain retrieval
// when its model fails, and says so on stderr once a minute at most.
func withAssist(cfg Config, r *rag.Retriever, stderr io.Writer) (*rag.Retriever, error) {
	if cfg.RewriteModel == "" && cfg.RerankModel == "" {
		return r, nil
	}
	if cfg.LLMProvider == "none" || cfg.LLMProvider == "" {
		return nil, orthocds.Invalid("ORTHOCDS_REWRITE_MODEL", "query rewriting and reranking need an LLM provider (--llm ollama or openai)")
	}
	var last sync.Map // stage -> time of the last message
	a := rag.Assist{OnFallback: func(stage string, err error) {
		if t, ok := last.Load(stage); ok && time.Since(t.(time.Time)) < time.Minute {
			return
		}
		last.Store(stage, time.Now())
		fmt.Fprintf(stderr, "orthocds: %s skipped, plain retrieval used: %s\n", stage, orthocds.ErrorMessage(err))
	}}
	for _, m := range []struct {
		name string
		set  func(*llm.Client)
	}{
		{cfg.RewriteModel, func(c *llm.Client) { a.Rewriter = &llmassist.Rewriter{LLM: c} }},
		{cfg.RerankModel, func(c *llm.Client) { a.Reranker = &llmassist.Reranker{LLM: c} }},
	} {
		if m.name == "" {
			continue
		}
		c2 := cfg
		c2.LLMModel = m.name
		c, err := newLLM(c2)
		if err != nil {
			return nil, err
		}
		m.set(c)
	}
	return r.WithAssist(a), nil
}

func (a *app) Close() error { return a.store.Close() }

// bind binds the store to the embedder's model. An index built with another
// model that holds only the shipped guidelines (which are indexed again on
// every start) is rebuilt; one that holds hospital documents is refused,
// since their files may no longer be at hand.
func bind(ctx context.Context, st rag.Store, model rag.ModelInfo, stderr io.Writer) error {
	err := st.Init(ctx, model)
	if orthocds.ErrorCode(err) != orthocds.ECONFLICT {
		return err
	}
	docs, herr := st.DocumentHashes(ctx, rag.KindDocument)
	if herr != nil {
		return herr
	}
	if len(docs) > 0 {
		return fmt.Errorf("%w; the index holds %d hospital documents: ingest them again into a new --data directory or database with the new model", err, len(docs))
	}
	fmt.Fprintf(stderr, "orthocds: the index was built with another embedding model and holds only the shipped guidelines; rebuilding it for %s\n", model.Name)
	if err := st.Reset(ctx); err != nil {
		return err
	}
	return st.Init(ctx, model)
}

func newEmbedder(ctx context.Context, cfg Config, an *analysis.Analyzer) (rag.Embedder, error) {
	kind, model, _ := strings.Cut(cfg.Embedder, ":")
	switch kind {
	case "builtin":
		return embedder.NewHash(an), nil
	case "ollama":
		u, err := url.Parse(cfg.OllamaHost)
		if err != nil {
			return nil, orthocds.Invalid("OLLAMA_HOST", "%q is not a URL", cfg.OllamaHost)
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return embedder.NewOllama(ctx, api.NewClient(u, http.DefaultClient), model)
	case "openai":
		return embedder.NewOpenAI(ctx, cfg.OpenAIURL, model, cfg.OpenAIKey)
	}
	return nil, orthocds.Invalid("ORTHOCDS_EMBEDDER", "%q is not builtin, ollama:MODEL or openai:MODEL", cfg.Embedder)
}

func newLLM(cfg Config) (*llm.Client, error) {
	switch cfg.LLMProvider {
	case "none", "":
		return nil, nil
	case llm.ProviderOllama:
		return llm.New(llm.Config{Provider: llm.ProviderOllama, BaseURL: cfg.OllamaHost, Model: cfg.LLMModel, ContextTokens: cfg.LLMContext})
	case llm.ProviderOpenAI:
		return llm.New(llm.Config{Provider: llm.ProviderOpenAI, BaseURL: cfg.OpenAIURL, Model: cfg.LLMModel, APIKey: cfg.OpenAIKey, ContextTokens: cfg.LLMContext})
	}
	return nil, orthocds.Invalid("ORTHOCDS_LLM_PROVIDER", "%q is not ollama, openai or none", cfg.LLMProvider)
}

// answerer returns the answer service; audit may be nil.
func (a *app) answerer(audit answer.Auditor) *answer.Service {
	var model answer.LLM
	if a.llm != nil {
		model = a.llm
	}
	return answer.New(a.retriever, a.analyzer, model, audit, answer.DefaultConfig)
}
