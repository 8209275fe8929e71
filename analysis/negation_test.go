package analysis

import (
	"io/fs"
	"strings"
	"testing"
)

// The shipped negation file loads, and a file with a bad cue or an example
// its rules do not read as it says is refused with the list and the cue
// named.
func TestNegationFile(t *testing.T) {
	shipped, err := fs.ReadFile(Embedded(), "negation.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadNegation(shipped); err != nil {
		t.Fatalf("shipped file: %v", err)
	}
	good := string(shipped)
	tests := []struct {
		name, old, new, want string
	}{
		{"repeated cue", "    - 'denies'\n", "    - 'denies'\n    - 'denies'\n", `question.before_en[4] "denies": listed twice`},
		{"bad expression", "    - 'denies'\n", "    - 'denies('\n", `question.before_en[3] "denies(": error parsing regexp`},
		{"empty cue", "    - 'denies'\n", "    - ' '\n", "question.before_en[3]: empty cue"},
		{"no end in a Chinese verdict", "好再?(?:评估|考虑|查|做|用)的?(?:{end})'", "好再?(?:评估|考虑|查|做|用)的?'", "plan.after_zh[1]"},
		{"unknown field", "question:\n", "question:\n  after_en: []\n", "after_en"},
		// Without 就算了 and 算了 nothing rules out 唑来膦酸 in an example (named by its
		// text, so that adding examples does not move the test).
		{"an example stops holding", "    - '就算了'\n    - '算了'\n", "", `] "抗凝针免了，唑来膦酸就算了，复查CTX。": "唑来膦酸" is not ruled out`},
		{"an example with nothing to check", "keeps: 'collar'", "keeps: ''", "plan.examples[3]: needs text, and rules_out or keeps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("the shipped file has no %q", tt.old)
			}
			_, err := loadNegation([]byte(strings.Replace(good, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to say %q", err, tt.want)
			}
		})
	}
}

// The grammar of judgements: a negated auxiliary or a copula rules out the
// step it judges, unless the predicate keeps it (a stop negated, a step
// approved, a finding described) or the subject is the patient; a harsh
// judgement of a withholding keeps what is withheld.
func TestPlanJudgements(t *testing.T) {
	tests := []struct {
		name, plan    string
		ruledOut      string // in a negated stretch
		open, blanked string // left in the open text, or blanked from it
	}{
		{"a negated verb of any kind", "Teriparatide won't cut it; alendronate weekly.", "Teriparatide", "alendronate", ""},
		{"a negated stop keeps the drug", "Denosumab mustn't be stopped; zoledronic acid at six months.", "", "Denosumab", ""},
		{"a pronoun subject negates forward only", "Keep filling until it won't take more cement.", "take more cement", "Keep filling", ""},
		{"a dismissal marked by excess", "Zoledronic acid now would be too much; recheck CTX.", "Zoledronic acid", "CTX", ""},
		{"a judgement without a mark keeps the step", "Zoledronic acid now would be painting the roses; recheck CTX.", "", "Zoledronic acid", ""},
		{"an approval in words of its own", "Apixaban is my go-to after a hip replacement.", "", "Apixaban", ""},
		{"a dispensable step", "A nerve block is a frill; operate today.", "A nerve block", "operate today", ""},
		{"a negation inside the predicate", "Teriparatide is a step she doesn't need; alendronate.", "Teriparatide", "alendronate", ""},
		{"a negated stop inside the predicate", "Denosumab is a drug we must never stop abruptly.", "stop abruptly", "Denosumab", ""},
		{"approval keeps the step", "Zoledronic acid is the obvious next step; recheck CTX.", "", "Zoledronic acid", ""},
		{"a dose describes", "Zoledronic acid is 5 mg once a year.", "", "Zoledronic acid", ""},
		{"a finding of the patient describes", "Her CTX is high, so keep injecting.", "", "CTX", ""},
		{"a word that starts like a pronoun is no pronoun", "Heparin on top of a past clot is overcooking it; stockings.", "Heparin", "stockings", ""},
		{"overdue is no over- word", "Prolia is overdue, so give it today.", "", "Prolia", ""},
		{"a subordinate clause is its own", "Start zoledronic acid once vitamin D is replete.", "", "Start zoledronic acid", ""},
		{"a harsh judgement of a withholding", "Holding off on surgery would be a luxury; decompress next month.", "", "decompress", "Holding off on surgery"},
		{"a noun of choosing keeps the choice", "Risedronate is a solid pick for him, with calcium.", "", "Risedronate", ""},
		{"a cause named describes", "Low testosterone and the drinking are the culprits to chase.", "", "Low testosterone", ""},
		{"the speaker's own choice", "Enoxaparin plus calf pumps is the combination I'd use.", "", "Enoxaparin", ""},
		{"a quantity describes", "Recheck CTX, and the jaw risk is tiny.", "", "jaw risk", ""},
		{"after is a preposition", "A switch to denosumab after five years would be overcautious.", "A switch to denosumab", "", ""},
		{"Chinese copula", "现在打唑来膦酸是多余的一步；补钙。", "唑来膦酸", "补钙", ""},
		{"Chinese excess copula", "一上来就用罗莫佐单抗太烧钱；补钙。", "罗莫佐单抗", "补钙", ""},
		{"a Chinese approval in words of its own", "髂筋膜阻滞是标配；入院就用依诺肝素。", "", "髂筋膜阻滞", ""},
		{"Chinese verdict after a comma", "为了大腿酸就换特立帕肽，是过度治疗；接着吃。", "特立帕肽", "接着吃", ""},
		{"Chinese approval", "唑来膦酸是首选；还是要补钙。", "", "唑来膦酸", ""},
		{"a Chinese noun of choosing", "特立帕肽是打头阵的最佳人选；补钙。", "", "特立帕肽", ""},
		{"才是 affirms", "前路减压融合才是正道；先做CT。", "", "前路减压融合", ""},
		{"不管 negates nothing", "不管T值多少，都用唑来膦酸。", "", "唑来膦酸", ""},
		{"options listed are options", "唑来膦酸、地舒单抗都是选项。", "", "地舒单抗", ""},
		{"Chinese withholding judged", "为了大腿酸就停阿仑膦酸钠，是过度反应；接着吃。", "", "接着吃", "停阿仑膦酸钠"},
		{"Chinese words holding a copula", "多晒太阳，打太极。", "", "太极", ""},
		{"Chinese excess", "有过血栓就上肝素，用力过猛了；穿弹力袜。", "肝素", "弹力袜", ""},
		{"a topic before 甭", "唑来膦酸就算了，其他双膦酸盐也甭用了，补钙。", "双膦酸盐", "补钙", ""},
		{"a topic before 没必要接", "唑来膦酸没必要接，补钙。", "唑来膦酸", "补钙", ""},
		{"a Chinese answer to its own question", "后面再接双膦酸盐？没那个必要。补钙。", "双膦酸盐", "补钙", ""},
		{"an English answer to its own question", "A bisphosphonate after it? Hardly necessary. Calcium daily.", "bisphosphonate", "Calcium", ""},
		{"a topic before 不再", "阿仑膦酸钠不再吃，补维生素D。", "阿仑膦酸钠", "维生素D", ""},
		{"an idiom of excess", "Zoledronic acid now is over-egging it; recheck CTX.", "Zoledronic acid", "CTX", ""},
		{"a dismissal as outdated", "Conservative care is outdated thinking; cement this week.", "Conservative care", "cement", ""},
		{"a typographic apostrophe", "Don’t give zoledronic acid; calcium daily.", "zoledronic acid", "calcium", ""},
		{"an apostrophe left out", "Dont give zoledronic acid; calcium daily.", "zoledronic acid", "calcium", ""},
		{"an apostrophe left out keeps the text aligned", "Wont need teriparatide, isnt indicated; calcium daily.", "teriparatide", "calcium daily", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open, negated := PlanNegations(tt.plan)
			joined := strings.Join(negated, " | ")
			if tt.ruledOut != "" && !strings.Contains(joined, tt.ruledOut) {
				t.Errorf("%q not ruled out (negated %q)", tt.ruledOut, negated)
			}
			if tt.ruledOut == "" && tt.blanked == "" && len(negated) > 0 {
				t.Errorf("nothing should be ruled out, got %q", negated)
			}
			if !strings.Contains(open, tt.open) {
				t.Errorf("%q blanked from %q", tt.open, open)
			}
			if tt.blanked != "" && (strings.Contains(open, tt.blanked) || strings.Contains(joined, tt.blanked)) {
				t.Errorf("%q should be blanked and not ruled out: open %q, negated %q", tt.blanked, open, negated)
			}
		})
	}
}
