package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/searchbench"
)

// runBench measures batched vector search against the usual Go baselines
// on synthetic vectors (see searchbench and docs/benchmarks.md).
func runBench(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "cards" {
		return runBenchCards(ctx, cfg, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "search" {
		return errors.New(`bench: use "orthocds bench search" (batched vector search) or "orthocds bench cards" (CDS Hooks card latency)`)
	}
	fs := flag.NewFlagSet("bench search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "10k vectors at 384 and 768 dimensions (about a minute)")
	sizes := fs.String("sizes", "", "comma-separated corpus sizes (default 10000,100000,1000000; --quick 10000)")
	dims := fs.String("dims", "", "comma-separated dimensions (default 384,768)")
	queries := fs.Int("queries", 0, "queries per corpus (default 512; --quick 256)")
	dbURL := fs.String("database-url", cfg.DatabaseURL, "PostgreSQL URL for the pgvector methods; empty skips them (env DATABASE_URL)")
	out := fs.String("json", "", "also write the report as JSON to this file")
	md := fs.String("markdown", "", "also write the report as Markdown tables to this file")
	seed := fs.Uint64("seed", 1, "seed of the synthetic data")
	methods := fs.String("methods", "", "comma-separated subset of embedded,chromem,pgvector,pgvector-halfvec,pgvector-binary,langchaingo (default all)")
	halfM := fs.Int("halfvec-m", 0, "HNSW m of the pgvector-halfvec method; 0: pgvector's 16")
	halfEfc := fs.Int("halfvec-ef-construction", 0, "HNSW ef_construction of the pgvector-halfvec method; 0: pgvector's 64")
	efSearch := fs.String("ef-search", "", "comma-separated hnsw.ef_search values tried, in increasing order; the smallest reaching recall@10 0.95 is used (default 40,64,100,200,400; --quick 40,64,100,200)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	bc := searchbench.Full()
	if *quick {
		bc = searchbench.Quick()
	}
	var err error
	if *sizes != "" {
		if bc.Sizes, err = ints("sizes", *sizes, 100, 5_000_000); err != nil {
			return err
		}
	}
	if *dims != "" {
		if bc.Dims, err = ints("dims", *dims, 8, 2000); err != nil {
			return err
		}
	}
	if *queries != 0 {
		if *queries < 1 || *queries > 100_000 {
			return orthocds.Invalid("queries", "must be between 1 and 100000")
		}
		bc.Queries = *queries
	}
	if *efSearch != "" {
		if bc.EfSearch, err = ints("ef-search", *efSearch, 1, 1000); err != nil {
			return err
		}
		if !slices.IsSorted(bc.EfSearch) {
			return orthocds.Invalid("ef-search", "must be in increasing order")
		}
	}
	bc.Seed = *seed
	if *methods != "" {
		for _, m := range strings.Split(*methods, ",") {
			m = strings.TrimSpace(m)
			if !slices.Contains([]string{"embedded", "chromem", "pgvector", "pgvector-halfvec", "pgvector-binary", "langchaingo"}, m) {
				return orthocds.Invalid("methods", "unknown method %q", m)
			}
			bc.Methods = append(bc.Methods, m)
		}
	}
	if *halfM != 0 && (*halfM < 2 || *halfM > 100) {
		return orthocds.Invalid("halfvec-m", "must be between 2 and 100")
	}
	if *halfEfc != 0 && (*halfEfc < 4 || *halfEfc > 1000 || *halfEfc < 2*max(*halfM, 16)) {
		return orthocds.Invalid("halfvec-ef-construction", "must be between 4 and 1000 and at least twice m")
	}
	bc.HalfM, bc.HalfEfConstruction = *halfM, *halfEfc
	bc.DatabaseURL = *dbURL
	bc.Log = stderr
	if bc.TempDir, err = os.MkdirTemp("", "orthocds-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(bc.TempDir)
	if bc.DatabaseURL == "" {
		fmt.Fprintln(stderr, "orthocds: no --database-url: the pgvector and langchaingo methods are skipped")
	}
	rep, err := searchbench.Run(ctx, bc)
	if err != nil {
		return err
	}
	rep.Print(stdout)
	if *md != "" {
		var b strings.Builder
		rep.Markdown(&b)
		if err := os.WriteFile(*md, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	if *out != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(*out, append(b, '\n'), 0o644)
	}
	return nil
}

func ints(field, s string, lo, hi int) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < lo || n > hi {
			return nil, orthocds.Invalid(field, "must be comma-separated whole numbers between %d and %d", lo, hi)
		}
		out = append(out, n)
	}
	return out, nil
}
