package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/orthocds/orthocds/handouts"
	"github.com/orthocds/orthocds/internal/browsertest"
	"github.com/orthocds/orthocds/web"
)

// The drill page, in Chinese, plays a case from start to graded feedback:
// a question reveals its fact, an order shows its result, a paused drill
// takes no question, and the expected answer earns full marks with every
// rubric item cited.
func TestDrillPage(t *testing.T) {
	svc, cs := drillService(t)
	sheets, err := handouts.Load(setup(t).Corpus)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(New(Config{Guidelines: setup(t).Corpus, Drills: svc, Web: web.Pages(), Handouts: sheets,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer ts.Close()
	c := cs[0]
	for _, x := range cs {
		if x.ID == "op-untreated" {
			c = x
		}
	}
	ctx := browsertest.Context(t, 3*time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/drill/index.html"),
		chromedp.WaitVisible(`button[data-case="op-untreated"]`),
		chromedp.Click(chromedp.ID("lang")),
		chromedp.WaitVisible(`//strong[contains(., '骨密度低')]`),
		chromedp.Click(`button[data-case="op-untreated"]`),
		chromedp.WaitVisible(chromedp.ID("drill")),
		chromedp.SendKeys(chromedp.ID("question"), "您以前骨折过吗？"),
		chromedp.Click(chromedp.ID("ask-btn")),
		chromedp.WaitVisible(chromedp.CSS("#turns li .patient")),
		chromedp.SendKeys(chromedp.ID("order"), "骨密度检查"),
		chromedp.Click(chromedp.ID("order-btn")),
		chromedp.WaitVisible(chromedp.CSS(`#results li[data-test="dxa"]`)),
	); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`({
		patient: document.querySelector('#turns li .patient').textContent,
		result: document.querySelector('#results li[data-test="dxa"]').textContent,
		title: document.getElementById('drill-title').textContent,
		state: document.getElementById('drill-state').textContent,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got["patient"], c.History[0].Text.ZH) || !strings.Contains(got["result"], "-2.9") ||
		got["title"] != c.Title.ZH || !strings.Contains(got["state"], "SYNTHETIC") {
		t.Errorf("drill page: %v", got)
	}
	if strings.Contains(got["patient"], "氨氯地平") {
		t.Errorf("the patient told a fact not asked for: %q", got["patient"])
	}

	// Pause: no questions; resume.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("pause")),
		chromedp.WaitEnabled(chromedp.ID("pause")), chromedp.WaitVisible(`//p[@id='drill-state'][contains(., '已暂停')]`)); err != nil {
		t.Fatal(err)
	}
	paused, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('question').disabled`))
	if err != nil || !paused {
		t.Errorf("question box enabled while paused (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("pause")),
		chromedp.WaitVisible(`//p[@id='drill-state'][contains(., '进行中')]`),
		chromedp.SendKeys(chromedp.ID("diagnosis"), c.Expected.Diagnosis.ZH),
		chromedp.SendKeys(chromedp.ID("plan"), c.Expected.Plan.ZH),
		chromedp.Click(chromedp.ID("submit-btn")),
		chromedp.WaitVisible(chromedp.ID("feedback")),
	); err != nil {
		t.Fatal(err)
	}
	fb, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
		score: document.getElementById('score').textContent,
		items: document.querySelectorAll('#items tbody tr').length,
		cited: Array.from(document.querySelectorAll('#items tbody tr')).every(r => r.querySelector('a[href^="/v1/guidelines/"]')),
		citations: document.querySelectorAll('#citations li').length,
		plan: document.getElementById('expected-plan').textContent,
		expert: document.getElementById('expert').textContent,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fb["score"].(string), "100%") || int(fb["items"].(float64)) != len(c.Rubric) || fb["cited"] != true ||
		fb["citations"].(float64) == 0 || fb["plan"] != c.Expected.Plan.ZH || fb["expert"] != c.Expected.Expert.ZH {
		t.Errorf("feedback: %v", fb)
	}
	// What this patient would take home: a handout on the plan's entries.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#case-handout button"))); err != nil {
		t.Fatal(err)
	}
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#case-handout button[data-lang="zh"]').dataset.href`))
	if err != nil {
		t.Fatal(err)
	}
	planEntries := map[string]bool{}
	for _, it := range c.Rubric {
		for _, e := range it.Entries {
			planEntries[e] = !it.MustNot || planEntries[e]
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", browsertest.Artefact(t, "drill-feedback-zh.png", shot))
	resp, err := http.Get(ts.URL + strings.Replace(href, "format=html", "format=json", 1))
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Notes []struct {
			EntryID string `json:"entry_id"`
		} `json:"notes"`
	}
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if len(h.Notes) == 0 {
		t.Errorf("the case handout %s has no notes", href)
	}
	for _, n := range h.Notes {
		if !planEntries[n.EntryID] {
			t.Errorf("case handout note %s is not among the plan's entries", n.EntryID)
		}
	}

	// Back at the list, the attempt is there with its score; the local
	// default caller is an admin, so the class report shows it too.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("back")),
		chromedp.WaitVisible(`//ul[@id='attempt-list']/li[contains(., '100%')]`),
		chromedp.WaitVisible(`//div[@id='class-cases']//h3[contains(., '100%')]`)); err != nil {
		t.Fatal(err)
	}
}
