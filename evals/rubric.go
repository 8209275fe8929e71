package evals

import (
	"context"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/judge"
)

// RubricItem is one criterion of a rubric question: points earned when the
// response meets it (negative points for something it must not do).
type RubricItem struct {
	ID        string `json:"id"`
	Criterion string `json:"criterion"`
	Points    int    `json:"points"`
}

// RubricQuestion is an open question scored by rubric, in the HealthBench
// manner.
type RubricQuestion struct {
	ID       string       `json:"id"`
	Lang     string       `json:"lang"`
	Question string       `json:"question"`
	Rubric   []RubricItem `json:"rubric"`
	// Gold are the guideline entries that justify the rubric (the
	// project's own questions name them).
	Gold []string `json:"gold,omitempty"`
}

// LoadRubric reads a JSONL rubric set.
func LoadRubric(fsys fs.FS, name string) ([]RubricQuestion, error) {
	return loadJSONL(fsys, name, func(q RubricQuestion) bool {
		if q.ID == "" || q.Question == "" || len(q.Rubric) == 0 {
			return false
		}
		pos := 0
		for _, it := range q.Rubric {
			if it.ID == "" || it.Criterion == "" || it.Points == 0 {
				return false
			}
			if it.Points > 0 {
				pos += it.Points
			}
		}
		return pos > 0
	})
}

// Judge is the language model that decides which rubric items a response
// meets; *llm.Client is one.
type Judge = judge.Model

// judgeAttempts is how many replies a judge gets to return valid JSON.
const judgeAttempts = judge.Attempts

// judgeRubric asks for the met items of q (see judge.Met).
func judgeRubric(ctx context.Context, j Judge, q RubricQuestion, response string) (met []string, unscorable string, err error) {
	items := make([]judge.Item, len(q.Rubric))
	for i, it := range q.Rubric {
		items[i] = judge.Item{ID: it.ID, Criterion: it.Criterion}
	}
	return judge.Met(ctx, j, q.Question, response, items)
}

// RubricScore is points earned over the positive points available,
// clipped to [0, 1].
func RubricScore(q RubricQuestion, met []string) float64 {
	var earned, possible int
	for _, it := range q.Rubric {
		if it.Points > 0 {
			possible += it.Points
		}
		if slices.Contains(met, it.ID) {
			earned += it.Points
		}
	}
	return min(1, max(0, float64(earned)/float64(possible)))
}

// responseText flattens an answer into what the judge reads.
func responseText(a *answer.Answer) string {
	var b strings.Builder
	add := func(it answer.Item) {
		if it.Text != "" {
			b.WriteString(it.Text)
			b.WriteString("\n")
		}
	}
	add(a.Summary)
	for _, group := range [][]answer.Item{a.Diagnoses, a.Tests, a.Treatments, a.Quotes} {
		for _, it := range group {
			add(it)
		}
	}
	return b.String()
}

func (r *Runner) rubric(ctx context.Context, suite Suite, t TaskSpec, w *recordWriter) (TaskReport, error) {
	qs, err := loadData(t.Data, LoadRubric)
	if err != nil {
		return TaskReport{}, err
	}
	if r.Env.Judge == nil {
		return TaskReport{N: len(qs), Skipped: "needs a language model as judge; none is configured"}, nil
	}
	jobs, prog := pending(r, w, t.ID, qs, func(q RubricQuestion) string { return q.ID })
	return TaskReport{}, each(ctx, len(jobs), suite.concurrency(t), func(ctx context.Context, i int) error {
		c, q := jobs[i].c, jobs[i].item
		t0 := time.Now()
		a, err := c.Answer.Ask(ctx, answer.Request{Question: q.Question}, nil)
		if err != nil {
			return err
		}
		ms := float64(time.Since(t0).Microseconds()) / 1000
		rec := Record{Task: t.ID, Model: c.Name, Item: q.ID, Lang: q.Lang, Rubric: true, Millis: ms}
		if a.LLMFailure != "" {
			// The model's reply was not used: scoring the retrieval-only
			// fallback would credit the model with the quotes.
			if a.LLMFailure == llm.Unreachable {
				return llm.Fail(llm.Unreachable, "%s", a.LLMError)
			}
			rec.Failed, rec.FailKind, rec.Unscorable = a.LLMError, a.LLMFailure, "the model's reply could not be used: "+a.LLMError
		} else {
			met, why, err := judgeRubric(ctx, r.Env.Judge, q, responseText(a))
			if err != nil {
				k, stop := modelFailure(err)
				if stop {
					return err
				}
				why = "the judge failed: " + orthocds.ErrorMessage(err)
				rec.FailKind = k
			}
			rec.Met, rec.Unscorable = met, why
		}
		if rec.Unscorable == "" {
			s := RubricScore(q, rec.Met)
			rec.Score = &s
		}
		if err := w.add(rec); err != nil {
			return err
		}
		prog.add(1)
		return nil
	})
}

// RubricMetrics: mean score over scorable items with a bootstrap 95%
// interval, and how many items could not be scored.
func RubricMetrics(recs []Record) map[string]float64 {
	var scores []float64
	unscorable := 0
	for _, r := range recs {
		if r.Score != nil {
			scores = append(scores, *r.Score)
		} else {
			unscorable++
		}
	}
	m := map[string]float64{"unscorable": float64(unscorable)}
	if len(scores) == 0 {
		return m
	}
	var sum float64
	for _, s := range scores {
		sum += s
	}
	m["score"] = sum / float64(len(scores))
	m["score_ci_low"], m["score_ci_high"] = bootstrapMeanCI(scores, 1000, rand.New(rand.NewPCG(11, 11)))
	return m
}
