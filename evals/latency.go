package evals

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/rag"
)

// latency times search or ask calls over the questions of t.Data, cycling
// through them: Requests calls (default one per question), Concurrency at
// once. A search call carries Batch questions (default 1); an ask call
// one, made with each model compared (or retrieval-only without one).
func (r *Runner) latency(ctx context.Context, suite Suite, t TaskSpec, w *recordWriter) error {
	items, err := loadData(t.Data, LoadRetrieval)
	if err != nil {
		return err
	}
	n := t.Requests
	if n == 0 {
		n = len(items)
	}
	batch := max(1, t.Batch)
	k := t.K
	if k == 0 {
		k = 10
	}
	type job struct {
		c  Contestant
		id string
		at int // first question
	}
	answerers := []Contestant{{}}
	if t.Calls == "ask" {
		answerers = r.Env.answerers()
		batch = 1
	}
	var jobs []job
	for _, c := range answerers {
		for i := range n {
			id := fmt.Sprintf("call-%06d", i)
			if !w.has(t.ID, c.Name, id) {
				jobs = append(jobs, job{c, id, i * batch})
			}
		}
	}
	total := n * len(answerers)
	prog := r.counter(t.ID, total-len(jobs), total)
	return each(ctx, len(jobs), suite.concurrency(t), func(ctx context.Context, i int) error {
		j := jobs[i]
		t0 := time.Now()
		if t.Calls == "search" {
			qs := make([]rag.Query, batch)
			for q := range qs {
				qs[q] = rag.Query{Text: items[(j.at+q)%len(items)].Question, K: k}
			}
			if _, err := r.Env.Search.Search(ctx, qs); err != nil {
				return err
			}
		} else if _, err := j.c.Answer.Ask(ctx, answer.Request{Question: items[j.at%len(items)].Question}, nil); err != nil {
			return err
		}
		rec := Record{Task: t.ID, Model: j.c.Name, Item: j.id, Queries: batch,
			Start: float64(t0.UnixMicro()) / 1000, Millis: float64(time.Since(t0).Microseconds()) / 1000}
		if err := w.add(rec); err != nil {
			return err
		}
		prog.add(1)
		return nil
	})
}

// LatencyMetrics: call latency percentiles and mean in milliseconds, and
// throughput in queries a second over the time any call was running (so a
// run paused and resumed is not charged for the pause).
func LatencyMetrics(recs []Record) map[string]float64 {
	if len(recs) == 0 {
		return map[string]float64{}
	}
	ms := make([]float64, len(recs))
	spans := make([][2]float64, len(recs))
	var sum float64
	queries := 0
	for i, r := range recs {
		ms[i] = r.Millis
		sum += r.Millis
		queries += r.Queries
		spans[i] = [2]float64{r.Start, r.Start + r.Millis}
	}
	slices.Sort(ms)
	m := map[string]float64{"calls": float64(len(recs)), "mean_ms": sum / float64(len(recs)),
		"p50_ms": pct(ms, 0.5), "p95_ms": pct(ms, 0.95), "p99_ms": pct(ms, 0.99)}
	if busy := unionLength(spans); busy > 0 {
		m["throughput_qps"] = float64(queries) / (busy / 1000)
	}
	return m
}

// unionLength is the total length covered by the intervals.
func unionLength(spans [][2]float64) float64 {
	slices.SortFunc(spans, func(a, b [2]float64) int { return cmp.Compare(a[0], b[0]) })
	var total, lo, hi float64
	lo, hi = math.Inf(-1), math.Inf(-1)
	for _, s := range spans {
		if s[0] > hi {
			if hi > lo {
				total += hi - lo
			}
			lo, hi = s[0], s[1]
			continue
		}
		hi = max(hi, s[1])
	}
	if hi > lo {
		total += hi - lo
	}
	return total
}

// HistBin is one bar of a latency histogram: calls that took from Low up
// to High milliseconds.
type HistBin struct {
	Low  float64 `json:"low_ms"`
	High float64 `json:"high_ms"`
	N    int     `json:"n"`
}

// histogram puts sorted latencies into log-spaced bins (latencies span
// orders of magnitude: a cached search against an LLM answer).
func histogram(sorted []float64, bins int) []HistBin {
	if len(sorted) == 0 {
		return nil
	}
	lo, hi := math.Max(sorted[0], 0.001), math.Max(sorted[len(sorted)-1], 0.001)
	if hi <= lo*1.0001 {
		return []HistBin{{Low: sorted[0], High: sorted[len(sorted)-1], N: len(sorted)}}
	}
	step := math.Log(hi/lo) / float64(bins)
	out := make([]HistBin, bins)
	for i := range out {
		out[i].Low = lo * math.Exp(step*float64(i))
		out[i].High = lo * math.Exp(step*float64(i+1))
	}
	for _, v := range sorted {
		i := int(math.Log(math.Max(v, lo)/lo) / step)
		out[min(max(i, 0), bins-1)].N++
	}
	return out
}
