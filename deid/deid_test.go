package deid

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

type planted struct {
	Text        string   `json:"text"`
	Identifiers []string `json:"identifiers"`
	Keep        []string `json:"keep"`
}

// Corpus reads the planted-identifier corpus (Chinese and English texts
// with the identifiers planted in them); other packages' tests use it too.
func Corpus(t testing.TB) []planted {
	f, err := os.Open("testdata/planted.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []planted
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var p planted
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// Every planted identifier is removed, and the clinical content stays.
func TestRedactPlanted(t *testing.T) {
	ps := Corpus(t)
	if len(ps) < 20 {
		t.Fatalf("%d texts in the corpus", len(ps))
	}
	for _, p := range ps {
		got, found := Redact(p.Text)
		for _, id := range p.Identifiers {
			if strings.Contains(got, id) {
				t.Errorf("%q survives in %q", id, got)
			}
		}
		for _, k := range p.Keep {
			if !strings.Contains(got, k) {
				t.Errorf("clinical content %q was removed: %q", k, got)
			}
		}
		if len(found) == 0 {
			t.Errorf("nothing found in %q", p.Text)
		}
	}
}

// Clinical questions with no identifiers pass untouched.
func TestRedactLeavesClinicalText(t *testing.T) {
	for _, q := range []string{
		"Can denosumab be stopped after five years?",
		"全髋关节置换术后如何预防深静脉血栓？",
		"A 72-year-old woman weighs 50 kg; what is her OSTA index?",
		"患者骨折后多久开始抗骨质疏松治疗？",
		"T-score -2.5 at the femoral neck with a fragility fracture: severe osteoporosis?",
		"Which patient with cervical myelopathy needs surgery, mJOA 12?",
		"椎体成形术注射骨水泥3.5毫升是否过多？",
		"Caprini score 10 after total knee arthroplasty, 2 hours of surgery",
		"有心梗病史的患者能用罗莫佐单抗吗？",
	} {
		if got := String(q); got != q {
			t.Errorf("%q became %q", q, got)
		}
	}
}
