package cases

import (
	"bytes"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/orthocds/orthocds/analysis"
	"github.com/orthocds/orthocds/guidelines"
)

func load(t testing.TB) ([]Case, Scope) {
	t.Helper()
	corpus, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := Load(Embedded(), corpus)
	if err != nil {
		t.Fatal(err)
	}
	a, err := analysis.Shared()
	if err != nil {
		t.Fatal(err)
	}
	return cs, a
}

// The library holds at least 30 cases, with several in every clinical
// area of the corpus.
func TestLibraryCoverage(t *testing.T) {
	cs, _ := load(t)
	if len(cs) < 30 {
		t.Errorf("%d cases, want at least 30", len(cs))
	}
	per := map[string]int{}
	for _, c := range cs {
		per[c.Topic]++
	}
	for _, topic := range guidelines.Domains {
		if per[topic] < 3 {
			t.Errorf("topic %s has %d cases, want at least 3", topic, per[topic])
		}
	}
}

// Every case, submitted with its own expected diagnosis and plan, in
// either language, gets full marks and no must-not item.
func TestExpectedAnswersGetFullMarks(t *testing.T) {
	cs, scope := load(t)
	if len(cs) < 3 {
		t.Fatalf("%d cases", len(cs))
	}
	for i := range cs {
		c := &cs[i]
		for _, lang := range []string{"en", "zh"} {
			g := NewDrill(c, lang).Submit(c.Expected.Diagnosis.In(lang), c.Expected.Plan.In(lang), scope)
			if g.Score != 1 || len(g.MustNotDone) > 0 {
				var missed []string
				for _, it := range g.Items {
					if !it.Met && !it.MustNot || it.Met && it.MustNot {
						missed = append(missed, it.ID)
					}
				}
				t.Errorf("%s (%s): score %.2f, must-not done %v, items wrong %v", c.ID, lang, g.Score, g.MustNotDone, missed)
			}
		}
	}
}

// A plan that does a must-not item is penalised for it.
func TestWrongPlanGetsThePenalty(t *testing.T) {
	cs, scope := load(t)
	wrong := map[string]string{
		"op-untreated":         "Give calcitonin long term and review next year.",
		"denosumab-stop":       "Offer a drug holiday: just stop the injections.",
		"vte-tka":              "No prophylaxis is needed; place a filter if worried.",
		"giop":                 "Calcium and vitamin D alone, and wait for a fracture.",
		"dcm-moderate":         "Carpal tunnel release; observe only.",
		"ovcf-augment":         "Strict bed rest for six weeks; augmentation treats the osteoporosis.",
		"hipfx-prevention":     "Start zoledronic acid only once healed, and only if DXA shows osteoporosis.",
		"op-very-high-risk":    "Calcitonin injections long term, with nothing after that.",
		"op-osteopenia-frax":   "Only osteopenia: no drug, review in five years.",
		"op-man":               "Testosterone alone will rebuild his bones.",
		"op-osta":              "The ultrasound confirms osteoporosis; start alendronate.",
		"op-treatment-failure": "Continue alendronate; no change needed.",
		"op-bp-holiday":        "Take alendronate indefinitely.",
		"op-aff":               "A muscle strain: continue alendronate and rest.",
		"dmab-low-calcium":     "Give the first injection today; a drug holiday after five years.",
		"dmab-overdue":         "She can just stop; a break is fine.",
		"giop-very-high":       "Calcium and vitamin D alone, and calcitonin for the pain.",
		"ovcf-conservative":    "Immediate vertebroplasty, then strict bed rest.",
		"ovcf-red-flags":       "Osteoporotic: proceed with kyphoplasty as booked.",
		"ovcf-new-pain":        "Just reassure: a muscle strain.",
		"ovcf-cleft-leakage":   "Kyphoplasty with as much cement as possible.",
		"hipfx-acute":          "Put her on next week's elective list; no prophylaxis.",
		"hipfx-man-fls":        "T-score -2.3 is not osteoporosis: calcium and vitamin D alone.",
		"vte-tha-standard":     "Aspirin; screening duplex before discharge and a filter.",
		"vte-prior-dvt":        "Stockings only.",
		"vte-oestrogen":        "Continue the HRT; she is too young for prophylaxis.",
		"dcm-mild":             "Neck manipulation; no follow-up needed.",
		"dcm-nonmyelopathic":   "Book surgery: prophylactic decompression.",
		"dcm-opll-kline":       "Laminoplasty is the best; or observe only.",
		"dcm-axial-pain":       "Rigid collar for three months; it will not hurt.",
	}
	for i := range cs {
		c := &cs[i]
		plan, ok := wrong[c.ID]
		if !ok {
			t.Errorf("no wrong plan for case %s", c.ID)
			continue
		}
		right := NewDrill(c, "en").Submit(c.Expected.Diagnosis.EN, c.Expected.Plan.EN, scope)
		g := NewDrill(c, "en").Submit(c.Expected.Diagnosis.EN, plan, scope)
		if len(g.MustNotDone) == 0 || g.Earned >= right.Earned {
			t.Errorf("%s: wrong plan earned %d (right plan %d), must-not done %v", c.ID, g.Earned, right.Earned, g.MustNotDone)
		}
	}
}

// The scripted patient reveals nothing unasked: a question with no cue
// reveals no fact; each fact's own cue reveals it and no fact whose cues
// the question lacks; nothing is ordered unless named.
func TestScriptedPatientRevealsOnlyWhatIsAsked(t *testing.T) {
	cs, _ := load(t)
	for i := range cs {
		c := &cs[i]
		d := NewDrill(c, "en")
		if a := d.Ask("Good morning, how are you today?"); len(d.Asked) != 0 || !strings.Contains(a, "not sure") {
			t.Errorf("%s: an open greeting revealed %v: %q", c.ID, d.Asked, a)
		}
		for _, f := range append(append([]Fact{}, c.History...), c.Exam...) {
			d := NewDrill(c, "en")
			q := "Tell me about " + f.Ask[0] + "?"
			a := d.Ask(q)
			if !strings.Contains(a, f.Text.EN) {
				t.Errorf("%s: asking %q did not reveal %s", c.ID, q, f.ID)
			}
			for _, id := range d.Asked {
				var other *Fact
				for _, g := range append(append([]Fact{}, c.History...), c.Exam...) {
					if g.ID == id {
						other = &g
					}
				}
				if cued(q, other.Ask) == "" {
					t.Errorf("%s: %q revealed %s, whose cues it does not hold", c.ID, q, id)
				}
			}
			for _, t2 := range c.Tests {
				if strings.Contains(a, t2.Result.EN) {
					t.Errorf("%s: asking %q revealed the result of %s", c.ID, q, t2.ID)
				}
			}
		}
		if r := NewDrill(c, "en").Order("something unrelated"); len(r) != 0 {
			t.Errorf("%s: an unrelated order returned %v", c.ID, r)
		}
		for _, tst := range c.Tests {
			d := NewDrill(c, "en")
			r := d.Order(tst.Order[0])
			if len(r) == 0 || r[0].Result == "" {
				t.Errorf("%s: ordering %q gave %v", c.ID, tst.Order[0], r)
			}
		}
	}
}

// Cases that break the rules are refused at load, naming the case.
func TestValidation(t *testing.T) {
	corpus, _ := guidelines.Load(guidelines.Embedded())
	cs, _ := load(t)
	c := cs[0]
	c.Rubric = append([]Item(nil), c.Rubric...)
	c.Rubric[0].Entries = []string{"no-such-entry"}
	if err := c.validate(corpus); err == nil || !strings.Contains(err.Error(), "no-such-entry") {
		t.Errorf("unknown entry: %v", err)
	}
	c = cs[0]
	c.Synthetic = false
	if err := c.validate(corpus); err == nil {
		t.Error("a case not marked synthetic was accepted")
	}
	c = cs[0]
	var noMustNot []Item
	for _, it := range c.Rubric {
		if !it.MustNot {
			noMustNot = append(noMustNot, it)
		}
	}
	c.Rubric = noMustNot
	if err := c.validate(corpus); err == nil {
		t.Error("a rubric without a must-not item was accepted")
	}
}

// A must-not phrase in a clause that rules it out does not count against
// the student; the same phrase affirmed does.
func TestMustNotNegation(t *testing.T) {
	cs, scope := load(t)
	var c *Case
	for i := range cs {
		if cs[i].ID == "op-untreated" {
			c = &cs[i]
		}
	}
	for _, tc := range []struct {
		lang, plan string
		penalised  bool
	}{
		{"en", "Alendronate with calcium and vitamin D. Give calcitonin long term.", true},
		{"en", "Alendronate with calcium and vitamin D; do not give calcitonin long term.", false},
		{"en", "Alendronate, avoiding calcitonin.", false},
		{"en", "Avoid NSAIDs. Calcitonin for life.", true},
		{"zh", "阿仑膦酸钠，补充钙和维生素D；长期使用降钙素。", true},
		{"zh", "阿仑膦酸钠，补充钙和维生素D；不建议长期使用降钙素。", false},
	} {
		g := NewDrill(c, tc.lang).Submit("osteoporosis", tc.plan, scope)
		if got := slices.Contains(g.MustNotDone, "calcitonin-long-term"); got != tc.penalised {
			t.Errorf("%q: penalised %v, want %v", tc.plan, got, tc.penalised)
		}
	}
}

// A hospital's own cases are added to the embedded ones; one reusing an
// embedded case's ID is refused.
func TestLoadWith(t *testing.T) {
	corpus, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(Embedded(), "giop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	embedded, _ := Load(Embedded(), corpus)
	own := bytes.Replace(b, []byte("id: giop\n"), []byte("id: hospital-giop\n"), 1)
	got, err := LoadWith(corpus, fstest.MapFS{"hospital-giop.yaml": {Data: own}})
	if err != nil || len(got) != len(embedded)+1 || got[len(got)-1].ID != "hospital-giop" {
		t.Fatalf("with a hospital case: %d cases, %v", len(got), err)
	}
	if _, err := LoadWith(corpus, fstest.MapFS{"copy.yaml": {Data: b}}); err == nil || !strings.Contains(err.Error(), "giop") {
		t.Errorf("a reused ID: %v", err)
	}
}

// A positive item named only inside a negated scope is not met, and the
// grade says which words voided it; the same words affirmed meet it.
func TestPositiveItemNegation(t *testing.T) {
	cs, scope := load(t)
	var c *Case
	for i := range cs {
		if cs[i].ID == "denosumab-stop" {
			c = &cs[i]
		}
	}
	for _, tc := range []struct {
		lang, plan string
		met        bool
		voided     string
	}{
		{"en", "Do not just stop. Give zoledronic acid at the next dose.", true, ""},
		{"en", "I would not give zoledronic acid or any other bisphosphonate.", false, "would not give zoledronic acid or any other bisphosphonate"},
		{"en", "Stop now, without a bisphosphonate.", false, "without a bisphosphonate"},
		{"zh", "不需要唑来膦酸，直接停药。", false, "不需要唑来膦酸"},
		{"zh", "下次注射时给予唑来膦酸。", true, ""},
		{"zh", "要不要唑来膦酸？要，下次注射时给。", true, ""},
	} {
		g := NewDrill(c, tc.lang).Submit("osteoporosis", tc.plan, scope)
		for _, it := range g.Items {
			if it.ID != "follow-on" {
				continue
			}
			if it.Met != tc.met || it.Voided != tc.voided {
				t.Errorf("%q: met %v voided %q, want %v %q", tc.plan, it.Met, it.Voided, tc.met, tc.voided)
			}
		}
	}
}

// What a plan rules out is read longest name first: "no drug holiday"
// (不能放药物假期) rules out the holiday, not every drug, so it neither
// voids the follow-on drug nor counts as stopping with none.
func TestRulingOutReadsLongestNames(t *testing.T) {
	c, scope := caseByID(t, "dmab-overdue")
	for _, tc := range []struct{ lang, plan string }{
		{"en", "There is no drug holiday with Prolia; recheck CTX in three months."},
		{"zh", "普罗力不能放药物假期，三个月后复查CTX。"},
	} {
		g := NewDrill(c, tc.lang).Submit("overdue denosumab", tc.plan, scope)
		if it := itemOf(g, "follow-on"); it.Voided != "" {
			t.Errorf("%q: follow-on voided by %q", tc.plan, it.Voided)
		}
		if it := itemOf(g, "just-stop"); it.Met {
			t.Errorf("%q: counted as stopping with no follow-on drug (%s)", tc.plan, it.Why)
		}
	}
}

// A positive item's cue of several English words meets its paraphrase in
// another inflection ("stopped taking" for "stop taking"); a must-not
// cue is caught as the case file wrote it only.
func TestStemsWidenPositiveItems(t *testing.T) {
	c, scope := caseByID(t, "op-aff")
	g := NewDrill(c, "en").Submit("atypical femoral fracture", "She stopped taking the alendronate last month.", scope)
	if it := itemOf(g, "stop"); !it.Met {
		t.Errorf("stop not met by an inflected paraphrase: %s", it.Why)
	}
	g = NewDrill(c, "en").Submit("atypical femoral fracture", "She keeps taking alendronate weekly.", scope)
	if it := itemOf(g, "continue"); it.Met {
		t.Errorf("the must-not item met through stems: %s", it.Why)
	}
	// A one-word cue widens too ("decompression" by "decompress"); a cue
	// whose other words are stop words ("then alendronate") does not.
	opll, _ := caseByID(t, "dcm-opll-kline")
	g = NewDrill(opll, "en").Submit("OPLL myelopathy", "Decompress him promptly.", scope)
	if it := itemOf(g, "surgery"); !it.Met {
		t.Errorf("surgery not met by 'decompress': %s", it.Why)
	}
	vh, _ := caseByID(t, "op-very-high-risk")
	g = NewDrill(vh, "en").Submit("Osteoporosis", "Alendronate alone.", scope)
	if it := itemOf(g, "follow-on"); it.Met {
		t.Errorf("follow-on met by alendronate alone: %s", it.Why)
	}
}

func caseByID(t *testing.T, id string) (*Case, Scope) {
	t.Helper()
	cs, scope := load(t)
	for i := range cs {
		if cs[i].ID == id {
			return &cs[i], scope
		}
	}
	t.Fatalf("no case %s", id)
	return nil, nil
}

func itemOf(g Grade, id string) ItemScore {
	for _, it := range g.Items {
		if it.ID == id {
			return it
		}
	}
	return ItemScore{}
}

// A plan that lists drugs rather than choosing loses the selectivity
// points; a drug named with its class, or named only where the plan rules
// it out, counts once or not at all.
func TestSelectivity(t *testing.T) {
	c, scope := caseByID(t, "denosumab-stop") // at most 2 drugs (denosumab and its follow-on)
	for _, tc := range []struct {
		lang, plan string
		shotgun    bool
		maxScore   float64
	}{
		{"en", "Give zoledronic acid, alendronate, teriparatide, romosozumab, raloxifene and calcitonin at the next dose date and monitor everything.", true, 0.25},
		{"zh", "唑来膦酸、阿仑膦酸钠、特立帕肽、罗莫佐单抗、雷洛昔芬和降钙素都用上，到下次注射时开始，全面监测。", true, 0.25},
		{"en", "Give a bisphosphonate (zoledronic acid) when the next denosumab dose would have been due; monitor turnover markers.", false, 1},
		{"en", "Give zoledronic acid at the next dose; not teriparatide, not romosozumab, not raloxifene. Monitor CTX.", false, 1},
	} {
		g := NewDrill(c, tc.lang).Submit("osteoporosis", tc.plan, scope)
		s := itemOf(g, "shotgun")
		if s.Met != tc.shotgun || g.Score > tc.maxScore {
			t.Errorf("%q: shotgun %v (%s), score %.2f; want shotgun %v, score at most %.2f", tc.plan, s.Met, s.Why, g.Score, tc.shotgun, tc.maxScore)
		}
		if tc.shotgun && !strings.Contains(s.Why, "6") {
			t.Errorf("%q: the reason %q does not count the drugs", tc.plan, s.Why)
		}
	}
	// LMWH named as "low-molecular-weight heparin (enoxaparin)" is one
	// drug; three agents are the most the knee case allows.
	vte, _ := caseByID(t, "vte-tka")
	for _, tc := range []struct {
		plan    string
		shotgun bool
	}{
		{"Low-molecular-weight heparin (enoxaparin) for 14 days, foot pumps, early mobilisation.", false},
		{"LMWH plus rivaroxaban plus aspirin plus warfarin together for 14 days, with pumps, and early mobilisation.", true},
	} {
		if got := itemOf(NewDrill(vte, "en").Submit("TKA", tc.plan, scope), "shotgun").Met; got != tc.shotgun {
			t.Errorf("%q: shotgun %v, want %v", tc.plan, got, tc.shotgun)
		}
	}
	// The drug the diagnosis says she failed on is not an option the plan
	// lists: three choices are the most this case allows.
	tf, _ := caseByID(t, "op-treatment-failure")
	for _, tc := range []struct {
		diagnosis, plan string
		shotgun         bool
	}{
		{"New fracture on Fosamax", "Switch to zoledronic acid or denosumab, or teriparatide; calcium and vitamin D.", false},
		{"New fracture", "Switch to zoledronic acid or denosumab, or teriparatide, or alendronate again; calcium and vitamin D.", true},
	} {
		if got := itemOf(NewDrill(tf, "en").Submit(tc.diagnosis, tc.plan, scope), "shotgun").Met; got != tc.shotgun {
			t.Errorf("%q / %q: shotgun %v, want %v", tc.diagnosis, tc.plan, got, tc.shotgun)
		}
	}
}

// Items meet through concepts: a brand or a narrower drug meets an item
// naming the class (Clexane is enoxaparin, a LMWH), and the negation of a
// positive item commits the must-not omission that negates it.
func TestConceptsAndOmissions(t *testing.T) {
	vte, scope := caseByID(t, "vte-tka")
	g := NewDrill(vte, "en").Submit("TKA", "Enoxaparin daily for 14 days, intermittent pneumatic compression, walking early.", scope)
	if it := itemOf(g, "drug"); !it.Met || !strings.Contains(strings.ToLower(it.Why), "enoxaparin") {
		t.Errorf("enoxaparin for a LMWH item: met %v, why %q", it.Met, it.Why)
	}
	g = NewDrill(vte, "en").Submit("TKA", "No anticoagulant, no aspirin and no compression devices are needed.", scope)
	if it := itemOf(g, "no-prophylaxis"); !it.Met || g.Score != 0 {
		t.Errorf("every agent ruled out: no-prophylaxis %v (%s), score %.2f; want met, 0", it.Met, it.Why, g.Score)
	}
	// A must-not item is done by its wording, or by negating what it
	// negates: "Do not stop alendronate" continues it. A drug named by what it treats (a concept's
	// phrase, "tablets for osteopenia") and ruled out voids the drug item, so
	// withholding it is done; named and given, it is not.
	for _, tc := range []struct {
		caseID, item, lang, plan string
		done                     bool
	}{
		{"op-aff", "continue", "en", "Do not stop alendronate; no need to image the femurs.", true},
		{"op-aff", "continue", "zh", "不要停用阿仑膦酸钠，不需要拍片。", true},
		{"op-aff", "continue", "en", "Stop alendronate and image both femurs.", false},
		{"op-osteopenia-frax", "no-drug", "en", "Tablets for osteopenia would be overkill; calcium and a daily walk.", true},
		{"op-osteopenia-frax", "no-drug", "zh", "为骨量减少吃药就免了；补钙，每天散步。", true},
		{"op-osteopenia-frax", "no-drug", "en", "Alendronate weekly; tablets for osteopenia work when FRAX is over the threshold.", false},
		// Putting off theatre delays surgery; putting off a bone drug does not.
		{"hipfx-acute", "delay", "en", "Theatre can wait until Monday; heparin tonight.", true},
		{"hipfx-acute", "delay", "en", "Fix the hip today; zoledronic acid can wait until the fracture clinic.", false},
	} {
		c, _ := caseByID(t, tc.caseID)
		if got := itemOf(NewDrill(c, tc.lang).Submit("diagnosis", tc.plan, scope), tc.item).Met; got != tc.done {
			t.Errorf("%s %q: %s %v, want %v", tc.caseID, tc.plan, tc.item, got, tc.done)
		}
	}
}

// A clause item is met by one clause naming all its concepts, in any
// wording and order, outside the plan's negations; the concepts in two
// clauses, or a negated one, do not meet it.
func TestClauseItems(t *testing.T) {
	_, scope := caseByID(t, "vte-oestrogen")
	for _, tc := range []struct {
		caseID, item, lang, plan string
		met                      bool
	}{
		{"vte-oestrogen", "stop-oestrogen", "en", "Her HRT should come off a month before the operation; enoxaparin after it.", true},
		{"vte-oestrogen", "stop-oestrogen", "zh", "激素替代手术前一个月停下来，术后用依诺肝素。", true},
		{"vte-oestrogen", "stop-oestrogen", "en", "Stop smoking, and keep her HRT going; enoxaparin after surgery.", false},
		{"vte-oestrogen", "stop-oestrogen", "en", "Do not stop her HRT; enoxaparin after surgery.", false},
		// A label before a colon or a dash belongs to what follows it.
		{"vte-oestrogen", "stop-oestrogen", "en", "Checklist: HRT - pause four weeks before; prophylaxis - enoxaparin.", true},
		{"vte-oestrogen", "stop-oestrogen", "zh", "术前清单：激素替代——术前四周暂停；预防——依诺肝素。", true},
		{"vte-oestrogen", "stop-oestrogen", "en", "Keep the HRT going, we discussed it at length - pause the enoxaparin if she bleeds.", false},
		// 先停 is one word to the segmenter, and a stop all the same.
		{"vte-oestrogen", "stop-oestrogen", "zh", "1）激素替代：术前四周左右先停；2）术后依诺肝素。", true},
		{"op-bp-holiday", "holiday", "en", "If her risk is low, the drug can be paused for a few years.", true},
		{"op-bp-holiday", "holiday", "zh", "风险低的话，药可以暂停几年。", true},
		{"op-bp-holiday", "holiday", "en", "Pausing the drug is unwise; carry on with it.", false},
	} {
		c, _ := caseByID(t, tc.caseID)
		if it := itemOf(NewDrill(c, tc.lang).Submit("diagnosis", tc.plan, scope), tc.item); it.Met != tc.met {
			t.Errorf("%s %q: %s %v (%s), want %v", tc.caseID, tc.plan, tc.item, it.Met, it.Why, tc.met)
		}
	}
}

// An alone item is done by a plan that gives what it names and nothing
// under its besides, however the rest was turned down; a drug given beside
// it, or nothing it names at all, does not do it.
func TestAlone(t *testing.T) {
	c, scope := caseByID(t, "giop-very-high")
	for _, tc := range []struct {
		lang, plan string
		done       bool
	}{
		{"en", "Teriparatide is more trouble than it's worth; calcium and vitamin D, and we'll see.", true},
		{"zh", "特立帕肽太麻烦了，补钙和维D，先观察。", true},
		{"en", "No teriparatide. Vitamin D.", true},
		{"en", "Teriparatide daily, with calcium and vitamin D.", false},
		{"zh", "不用特立帕肽，改唑来膦酸，补钙。", false},
		{"en", "Teriparatide is more trouble than it's worth; review in clinic.", false},
	} {
		it := itemOf(NewDrill(c, tc.lang).Submit("vertebral fractures on prednisone", tc.plan, scope), "calcium-only")
		if it.Met != tc.done {
			t.Errorf("%q: calcium-only %v (%s), want %v", tc.plan, it.Met, it.Why, tc.done)
		}
	}
}

// Selectivity and omission fields are checked at load.
func TestValidationOfNewItems(t *testing.T) {
	corpus, _ := guidelines.Load(guidelines.Embedded())
	c, _ := caseByID(t, "op-aff")
	for _, tc := range []struct {
		name string
		edit func(*Item)
		want string
	}{
		{"negates an unknown item", func(it *Item) { it.Negates = "nothing" }, "negates"},
		{"selectivity without counts", func(it *Item) { it.MaxDrugs, it.Counts = 2, nil }, "counts"},
		{"ruled_out without max_drugs", func(it *Item) { it.MaxDrugs, it.RuledOut = 0, []string{"calcitonin"} }, "max_drugs"},
		{"criterion not stating max_drugs", func(it *Item) { it.MaxDrugs, it.Counts = 7, []string{"osteodrug"} }, "criterion"},
		{"alone without besides", func(it *Item) { it.Alone = []string{"calcium"} }, "besides"},
		{"besides without alone", func(it *Item) { it.Besides = []string{"osteodrug"} }, "alone"},
		{"clause on a must-not item", func(it *Item) { it.Clause = []string{"discontinuation", "medication"} }, "clause"},
	} {
		cc := *c
		cc.Rubric = append([]Item(nil), c.Rubric...)
		for i := range cc.Rubric {
			if cc.Rubric[i].MustNot {
				tc.edit(&cc.Rubric[i])
				break
			}
		}
		if err := cc.validate(corpus); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// Every concept a rubric item names (concepts, ruling_out, counts,
// ruled_out, alone, besides) is a concept of the shared vocabulary: a misspelt ID would
// never match and the item would silently never be met.
func TestItemConceptsAreKnown(t *testing.T) {
	cs, _ := load(t)
	a, err := analysis.Shared()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		for _, it := range c.Rubric {
			for _, id := range slices.Concat(it.Concepts, it.Clause, it.RulingOut, it.Counts, it.RuledOut, it.Alone, it.Besides) {
				if _, ok := a.Vocabulary().Concept(id); !ok {
					t.Errorf("case %s, item %s: %q is not a concept of analysis/data/concepts.yaml", c.ID, it.ID, id)
				}
			}
		}
	}
}

// An omission item (ruling_out) is met wherever the plan rules out what it
// omits, in any wording of the concept; naming the concept without ruling
// it out, or in a negated stop, does not meet it. A finding does not meet a condition item:
// clumsy hands are a sign of myelopathy, not its diagnosis.
func TestRulingOutAndSigns(t *testing.T) {
	c, scope := caseByID(t, "dcm-nonmyelopathic")
	for _, tc := range []struct {
		lang, plan string
		met        bool
	}{
		{"en", "No preventive operation; review in clinic.", true},
		{"zh", "暂不手术，门诊随访。", true},
		{"en", "Book decompression surgery now.", false},
	} {
		if got := itemOf(NewDrill(c, tc.lang).Submit("cord compression", tc.plan, scope), "no-surgery"); got.Met != tc.met {
			t.Errorf("%q: no-surgery met %v (%s), want %v", tc.plan, got.Met, got.Why, tc.met)
		}
	}
	// Ruling out the drug she is on stops it; a negated stop keeps it.
	aff, _ := caseByID(t, "op-aff")
	for _, tc := range []struct {
		lang, plan string
		met        bool
	}{
		{"zh", "阿仑膦酸钠不再吃，补维生素D。", true},
		{"en", "She should no longer take alendronate.", true},
		{"en", "No more bisphosphonate for her.", true},
		{"en", "Do not stop alendronate; image both femurs.", false},
		{"zh", "为一点大腿痛就停阿仑膦酸是反应过度，接着吃。", false},
	} {
		if got := itemOf(NewDrill(aff, tc.lang).Submit("atypical femoral fracture", tc.plan, scope), "stop"); got.Met != tc.met {
			t.Errorf("%q: stop met %v (%s), want %v", tc.plan, got.Met, got.Why, tc.met)
		}
	}
	m, _ := caseByID(t, "dcm-moderate")
	if got := itemOf(NewDrill(m, "en").Submit("Clumsy hands", "Nerve conduction studies.", scope), "diagnosis"); got.Met {
		t.Errorf("a sign met the diagnosis item: %s", got.Why)
	}
	if got := itemOf(NewDrill(m, "en").Submit("Degenerative cervical myelopathy", "Refer for surgery.", scope), "diagnosis"); !got.Met {
		t.Errorf("the diagnosis did not meet the diagnosis item: %s", got.Why)
	}
}

// A Latin-script cue starts a word but may end inside one; a Chinese cue
// matches anywhere.
func TestCuedStartsAWord(t *testing.T) {
	for _, tc := range []struct {
		text, cue string
		want      bool
	}{
		{"Discontinue alendronate.", "continue alendronate", false},
		{"Continue alendronate.", "continue alendronate", true},
		{"early mobilisation", "mobilis", true},
		{"a fracture", "ct", false},
		{"CT of the spine", "ct", true},
		{"停用阿仑膦酸", "阿仑膦酸", true},
		{"Correct the vitamin D first.", "correct vitamin d", true},
		{"Stop her HRT.", "stop hrt", true},
	} {
		if got := cued(tc.text, []string{tc.cue}) != ""; got != tc.want {
			t.Errorf("cued(%q, %q) = %v, want %v", tc.text, tc.cue, got, tc.want)
		}
	}
}
