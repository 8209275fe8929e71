package evals

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/orthocds/orthocds/predictors/model"
)

// Report summarises a run's records.
type Report struct {
	Meta  Meta         `json:"meta"`
	Tasks []TaskReport `json:"tasks"`
}

// TaskReport is one task's metrics, overall and by group.
type TaskReport struct {
	ID      string             `json:"id"`
	Type    string             `json:"type"`
	N       int                `json:"n"`
	Metrics map[string]float64 `json:"metrics"`
	// Groups break the metrics down: "lang:zh", "topic:vte", ...
	Groups  map[string]map[string]float64 `json:"groups,omitempty"`
	Latency Latency                       `json:"latency_ms"`
	Skipped string                        `json:"skipped,omitempty"`
	// LoadErrors are the input records that could not be read.
	LoadErrors []LoadError `json:"load_errors,omitempty"`
	// Calibration is a predictor task's calibration curve.
	Calibration []model.CalibrationBin `json:"calibration,omitempty"`
}

// Latency percentiles of the calls that answered the items, milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// RetrievalMetrics computes hit@1, recall@5, recall@10, MRR and nDCG@10 over
// records of a retrieval task. Recall@k is the share of each question's
// gold entries found in its top k; hit@1 whether the first result is gold;
// nDCG uses binary relevance.
func RetrievalMetrics(recs []Record) map[string]float64 {
	m := map[string]float64{}
	if len(recs) == 0 {
		return m
	}
	var hit1, r5, r10, mrr, ndcg float64
	for _, r := range recs {
		if len(r.Hits) > 0 && r.Hits[0] == 1 {
			hit1++
		}
		if len(r.Hits) > 0 {
			mrr += 1 / float64(r.Hits[0])
		}
		var f5, f10, dcg float64
		for _, h := range r.Hits {
			if h <= 5 {
				f5++
			}
			if h <= 10 {
				f10++
				dcg += 1 / math.Log2(float64(h)+1)
			}
		}
		var ideal float64
		for i := 1; i <= min(r.NGold, 10); i++ {
			ideal += 1 / math.Log2(float64(i)+1)
		}
		if r.NGold > 0 {
			r5 += f5 / float64(min(r.NGold, 5))
			r10 += f10 / float64(min(r.NGold, 10))
			ndcg += dcg / ideal
		}
	}
	n := float64(len(recs))
	m["hit@1"], m["recall@5"], m["recall@10"], m["mrr"], m["ndcg@10"] = hit1/n, r5/n, r10/n, mrr/n, ndcg/n
	return m
}

// AbstentionMetrics: the share of out-of-scope questions abstained on, and
// of in-scope questions wrongly abstained on.
func AbstentionMetrics(recs []Record) map[string]float64 {
	var out, outAb, in, inAb float64
	for _, r := range recs {
		if r.InScope {
			in++
			if r.Abstain {
				inAb++
			}
		} else {
			out++
			if r.Abstain {
				outAb++
			}
		}
	}
	m := map[string]float64{}
	if out > 0 {
		m["correct_abstention"] = outAb / out
	}
	if in > 0 {
		m["wrong_abstention"] = inAb / in
	}
	return m
}

// Summarise turns records into a report, in the suite's task order.
func Summarise(meta Meta, recs []Record) *Report {
	rep := &Report{Meta: meta}
	for _, t := range meta.Suite.Tasks {
		var mine []Record
		for _, r := range recs {
			if r.Task == t.ID {
				mine = append(mine, r)
			}
		}
		// Records are kept in the order they were written; sort by item so
		// that a resumed run reports exactly like an uninterrupted one.
		sort.SliceStable(mine, func(i, j int) bool { return mine[i].Item < mine[j].Item })
		metrics := RetrievalMetrics
		switch t.Type {
		case "abstention":
			metrics = AbstentionMetrics
		case "rubric":
			metrics = RubricMetrics
		case "exam":
			metrics = ExamMetrics
		case "citation":
			metrics = CitationMetrics
		}
		tr := TaskReport{ID: t.ID, Type: t.Type, N: len(mine), Metrics: metrics(mine), Groups: map[string]map[string]float64{}}
		groups := map[string][]Record{}
		for _, r := range mine {
			if r.Lang != "" {
				groups["lang:"+r.Lang] = append(groups["lang:"+r.Lang], r)
			}
			if r.Topic != "" {
				groups["topic:"+r.Topic] = append(groups["topic:"+r.Topic], r)
			}
		}
		for g, rs := range groups {
			tr.Groups[g] = metrics(rs)
		}
		var ms []float64
		for _, r := range mine {
			ms = append(ms, r.Millis)
		}
		slices.Sort(ms)
		tr.Latency = Latency{P50: pct(ms, 0.5), P95: pct(ms, 0.95), P99: pct(ms, 0.99)}
		rep.Tasks = append(rep.Tasks, tr)
	}
	return rep
}

func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1)+0.5)]
}

// Write stores report.json and report.html in dir.
func (r *Report) Write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "report.html"))
	if err != nil {
		return err
	}
	defer f.Close()
	return reportPage.Execute(f, r)
}

// bar is one horizontal bar of a plot, its width in percent.
type bar struct {
	Label string
	Value float64
	Width float64
}

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"f3": func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"keys": func(m map[string]float64) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	},
	"groupKeys": func(m map[string]map[string]float64) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	},
	"bars": func(m map[string]float64) []bar {
		var bs []bar
		for k, v := range m {
			bs = append(bs, bar{Label: k, Value: v, Width: math.Max(0, math.Min(1, v)) * 100})
		}
		sort.Slice(bs, func(i, j int) bool { return bs[i].Label < bs[j].Label })
		return bs
	},
	"get": func(m map[string]map[string]float64, g, k string) string {
		v, ok := m[g][k]
		if !ok {
			return ""
		}
		return fmt.Sprintf("%.3f", v)
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>OrthoCDS evaluation: {{.Meta.Suite.Name}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#1a1a1a}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}.plot{margin:.5rem 0 1.5rem}
.row{display:flex;align-items:center;gap:.5rem;margin:.15rem 0}.row span{width:10rem;font-size:.9rem}
.row svg{flex:1;height:1rem}.meta{color:#555;font-size:.9rem}
</style></head><body>
<h1>Evaluation: {{.Meta.Suite.Name}}</h1>
<p class="meta">Embedding model {{.Meta.Model.Name}} ({{.Meta.Model.Dim}} d); corpus {{.Meta.CorpusVersion}};
language model: {{if .Meta.LLM}}{{.Meta.LLM}}{{else}}none (tasks that need one are skipped){{end}}; suite {{.Meta.SuiteHash}}, seed {{.Meta.Suite.Seed}}.</p>
{{range .Tasks}}
<section id="task-{{.ID}}">
<h2>{{.ID}} <small>({{.Type}}, {{.N}} items)</small></h2>
{{if .LoadErrors}}<p>Records that could not be read (skipped):</p><ul>{{range .LoadErrors}}<li>{{.File}} line {{.Line}}: {{.Reason}}</li>{{end}}</ul>{{end}}
{{if .Skipped}}<p>Skipped: {{.Skipped}}</p>{{else}}
<div class="plot" role="img" aria-label="metrics of {{.ID}}">
{{range bars .Metrics}}<div class="row"><span>{{.Label}} {{f3 .Value}}</span><svg viewBox="0 0 100 10" preserveAspectRatio="none"><rect class="bar" x="0" y="0" width="{{.Width}}" height="10" fill="#2b6cb0"></rect></svg></div>
{{end}}</div>
{{$t := .}}
<table><tr><th>group</th>{{range keys .Metrics}}<th>{{.}}</th>{{end}}</tr>
<tr><td>all</td>{{range keys .Metrics}}<td>{{f3 (index $t.Metrics .)}}</td>{{end}}</tr>
{{range $g := groupKeys .Groups}}<tr><td>{{$g}}</td>{{range keys $t.Metrics}}<td>{{get $t.Groups $g .}}</td>{{end}}</tr>
{{end}}</table>
{{if .Calibration}}<table><tr><th>calibration bin</th><th>rows</th><th>predicted</th><th>observed</th></tr>
{{range $i, $b := .Calibration}}<tr><td>{{$i}}</td><td>{{$b.N}}</td><td>{{f3 $b.MeanPredicted}}</td><td>{{f3 $b.Observed}}</td></tr>
{{end}}</table>{{end}}
<p class="meta">Latency per answering call: p50 {{.Latency.P50}} ms, p95 {{.Latency.P95}} ms, p99 {{.Latency.P99}} ms.</p>
{{end}}
</section>
{{end}}
</body></html>
`))
