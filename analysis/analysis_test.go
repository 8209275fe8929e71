package analysis

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWordsAndTerms(t *testing.T) {
	a, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want []string
	}{
		{"Stopping denosumab without a follow-on drug", []string{"stop", "denosumab", "without", "follow", "drug"}},
		{"地舒单抗停药", []string{"单抗", "地舒单抗", "停药"}},
		// A Chinese brand keeps none of its inner words: 罗力 is inside
		// both 邦罗力 (ibandronate) and 普罗力 (denosumab).
		{"邦罗力多久打一次", []string{"邦罗力", "多久", "打", "一次"}},
		{"普罗力和邦罗力", []string{"普罗力", "邦罗力"}},
		{"ＤＸＡ　T-score", []string{"dxa", "tscore"}},
		{"Z scores and the Caprini score", []string{"zscore", "caprini", "score"}},
		{"Vitamin D3 and 25(OH)D, not vitamin B12", []string{"vitamind", "25ohd", "vitamin", "b12"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, a.Words(tt.in)); diff != "" {
			t.Errorf("Words(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	// Terms adds each Chinese character, so 钙 matches text cut as 元素钙;
	// Words does not.
	if terms := a.Terms("补充元素钙"); !contains(terms, "钙") || !contains(terms, "素") {
		t.Errorf("Terms(补充元素钙) = %v, want the single characters too", terms)
	}
	if words := a.Words("补充元素钙"); contains(words, "素") {
		t.Errorf("Words(补充元素钙) = %v, want no single characters", words)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDetectLang(t *testing.T) {
	tests := map[string]string{
		"绝经后女性骨质疏松症的治疗":                            "zh",
		"Bisphosphonates are first-line treatment": "en",
		"DXA 检查显示腰椎 T 值 -2.7":                      "zh",
		"12345":                                    "und",
	}
	for in, want := range tests {
		if got := DetectLang(in); got != want {
			t.Errorf("DetectLang(%q) = %q, want %q", in, got, want)
		}
	}
}

// Glossary phrases are found whatever their length, in either language.
func TestDomainConcepts(t *testing.T) {
	a, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ text, want string }{
		{"prophylaxis with low-molecular-weight heparin", "lmwh"},
		{"low molecular weight heparin", "lmwh"},
		{"低分子肝素预防", "lmwh"},
		{"ossification of the posterior longitudinal ligament at C3", "opll"},
		{"福善美吃了五年", "alendronate"},
		{"Switch her to Aclasta after her last Prolia shot", "denosumab"},
		{"grandma has brittle bones", "osteoporosis"},
		{"intermittent pneumatic compression", "ipc"},
	} {
		if got := a.DomainConcepts(tc.text); !slices.Contains(got, tc.want) {
			t.Errorf("%q: concepts %v, want %s among them", tc.text, got, tc.want)
		}
	}
}

// A topic tag counts as the concept the vocabulary maps it to, or else as
// the concepts its own words name, with their broader ones; a tag that
// names no concept adds nothing.
func TestTopicTerms(t *testing.T) {
	a, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tags      []string
		want, not []string
	}{
		{[]string{"drug-holiday"}, []string{"holiday"}, nil},                                                 // mapped in the vocabulary
		{[]string{"teriparatide"}, []string{"teriparatide", "anabolic", "osteodrug"}, []string{"denosumab"}}, // by its words, with broader
		{[]string{"very-high-risk"}, []string{"veryhigh"}, nil},
		{[]string{"approach"}, nil, []string{"anterior", "posterior"}},
	} {
		got := a.TopicTerms(tc.tags)
		for _, w := range tc.want {
			if !slices.Contains(got, ConceptTerm(w)) {
				t.Errorf("%v: terms %v, want %s", tc.tags, got, ConceptTerm(w))
			}
		}
		for _, w := range tc.not {
			if slices.Contains(got, ConceptTerm(w)) {
				t.Errorf("%v: terms %v hold %s", tc.tags, got, ConceptTerm(w))
			}
		}
		if tc.want == nil && len(got) > 0 {
			t.Errorf("%v: terms %v, want none", tc.tags, got)
		}
	}
}

// NamedUnder counts the drugs of a text under given classes, most specific
// only; a name inside a longer name does not count apart.
func TestNamedUnder(t *testing.T) {
	a, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	osteo, vte := []string{"osteodrug"}, []string{"anticoagulant", "antiplatelet"}
	tests := []struct {
		text  string
		roots []string
		want  []string
	}{
		{"a bisphosphonate such as zoledronic acid, with calcium and vitamin D", osteo, []string{"zoledronate"}},
		{"Fosamax, Prolia and Forteo", osteo, []string{"alendronate", "denosumab", "teriparatide"}},
		{"low-molecular-weight heparin (enoxaparin), then aspirin", vte, []string{"aspirin", "enoxaparin"}},
		{"低分子肝素加利伐沙班", vte, []string{"lmwh", "rivaroxaban"}},
		{"warfarin", vte, []string{"warfarin"}},
		{"calcium and vitamin D", osteo, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, a.NamedUnder(tt.text, tt.roots)); diff != "" {
			t.Errorf("NamedUnder(%q) (-want +got):\n%s", tt.text, diff)
		}
	}
	if got := a.Named("weight-bearing exercise"); !slices.Contains(got, "exercise") {
		t.Errorf("Named keeps generic concepts: got %v", got)
	}
}

// PlanNegations rules out what a negation governs: after a trigger to the
// end of its clause, and, for a negation that closes its clause ("isn't
// necessary", 没必要用), back to the clause's start; a line break ends a
// scope (the diagnosis above the plan is not negated).
func TestPlanNegations(t *testing.T) {
	a, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text          string
		ruledOut, not string // a concept named only where ruled out; one named outside
	}{
		{"Stop now; a bisphosphonate isn't necessary and markers are not needed.", "bisphosphonate", ""},
		{"停就停吧，双膦酸盐没必要用，复查CTX。", "bisphosphonate", "turnover"},
		{"I would not give zoledronic acid; check CTX.", "zoledronate", "turnover"},
		{"no fractures\nAlendronate weekly.", "", "alendronate"},
		{"不用急着转诊，给予唑来膦酸。", "", "zoledronate"},
		// A negated list runs over commas to its closing "or".
		{"He doesn't need Clexane, aspirin or calf pumps.", "aspirin", ""},
		// ...but not into a new clause: giving is not ruled out.
		{"Do not just stop, give zoledronic acid or alendronate.", "", "zoledronate"},
		// The enumeration comma lists what is ruled out.
		{"术后不需要低分子肝素、阿司匹林，也不用足底泵。", "aspirin", ""},
		// A dash or "then" ends the scope.
		{"She has no heart attack or stroke history - then switch to Prolia.", "", "denosumab"},
		{"Neither zoledronic acid nor alendronate is needed.", "zoledronate", ""},
		{"Skip the LMWH; mobilise early.", "lmwh", "mobilisation"},
		{"Withhold alendronate; calcium daily.", "alendronate", "calcium"},
		// Negations closing a Chinese clause.
		{"抗凝针免了，唑来膦酸就算了，复查CTX。", "zoledronate", "turnover"},
		{"低分子肝素也不打，早期下地。", "lmwh", "mobilisation"},
		{"Zoledronic acid: not needed. Mobilise early.", "zoledronate", "mobilisation"},
		{"唑来膦酸无需使用，早期下地。", "zoledronate", "mobilisation"},
		{"I wouldn't give alendronate; calcium daily.", "alendronate", "calcium"},
		{"特立帕肽暂不考虑，补钙。", "teriparatide", "calcium"},
		// A list of short items closed by "and" is ruled out; a longer
		// stretch after the comma is a new clause.
		{"Forgo rivaroxaban, aspirin and LMWH; mobilise early.", "aspirin", "mobilisation"},
		{"No holiday, zoledronic acid and markers at six months.", "", "zoledronate"},
		// A clause-closing negation reaches back over the enumeration comma.
		{"可以停地舒单抗，之后唑来膦酸、阿仑膦酸都不需要。", "zoledronate", ""},
		{"低分子肝素、阿司匹林都避免使用，早期下地。", "aspirin", "mobilisation"},
		// 别 inside 识别 or 鉴别 negates nothing.
		{"教她识别手笨等症状，鉴别腕管综合征；唑来膦酸。", "", "zoledronate"},
		// A limit is not a negation.
		{"A soft collar for no more than two weeks.", "", "collar"},
		{"Steer clear of surgery; calcium daily.", "surgery", "calcium"},
		{"Kyphoplasty would be a mistake; calcium daily.", "kyphoplasty", "calcium"},
		{"Calcium daily; alendronate can wait.", "alendronate", "calcium"},
		{"IPC and enoxaparin are both unnecessary; mobilise early.", "ipc", "mobilisation"},
		// After "all", the scope runs back over a list's commas...
		{"Enoxaparin, rivaroxaban and aspirin are all unnecessary; mobilise early.", "enoxaparin", "mobilisation"},
		// ...but not over a clause of its own.
		{"Give alendronate with calcium daily, and markers and DXA are all unnecessary.", "", "alendronate"},
		{"Alendronate would be jumping the gun; calcium daily.", "alendronate", "calcium"},
		{"Calcium daily; let's see if she fractures before we bother with alendronate.", "alendronate", "calcium"},
		{"抗骨松药吃了也白吃，补钙。", "osteodrug", "calcium"},
		{"换特立帕肽没有依据，补钙。", "teriparatide", "calcium"},
		{"药物假期我不同意，补钙。", "holiday", "calcium"},
		{"Surgery is a step too far for now; calcium daily.", "surgery", "calcium"},
		{"Teriparatide would be superfluous; calcium daily.", "teriparatide", "calcium"},
		{"Leakage risk factors don't really matter; forget the bone drugs, calcium daily.", "osteodrug", "calcium"},
		{"唑来膦酸没这个必要，补钙。", "zoledronate", "calcium"},
		{"依诺肝素和利伐沙班我都不太想用，早期下地。", "rivaroxaban", "mobilisation"},
		{"现在做手术太冒进了，补钙。", "surgery", "calcium"},
		{"特立帕肽为时过早，补钙。", "teriparatide", "calcium"},
		{"A bisphosphonate is a step she doesn't need yet; calcium daily.", "bisphosphonate", "calcium"},
		{"Anabolic agents would be going overboard; calcium daily.", "anabolic", "calcium"},
		{"抗骨松药也是浪费钱，补钙。", "osteodrug", "calcium"},
		// A negated adjective describes a finding; the action after it stands.
		{"风险不高可以暂停福善美，补钙。", "", "alendronate"},
		{"Nothing to follow up; calcium daily.", "monitoring", "calcium"},
		{"Rechecking her FRAX serves no purpose; calcium daily.", "frax", "calcium"},
		// A question answered no: the clause before the question mark is ruled out.
		{"Zoledronic acid? Not for him. Calcium daily.", "zoledronate", "calcium"},
		{"唑来膦酸？他用不着。补钙。", "zoledronate", "calcium"},
		{"渗漏的危险因素不用管，补钙。", "leakage", "calcium"},
		{"特立帕肽有点过分，补钙。", "teriparatide", "calcium"},
		// Not a verdict on what comes before it.
		{"Avoid excessive alcohol; alendronate weekly.", "", "alendronate"},
		{"Give zoledronic acid and markers are not needed.", "", "zoledronate"},
		// Post-clause verdicts.
		{"Enoxaparin is contraindicated; mobilise early.", "enoxaparin", "mobilisation"},
		{"Calf pumps won't help; mobilise early.", "ipc", "mobilisation"},
		{"低分子肝素没用，早期下地。", "lmwh", "mobilisation"},
		{"Give zoledronic acid because oral drugs are contraindicated.", "", "zoledronate"},
		// A deferral with a later start is not a refusal; without one it is.
		{"先别打地舒单抗；先补钙，血钙正常后再开始。", "", "denosumab"},
		{"Do not give denosumab yet; correct the calcium, then start it.", "", "denosumab"},
		{"先别打地舒单抗，补钙。", "denosumab", "calcium"},
		{"先别用降钙素；先补钙，血钙正常后再开始地舒单抗。", "calcitonin", "denosumab"},
		{"Do not give calcitonin yet; correct the calcium, then start denosumab.", "calcitonin", "denosumab"},
		{"No bisphosphonate until she fractures.", "bisphosphonate", ""},
		// Dismissals: more trouble than it is worth, adds nothing, waits.
		{"Teriparatide is more trouble than it's worth; calcium and vitamin D.", "teriparatide", "calcium"},
		{"特立帕肽太麻烦了，补钙和维D。", "teriparatide", "calcium"},
		{"双能X线没啥意义，开阿仑膦酸钠。", "dxa", "alendronate"},
		{"再拍片也看不出什么，抗骨松药以后再议。", "osteodrug", ""},
		{"Biopsy first - the cement waits until we have an answer.", "cement", "biopsy"},
		// A dash starts a clause ("osteoporosis" stays); right before its
		// negation it joins, like a colon.
		{"That settles it as osteoporosis - DXA would add nothing; start alendronate.", "dxa", "osteoporosis"},
		{"Zoledronic acid - not needed. Mobilise early.", "zoledronate", "mobilisation"},
		{"A bisphosphonate is surplus and the drinking is his own business; calcium daily.", "bisphosphonate", "calcium"},
		{"Correcting the calcium first would only hold things up - give the denosumab today.", "calcium", "denosumab"},
		{"先补钙只会耽误事，今天就打地舒单抗。", "calcium", "denosumab"},
		{"Cement leakage hardly matters here; start alendronate.", "leakage", "alendronate"},
		{"复查也不用反复看，预警症状就不用讲了，补钙。", "symptoms", "calcium"},
		{"Cancel the kyphoplasty for now; MRI.", "kyphoplasty", "mri"},
		{"后凸成形先取消；做磁共振。", "kyphoplasty", "mri"},
		{"Surgery can be kept in reserve; physiotherapy.", "surgery", "rehab"},
		{"A bisphosphonate would be jumping ahead; recheck the scan.", "bisphosphonate", ""},
		{"An MRI won't tell us anything new; calcium daily.", "mri", "calcium"},
		{"A nerve block isn't something I'd bother with; enoxaparin.", "nerveblock", "enoxaparin"},
		{"Tablets at home are asking for trouble; mobilise early.", "oral", "mobilisation"},
		{"肝素等术后再说，神经阻滞就别折腾了，早期下地。", "nerveblock", "mobilisation"},
		{"手术先放着，补钙。", "surgery", "calcium"},
		{"骨密度复查也改变不了什么，补钙。", "bmd", "calcium"},
		{"Zoledronic acid can't be justified; calcium daily.", "zoledronate", "calcium"},
		{"Drugs would only make her bleed; calf pumps alone.", "medication", ""},
		{"Live screening only slows us down; calcium daily.", "screening", "calcium"},
		{"An anabolic is more than the situation calls for; calcium daily.", "anabolic", "calcium"},
		{"Sending her for DXA would be a needless delay - weekly alendronate.", "dxa", "alendronate"},
		{"Waiting for the calcium is fussing over nothing; give the denosumab now.", "calcium", "denosumab"},
		{"用药只会出血，早期下地。", "medication", "mobilisation"},
		{"再去做双能X线是白白耽误，开阿仑膦酸钠。", "dxa", "alendronate"},
		{"促骨形成药物有点小题大做，补钙。", "anabolic", "calcium"},
		// A decimal point does not end the clause a verdict reaches back into.
		{"Alendronate for a T-score of -2.1 is a sledgehammer to crack a nut; calcium daily.", "alendronate", "calcium"},
		// A plural verb takes "X and Y" as its subject.
		{"Painkillers and a brace are just kicking the can down the road; book the kyphoplasty.", "bracing", "kyphoplasty"},
		{"Rushing her to surgery is a recipe for disaster; calcium daily.", "surgery", "calcium"},
		{"Surgery is asking for a dural tear; physiotherapy.", "surgery", "rehab"},
		{"Stopping alendronate would make her miserable for no good reason; calcium daily.", "alendronate", "calcium"},
		{"T值-2.1就用阿仑膦酸钠是杀鸡用牛刀，补钙。", "alendronate", "calcium"},
		{"磁共振是奢侈品可以省，补钙。", "mri", "calcium"},
		// A verdict that only defers, with a later start, rules nothing out.
		{"第一针普罗力先不打，等血钙补上来后再用；补钙。", "", "denosumab"},
	}
	for _, tt := range tests {
		open, negated := PlanNegations(tt.text)
		inOpen, inNegated := a.Named(open), a.Named(strings.Join(negated, "\n"))
		if tt.ruledOut != "" && (slices.Contains(inOpen, tt.ruledOut) || !slices.Contains(inNegated, tt.ruledOut)) {
			t.Errorf("%q: %s should be ruled out (open %v, negated %q)", tt.text, tt.ruledOut, inOpen, negated)
		}
		if tt.not != "" && !slices.Contains(inOpen, tt.not) {
			t.Errorf("%q: %s should stay in the plan (open %v, negated %q)", tt.text, tt.not, inOpen, negated)
		}
	}
}

// PlanNegations never panics and keeps the plan's length in runes, so that
// what it blanks lines up with the plan (any text a student types).
func FuzzPlanNegations(f *testing.F) {
	for _, s := range []string{"Stop now; a bisphosphonate isn't necessary.", "双膦酸盐没必要用，复查CTX。", "no\n不用", "\xff不用。isn't necessary"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		open, _ := PlanNegations(text)
		if got, want := len([]rune(open)), len([]rune(text)); got != want {
			t.Errorf("PlanNegations(%q) has %d runes, the plan %d", text, got, want)
		}
	})
}

// A plan's misspelt drug names count, as a question's do; a word that is
// near no name names nothing.
func TestNamedReadsMisspellings(t *testing.T) {
	a, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		want string
		ok   bool
	}{
		{"enoxaprin from admission", "enoxaparin", true},
		{"start teriparitide, then zoledronic acid", "teriparatide", true},
		{"orthogeriatric co-care", "enoxaparin", false},
	} {
		if got := slices.Contains(a.Named(tc.text), tc.want); got != tc.ok {
			t.Errorf("Named(%q) holds %s: %v, want %v (%v)", tc.text, tc.want, got, tc.ok, a.Named(tc.text))
		}
	}
}
