package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/loadgen"
)

// runLoad drives a running OrthoCDS server on loopback with concurrent
// sidebar clients: each opening posts a synthetic patient's bundle to
// /v1/patient-cards (every service's cards, the local-document search
// included). It reports throughput, latency percentiles, errors and the
// server's peak resident memory read from its /metrics.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "the server (loopback only)")
	clients := fs.Int("clients", 200, "concurrent sidebar clients")
	duration := fs.Duration("duration", 60*time.Second, "how long")
	key := fs.String("key", "", "API key (clinician or admin) when the server requires one")
	out := fs.String("json", "", "also write the result as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*base)
	if err != nil || u.Host == "" {
		return orthocds.Invalid("url", "is not a URL")
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return orthocds.Invalid("url", "load tests run against loopback only (127.0.0.1 or localhost)")
	}
	ps, err := cdshooks.SyntheticPatients()
	if err != nil {
		return err
	}
	var reqs []loadgen.Request
	header := http.Header{}
	if *key != "" {
		header.Set("Authorization", "Bearer "+*key)
	}
	for _, p := range ps {
		b, _ := json.Marshal(map[string]any{"bundle": json.RawMessage(p.Bundle), "lang": p.Lang})
		reqs = append(reqs, loadgen.Request{Path: "/v1/patient-cards", Body: b, Header: header})
	}
	peak := &peakRSS{url: strings.TrimSuffix(*base, "/") + "/metrics"}
	pctx, stop := context.WithCancel(ctx)
	go peak.watch(pctx)
	res, err := loadgen.Run(ctx, loadgen.Config{BaseURL: strings.TrimSuffix(*base, "/"), Clients: *clients, Duration: *duration,
		Warmup: 3 * time.Second, Requests: reqs})
	stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sidebar openings (POST /v1/patient-cards, %d synthetic patients): %s\n", len(reqs), res)
	if mb := peak.max() / (1 << 20); mb > 0 {
		fmt.Fprintf(stdout, "server peak resident memory: %.0f MiB\n", mb)
	}
	if *out != "" {
		b, _ := json.MarshalIndent(map[string]any{"result": res, "peak_rss_mib": peak.max() / (1 << 20)}, "", "  ")
		return os.WriteFile(*out, append(b, '\n'), 0o644)
	}
	return nil
}

// peakRSS samples process_resident_memory_bytes from /metrics each second.
type peakRSS struct {
	url string
	mu  sync.Mutex
	v   float64
}

func (p *peakRSS) watch(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if resp, err := http.Get(p.url); err == nil {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
					if f, err := strconv.ParseFloat(v, 64); err == nil {
						p.mu.Lock()
						p.v = max(p.v, f)
						p.mu.Unlock()
					}
				}
			}
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *peakRSS) max() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.v
}
