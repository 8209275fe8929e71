package evals

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/llm"
)

const citeSystem = `You check citations in a medical answer. Decide whether the source supports the statement.
Reply with JSON only, exactly of the form {"supported": true} or {"supported": false}.`

// citations judges, for every cited statement of each answer, whether each
// cited source supports it (ALCE-style): citation precision is supported
// citations over all citations, citation recall is statements with at
// least one supporting citation over all cited statements. A judge reply
// that is not the JSON asked for is retried, then the citation counts as
// unsupported and is counted as unscorable.
func (r *Runner) citations(ctx context.Context, suite Suite, t TaskSpec, w *recordWriter) (TaskReport, error) {
	items, err := loadData(t.Data, LoadRetrieval)
	if err != nil {
		return TaskReport{}, err
	}
	if r.Env.Judge == nil {
		return TaskReport{N: len(items), Skipped: "needs a language model as judge; none is configured"}, nil
	}
	jobs, prog := pending(r, w, t.ID, items, func(it RetrievalItem) string { return it.ID })
	return TaskReport{}, each(ctx, len(jobs), suite.concurrency(t), func(ctx context.Context, i int) error {
		c, it := jobs[i].c, jobs[i].item
		t0 := time.Now()
		a, err := c.Answer.Ask(ctx, answer.Request{Question: it.Question}, nil)
		if err != nil {
			return err
		}
		rec := Record{Task: t.ID, Model: c.Name, Item: it.ID, Lang: it.Lang, Citation: &CitationCounts{},
			Millis: float64(time.Since(t0).Microseconds()) / 1000}
		if a.LLMFailure != "" {
			// The model's reply was not used; the quotes of the fallback
			// are not the model's citations.
			if a.LLMFailure == llm.Unreachable {
				return llm.Fail(llm.Unreachable, "%s", a.LLMError)
			}
			rec.Failed, rec.FailKind = a.LLMError, a.LLMFailure
			if err := w.add(rec); err != nil {
				return err
			}
			prog.add(1)
			return nil
		}
		quote := map[string]string{}
		for _, s := range a.Sources {
			quote[s.ID] = s.Title + ": " + s.Quote
		}
		for _, group := range [][]answer.Item{{a.Summary}, a.Diagnoses, a.Tests, a.Treatments, a.Quotes} {
			for _, st := range group {
				if len(st.Citations) == 0 || strings.TrimSpace(st.Text) == "" {
					continue
				}
				rec.Citation.Statements++
				backed := false
				for _, id := range st.Citations {
					rec.Citation.Citations++
					ok, scorable, err := supports(ctx, r.Env.Judge, st.Text, quote[id])
					if err != nil {
						if _, stop := modelFailure(err); stop {
							return err
						}
						scorable = false // the judge's reply could not be used
					}
					if !scorable {
						rec.Citation.Unscorable++
					}
					if ok {
						rec.Citation.Supported++
						backed = true
					}
				}
				if backed {
					rec.Citation.StatementsSupported++
				}
			}
		}
		if err := w.add(rec); err != nil {
			return err
		}
		prog.add(1)
		return nil
	})
}

func supports(ctx context.Context, j Judge, statement, source string) (supported, scorable bool, err error) {
	user := fmt.Sprintf("Statement:\n%s\n\nSource:\n%s", statement, source)
	for range judgeAttempts {
		reply, err := j.Complete(ctx, citeSystem, user, nil)
		if err != nil {
			if _, stop := modelFailure(err); stop {
				return false, false, err
			}
			continue
		}
		var v struct {
			Supported *bool `json:"supported"`
		}
		if json.Unmarshal([]byte(strings.TrimSpace(reply)), &v) == nil && v.Supported != nil {
			return *v.Supported, true, nil
		}
	}
	return false, false, nil
}

// CitationCounts are one answer's citation tallies.
type CitationCounts struct {
	Statements          int `json:"statements"`
	StatementsSupported int `json:"statements_supported"`
	Citations           int `json:"citations"`
	Supported           int `json:"supported"`
	Unscorable          int `json:"unscorable"`
}

// CitationMetrics pools the tallies of all answers.
func CitationMetrics(recs []Record) map[string]float64 {
	var c CitationCounts
	for _, r := range recs {
		if r.Citation == nil {
			continue
		}
		c.Statements += r.Citation.Statements
		c.StatementsSupported += r.Citation.StatementsSupported
		c.Citations += r.Citation.Citations
		c.Supported += r.Citation.Supported
		c.Unscorable += r.Citation.Unscorable
	}
	m := map[string]float64{"unscorable_citations": float64(c.Unscorable)}
	if c.Citations > 0 {
		m["citation_precision"] = float64(c.Supported) / float64(c.Citations)
	}
	if c.Statements > 0 {
		m["citation_recall"] = float64(c.StatementsSupported) / float64(c.Statements)
	}
	return m
}
