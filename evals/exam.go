package evals

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// ExamItem is one multiple-choice question, whatever file layout it came
// from.
type ExamItem struct {
	ID       string            `json:"id"`
	Question string            `json:"question"`
	Options  map[string]string `json:"options"` // letter -> text
	Answer   string            `json:"answer"`  // the correct letter
	Topic    string            `json:"topic,omitempty"`
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
	f, err := os.Open(path)
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
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			bad = append(bad, LoadError{name, line, "not a JSON object"})
			continue
		}
		it := ExamItem{ID: fmt.Sprintf("%s:%d", name, line), Question: rec.Question, Options: rec.Options,
			Answer: strings.TrimSpace(rec.AnswerIdx), Topic: rec.MetaInfo}
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
