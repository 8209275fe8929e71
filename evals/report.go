package evals

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/orthocds/orthocds/predictors/model"
)

// Report summarises a run's records.
type Report struct {
	Meta  Meta         `json:"meta"`
	Tasks []TaskReport `json:"tasks"`
}

// TaskReport is one task's metrics, overall and by group.
type TaskReport struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Model is the language model whose answers were scored, for the tasks
	// that compare models; each model has its own report.
	Model   string             `json:"model,omitempty"`
	N       int                `json:"n"`
	Metrics map[string]float64 `json:"metrics"`
	// Groups break the metrics down: "lang:zh", "topic:vte", ...
	Groups  map[string]map[string]float64 `json:"groups,omitempty"`
	Latency Latency                       `json:"latency_ms"`
	Skipped string                        `json:"skipped,omitempty"`
	// LoadErrors are the input records that could not be read.
	LoadErrors []LoadError `json:"load_errors,omitempty"`
	// Calibration and ROC are a predictor task's curves.
	Calibration []model.CalibrationBin `json:"calibration,omitempty"`
	ROC         []ROCPoint             `json:"roc,omitempty"`
	// Histogram is the latency of the answering calls.
	Histogram []HistBin `json:"latency_histogram,omitempty"`
	// Failures count the items the model could not answer, by kind
	// (length, dropped, truncated, bad-reply): failed, not wrong.
	Failures map[string]int `json:"failures,omitempty"`
}

// ROCPoint is one point of a receiver operating characteristic curve.
type ROCPoint struct {
	FPR float64 `json:"fpr"`
	TPR float64 `json:"tpr"`
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

// Summarise turns records into a report, in the suite's task order and,
// within a task, one report per model in the order of the run's models.
func Summarise(meta Meta, recs []Record) *Report {
	rep := &Report{Meta: meta}
	rank := map[string]int{"": -1, retrievalOnly: len(meta.LLMs)}
	for i, m := range meta.LLMs {
		rank[m.Name] = i
	}
	for _, t := range meta.Suite.Tasks {
		byModel := map[string][]Record{}
		for _, r := range recs {
			if r.Task == t.ID {
				byModel[r.Model] = append(byModel[r.Model], r)
			}
		}
		models := slices.Collect(maps.Keys(byModel))
		slices.SortFunc(models, func(a, b string) int {
			ra, oka := rank[a]
			rb, okb := rank[b]
			if oka && okb && ra != rb {
				return cmp.Compare(ra, rb)
			}
			if oka != okb { // known models first
				return cmp.Compare(b2i(!oka), b2i(!okb))
			}
			return strings.Compare(a, b)
		})
		if len(models) == 0 {
			models = []string{""}
		}
		for _, m := range models {
			rep.Tasks = append(rep.Tasks, summariseTask(t, m, byModel[m]))
		}
	}
	return rep
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func summariseTask(t TaskSpec, modelName string, mine []Record) TaskReport {
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
	case "latency":
		metrics = LatencyMetrics
	case "grader":
		metrics = GraderMetrics
	}
	tr := TaskReport{ID: t.ID, Type: t.Type, Model: modelName, N: len(mine), Metrics: metrics(mine), Groups: map[string]map[string]float64{}}
	for _, r := range mine {
		if r.FailKind != "" || r.Failed != "" {
			if tr.Failures == nil {
				tr.Failures = map[string]int{}
			}
			tr.Failures[cmp.Or(r.FailKind, "other")]++
		}
	}
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
		if r.Millis > 0 {
			ms = append(ms, r.Millis)
		}
	}
	slices.Sort(ms)
	tr.Latency = Latency{P50: pct(ms, 0.5), P95: pct(ms, 0.95), P99: pct(ms, 0.99)}
	tr.Histogram = histogram(ms, 12)
	return tr
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

// isRate says whether a metric is a share between 0 and 1 that a bar
// shows; counts, milliseconds and throughput are left to the tables.
func isRate(name string, v float64) bool {
	switch {
	case v < 0 || v > 1 || math.IsNaN(v):
		return false
	case strings.HasSuffix(name, "_ms"), strings.HasSuffix(name, "_qps"), name == "calls", strings.HasPrefix(name, "unscorable"):
		return false
	case name == "brier", name == "calibration_intercept", name == "calibration_slope", name == "retrieval_gain":
		return false
	}
	return true
}

func rateBars(m map[string]float64) []bar {
	var bs []bar
	for k, v := range m {
		if isRate(k, v) {
			bs = append(bs, bar{Label: k, Value: v, Width: v * 100})
		}
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].Label < bs[j].Label })
	return bs
}

// modelGroup is one metric of one task compared across models.
type modelGroup struct {
	Task, Metric string
	Bars         []bar // one per model, labelled by the model
}

// sideBySide lists, for each task answered by more than one model, each
// rate metric with one bar per model.
func sideBySide(tasks []TaskReport) []modelGroup {
	byTask := map[string][]TaskReport{}
	var order []string
	for _, t := range tasks {
		if t.Model == "" || t.Skipped != "" {
			continue
		}
		if _, ok := byTask[t.ID]; !ok {
			order = append(order, t.ID)
		}
		byTask[t.ID] = append(byTask[t.ID], t)
	}
	var out []modelGroup
	for _, id := range order {
		ts := byTask[id]
		if len(ts) < 2 {
			continue
		}
		for _, metric := range slices.Sorted(maps.Keys(ts[0].Metrics)) {
			g := modelGroup{Task: id, Metric: metric}
			for _, t := range ts {
				if v, ok := t.Metrics[metric]; ok && isRate(metric, v) {
					g.Bars = append(g.Bars, bar{Label: t.Model, Value: v, Width: v * 100})
				}
			}
			if len(g.Bars) > 1 {
				out = append(out, g)
			}
		}
	}
	return out
}

// Plot geometry: curves are drawn in a 100 x 100 box, y up.
func curvePoints(xy [][2]float64) string {
	var b strings.Builder
	for i, p := range xy {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.2f,%.2f", p[0]*100, 100-p[1]*100)
	}
	return b.String()
}

type histBar struct {
	X, W, H, Y float64
	Label      string
}

func histBars(h []HistBin) []histBar {
	most := 0
	for _, b := range h {
		most = max(most, b.N)
	}
	if most == 0 {
		return nil
	}
	w := 100 / float64(len(h))
	var out []histBar
	for i, b := range h {
		ht := 90 * float64(b.N) / float64(most)
		out = append(out, histBar{X: float64(i) * w, W: w * 0.9, H: ht, Y: 100 - ht,
			Label: fmt.Sprintf("%.3g–%.3g ms: %d calls", b.Low, b.High, b.N)})
	}
	return out
}

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"f3": func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"g4": func(v float64) string { return fmt.Sprintf("%.4g", v) },
	"keys": func(m map[string]float64) []string {
		return slices.Sorted(maps.Keys(m))
	},
	"groupKeys": func(m map[string]map[string]float64) []string {
		return slices.Sorted(maps.Keys(m))
	},
	"bars":       rateBars,
	"sideBySide": sideBySide,
	"histBars":   histBars,
	"dec":        func(n int) int { return n - 1 },
	"anchor": func(t TaskReport) string {
		if t.Model == "" {
			return "task-" + t.ID
		}
		return "task-" + t.ID + "-" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
				return r
			}
			return '-'
		}, strings.ToLower(t.Model))
	},
	"rocPoints": func(ps []ROCPoint) string {
		xy := make([][2]float64, len(ps))
		for i, p := range ps {
			xy[i] = [2]float64{p.FPR, p.TPR}
		}
		return curvePoints(xy)
	},
	"calPoints": func(bs []model.CalibrationBin) string {
		var xy [][2]float64
		for _, b := range bs {
			if b.N > 0 {
				xy = append(xy, [2]float64{b.MeanPredicted, b.Observed})
			}
		}
		return curvePoints(xy)
	},
	"get": func(m map[string]map[string]float64, g, k string) string {
		v, ok := m[g][k]
		if !ok {
			return ""
		}
		return fmt.Sprintf("%.4g", v)
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>OrthoCDS evaluation: {{.Meta.Suite.Name}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#1a1a1a}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}.plot{margin:.5rem 0 1.5rem}
.row,.cmp{display:flex;align-items:center;gap:.5rem;margin:.15rem 0}.row span,.cmp span{width:14rem;font-size:.9rem;overflow:hidden}
.row svg,.cmp svg{flex:1;height:1rem}.meta{color:#555;font-size:.9rem}
.curves{display:flex;gap:2rem;flex-wrap:wrap}.curves figure{margin:0}.curves svg{width:16rem;height:16rem;border:1px solid #ccc}
figcaption{font-size:.9rem;color:#555}.hist svg{width:100%;height:8rem;border-bottom:1px solid #999}
</style></head><body>
<h1>Evaluation: {{.Meta.Suite.Name}}</h1>
<p class="meta">Embedding model {{.Meta.Model.Name}} ({{.Meta.Model.Dim}} d); corpus {{.Meta.CorpusVersion}};
language models: {{if .Meta.LLMs}}{{range $i, $m := .Meta.LLMs}}{{if $i}}, {{end}}{{$m.Name}}{{if $m.Digest}} ({{$m.Digest}}){{end}}{{end}}{{else}}none (exam tasks are skipped; rubric and citation tasks grade the retrieval-only answers){{end}};
judge: {{if .Meta.Judge}}{{.Meta.Judge}}{{else}}none (rubric and citation tasks are skipped){{end}}; suite {{.Meta.SuiteHash}}, seed {{.Meta.Suite.Seed}}.</p>
{{with sideBySide .Tasks}}
<section id="models">
<h2>Models side by side</h2>
{{range .}}<h3>{{.Task}}: {{.Metric}}</h3>
<div class="plot" role="img" aria-label="{{.Metric}} of {{.Task}} by model">
{{range .Bars}}<div class="cmp"><span>{{.Label}} {{f3 .Value}}</span><svg viewBox="0 0 100 10" preserveAspectRatio="none"><rect class="model-bar" x="0" y="0" width="{{.Width}}" height="10" fill="#2f855a"></rect></svg></div>
{{end}}</div>
{{end}}</section>
{{end}}
{{range .Tasks}}
<section id="{{anchor .}}">
<h2>{{.ID}} <small>({{.Type}}{{if .Model}}, {{.Model}}{{end}}, {{.N}} items)</small></h2>
{{if .LoadErrors}}<p>Records that could not be read (skipped):</p><ul>{{range .LoadErrors}}<li>{{.File}} line {{.Line}}: {{.Reason}}</li>{{end}}</ul>{{end}}
{{if .Skipped}}<p>Skipped: {{.Skipped}}</p>{{else}}
{{if .Failures}}<p class="failures">Items the model could not answer (failed, counted as not correct): {{range $k, $v := .Failures}}{{$k}} {{$v}}; {{end}}</p>{{end}}
<div class="plot" role="img" aria-label="metrics of {{.ID}}">
{{range bars .Metrics}}<div class="row"><span>{{.Label}} {{f3 .Value}}</span><svg viewBox="0 0 100 10" preserveAspectRatio="none"><rect class="bar" x="0" y="0" width="{{.Width}}" height="10" fill="#2b6cb0"></rect></svg></div>
{{end}}</div>
{{$t := .}}
<table><tr><th>group</th>{{range keys .Metrics}}<th>{{.}}</th>{{end}}</tr>
<tr><td>all</td>{{range keys .Metrics}}<td>{{g4 (index $t.Metrics .)}}</td>{{end}}</tr>
{{range $g := groupKeys .Groups}}<tr><td>{{$g}}</td>{{range keys $t.Metrics}}<td>{{get $t.Groups $g .}}</td>{{end}}</tr>
{{end}}</table>
{{if or .ROC .Calibration}}<div class="curves">
{{if .ROC}}<figure><svg class="roc" viewBox="-2 -2 104 104"><line x1="0" y1="100" x2="100" y2="0" stroke="#bbb" stroke-dasharray="2"></line>
<polyline fill="none" stroke="#c05621" stroke-width="1.5" points="{{rocPoints .ROC}}"></polyline></svg>
<figcaption>ROC curve: true positive rate (up) against false positive rate (right); AUC {{with index .Metrics "auc"}}{{f3 .}}{{end}}</figcaption></figure>{{end}}
{{if .Calibration}}<figure><svg class="calibration" viewBox="-2 -2 104 104"><line x1="0" y1="100" x2="100" y2="0" stroke="#bbb" stroke-dasharray="2"></line>
<polyline fill="none" stroke="#6b46c1" stroke-width="1.5" points="{{calPoints .Calibration}}"></polyline></svg>
<figcaption>Calibration: observed rate (up) against mean predicted risk (right), ten bins; the dashed line is perfect calibration</figcaption></figure>{{end}}
</div>
<table><tr><th>calibration bin</th><th>rows</th><th>predicted</th><th>observed</th></tr>
{{range $i, $b := .Calibration}}<tr><td>{{$i}}</td><td>{{$b.N}}</td><td>{{f3 $b.MeanPredicted}}</td><td>{{f3 $b.Observed}}</td></tr>
{{end}}</table>{{end}}
{{with histBars .Histogram}}<figure class="hist"><svg viewBox="0 0 100 100" preserveAspectRatio="none">{{range .}}<rect class="hist-bar" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="#718096"><title>{{.Label}}</title></rect>{{end}}</svg>
<figcaption>Latency of the answering calls (log-spaced bins from {{g4 (index $t.Histogram 0).Low}} to {{g4 (index $t.Histogram (len $t.Histogram | dec)).High}} ms)</figcaption></figure>{{end}}
<p class="meta">Latency per answering call: p50 {{g4 .Latency.P50}} ms, p95 {{g4 .Latency.P95}} ms, p99 {{g4 .Latency.P99}} ms.</p>
{{end}}
</section>
{{end}}
</body></html>
`))
