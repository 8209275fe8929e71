package evals

import (
	"context"
	"fmt"
	"io/fs"
	"math"
	"time"

	"github.com/orthocds/orthocds/cases"
	"github.com/orthocds/orthocds/drills"
)

// GraderAnswer is a student answer to a drill case with the rubric items
// an examiner credits: positive items the plan meets and must-not items it
// commits ("shotgun" is the case's selectivity item).
type GraderAnswer struct {
	ID        string   `json:"id"`
	Case      string   `json:"case"`
	Lang      string   `json:"lang"`
	Kind      string   `json:"kind"`
	Diagnosis string   `json:"diagnosis"`
	Plan      string   `json:"plan"`
	Met       []string `json:"met"`
}

// LoadGrader reads a grader set, naming the line of any bad record.
func LoadGrader(fsys fs.FS, name string) ([]GraderAnswer, error) {
	return loadJSONL(fsys, name, func(a GraderAnswer) bool { return a.ID != "" && a.Case != "" && a.Plan != "" })
}

// Graders name the two graders of the grader task's records: the
// deterministic rubric grader, and the judge (by its model's name, after
// this prefix).
const (
	rubricGrader = "rubric grader"
	judgePrefix  = "judge: "
)

// graderAgreementWithin is how close a grade must be to the examiner's to
// count as agreeing (issue 26).
const graderAgreementWithin = 0.15

// grader scores each answer of the grader set with the deterministic
// grader and, when a judge is configured, with the judge beside it, each
// record keeping the examiner's score for the agreement metrics.
func (r *Runner) grader(ctx context.Context, suite Suite, t TaskSpec, w *recordWriter) (TaskReport, error) {
	answers, err := loadData(t.Data, LoadGrader)
	if err != nil {
		return TaskReport{}, err
	}
	if len(r.Env.Cases) == 0 || r.Env.Scope == nil {
		return TaskReport{N: len(answers), Skipped: "needs the drill cases; none are configured"}, nil
	}
	type job struct {
		a     GraderAnswer
		judge bool
	}
	var jobs []job
	for _, a := range answers {
		if _, ok := r.Env.Cases[a.Case]; !ok {
			return TaskReport{}, fmt.Errorf("%s: no case %q", a.ID, a.Case)
		}
		if !w.has(t.ID, rubricGrader, a.ID) {
			jobs = append(jobs, job{a, false})
		}
		if r.Env.Judge != nil && !w.has(t.ID, judgePrefix+r.Env.Judge.Name(), a.ID) {
			jobs = append(jobs, job{a, true})
		}
	}
	total := len(answers)
	if r.Env.Judge != nil {
		total *= 2
	}
	prog := r.counter(t.ID, total-len(jobs), total)
	return TaskReport{}, each(ctx, len(jobs), suite.concurrency(t), func(ctx context.Context, i int) error {
		a, c := jobs[i].a, r.Env.Cases[jobs[i].a.Case]
		examiner := map[string]string{}
		for _, m := range a.Met {
			examiner[m] = "examiner"
		}
		want := c.Score(a.Lang, examiner).Score
		// Topic groups the report by the kind of answer (paraphrase,
		// negated, shotgun...), the grader set's breakdown.
		rec := Record{Task: t.ID, Model: rubricGrader, Item: a.ID, Lang: a.Lang, Topic: a.Kind, Examiner: &want}
		t0 := time.Now()
		if jobs[i].judge {
			rec.Model = judgePrefix + r.Env.Judge.Name()
			jg := drills.Judge(ctx, r.Env.Judge, c, a.Lang, a.Diagnosis, a.Plan)
			if jg.Grade != nil {
				s := jg.Grade.Score
				rec.Score = &s
			} else {
				rec.Unscorable = jg.Unscorable
			}
		} else {
			s := cases.NewDrill(c, a.Lang).Submit(a.Diagnosis, a.Plan, r.Env.Scope).Score
			rec.Score = &s
		}
		rec.Millis = float64(time.Since(t0).Microseconds()) / 1000
		if err := w.add(rec); err != nil {
			return err
		}
		prog.add(1)
		return nil
	})
}

// GraderMetrics: the share of scored answers within 0.15 of the
// examiner's score, the mean absolute difference, and how many answers
// the grader could not score (a judge that gave no valid reply).
func GraderMetrics(recs []Record) map[string]float64 {
	var n, within, unscorable int
	var diff float64
	for _, r := range recs {
		if r.Score == nil || r.Examiner == nil {
			unscorable++
			continue
		}
		n++
		d := math.Abs(*r.Score - *r.Examiner)
		diff += d
		if d <= graderAgreementWithin+1e-9 {
			within++
		}
	}
	out := map[string]float64{"n": float64(n), "unscorable": float64(unscorable)}
	if n > 0 {
		out["within_0.15"] = float64(within) / float64(n)
		out["mean_abs_diff"] = diff / float64(n)
	}
	return out
}
