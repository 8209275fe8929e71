package searchbench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orthocds/orthocds/postgres"
)

// Config chooses what a run measures.
type Config struct {
	Sizes   []int // vectors per corpus
	Dims    []int
	Batches []int // batch sizes for the batched methods
	Queries int   // queries per corpus
	K       int
	Seed    uint64
	// EfSearch are the hnsw.ef_search values tried; the smallest reaching
	// recall@K >= MinRecall at batch 64 is used for the batch-size runs.
	EfSearch  []int
	MinRecall float64
	// BinaryCandidates are the candidate counts tried for the binary
	// quantization method, chosen the same way.
	BinaryCandidates []int
	// LoopQueries caps the queries sent to the one-query-at-a-time
	// baselines, which are slow on large corpora.
	LoopQueries int
	// DatabaseURL enables the PostgreSQL methods; empty skips them.
	DatabaseURL string
	// Methods, when set, keeps only these: embedded, chromem, pgvector,
	// pgvector-halfvec, pgvector-binary, langchaingo.
	Methods []string
	// Half is the representation measured as pgvector-halfvec beside
	// today's (4-byte vector, pgvector's default build parameters): halfvec
	// with these HNSW build parameters (0: pgvector's defaults).
	HalfM, HalfEfConstruction int
	TempDir                   string
	Log                       io.Writer // progress lines; nil is quiet
}

// Quick is the CI configuration: 10k vectors, both dimensions.
func Quick() Config {
	return Config{Sizes: []int{10_000}, Dims: []int{384, 768}, Batches: []int{1, 8, 64, 256}, Queries: 256, K: 10,
		Seed: 1, EfSearch: []int{40, 64, 100, 200}, MinRecall: 0.95, LoopQueries: 64, BinaryCandidates: []int{40, 80, 160, 320}}
}

// Full is the configuration behind docs/benchmarks.md.
func Full() Config {
	c := Quick()
	c.Sizes = []int{10_000, 100_000, 1_000_000}
	c.Queries = 512
	c.EfSearch = []int{40, 64, 100, 200, 400}
	c.LoopQueries = 32
	return c
}

// Result is one method at one batch size on one corpus.
type Result struct {
	N       int     `json:"n"`
	Dim     int     `json:"dim"`
	Method  string  `json:"method"`
	Batch   int     `json:"batch"`
	Queries int     `json:"queries"`
	QPS     float64 `json:"queries_per_second"`
	P50     float64 `json:"p50_ms_per_batch"`
	P99     float64 `json:"p99_ms_per_batch"`
	Recall  float64 `json:"recall_at_k"`
	// Selectivity is the share of rows a filtered search keeps; 0 for an
	// unfiltered one.
	Selectivity float64 `json:"selectivity,omitempty"`
}

// Load is how one method loaded one corpus.
type Load struct {
	N            int     `json:"n"`
	Dim          int     `json:"dim"`
	Method       string  `json:"method"`
	VectorsPerS  float64 `json:"vectors_per_second"`
	CopySeconds  float64 `json:"copy_seconds"`
	IndexSeconds float64 `json:"index_seconds"`
	MemoryBytes  int64   `json:"memory_bytes"` // heap growth in process, or table and index size in PostgreSQL
}

// Ratio is a target of the benchmark issue, measured.
type Ratio struct {
	N      int     `json:"n"`
	Dim    int     `json:"dim"`
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target string  `json:"target"`
	Met    bool    `json:"met"`
}

// Machine describes where the run happened.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GoVersion  string `json:"go"`
	PostgreSQL string `json:"postgresql,omitempty"`
	PgVector   string `json:"pgvector,omitempty"`
	// BandwidthGBs is one core's measured streaming read rate over the
	// largest corpus, the floor for an exact single-query scan.
	BandwidthGBs float64 `json:"bandwidth_gb_per_s"`
	// PeakRSSBytes is the benchmark process's peak resident memory (the
	// in-process stores and the data); PostgreSQL's share is the table
	// and index sizes under Loads.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// Report is a whole run.
type Report struct {
	When    time.Time `json:"when"`
	Machine Machine   `json:"machine"`
	Config  Config    `json:"config"`
	Loads   []Load    `json:"loads"`
	Results []Result  `json:"results"`
	Ratios  []Ratio   `json:"ratios"`
}

// Run measures every method on every corpus of cfg.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	r := &Report{When: time.Now().UTC(), Config: cfg}
	r.Config.Log = nil
	for _, dim := range cfg.Dims {
		for _, n := range cfg.Sizes {
			if err := ctx.Err(); err != nil {
				return r, err
			}
			if err := r.corpus(ctx, cfg, n, dim); err != nil {
				return r, fmt.Errorf("%d x %d: %w", n, dim, err)
			}
		}
	}
	bw := r.Machine.BandwidthGBs
	r.Machine = machine(ctx, cfg.DatabaseURL) // after the stores created the extension
	r.Machine.BandwidthGBs = bw
	r.Machine.PeakRSSBytes = peakRSS()
	return r, nil
}

func (r *Report) logf(cfg Config, format string, args ...any) {
	if cfg.Log != nil {
		fmt.Fprintf(cfg.Log, format+"\n", args...)
	}
}

func (r *Report) corpus(ctx context.Context, cfg Config, n, dim int) error {
	r.logf(cfg, "corpus %d x %d: generating", n, dim)
	d := Generate(n, dim, cfg.Queries, cfg.Seed+uint64(n)*31+uint64(dim))
	took := d.ComputeTruth(cfg.K)
	r.logf(cfg, "corpus %d x %d: exact top-%d of %d queries in %s", n, dim, cfg.K, cfg.Queries, took.Round(time.Millisecond))
	bw := d.MemoryBandwidth()
	r.Machine.BandwidthGBs = max(r.Machine.BandwidthGBs, bw/1e9)
	qs := make([][]float32, d.NumQueries())
	for i := range qs {
		qs[i] = d.Query(i)
	}

	want := func(m string) bool { return len(cfg.Methods) == 0 || slices.Contains(cfg.Methods, m) }
	var methods []Method
	if want("embedded") {
		methods = append(methods, NewEmbedded(filepath.Join(cfg.TempDir, fmt.Sprintf("embedded-%d-%d", n, dim))))
	}
	if want("chromem") {
		methods = append(methods, &Chromem{})
	}
	if cfg.DatabaseURL != "" && want("pgvector") {
		// Today's: 4-byte vectors, pgvector's default build parameters,
		// every filtered query on HNSW.
		methods = append(methods, &Postgres{URL: cfg.DatabaseURL, Schema: fmt.Sprintf("bench_ours_%d_%d", n, dim), EfSearch: cfg.EfSearch[0],
			ExactBelow: -1})
	}
	if cfg.DatabaseURL != "" && want("pgvector-halfvec") {
		methods = append(methods, &Postgres{URL: cfg.DatabaseURL, Schema: fmt.Sprintf("bench_half_%d_%d", n, dim), EfSearch: cfg.EfSearch[0],
			Index: postgres.IndexOptions{VectorType: postgres.VectorFloat16, M: cfg.HalfM, EfConstruction: cfg.HalfEfConstruction}})
	}
	if cfg.DatabaseURL != "" && want("pgvector-binary") {
		methods = append(methods, &Binary{URL: cfg.DatabaseURL, Schema: fmt.Sprintf("bench_bin_%d_%d", n, dim), Candidates: cfg.BinaryCandidates[0]})
	}
	if cfg.DatabaseURL != "" && want("langchaingo") {
		methods = append(methods, &Langchain{URL: cfg.DatabaseURL, Schema: fmt.Sprintf("bench_lc_%d_%d", n, dim)})
	}
	res := map[string]Result{} // key: method at batch
	for _, m := range methods {
		if err := r.method(ctx, cfg, d, qs, m, bw, res); err != nil {
			m.Close()
			return fmt.Errorf("%s: %w", m.Name(), err)
		}
		if err := m.Close(); err != nil {
			return err
		}
	}
	r.ratios(n, dim, d, bw, res)
	return nil
}

// method loads and measures one method.
func (r *Report) method(ctx context.Context, cfg Config, d *Dataset, qs [][]float32, m Method,
	bw float64, res map[string]Result) error {
	tn, _ := m.(tuner)
	r.logf(cfg, "  %s: loading", m.Name())
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	lt, err := m.Load(ctx, d)
	if err != nil {
		return err
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	mem := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	// A PostgreSQL method's memory is its table and indexes, not the
	// process heap.
	if t, ok := m.(interface{ tableBytes(context.Context) int64 }); ok {
		mem = t.tableBytes(ctx)
	}
	name := m.Name()
	if tn != nil {
		name = tn.label() + " (ours, HNSW)"
	}
	total := lt.Copy + lt.Index
	r.Loads = append(r.Loads, Load{N: d.N, Dim: d.Dim, Method: name, VectorsPerS: float64(d.N) / lt.Copy.Seconds(),
		CopySeconds: lt.Copy.Seconds(), IndexSeconds: lt.Index.Seconds(), MemoryBytes: mem})
	r.logf(cfg, "  %s: loaded in %s (index %s)", name, total.Round(time.Millisecond), lt.Index.Round(time.Millisecond))

	if !m.Batched() {
		n := min(cfg.LoopQueries, len(qs))
		out, err := r.measure(ctx, cfg, d, qs[:n], m, name, 1)
		if err != nil {
			return err
		}
		res[name+"/1"] = out
		return nil
	}
	batches := cfg.Batches
	if tn != nil {
		// Choose the setting: the smallest value whose recall at batch 64
		// reaches the bound.
		chosen := 0
		grid := tn.grid(cfg)
		qps, always := map[int]float64{}, map[int]float64{}
		for _, ef := range grid {
			if err := tn.tune(ctx, ef); err != nil {
				return err
			}
			out, err := r.measure(ctx, cfg, d, qs, m, tn.Name(), 64)
			if err != nil {
				return err
			}
			qps[ef] = out.QPS
			if out.Recall >= cfg.MinRecall && chosen == 0 {
				chosen = ef
			}
			// The PostgreSQL store turns iterative scans on only for the
			// batches that need them; today's setting, on for every batch,
			// is measured beside it.
			if p, ok := m.(*Postgres); ok {
				p.AlwaysIterative = true
				err := tn.tune(ctx, ef)
				if err == nil {
					out, err = r.measure(ctx, cfg, d, qs, m, tn.Name()+", iterative scans always", 64)
					always[ef] = out.QPS
				}
				p.AlwaysIterative = false
				if err != nil {
					return err
				}
			}
		}
		if chosen == 0 {
			chosen = grid[len(grid)-1]
		}
		if always[chosen] > 0 {
			r.Ratios = append(r.Ratios, Ratio{N: d.N, Dim: d.Dim, Value: qps[chosen] / always[chosen], Target: "(no target)", Met: true,
				Name: fmt.Sprintf("%s queries/s at batch 64, iterative scans as needed over always (ef_search %d)", tn.label(), chosen)})
		}
		if err := tn.tune(ctx, chosen); err != nil {
			return err
		}
		name = tn.Name()
		r.logf(cfg, "  %s chosen", tn.Name())
	}
	for _, b := range batches {
		out, err := r.measure(ctx, cfg, d, qs, m, name, b)
		if err != nil {
			return err
		}
		key := m.Name()
		if tn != nil {
			key = tn.label()
		}
		res[key+"/"+fmt.Sprint(b)] = out
	}
	if f, ok := m.(Filterer); ok {
		for _, share := range Selectivities {
			if err := r.filtered(ctx, cfg, d, qs, f, name, share); err != nil {
				return err
			}
		}
	}
	return nil
}

// filtered measures searches keeping a share of the rows, at batch 64,
// against the exact top k among those rows.
func (r *Report) filtered(ctx context.Context, cfg Config, d *Dataset, qs [][]float32, f Filterer, name string, share float64) error {
	const b = 64
	truth := d.FilteredTruth(cfg.K, share)
	var got [][]int
	start := time.Now()
	for i := 0; i < len(qs); i += b {
		out, err := f.SearchFiltered(ctx, qs[i:min(i+b, len(qs))], cfg.K, share)
		if err != nil {
			return err
		}
		got = append(got, out...)
	}
	el := time.Since(start)
	res := Result{N: d.N, Dim: d.Dim, Method: fmt.Sprintf("%s, filter keeping %g%%", name, share*100), Batch: b, Queries: len(qs),
		QPS: float64(len(qs)) / el.Seconds(), Recall: recallAgainst(truth, got), Selectivity: share}
	r.Results = append(r.Results, res)
	r.logf(cfg, "    filter %5.1f%%: %9.1f queries/s, recall@%d %.3f", share*100, res.QPS, cfg.K, res.Recall)
	return nil
}

// measure sends qs in batches of b (one warm-up batch first) and records
// throughput, per-batch latency and recall.
func (r *Report) measure(ctx context.Context, cfg Config, d *Dataset, qs [][]float32, m Method, name string, b int) (Result, error) {
	if _, err := m.Search(ctx, qs[:min(b, len(qs))], cfg.K); err != nil {
		return Result{}, err
	}
	var lat []time.Duration
	var got [][]int
	start := time.Now()
	for i := 0; i < len(qs); i += b {
		if err := ctx.Err(); err != nil {
			return Result{}, err // interrupted
		}
		t0 := time.Now()
		out, err := m.Search(ctx, qs[i:min(i+b, len(qs))], cfg.K)
		if err != nil {
			return Result{}, err
		}
		lat = append(lat, time.Since(t0))
		got = append(got, out...)
	}
	el := time.Since(start)
	slices.Sort(lat)
	res := Result{N: d.N, Dim: d.Dim, Method: name, Batch: b, Queries: len(qs),
		QPS: float64(len(qs)) / el.Seconds(), P50: ms(percentile(lat, 0.50)), P99: ms(percentile(lat, 0.99)),
		Recall: d.Recall(0, got)}
	r.Results = append(r.Results, res)
	r.logf(cfg, "    batch %3d: %9.1f queries/s, p50 %8.2f ms, p99 %8.2f ms, recall@%d %.3f",
		b, res.QPS, res.P50, res.P99, cfg.K, res.Recall)
	return res, nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)-1) + 0.5)
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// A tuner is a method with one search-time setting that trades speed for
// recall: HNSW's ef_search, or the candidates a binary index passes to
// re-scoring. The run takes the smallest value of its grid whose recall at
// batch 64 reaches MinRecall.
type tuner interface {
	Method
	label() string
	grid(cfg Config) []int
	tune(ctx context.Context, v int) error
}

func (p *Postgres) grid(cfg Config) []int                 { return cfg.EfSearch }
func (p *Postgres) tune(ctx context.Context, v int) error { return p.SetEfSearch(ctx, v) }
func (b *Binary) grid(cfg Config) []int                   { return cfg.BinaryCandidates }
func (b *Binary) tune(ctx context.Context, v int) error   { return b.setCandidates(ctx, v) }

// ratios states the targets on this corpus. Targets are set for
// particular sizes; every one is computed wherever its inputs exist.
func (r *Report) ratios(n, dim int, d *Dataset, bw float64, res map[string]Result) {
	add := func(name string, v float64, target string, met bool) {
		r.Ratios = append(r.Ratios, Ratio{N: n, Dim: dim, Name: name, Value: v, Target: target, Met: met})
	}
	emb, chr := res["embedded (ours, exact)/64"], res["chromem-go (exact, loop)/1"]
	if emb.QPS > 0 && chr.QPS > 0 {
		add("embedded batch 64 / chromem-go queries/s", emb.QPS/chr.QPS, ">= 10", emb.QPS/chr.QPS >= 10)
	}
	if emb.QPS > 0 {
		switch {
		case n == 100_000 && dim == 768:
			add("embedded batch 64 queries/s", emb.QPS, ">= 250 at 100k x 768", emb.QPS >= 250)
		case n == 10_000 && dim == 384:
			add("embedded batch 64 queries/s", emb.QPS, ">= 5000 at 10k x 384", emb.QPS >= 5000)
		default:
			add("embedded batch 64 queries/s", emb.QPS, "(no target at this size)", true)
		}
	}
	if one := res["embedded (ours, exact)/1"]; one.P50 > 0 {
		floor := float64(d.N*d.Dim*4) / bw * 1000 // ms
		add("embedded single query / memory-bandwidth floor", one.P50/floor, "<= 1.2", one.P50/floor <= 1.2)
	}
	pg, lc := res["pgvector/64"], res["langchaingo pgvector (loop)/1"]
	if pg.QPS > 0 {
		if lc.QPS > 0 {
			add("pgvector batch 64 / langchaingo loop queries/s", pg.QPS/lc.QPS, ">= 50", pg.QPS/lc.QPS >= 50)
		}
		if n == 100_000 && dim == 768 {
			add("pgvector batch 64 queries/s (one connection, one core)", pg.QPS, ">= 1000 at 100k x 768", pg.QPS >= 1000)
		} else {
			add("pgvector batch 64 queries/s (one connection, one core)", pg.QPS, "(no target at this size)", true)
		}
		add("pgvector recall@10 at the chosen ef_search", pg.Recall, ">= 0.95", pg.Recall >= 0.95)
	}
	for _, l := range r.Loads {
		if l.N != n || l.Dim != dim || !strings.HasPrefix(l.Method, "pgvector") {
			continue
		}
		rep := strings.TrimSuffix(l.Method, " (ours, HNSW)")
		if dim == 768 {
			add(rep+" bulk load vectors/s", l.VectorsPerS, ">= 20000 at 768 d", l.VectorsPerS >= 20000)
		}
		if n == 100_000 && dim == 768 {
			add(rep+" HNSW build seconds", l.IndexSeconds, "<= 100 at 100k x 768", l.IndexSeconds <= 100)
		}
	}
	r.halfRatios(n, dim, res, add)
	r.binaryRatios(n, dim, res, add)
}

// binaryRatios sets binary quantization with re-scoring against the
// halfvec HNSW representation, side by side: recall, batch-64 throughput
// and memory (table and index).
func (r *Report) binaryRatios(n, dim int, res map[string]Result, add func(string, float64, string, bool)) {
	var b Binary
	bin, ok := res[b.label()+"/64"]
	if !ok {
		return
	}
	add(b.label()+" recall@10 at its chosen candidates", bin.Recall, ">= 0.95", bin.Recall >= 0.95)
	for key, half := range res {
		if name, ok := strings.CutSuffix(key, "/64"); ok && strings.HasPrefix(name, "pgvector halfvec") {
			add(b.label()+" / "+name+" batch 64 queries/s", bin.QPS/half.QPS, "(side by side)", true)
		}
	}
	var binMem, halfMem int64
	for _, l := range r.Loads {
		if l.N != n || l.Dim != dim {
			continue
		}
		switch {
		case strings.HasPrefix(l.Method, b.label()):
			binMem = l.MemoryBytes
		case strings.HasPrefix(l.Method, "pgvector halfvec"):
			halfMem = l.MemoryBytes
		}
	}
	if binMem > 0 && halfMem > 0 {
		add(b.label()+" / halfvec table + index bytes", float64(binMem)/float64(halfMem), "(side by side)", true)
	}
}

// halfRatios sets the halfvec representation against today's (4-byte
// vector), measured side by side on the same corpus and queries: memory
// (table and index), batch-64 throughput and recall, each at its own
// chosen ef_search.
func (r *Report) halfRatios(n, dim int, res map[string]Result, add func(string, float64, string, bool)) {
	var half Result
	var halfName string
	for key, v := range res {
		if name, ok := strings.CutSuffix(key, "/64"); ok && strings.HasPrefix(name, "pgvector halfvec") {
			half, halfName = v, name
		}
	}
	full := res["pgvector/64"]
	if half.QPS == 0 {
		return
	}
	add(halfName+" recall@10 at its chosen ef_search", half.Recall, ">= 0.95", half.Recall >= 0.95)
	if n == 1_000_000 && dim == 768 {
		add(halfName+" batch 64 queries/s (one connection, one core)", half.QPS, ">= 500 at 1M x 768", half.QPS >= 500)
	}
	if full.QPS > 0 {
		add(halfName+" / pgvector batch 64 queries/s", half.QPS/full.QPS, "(side by side)", true)
	}
	// Filtered search: the halfvec method answers selective filters
	// exactly (postgres.ExactBelow); today's keeps them on HNSW.
	for _, share := range Selectivities {
		var h, f Result
		for _, x := range r.Results {
			if x.N != n || x.Dim != dim || x.Selectivity != share {
				continue
			}
			switch {
			case strings.HasPrefix(x.Method, halfName+" ("):
				h = x
			case strings.HasPrefix(x.Method, "pgvector (ours"):
				f = x
			}
		}
		if h.QPS == 0 {
			continue
		}
		name := fmt.Sprintf("%s recall@10, filter keeping %g%%", halfName, share*100)
		if f.QPS > 0 {
			name += fmt.Sprintf(" (today's %.3f at %.0f queries/s; here %.0f queries/s)", f.Recall, f.QPS, h.QPS)
		}
		if share == 0.01 {
			add(name, h.Recall, ">= 0.95", h.Recall >= 0.95)
		} else {
			add(name, h.Recall, "(no target)", true)
		}
	}
	var halfMem, fullMem int64
	for _, l := range r.Loads {
		if l.N == n && l.Dim == dim {
			switch l.Method {
			case "pgvector (ours, HNSW)":
				fullMem = l.MemoryBytes
			case halfName + " (ours, HNSW)":
				halfMem = l.MemoryBytes
			}
		}
	}
	if halfMem > 0 && fullMem > 0 {
		v := float64(halfMem) / float64(fullMem)
		add(halfName+" / pgvector table and index bytes", v, "<= 0.60", v <= 0.60)
	}
}

func (p *Postgres) tableBytes(ctx context.Context) int64 {
	return relationBytes(ctx, p.URL, p.Schema, "chunks")
}

func (l *Langchain) tableBytes(ctx context.Context) int64 {
	return relationBytes(ctx, l.URL, l.Schema, "langchain_pg_embedding")
}

func relationBytes(ctx context.Context, url, schema, table string) int64 {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0
	}
	defer conn.Close(ctx)
	var n int64
	_ = conn.QueryRow(ctx, "SELECT pg_total_relation_size($1::regclass)", schema+"."+table).Scan(&n)
	return n
}

func machine(ctx context.Context, url string) Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), CPU: cpuModel()}
	if url == "" {
		return m
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return m
	}
	defer conn.Close(ctx)
	_ = conn.QueryRow(ctx, "SHOW server_version").Scan(&m.PostgreSQL)
	_ = conn.QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'vector'").Scan(&m.PgVector)
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// Print writes the report as tables.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintln(w, "SYNTHETIC clustered vectors (searchbench.Generate): no patient or guideline data")
	fmt.Fprintf(w, "machine: %s, %d cores, %s", r.Machine.CPU, r.Machine.Cores, r.Machine.GoVersion)
	if r.Machine.PostgreSQL != "" {
		fmt.Fprintf(w, ", PostgreSQL %s, pgvector %s", r.Machine.PostgreSQL, r.Machine.PgVector)
	}
	fmt.Fprintf(w, ", one-core read bandwidth %.1f GB/s, peak memory of this process %.1f GB\n\n",
		r.Machine.BandwidthGBs, float64(r.Machine.PeakRSSBytes)/1e9)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "corpus\tmethod\tvectors/s\tcopy s\tindex s\tmemory MB\t")
	for _, l := range r.Loads {
		fmt.Fprintf(tw, "%dx%d\t%s\t%.0f\t%.2f\t%.2f\t%.0f\t\n", l.N, l.Dim, l.Method, l.VectorsPerS, l.CopySeconds,
			l.IndexSeconds, float64(l.MemoryBytes)/1e6)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "corpus\tmethod\tbatch\tqueries/s\tp50 ms\tp99 ms\trecall@%d\t\n", r.Config.K)
	for _, x := range r.Results {
		fmt.Fprintf(tw, "%dx%d\t%s\t%d\t%.1f\t%.2f\t%.2f\t%.3f\t\n", x.N, x.Dim, x.Method, x.Batch, x.QPS, x.P50, x.P99, x.Recall)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "corpus\tratio\tvalue\ttarget\tmet\t")
	for _, x := range r.Ratios {
		met := "yes"
		if !x.Met {
			met = "NO"
		}
		fmt.Fprintf(tw, "%dx%d\t%s\t%.3g\t%s\t%s\t\n", x.N, x.Dim, x.Name, x.Value, x.Target, met)
	}
	tw.Flush()
}

// Markdown writes the report as Markdown tables, for docs/benchmarks.md.
func (r *Report) Markdown(w io.Writer) {
	fmt.Fprint(w, "Data: SYNTHETIC clustered vectors (searchbench.Generate).\n\n")
	fmt.Fprintf(w, "Machine: %s, %d cores, %s", r.Machine.CPU, r.Machine.Cores, r.Machine.GoVersion)
	if r.Machine.PostgreSQL != "" {
		fmt.Fprintf(w, ", PostgreSQL %s, pgvector %s", r.Machine.PostgreSQL, r.Machine.PgVector)
	}
	fmt.Fprintf(w, "; one core streams %.1f GB/s; the benchmark process peaked at %.1f GB resident. Run %s.\n\n",
		r.Machine.BandwidthGBs, float64(r.Machine.PeakRSSBytes)/1e9, r.When.Format("2006-01-02"))
	fmt.Fprintln(w, "| corpus | method | vectors/s | copy s | index s | memory MB |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|")
	for _, l := range r.Loads {
		fmt.Fprintf(w, "| %d x %d | %s | %.0f | %.2f | %.2f | %.0f |\n", l.N, l.Dim, l.Method, l.VectorsPerS,
			l.CopySeconds, l.IndexSeconds, float64(l.MemoryBytes)/1e6)
	}
	fmt.Fprintf(w, "\n| corpus | method | batch | queries/s | p50 ms | p99 ms | recall@%d |\n", r.Config.K)
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|")
	for _, x := range r.Results {
		fmt.Fprintf(w, "| %d x %d | %s | %d | %.1f | %.2f | %.2f | %.3f |\n", x.N, x.Dim, x.Method, x.Batch, x.QPS,
			x.P50, x.P99, x.Recall)
	}
	fmt.Fprintln(w, "\n| corpus | ratio | value | target | met |")
	fmt.Fprintln(w, "|---|---|--:|---|---|")
	for _, x := range r.Ratios {
		met := "yes"
		if !x.Met {
			met = "**no**"
		}
		fmt.Fprintf(w, "| %d x %d | %s | %.3g | %s | %s |\n", x.N, x.Dim, x.Name, x.Value, x.Target, met)
	}
}
