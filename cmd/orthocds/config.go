package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// Config is everything the binary reads from the environment and flags.
// Flags win over the environment; defaults run on a bare machine.
type Config struct {
	Addr        string // ORTHOCDS_ADDR
	DataDir     string // ORTHOCDS_DATA: the embedded store, when no database is set
	DatabaseURL string // DATABASE_URL: PostgreSQL + pgvector instead of the embedded store
	// ReplicaURLs are streaming read replicas of DatabaseURL that answer
	// searches (DATABASE_REPLICA_URLS, comma-separated).
	ReplicaURLs string
	// VectorType, HNSWM and HNSWEfConstruction choose how a new PostgreSQL
	// store keeps embeddings (DATABASE_VECTOR_TYPE: vector or halfvec;
	// DATABASE_HNSW_M, DATABASE_HNSW_EF_CONSTRUCTION; 0: pgvector's
	// defaults). A store already built keeps its own.
	VectorType         string
	HNSWM              int
	HNSWEfConstruction int
	Embedder           string // ORTHOCDS_EMBEDDER: builtin, ollama:MODEL or openai:MODEL
	LLMProvider        string // ORTHOCDS_LLM_PROVIDER: ollama, openai or none
	LLMModel           string // ORTHOCDS_LLM_MODEL
	OllamaHost         string // OLLAMA_HOST
	OpenAIURL          string // ORTHOCDS_OPENAI_URL, e.g. http://127.0.0.1:8000/v1 for vLLM
	OpenAIKey          string // ORTHOCDS_OPENAI_KEY
	// LLMContext is the context window, in tokens, to plan prompts for
	// (ORTHOCDS_LLM_CONTEXT): an OpenAI-compatible server reports none
	// (4096 assumed); for Ollama it caps the model's own.
	LLMContext int
	// RewriteModel and RerankModel, when set, put a model of the configured
	// provider into retrieval: rewriting questions into clinical wording,
	// and reranking the candidates (ORTHOCDS_REWRITE_MODEL,
	// ORTHOCDS_RERANK_MODEL). Off by default.
	RewriteModel string
	RerankModel  string
}

func defaultConfig(env func(string) string) Config {
	get := func(k, def string) string {
		if v := env(k); v != "" {
			return v
		}
		return def
	}
	return Config{
		Addr:               get("ORTHOCDS_ADDR", "127.0.0.1:8080"),
		DataDir:            get("ORTHOCDS_DATA", "orthocds-data"),
		DatabaseURL:        env("DATABASE_URL"),
		ReplicaURLs:        env("DATABASE_REPLICA_URLS"),
		VectorType:         env("DATABASE_VECTOR_TYPE"),
		HNSWM:              atoiOr(env("DATABASE_HNSW_M"), 0),
		HNSWEfConstruction: atoiOr(env("DATABASE_HNSW_EF_CONSTRUCTION"), 0),
		Embedder:           get("ORTHOCDS_EMBEDDER", "builtin"),
		LLMProvider:        get("ORTHOCDS_LLM_PROVIDER", "ollama"),
		LLMModel:           get("ORTHOCDS_LLM_MODEL", "qwen2.5:7b"),
		OllamaHost:         ollamaURL(get("OLLAMA_HOST", "127.0.0.1:11434")),
		OpenAIURL:          env("ORTHOCDS_OPENAI_URL"),
		OpenAIKey:          env("ORTHOCDS_OPENAI_KEY"),
		LLMContext:         atoiOr(env("ORTHOCDS_LLM_CONTEXT"), 0),
		RewriteModel:       env("ORTHOCDS_REWRITE_MODEL"),
		RerankModel:        env("ORTHOCDS_RERANK_MODEL"),
	}
}

// ollamaURL accepts OLLAMA_HOST the way Ollama does: host:port or a URL.
func ollamaURL(h string) string {
	if !strings.Contains(h, "://") {
		h = "http://" + h
	}
	return strings.TrimSuffix(h, "/")
}

// flags registers the store, embedder and LLM flags shared by subcommands.
func (c *Config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", c.DataDir, "directory of the embedded store (env ORTHOCDS_DATA)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL URL; empty uses the embedded store (env DATABASE_URL)")
	fs.StringVar(&c.ReplicaURLs, "database-replicas", c.ReplicaURLs, "comma-separated URLs of streaming read replicas that answer searches (env DATABASE_REPLICA_URLS)")
	fs.StringVar(&c.VectorType, "vector-type", c.VectorType, "how a new PostgreSQL store keeps embeddings: vector (4-byte floats, default) or halfvec (2-byte, half the memory) (env DATABASE_VECTOR_TYPE)")
	fs.IntVar(&c.HNSWM, "hnsw-m", c.HNSWM, "HNSW m of a new PostgreSQL store; 0: pgvector's 16 (env DATABASE_HNSW_M)")
	fs.IntVar(&c.HNSWEfConstruction, "hnsw-ef-construction", c.HNSWEfConstruction, "HNSW ef_construction of a new PostgreSQL store; 0: pgvector's 64 (env DATABASE_HNSW_EF_CONSTRUCTION)")
	fs.StringVar(&c.Embedder, "embedder", c.Embedder, "builtin, ollama:MODEL or openai:MODEL (env ORTHOCDS_EMBEDDER)")
	fs.StringVar(&c.LLMProvider, "llm", c.LLMProvider, "ollama, openai or none (env ORTHOCDS_LLM_PROVIDER)")
	fs.StringVar(&c.LLMModel, "model", c.LLMModel, "language model name (env ORTHOCDS_LLM_MODEL)")
	fs.StringVar(&c.RewriteModel, "rewrite-model", c.RewriteModel, "a model of the LLM provider that rewrites questions into clinical wording before search; empty: off (env ORTHOCDS_REWRITE_MODEL)")
	fs.StringVar(&c.RerankModel, "rerank-model", c.RerankModel, "a model of the LLM provider that reranks search candidates; empty: off (env ORTHOCDS_RERANK_MODEL)")
}

// logTo writes the configuration with secrets masked.
func (c Config) logTo(w io.Writer) {
	db := "embedded store in " + c.DataDir
	if c.DatabaseURL != "" {
		db = "postgres " + maskURL(c.DatabaseURL)
		for _, r := range strings.Split(c.ReplicaURLs, ",") {
			if r = strings.TrimSpace(r); r != "" {
				db += " replica " + maskURL(r)
			}
		}
	}
	fmt.Fprintf(w, "orthocds: store=%s embedder=%s llm=%s model=%s ollama=%s\n", db, c.Embedder, c.LLMProvider, c.LLMModel, c.OllamaHost)
}

func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// atoiOr reads a positive integer, def when s is empty or not one.
func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return def
	}
	return n
}
