package evals

import (
	"bytes"
	"context"
	"image/png"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/orthocds/orthocds/internal/browsertest"
	"github.com/orthocds/orthocds/predictors/model"
)

// The HTML report renders in headless Chromium: one bar per metric, each as
// wide as its value, and a screenshot that shows them.
func TestReportRendersInChromium(t *testing.T) {
	suite := Suite{Name: "browser", Tasks: []TaskSpec{{ID: "retrieval", Type: "retrieval", Data: "x"}}}
	// Metrics of different sizes: hit@1 0.33, recall@10 0.67, MRR 0.44.
	recs := []Record{
		{Task: "retrieval", Item: "a", Lang: "en", Hits: []int{1}, NGold: 1},
		{Task: "retrieval", Item: "b", Lang: "zh", Hits: []int{3, 8}, NGold: 2},
		{Task: "retrieval", Item: "c", Lang: "zh", NGold: 1},
	}
	for i := range recs {
		recs[i].Millis = float64(1 + 10*i) // three latency bins
	}
	rep := Summarise(Meta{Suite: suite}, recs)
	// A predictor task's curves: a ROC curve above the diagonal and a
	// calibration curve.
	rep.Tasks = append(rep.Tasks, TaskReport{ID: "risk", Type: "predictor", N: 6, Metrics: map[string]float64{"auc": 0.75},
		ROC:         []ROCPoint{{0, 0}, {0, 0.5}, {0.5, 0.5}, {0.5, 1}, {1, 1}},
		Calibration: []model.CalibrationBin{{N: 3, MeanPredicted: 0.2, Observed: 0.1}, {N: 3, MeanPredicted: 0.7, Observed: 0.8}}})
	dir := t.TempDir()
	if err := rep.Write(dir); err != nil {
		t.Fatal(err)
	}
	// A real run of the starter suite, made before the browser starts (it
	// takes minutes under the race detector).
	run := t.TempDir()
	if _, err := (&Runner{Env: env(t)}).Run(context.Background(), Starter(), run); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.Context(t, 3*time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+filepath.Join(dir, "report.html")),
		chromedp.WaitVisible("rect.bar")); err != nil {
		t.Fatal(err)
	}
	widths, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`Object.fromEntries(Array.from(document.querySelectorAll('#task-retrieval .row')).map(r =>
		[r.querySelector('span').textContent.split(' ')[0], r.querySelector('rect.bar').getBoundingClientRect().width /
		 r.querySelector('svg').getBoundingClientRect().width]))`))
	if err != nil {
		t.Fatal(err)
	}
	// The curves and the latency histogram are drawn.
	plots, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`({
		roc: document.querySelector('svg.roc polyline').getTotalLength(),
		calibration: document.querySelector('svg.calibration polyline').getTotalLength(),
		histBars: Array.from(document.querySelectorAll('rect.hist-bar')).filter(r => r.getBoundingClientRect().height > 0).length,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	// The ROC polyline above runs 0.5+0.5+0.5+0.5 of the 100-unit box.
	if plots["roc"] < 199 || plots["roc"] > 201 || plots["calibration"] < 50 || plots["histBars"] < 2 {
		t.Errorf("plots drawn: %v", plots)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Artefact(t, "eval-report.png", shot)
	m := map[string]float64{}
	for k, v := range rep.Tasks[0].Metrics {
		if isRate(k, v) {
			m[k] = v
		}
	}
	if len(widths) != len(m) {
		t.Fatalf("%d bars for %d metrics: %v", len(widths), len(m), widths)
	}
	for k, v := range m {
		if w := widths[k]; w < v-0.02 || w > v+0.02 {
			t.Errorf("bar %s is %.2f of the plot wide, metric %.2f", k, w, v)
		}
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	blue := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if bl>>8 > 150 && r>>8 < 90 && g>>8 < 140 { // the bars' #2b6cb0
				blue++
			}
		}
	}
	if blue < 100 {
		t.Errorf("the screenshot shows no bars (%d bar-coloured samples)", blue)
	}

	// The report of a real run of the bundled starter suite, without a
	// language model: every task shows its metric bars and its latency
	// histogram.
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+filepath.Join(run, "report.html")),
		chromedp.WaitVisible("#task-abstention rect.bar")); err != nil {
		t.Fatal(err)
	}
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]map[string]int](`Object.fromEntries(['retrieval', 'abstention'].map(id => {
		const s = document.getElementById('task-' + id);
		const visible = sel => Array.from(s.querySelectorAll(sel)).filter(e => e.getBoundingClientRect().width > 0).length;
		return [id, {bars: s.querySelectorAll('.row rect.bar').length, hist: visible('rect.hist-bar')}];
	}))`))
	if err != nil {
		t.Fatal(err)
	}
	if drawn["retrieval"]["bars"] != 5 || drawn["abstention"]["bars"] != 2 || drawn["retrieval"]["hist"] == 0 || drawn["abstention"]["hist"] == 0 {
		t.Errorf("starter report drawn: %v; want 5 retrieval bars, 2 abstention bars and both histograms", drawn)
	}
	full, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Artefact(t, "eval-report-starter.png", full)
}
