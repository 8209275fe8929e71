// Package loadgen drives a running OrthoCDS server with many concurrent
// clients, each sending requests one after another for a fixed time, and
// reports throughput, latency percentiles and errors. It measures what a
// hospital sees: the whole HTTP path on loopback, JSON included.
package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orthocds/orthocds"
)

// Request is one request a client may send.
type Request struct {
	Method string // default POST
	Path   string
	Body   []byte
	Header http.Header
}

// Config is one load run.
type Config struct {
	BaseURL  string
	Clients  int
	Duration time.Duration
	// Warmup runs before measuring (the first requests fill caches).
	Warmup   time.Duration
	Requests []Request // each client cycles through them from its own offset
	HTTP     *http.Client
}

// Result is what a run measured.
type Result struct {
	Clients    int            `json:"clients"`
	Seconds    float64        `json:"seconds"`
	Requests   int            `json:"requests"`
	Errors     int            `json:"errors"` // transport errors and non-2xx answers
	Status     map[string]int `json:"status"`
	Throughput float64        `json:"requests_per_second"`
	P50        float64        `json:"p50_ms"`
	P95        float64        `json:"p95_ms"`
	P99        float64        `json:"p99_ms"`
	Max        float64        `json:"max_ms"`
}

// Run drives the server.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Clients < 1 || cfg.Clients > 10_000 {
		return Result{}, orthocds.Invalid("clients", "must be between 1 and 10000")
	}
	if len(cfg.Requests) == 0 {
		return Result{}, orthocds.Invalid("requests", "at least one request")
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients, MaxConnsPerHost: cfg.Clients}}
	}
	if cfg.Warmup > 0 {
		if _, err := run(ctx, hc, cfg, cfg.Warmup); err != nil {
			return Result{}, err
		}
	}
	return run(ctx, hc, cfg, cfg.Duration)
}

type sample struct {
	ms     float64
	status int
}

func run(ctx context.Context, hc *http.Client, cfg Config, d time.Duration) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	per := make([][]sample, cfg.Clients)
	var transport atomic.Int64
	start := time.Now()
	for c := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ctx.Err() == nil; i++ {
				rq := cfg.Requests[i%len(cfg.Requests)]
				method := rq.Method
				if method == "" {
					method = http.MethodPost
				}
				req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), method, cfg.BaseURL+rq.Path, bytes.NewReader(rq.Body))
				if err != nil {
					transport.Add(1)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				for k, vs := range rq.Header {
					req.Header[k] = vs
				}
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					transport.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				per[c] = append(per[c], sample{float64(time.Since(t0).Microseconds()) / 1000, resp.StatusCode})
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	res := Result{Clients: cfg.Clients, Seconds: elapsed, Status: map[string]int{}, Errors: int(transport.Load())}
	var ms []float64
	for _, ss := range per {
		for _, s := range ss {
			ms = append(ms, s.ms)
			res.Status[fmt.Sprint(s.status)]++
			if s.status < 200 || s.status > 299 {
				res.Errors++
			}
		}
	}
	if transport.Load() > 0 {
		res.Status["transport-error"] = int(transport.Load())
	}
	res.Requests = len(ms)
	if len(ms) == 0 {
		return res, fmt.Errorf("loadgen: no request completed")
	}
	slices.Sort(ms)
	q := func(p float64) float64 { return ms[min(len(ms)-1, int(p*float64(len(ms))))] }
	res.Throughput = float64(len(ms)) / elapsed
	res.P50, res.P95, res.P99, res.Max = q(0.5), q(0.95), q(0.99), ms[len(ms)-1]
	return res, nil
}

// String is a one-line summary.
func (r Result) String() string {
	return fmt.Sprintf("%d clients, %.0f s: %d requests (%.0f/s), p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms, %d errors",
		r.Clients, r.Seconds, r.Requests, r.Throughput, r.P50, r.P95, r.P99, r.Max, r.Errors)
}
