package evals

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Change is one metric compared between two runs on the items both ran.
type Change struct {
	Task   string  `json:"task"`
	Model  string  `json:"model,omitempty"`
	Metric string  `json:"metric"`
	N      int     `json:"n"` // paired items
	A      float64 `json:"a"`
	B      float64 `json:"b"`
	Diff   float64 `json:"diff"` // B - A
	Low    float64 `json:"ci_low"`
	High   float64 `json:"ci_high"`
	// Verdict is "better", "worse" or "no clear change": better or worse
	// only when the 95% bootstrap interval of the difference excludes 0.
	Verdict string `json:"verdict"`
}

// itemScores are the per-item values the compared metrics average.
// Latency calls are not compared: their times depend on the machine's
// load more than on the change.
func itemScores(r Record) map[string]float64 {
	switch {
	case r.NGold > 0: // retrieval
		m := map[string]float64{"hit@1": 0, "recall@10": 0, "mrr": 0}
		if len(r.Hits) > 0 {
			if r.Hits[0] == 1 {
				m["hit@1"] = 1
			}
			m["mrr"] = 1 / float64(r.Hits[0])
		}
		found := 0
		for _, h := range r.Hits {
			if h <= 10 {
				found++
			}
		}
		m["recall@10"] = float64(found) / float64(min(r.NGold, 10))
		return m
	case r.Rubric:
		if r.Score == nil {
			return nil // unscorable in this run
		}
		return map[string]float64{"score": *r.Score}
	case r.Mode != "": // exam
		return map[string]float64{"accuracy_" + r.Mode: b2f(r.Correct)}
	case r.Citation != nil:
		if r.Citation.Citations == 0 {
			return nil
		}
		return map[string]float64{"citation_precision": float64(r.Citation.Supported) / float64(r.Citation.Citations)}
	case r.InScope:
		return map[string]float64{"wrong_abstention": b2f(r.Abstain)}
	case r.Abstain || r.Answered:
		return map[string]float64{"correct_abstention": b2f(r.Abstain)}
	}
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Compare pairs the records of runs a and b by task, model and item and states,
// for every metric, the difference and its 95% bootstrap interval (2000
// resamples of the paired items, fixed seed, so the verdict is
// reproducible). For wrong_abstention lower is better.
func Compare(a, b []Record) []Change {
	type pair struct{ a, b float64 }
	byKey := map[string]Record{}
	for _, r := range a {
		byKey[key(r.Task, r.Model, r.Item)] = r
	}
	series := map[[3]string][]pair{}
	var order [][3]string
	for _, rb := range b {
		ra, ok := byKey[key(rb.Task, rb.Model, rb.Item)]
		if !ok {
			continue
		}
		sa, sb := itemScores(ra), itemScores(rb)
		for m, vb := range sb {
			va, ok := sa[m]
			if !ok {
				continue
			}
			k := [3]string{rb.Task, rb.Model, m}
			if _, seen := series[k]; !seen {
				order = append(order, k)
			}
			series[k] = append(series[k], pair{va, vb})
		}
	}
	slices.SortFunc(order, func(x, y [3]string) int {
		return cmp.Or(strings.Compare(x[0], y[0]), strings.Compare(x[1], y[1]), strings.Compare(x[2], y[2]))
	})
	rng := rand.New(rand.NewPCG(7, 7))
	var out []Change
	for _, k := range order {
		ps := series[k]
		var sa, sb float64
		d := make([]float64, len(ps))
		for i, p := range ps {
			sa += p.a
			sb += p.b
			d[i] = p.b - p.a
		}
		n := float64(len(ps))
		c := Change{Task: k[0], Model: k[1], Metric: k[2], N: len(ps), A: sa / n, B: sb / n, Diff: (sb - sa) / n}
		c.Low, c.High = bootstrapMeanCI(d, 2000, rng)
		c.Verdict = "no clear change"
		better := c.Low > 0
		worse := c.High < 0
		if k[2] == "wrong_abstention" {
			better, worse = worse, better
		}
		switch {
		case better:
			c.Verdict = "better"
		case worse:
			c.Verdict = "worse"
		}
		out = append(out, c)
	}
	return out
}

// WriteRecords writes a run's meta and records to dir/records.jsonl, as a
// FileStore keeps them, replacing the file whole (it is written aside and
// renamed), so eval compare reads runs kept anywhere.
func WriteRecords(dir string, meta Meta, recs []Record) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".records-*.jsonl")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	enc := json.NewEncoder(f)
	if err := enc.Encode(meta); err != nil {
		f.Close()
		return err
	}
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, recordFile))
}

// ReadRecords reads a run directory's records (not its meta line).
func ReadRecords(dir string) ([]Record, error) {
	f, err := os.Open(filepath.Join(dir, recordFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			break // a torn last line
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// bootstrapMeanCI is the 95% percentile interval of the mean of xs over
// reps resamples with replacement.
func bootstrapMeanCI(xs []float64, reps int, rng *rand.Rand) (low, high float64) {
	boots := make([]float64, reps)
	for i := range boots {
		var s float64
		for range xs {
			s += xs[rng.IntN(len(xs))]
		}
		boots[i] = s / float64(len(xs))
	}
	slices.Sort(boots)
	return boots[int(0.025*float64(reps))], boots[int(0.975*float64(reps))-1]
}

// PrintChanges writes the comparison as a table.
func PrintChanges(w io.Writer, cs []Change) {
	fmt.Fprintf(w, "%-12s %-24s %-20s %6s %8s %8s %8s  %-19s %s\n", "task", "model", "metric", "n", "A", "B", "B-A", "95% CI", "verdict")
	for _, c := range cs {
		ci := fmt.Sprintf("[%+.3f, %+.3f]", c.Low, c.High)
		if math.IsNaN(c.Low) {
			ci = "-"
		}
		model := c.Model
		if model == "" {
			model = "-"
		}
		fmt.Fprintf(w, "%-12s %-24s %-20s %6d %8.3f %8.3f %+8.3f  %-19s %s\n", c.Task, model, c.Metric, c.N, c.A, c.B, c.Diff, ci, c.Verdict)
	}
}
