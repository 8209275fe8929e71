package evals

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/cases"
	"github.com/orthocds/orthocds/guidelines"
	"github.com/orthocds/orthocds/llm/ollamareplay"
)

// graderTestSHA256 freezes the grader test split (issue 26): it was
// written, with the tuning split, before any change to the drill grader,
// and no change is tuned on it.
const graderTestSHA256 = "e5e8bf2402f050bb0b95873f410c4259a303b8c05f10e4cddbeac84fd96efb07"

// graderHoldoutSHA256 freezes the held-out split in place (the
// forty-sixth, -p5 IDs, 40 answers over 20 cases, 20 per language: 8
// paraphrases, 8 negated correct plans and 4 shotgun lists per language,
// the English with misspelt drug names, the Chinese mixing in English
// drug names and abbreviations), written on 2026-12-07 after the
// forty-fifth's misses were read, and committed before it was first
// measured; no change is tuned on it until its misses are read.
const graderHoldoutSHA256 = "8ad8a418be7caaf24020e10e339415060aedfb0878c807d648432878b487b2b9"

func loadGrader(t *testing.T, name string) []GraderAnswer {
	t.Helper()
	out, err := LoadGrader(Data(), name)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const selectivityItem = "shotgun"

// The grader set: at least 150 answers over at least 15 cases, half in
// each language, every label naming an item of its case; the test split
// is frozen by hash.
func TestGraderSetFrozen(t *testing.T) {
	checkFrozen(t, "grader-tune.jsonl", map[string]string{"grader-test.jsonl": graderTestSHA256, "grader-holdout.jsonl": graderHoldoutSHA256})
	byID := graderCases(t)
	all := slices.Concat(loadGrader(t, "grader-tune.jsonl"), loadGrader(t, "grader-test.jsonl"), loadGrader(t, "grader-holdout.jsonl"))
	seen, perLang, perCase := map[string]bool{}, map[string]int{}, map[string]bool{}
	for _, a := range all {
		if seen[a.ID] {
			t.Errorf("%s used twice", a.ID)
		}
		seen[a.ID] = true
		perLang[a.Lang]++
		c, ok := byID[a.Case]
		if !ok {
			t.Errorf("%s: no case %s", a.ID, a.Case)
			continue
		}
		perCase[a.Case] = true
		for _, m := range a.Met {
			found := m == selectivityItem
			for _, it := range c.Rubric {
				found = found || it.ID == m
			}
			if !found {
				t.Errorf("%s: label %s is not an item of %s", a.ID, m, a.Case)
			}
		}
	}
	if len(all) < 150 || len(perCase) < 15 || perLang["en"] != perLang["zh"] {
		t.Errorf("%d answers over %d cases, per language %v: want at least 150 over 15, half each", len(all), len(perCase), perLang)
	}
}

func graderCases(t *testing.T) map[string]*cases.Case {
	t.Helper()
	corpus, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := cases.Load(cases.Embedded(), corpus)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*cases.Case{}
	for i := range cs {
		out[cs[i].ID] = &cs[i]
	}
	return out
}

// The deterministic grader against the examiner's labels, per language:
// the share of answers it scores within 0.15 of the examiner (issue 26
// asks for 90%), and how shotgun lists (at most 0.25), negated correct
// plans (at most 0.25) and paraphrases (at least 0.75) fare. A negated
// correct plan is an answer of a negation kind ("negated",
// "negated-correct") that the examiner scores at most 0.25: the correct
// plan ruled out ("I would not give zoledronic acid"); one the examiner
// scores higher is a correct plan phrased with negations ("do not just
// stop; give zoledronic acid"), counted apart. The frozen test split
// measured 0.77 en / 0.69 zh before the grader work and 0.91 / 0.91 after
// it; the held-out split was written after that work and measured once.
// The bounds hold the 0.90 on the test split, with every shotgun
// list at most 0.25, and each held-out split's first measurement. The tuning split's misses are listed; the held-out splits are
// measured without.
func TestGraderAgreement(t *testing.T) {
	byID := graderCases(t)
	scope, err := analysis.Shared()
	if err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{"tune", "test", "holdout"} {
		within, n := map[string]int{}, map[string]int{}
		var shotgun, negated, phrasedNegatively, paraphrase [2]int // {high or low, of}
		for _, a := range loadGrader(t, "grader-"+split+".jsonl") {
			c := byID[a.Case]
			got := cases.NewDrill(c, a.Lang).Submit(a.Diagnosis, a.Plan, scope).Score
			met := map[string]string{}
			for _, m := range a.Met {
				met[m] = "examiner"
			}
			want := c.Score(a.Lang, met).Score
			count := func(c *[2]int, miss bool) {
				c[1]++
				if miss {
					c[0]++
				}
			}
			switch {
			case slices.Contains(a.Met, selectivityItem):
				count(&shotgun, got > 0.25)
			case strings.HasPrefix(a.Kind, "negated") && want <= 0.25:
				count(&negated, got > 0.25)
			case strings.HasPrefix(a.Kind, "negated"):
				count(&phrasedNegatively, math.Abs(got-want) > 0.15)
			case a.Kind == "paraphrase":
				count(&paraphrase, got < 0.75)
			}
			n[a.Lang]++
			if math.Abs(got-want) <= 0.15 {
				within[a.Lang]++
			} else if split == "tune" {
				t.Logf("  off %s [%s]: grader %.2f, examiner %.2f", a.ID, a.Kind, got, want)
			}
		}
		for _, lang := range []string{"en", "zh"} {
			t.Logf("%s %s: grader within 0.15 of the examiner on %d of %d (%.2f)", split, lang, within[lang], n[lang],
				float64(within[lang])/float64(max(1, n[lang])))
		}
		t.Logf("%s: %d of %d shotgun answers score above 0.25, %d of %d negated correct plans above 0.25, %d of %d paraphrases below 0.75; %d of %d correct plans phrased with negations off by more than 0.15",
			split, shotgun[0], shotgun[1], negated[0], negated[1], paraphrase[0], paraphrase[1], phrasedNegatively[0], phrasedNegatively[1])
		if split == "tune" {
			continue
		}
		for _, lang := range []string{"en", "zh"} {
			if share := float64(within[lang]) / float64(max(1, n[lang])); share < graderAgreement[split+" "+lang]-1e-9 {
				t.Errorf("%s %s: grader within 0.15 of the examiner on %.2f, bound %.2f", split, lang, share, graderAgreement[split+" "+lang])
			}
		}
		if shotgun[0] > graderShotgun[split] {
			t.Errorf("%s: %d shotgun answers score above 0.25, bound %d", split, shotgun[0], graderShotgun[split])
		}
	}
}

// graderAgreement bounds each held-out split's agreement per language: the
// issue's 0.90 on the frozen test split; on the held-out split in place
// (the forty-sixth, -p5 IDs, written 2026-12-07), its first measurement
// (0.85 en / 1.00 zh; no negated correct plan above 0.25, 2 of 16
// paraphrases below 0.75, no shotgun list above 0.25). The forty-fifth (-n6/-o3) measured 0.90 en / 0.90 zh at
// first (1 of 8 negated correct plans above 0.25, 2 of 28 paraphrases
// below 0.75, no shotgun list above 0.25). The forty-fourth (-l3/-m6) measured 1.00 en / 1.00
// zh at first (no negated correct plan above 0.25, no paraphrase below
// 0.75, no shotgun list above 0.25). The forty-third (-i2/-j4/-k6) measured 0.95 en / 0.90 zh
// at first (no negated correct plan above 0.25, 3 of 16 paraphrases below
// 0.75, no shotgun list above 0.25). The forty-second
// (-f6/-g6/-h5) measured 0.85 en / 0.75 zh at first (2 of 16 negated
// correct plans above 0.25, 4 of 16 paraphrases below 0.75, no shotgun
// list above 0.25). The forty-first
// (-c4/-d4/-e4) measured 0.80 en / 0.85 zh at first (1 of 16 negated
// correct plans above 0.25, 2 of 16 paraphrases below 0.75, no shotgun
// list above 0.25). The fortieth (-y4/-a3/-b4)
// measured 0.85 en / 0.80 zh at first (2 of 16 negated correct plans
// above 0.25, 3 of 16 paraphrases below 0.75, 1 of 8 shotgun lists above
// 0.25, the first on a fresh split since the twenty-ninth). The
// thirty-ninth
// (-v5/-w5/-x5) measured 0.75 en / 0.65 zh at first (2 of 16 negated
// correct plans above 0.25, 5 of 16 paraphrases below 0.75, no shotgun
// list above 0.25). The thirty-eighth
// (-s5/-t5/-u6) measured 0.80 en / 0.85 zh at first (1 of 16 negated
// correct plans above 0.25, 4 of 16 paraphrases below 0.75, no shotgun
// list above 0.25). The thirty-seventh
// (-p4/-q4/-r4) measured 0.90 en / 0.90 zh at first (no negated correct
// plan above 0.25, 3 of 16 paraphrases below 0.75, no shotgun list above
// 0.25). The thirty-sixth
// (-m5/-n5/-o2) measured 0.80 en / 0.85 zh at first (2 of 16 negated
// correct plans above 0.25, 4 of 16 paraphrases below 0.75, no shotgun
// list above 0.25). The thirty-fifth
// (-h4/-j3/-l2) measured 0.80 en / 0.75 zh at first (6 of 16 negated
// correct plans above 0.25, 3 of 16 paraphrases below 0.75, no shotgun
// list above 0.25). The thirty-fourth
// (-e3/-f5/-g5) measured 0.90 en / 0.85 zh at first (2 of 16 negated
// correct plans above 0.25, 1 of 16 paraphrases below 0.75, no shotgun
// list above 0.25). The thirty-third
// (-b3/-c3/-d3) measured 0.85 en / 0.80 zh at first (2 of 16 negated
// correct plans above 0.25, 5 of 16 paraphrases below 0.75, no shotgun
// list above 0.25). The thirty-second
// (-a2/-h3/-j2) measured 0.90 en / 0.85 zh at first (1 of 16 negated
// correct plans above 0.25, 2 of 16 paraphrases below 0.75, no shotgun
// list above 0.25). The thirty-first
// (-v4/-w4/-x4) measured 0.80 en / 0.80 zh at first (3 of 16 negated
// correct plans above 0.25, 2 of 16 paraphrases below 0.75, no shotgun
// list above 0.25). The thirtieth
// (-s4/-t4/-u5) measured 0.80 en / 0.95 zh at first (2 of 16 negated
// correct plans above 0.25, 3 of 16 paraphrases below 0.75, no shotgun
// list above 0.25). The twenty-ninth
// (-p3/-q3/-r3) measured 0.80 en / 0.80 zh at first (no negated correct
// plan above 0.25, 3 of 16 paraphrases below 0.75, 1 of 8 shotgun lists
// above 0.25: a "would rather not" read as negating the list after it).
// The twenty-eighth
// (-m4/-n3/-n4) measured 0.90 en / 0.95 zh at first (3 of 16 negated
// correct plans above 0.25, no paraphrase below 0.75, no shotgun list
// above 0.25). The twenty-seventh (-k3) measured 0.85 / 0.75 at first (1 of 16 negated
// correct plans above 0.25, 3 of 16 paraphrases below 0.75). The twenty-sixth (-g2) measured 0.65 en / 0.75 zh at
// first with every unapproved copula predicate read as a dismissal (1 of
// 12 negated correct plans above 0.25, 9 of 20 paraphrases below 0.75) and
// 0.80 / 0.85 without the copula rule, side by side before its misses
// were read; since then a copula needs a mark of dismissal. Since judgements are read by structure (negated auxiliaries,
// copulas; README, "Drill grading") the twenty-fifth (-f2) measured 0.90 /
// 0.80 at first (no negated correct plan above 0.25, 5 of 16 paraphrases
// below 0.75) and the twenty-fourth (-d2) 0.85 / 0.70 (5 of 12 paraphrases
// below 0.75: approvals in new words read as dismissals). Before it, with
// lists of dismissive idioms, the twenty-third (-c2) measured 0.55 / 0.60
// (0.85 / 0.85 with the structural reading, measured before its misses
// were read), the twenty-second
// (-b2) measured 0.65 / 0.70 at first, the twenty-first
// (-s1) measured 0.80 / 0.80 at first, the twentieth (-i1, terse
// abbreviated paraphrases) 0.43 / 0.67, the nineteenth (-o1) 0.70 / 0.85,
// the eighteenth (-l1) 0.70 / 0.65, the seventeenth (-j1) 0.75 / 0.80, the
// sixteenth (-g1, paraphrases only) 0.73 / 0.93, the fifteenth (-f1) 0.75
// / 0.65, the fourteenth (-e1) 0.80 / 0.85, the thirteenth (-d1) 0.85 /
// 0.80, the twelfth (-c1) 0.65 / 0.65, the eleventh (-b1) 0.75 / 0.70, the
// tenth (-a1) 0.65 / 0.75, the ninth (-t) 0.80 / 0.85 and the eighth (-y)
// 0.70 / 0.75; each held-out split went into the tuning split once its
// misses had been read (README, "Drill grading").
var graderAgreement = map[string]float64{"test en": 0.90, "test zh": 0.90, "holdout en": 0.85, "holdout zh": 1.00}

// graderShotgun bounds how many shotgun lists may score above 0.25: none
// on the frozen test split (the limit); on the held-out split in
// place, its first measurement, as for agreement.
var graderShotgun = map[string]int{"test": 0, "holdout": 0}

// The grader task scores the deterministic grader and the judge on the
// same answers, each against the examiner: a judge (over Ollama's HTTP API,
// scripted) that names exactly the examiner's items agrees on every answer
// it scores, one that never replies with JSON leaves its answer
// unscorable, and the deterministic grader's figure is the one
// TestGraderAgreement measures.
func TestGraderTaskScoresTheJudgeBeside(t *testing.T) {
	answers := loadGrader(t, "grader-tune.jsonl")
	byPlan := map[string][]string{}
	for _, a := range answers {
		byPlan[a.Plan] = a.Met
	}
	broken := answers[0].Plan
	srv := ollamareplay.New([]string{"judge"}, func(_ string, msgs []ollamareplay.Message) ollamareplay.Script {
		// The response ends its plan line ("Plan: ...\n"): look the plan up
		// rather than search every answer's plan in every prompt.
		user := msgs[len(msgs)-1].Content
		_, plan, _ := strings.Cut(user, "\nPlan: ")
		plan, _, _ = strings.Cut(plan, "\n")
		met, ok := byPlan[plan]
		switch {
		case !ok:
			return ollamareplay.Script{Chunks: []string{`{"met": []}`}}
		case plan == broken:
			return ollamareplay.Script{Chunks: []string{"All good, I think."}}
		}
		b, _ := json.Marshal(map[string][]string{"met": met})
		return ollamareplay.Script{Chunks: []string{string(b)}}
	})
	defer srv.Close()
	j := judgeAt(t, srv.URL)
	e := env(t)
	e.Judge = j
	e.Cases = graderCases(t)
	var err error
	if e.Scope, err = analysis.Shared(); err != nil {
		t.Fatal(err)
	}
	suite := Suite{Name: "grader", Tasks: []TaskSpec{{ID: "grader", Type: "grader", Data: "grader-tune.jsonl"}}}
	rep, err := (&Runner{Env: e}).Run(context.Background(), suite, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]float64{}
	for _, tr := range rep.Tasks {
		got[tr.Model] = tr.Metrics
	}
	jm, dm := got[judgePrefix+j.Name()], got[rubricGrader]
	if jm == nil || dm == nil {
		t.Fatalf("models reported: %v", got)
	}
	if jm["within_0.15"] != 1 || jm["unscorable"] != 1 || jm["n"] != float64(len(answers)-1) {
		t.Errorf("oracle judge: %v, want every scored answer within 0.15 and one unscorable", jm)
	}
	// The deterministic grader, measured directly.
	within := 0
	for _, a := range answers {
		c := e.Cases[a.Case]
		met := map[string]string{}
		for _, m := range a.Met {
			met[m] = "examiner"
		}
		if math.Abs(cases.NewDrill(c, a.Lang).Submit(a.Diagnosis, a.Plan, e.Scope).Score-c.Score(a.Lang, met).Score) <= 0.15 {
			within++
		}
	}
	if want := float64(within) / float64(len(answers)); math.Abs(dm["within_0.15"]-want) > 1e-9 || dm["n"] != float64(len(answers)) {
		t.Errorf("rubric grader: %v, want within_0.15 %.3f over %d", dm, want, len(answers))
	}
	// Without the cases the task says why it is skipped.
	e.Cases = nil
	rep, err = (&Runner{Env: e}).Run(context.Background(), suite, t.TempDir())
	if err != nil || rep.Tasks[0].Skipped == "" {
		t.Errorf("no cases: %v, %+v", err, rep.Tasks[0])
	}
}
