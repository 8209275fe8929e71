package drills

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/orthocds/orthocds"
)

// ClassReport is an instructor's view of the attempts: per case, how
// often each rubric item was met and the commonest mistakes; per student,
// attempts and mean score. Scores are the deterministic rubric's.
type ClassReport struct {
	Students  []StudentReport `json:"students"`
	Cases     []CaseReport    `json:"cases"`
	Attempts  int             `json:"attempts"`
	Submitted int             `json:"submitted"`
}

// StudentReport sums one student's attempts.
type StudentReport struct {
	Student   string  `json:"student"`
	Attempts  int     `json:"attempts"`
	Submitted int     `json:"submitted"`
	MeanScore float64 `json:"mean_score"`
}

// CaseReport sums one case's attempts.
type CaseReport struct {
	CaseID    string       `json:"case_id"`
	Title     string       `json:"title"`
	Attempts  int          `json:"attempts"`
	Submitted int          `json:"submitted"`
	MeanScore float64      `json:"mean_score"`
	Items     []ItemReport `json:"items"`
	// Mistakes are must-not items done and items missed, commonest first.
	Mistakes []Mistake `json:"common_mistakes"`
}

// ItemReport is how many submissions met a rubric item.
type ItemReport struct {
	ID        string  `json:"id"`
	Criterion string  `json:"criterion"`
	Points    int     `json:"points"`
	MustNot   bool    `json:"must_not,omitempty"`
	Met       int     `json:"met"`
	Share     float64 `json:"share"` // of submitted attempts
}

// Mistake is a rubric item submissions got wrong.
type Mistake struct {
	ItemID    string  `json:"item_id"`
	Criterion string  `json:"criterion"`
	Kind      string  `json:"kind"` // "did a must-not item" or "missed"
	Count     int     `json:"count"`
	Share     float64 `json:"share"`
}

// Class reports on the attempts f selects, in lang: for instructors and
// admins only.
func (s *Service) Class(ctx context.Context, p orthocds.Principal, f Filter, lang string) (*ClassReport, error) {
	if !teaches(p) {
		return nil, orthocds.Errorf(orthocds.EFORBIDDEN, "only instructors see a class's attempts")
	}
	as, err := s.cfg.Store.List(ctx, f)
	if err != nil {
		return nil, err
	}
	r := &ClassReport{Attempts: len(as), Students: []StudentReport{}, Cases: []CaseReport{}}
	students := map[string]*StudentReport{}
	byCase := map[string][]*Attempt{}
	for _, a := range as {
		st := students[a.Student]
		if st == nil {
			st = &StudentReport{Student: a.Student}
			students[a.Student] = st
		}
		st.Attempts++
		byCase[a.CaseID] = append(byCase[a.CaseID], a)
		if a.Grade != nil {
			r.Submitted++
			st.Submitted++
			st.MeanScore += a.Grade.Score
		}
	}
	for _, st := range students {
		if st.Submitted > 0 {
			st.MeanScore /= float64(st.Submitted)
		}
		r.Students = append(r.Students, *st)
	}
	slices.SortFunc(r.Students, func(a, b StudentReport) int { return strings.Compare(a.Student, b.Student) })
	for _, c := range s.cfg.Cases {
		list := byCase[c.ID]
		if len(list) == 0 {
			continue
		}
		cr := CaseReport{CaseID: c.ID, Title: c.Title.In(lang), Attempts: len(list), Mistakes: []Mistake{}}
		met := map[string]int{}
		for _, a := range list {
			if a.Grade == nil {
				continue
			}
			cr.Submitted++
			cr.MeanScore += a.Grade.Score
			for _, it := range a.Grade.Items {
				if it.Met {
					met[it.ID]++
				}
			}
		}
		share := func(n int) float64 {
			if cr.Submitted == 0 {
				return 0
			}
			return float64(n) / float64(cr.Submitted)
		}
		if cr.Submitted > 0 {
			cr.MeanScore /= float64(cr.Submitted)
		}
		for _, it := range c.Rubric {
			crit := it.Criterion.In(lang)
			cr.Items = append(cr.Items, ItemReport{ID: it.ID, Criterion: crit, Points: it.Points, MustNot: it.MustNot, Met: met[it.ID], Share: share(met[it.ID])})
			switch {
			case it.MustNot && met[it.ID] > 0:
				cr.Mistakes = append(cr.Mistakes, Mistake{ItemID: it.ID, Criterion: crit, Kind: "did a must-not item", Count: met[it.ID], Share: share(met[it.ID])})
			case !it.MustNot && cr.Submitted-met[it.ID] > 0:
				n := cr.Submitted - met[it.ID]
				cr.Mistakes = append(cr.Mistakes, Mistake{ItemID: it.ID, Criterion: crit, Kind: "missed", Count: n, Share: share(n)})
			}
		}
		slices.SortStableFunc(cr.Mistakes, func(a, b Mistake) int { return cmp.Compare(b.Count, a.Count) })
		r.Cases = append(r.Cases, cr)
	}
	return r, nil
}

// CSVHeader names the columns of WriteCSV.
var CSVHeader = []string{"attempt_id", "student", "case_id", "lang", "status", "started", "submitted", "active_seconds",
	"questions", "tests_ordered", "earned", "possible", "score", "must_not_done", "missed_items", "judge_model", "judge_score"}

// WriteCSV writes one row per attempt f selects: for instructors and
// admins only. Cells that a spreadsheet would read as a formula are
// prefixed with a quote.
func (s *Service) WriteCSV(ctx context.Context, p orthocds.Principal, f Filter, w io.Writer) error {
	if !teaches(p) {
		return orthocds.Errorf(orthocds.EFORBIDDEN, "only instructors export a class's attempts")
	}
	as, err := s.cfg.Store.List(ctx, f)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader)
	for _, a := range as {
		row := []string{a.ID, cell(a.Student), a.CaseID, a.Lang, string(a.Status), a.Started.Format(time.RFC3339), "",
			fmt.Sprintf("%.0f", a.ActiveSeconds), fmt.Sprint(len(a.Turns)), fmt.Sprint(len(a.Ordered)), "", "", "", "", "", "", ""}
		if a.Submitted != nil {
			row[6] = a.Submitted.Format(time.RFC3339)
		}
		if g := a.Grade; g != nil {
			var missed []string
			for _, it := range g.Items {
				if !it.MustNot && !it.Met {
					missed = append(missed, it.ID)
				}
			}
			row[10], row[11], row[12] = fmt.Sprint(g.Earned), fmt.Sprint(g.Possible), fmt.Sprintf("%.3f", g.Score)
			row[13], row[14] = strings.Join(g.MustNotDone, ";"), strings.Join(missed, ";")
		}
		if j := a.Judge; j != nil {
			row[15] = cell(j.Model)
			if j.Grade != nil {
				row[16] = fmt.Sprintf("%.3f", j.Grade.Score)
			}
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

func cell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
