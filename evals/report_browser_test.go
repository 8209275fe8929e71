package evals

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a headless-capable browser; CI installs Debian's chromium.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ORTHOCDS_REQUIRE_BROWSER") != "" {
		t.Fatal("no chromium on PATH, and ORTHOCDS_REQUIRE_BROWSER is set")
	}
	t.Skip("no chromium on PATH (CI installs it: apt-get install chromium)")
	return ""
}

// The HTML report renders in headless Chromium: one bar per metric, each as
// wide as its value, and a screenshot that shows them.
func TestReportRendersInChromium(t *testing.T) {
	exe := chromium(t)
	suite := Suite{Name: "browser", Tasks: []TaskSpec{{ID: "retrieval", Type: "retrieval", Data: "x"}}}
	// Metrics of different sizes: hit@1 0.33, recall@10 0.67, MRR 0.44.
	recs := []Record{
		{Task: "retrieval", Item: "a", Lang: "en", Hits: []int{1}, NGold: 1},
		{Task: "retrieval", Item: "b", Lang: "zh", Hits: []int{3, 8}, NGold: 2},
		{Task: "retrieval", Item: "c", Lang: "zh", NGold: 1},
	}
	rep := Summarise(Meta{Suite: suite}, recs)
	dir := t.TempDir()
	if err := rep.Write(dir); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.WindowSize(1000, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+filepath.Join(dir, "report.html")),
		chromedp.WaitVisible("rect.bar")); err != nil {
		t.Fatal(err)
	}
	widths, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`Object.fromEntries(Array.from(document.querySelectorAll('.row')).map(r =>
		[r.querySelector('span').textContent.split(' ')[0], r.querySelector('rect.bar').getBoundingClientRect().width /
		 r.querySelector('svg').getBoundingClientRect().width]))`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Tasks[0].Metrics
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
}
