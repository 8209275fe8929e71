package evals

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/llm"
	"github.com/orthocds/orthocds/llm/judge"
	"github.com/orthocds/orthocds/rag"
)

// ExamItem is one multiple-choice question, whatever file layout it came
// from.
type ExamItem struct {
	ID       string            `json:"id"`
	Question string            `json:"question"`
	Options  map[string]string `json:"options"` // letter -> text
	Answer   string            `json:"answer"`  // the correct letter
	Topic    string            `json:"topic,omitempty"`
	Lang     string            `json:"lang,omitempty"`
	// Gold are the guideline entries that answer the question (the
	// project's own questions name them).
	Gold []string `json:"gold,omitempty"`
}

// Letters returns the option letters in order.
func (e ExamItem) Letters() []string {
	var ls []string
	for l := range e.Options {
		ls = append(ls, l)
	}
	slices.Sort(ls)
	return ls
}

// LoadError names a record that could not be read; loading goes on.
type LoadError struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (e LoadError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// Exam layouts users bring.
const (
	LayoutMedQA  = "medqa"  // JSONL: question, options {A: ...}, answer_idx (MedQA US and Mainland China)
	LayoutCMExam = "cmexam" // CSV with a header: Question, Options ("A xxx" lines), Answer
	LayoutMMLU   = "mmlu"   // CSV without a header: question, A, B, C, D, answer letter
)

// maxExamLine bounds one record (a question with its options).
const maxExamLine = 1 << 20

// LoadExam reads a multiple-choice file of the given layout. Bad records
// are reported with their file and line and skipped; the rest load. Only
// an unreadable file is an error.
func LoadExam(path, layout string) ([]ExamItem, []LoadError, error) {
	var f io.ReadCloser
	var err error
	if _, serr := fs.Stat(Data(), path); serr == nil {
		f, err = Data().Open(path) // a bundled set
	} else {
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	name := filepath.Base(path)
	switch layout {
	case LayoutMedQA:
		return loadMedQA(f, name)
	case LayoutCMExam:
		return loadCSVExam(f, name, true)
	case LayoutMMLU:
		return loadCSVExam(f, name, false)
	}
	return nil, nil, fmt.Errorf("unknown exam layout %q (medqa, cmexam or mmlu)", layout)
}

func loadMedQA(r io.Reader, name string) ([]ExamItem, []LoadError, error) {
	var items []ExamItem
	var bad []LoadError
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxExamLine)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var rec struct {
			Question  string            `json:"question"`
			Options   map[string]string `json:"options"`
			AnswerIdx string            `json:"answer_idx"`
			MetaInfo  string            `json:"meta_info"`
			// The project's own sets add these.
			ID   string   `json:"id"`
			Lang string   `json:"lang"`
			Gold []string `json:"gold"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			bad = append(bad, LoadError{name, line, "not a JSON object"})
			continue
		}
		it := ExamItem{ID: cmp.Or(rec.ID, fmt.Sprintf("%s:%d", name, line)), Question: rec.Question, Options: rec.Options,
			Answer: strings.TrimSpace(rec.AnswerIdx), Topic: rec.MetaInfo, Lang: rec.Lang, Gold: rec.Gold}
		if reason := it.problem(); reason != "" {
			bad = append(bad, LoadError{name, line, reason})
			continue
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return items, append(bad, LoadError{name, len(items) + len(bad) + 1, "line longer than 1 MiB; the rest of the file was not read"}), nil
		}
		return items, bad, err
	}
	return items, bad, nil
}

// optionLine matches "A xxx", "A. xxx", "A、xxx" or "(A) xxx" in CMExam's
// option field.
var optionLine = regexp.MustCompile(`^\(?([A-J])[\).．.、:：\s]\s*(.*)$`)

func loadCSVExam(r io.Reader, name string, header bool) ([]ExamItem, []LoadError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var items []ExamItem
	var bad []LoadError
	cols := map[string]int{}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, LoadError{name, pe.StartLine, "not a valid CSV record"})
				continue
			}
			return items, bad, err
		}
		if header && n == 0 {
			for i, c := range rec {
				cols[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")))] = i
			}
			for _, want := range []string{"question", "options", "answer"} {
				if _, ok := cols[want]; !ok {
					return nil, nil, fmt.Errorf("%s: the header has no %q column", name, want)
				}
			}
			continue
		}
		it := ExamItem{ID: fmt.Sprintf("%s:%d", name, line), Options: map[string]string{}}
		if header {
			get := func(c string) string {
				if i, ok := cols[c]; ok && i < len(rec) {
					return strings.TrimSpace(rec[i])
				}
				return ""
			}
			it.Question, it.Answer = get("question"), get("answer")
			for _, l := range strings.Split(get("options"), "\n") {
				if m := optionLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
					it.Options[m[1]] = strings.TrimSpace(m[2])
				}
			}
			if d := get("disease group"); d != "" {
				it.Topic = d
			}
		} else {
			if len(rec) < 4 {
				bad = append(bad, LoadError{name, line, "needs a question, at least two options and an answer"})
				continue
			}
			it.Question, it.Answer = strings.TrimSpace(rec[0]), strings.TrimSpace(rec[len(rec)-1])
			for i, o := range rec[1 : len(rec)-1] {
				it.Options[string(rune('A'+i))] = strings.TrimSpace(o)
			}
		}
		// CMExam answers may list several letters ("AB"); keep single-answer
		// questions, which is what accuracy is computed on.
		if reason := it.problem(); reason != "" {
			bad = append(bad, LoadError{name, line, reason})
			continue
		}
		items = append(items, it)
	}
	return items, bad, nil
}

// problem says what makes an item unusable, or "".
func (e ExamItem) problem() string {
	switch {
	case strings.TrimSpace(e.Question) == "":
		return "no question"
	case len(e.Options) < 2:
		return "fewer than two options"
	case len(e.Answer) != 1:
		return fmt.Sprintf("answer %q is not one option letter", e.Answer)
	}
	if _, ok := e.Options[e.Answer]; !ok {
		return fmt.Sprintf("answer %q is not among the options", e.Answer)
	}
	return ""
}

const examSystem = `You answer a multiple-choice medical question. Choose the single best option.
Reply with JSON only, exactly of the form {"answer": "X"} where X is the option letter.`

// exam answers every question with the examinee model, with and without
// the top guideline entries retrieved for it (the MIRAGE comparison), and
// records whether each choice was right. A reply that is not the JSON asked
// for is retried, then counts as wrong.
func (r *Runner) exam(ctx context.Context, suite Suite, t TaskSpec, w *recordWriter) (TaskReport, error) {
	items, bad, err := LoadExam(t.Data, t.Layout)
	if err != nil {
		return TaskReport{}, err
	}
	if len(r.Env.Contestants) == 0 {
		return TaskReport{N: len(items), LoadErrors: bad,
			Skipped: "needs a language model to answer the questions; none is configured"}, nil
	}
	type job struct {
		c        Contestant
		it       ExamItem
		mode, id string
	}
	var jobs []job
	total := 0
	for _, c := range r.Env.Contestants {
		for _, it := range items {
			for _, mode := range []string{"without_retrieval", "with_retrieval"} {
				total++
				if id := it.ID + "|" + mode; !w.has(t.ID, c.Name, id) {
					jobs = append(jobs, job{c, it, mode, id})
				}
			}
		}
	}
	prog := r.counter(t.ID, total-len(jobs), total)
	err = each(ctx, len(jobs), suite.concurrency(t), func(ctx context.Context, i int) error {
		j := jobs[i]
		var b strings.Builder
		if j.mode == "with_retrieval" {
			hits, err := r.Env.Search.Search(ctx, []rag.Query{{Text: j.it.Question, K: 5}})
			if err != nil {
				return err
			}
			b.WriteString("Guideline excerpts:\n")
			for _, h := range hits[0] {
				fmt.Fprintf(&b, "- %s\n", truncate(h.Text, 600))
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Question: %s\nOptions:\n", j.it.Question)
		for _, l := range j.it.Letters() {
			fmt.Fprintf(&b, "%s. %s\n", l, j.it.Options[l])
		}
		t0 := time.Now()
		choice, failed, kind := "", "", ""
		letters := j.it.Letters()
		schema, _ := json.Marshal(map[string]any{"type": "object", "required": []string{"answer"},
			"properties": map[string]any{"answer": map[string]any{"type": "string", "enum": letters}}})
		for range suite.attempts() {
			reply, err := judge.Complete(ctx, j.c.LLM, examSystem, b.String(), schema, 128)
			if err != nil {
				k, stop := modelFailure(err)
				if stop {
					return err
				}
				failed, kind = orthocds.ErrorMessage(err), k
				continue
			}
			var v struct {
				Answer string `json:"answer"`
			}
			if json.Unmarshal([]byte(strings.TrimSpace(reply)), &v) == nil {
				if _, ok := j.it.Options[strings.TrimSpace(v.Answer)]; ok {
					choice = strings.TrimSpace(v.Answer)
					break
				}
			}
			failed, kind = "the reply named none of the options", llm.BadReply
		}
		rec := Record{Task: t.ID, Model: j.c.Name, Item: j.id, Lang: j.it.Lang, Topic: j.it.Topic, Mode: j.mode,
			Choice: choice, Correct: choice != "" && choice == j.it.Answer, Millis: float64(time.Since(t0).Microseconds()) / 1000}
		if choice == "" {
			rec.Failed, rec.FailKind = failed, kind
		}
		if err := w.add(rec); err != nil {
			return err
		}
		prog.add(1)
		return nil
	})
	return TaskReport{LoadErrors: bad}, err
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// ExamMetrics: accuracy with and without retrieval, and the gain.
func ExamMetrics(recs []Record) map[string]float64 {
	n := map[string]float64{}
	right := map[string]float64{}
	for _, r := range recs {
		n[r.Mode]++
		if r.Correct {
			right[r.Mode]++
		}
	}
	m := map[string]float64{}
	failed := 0.0
	for _, r := range recs {
		if r.Failed != "" {
			failed++
		}
	}
	for mode, c := range n {
		m["accuracy_"+mode] = right[mode] / c
	}
	if len(recs) > 0 {
		m["failure_rate"] = failed / float64(len(recs))
	}
	if _, ok := m["accuracy_with_retrieval"]; ok {
		if without, ok := m["accuracy_without_retrieval"]; ok {
			m["retrieval_gain"] = m["accuracy_with_retrieval"] - without
		}
	}
	return m
}
