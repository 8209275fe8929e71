package analysis

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/orthocds/orthocds/internal/yamlx"
)

// Negation: NegEx-style cues and their scopes, in English and Chinese. The
// cues (the words that negate) are data, reviewed in data/negation.yaml;
// how far a cue reaches (clauses, lists, deferral) is grammar, here.

// negationFile is data/negation.yaml.
type negationFile struct {
	Question struct {
		BeforeEn []string         `yaml:"before_en"`
		BeforeZh []string         `yaml:"before_zh"`
		NotZh    []string         `yaml:"not_zh"`
		Examples []negationSample `yaml:"examples"`
	} `yaml:"question"`
	Plan struct {
		BeforeEn       []string         `yaml:"before_en"`
		NotEn          []string         `yaml:"not_en"`
		BeforeZh       []string         `yaml:"before_zh"`
		NotZh          []string         `yaml:"not_zh"`
		AfterNotNeeded []string         `yaml:"after_not_needed"`
		AfterRuledOut  []string         `yaml:"after_ruled_out"`
		SubjectNegEn   []string         `yaml:"subject_negation_en"`
		SubjectKeptEn  []string         `yaml:"subject_kept_en"`
		CopulaEn       []string         `yaml:"copula_en"`
		CopulaKeptEn   []string         `yaml:"copula_kept_en"`
		DismissalEn    []string         `yaml:"copula_dismissal_en"`
		NotDismissalEn []string         `yaml:"copula_not_dismissal_en"`
		NegationEn     []string         `yaml:"copula_negation_en"`
		DismissalZh    []string         `yaml:"copula_dismissal_zh"`
		CopulaZh       []string         `yaml:"copula_zh"`
		ExcessZh       []string         `yaml:"copula_excess_zh"`
		CopulaNotZh    []string         `yaml:"copula_not_zh"`
		CopulaKeptZh   []string         `yaml:"copula_kept_zh"`
		AfterEn        []string         `yaml:"after_en"`
		AfterZh        []string         `yaml:"after_zh"`
		AfterZhClosing []string         `yaml:"after_zh_closing"`
		Examples       []negationSample `yaml:"examples"`
	} `yaml:"plan"`
}

// negationSample is an example the rules must read as the file says: a
// stretch it rules out (in a negated scope) and one it keeps (outside).
type negationSample struct {
	Text     string `yaml:"text"`
	RulesOut string `yaml:"rules_out"`
	Keeps    string `yaml:"keeps"`
}

// negationCues are the rules built from the file: negated findings in a
// question, and what a plan rules out, forward of a trigger (plan) or back
// from a verdict closing its clause (post).
type negationCues struct {
	question, plan negationRules
	// post rules out what comes before it in its clause, back to the
	// clause's start: "a bisphosphonate isn't necessary", "enoxaparin is
	// contraindicated", "calf pumps won't help"; in Chinese the object
	// often comes first: 双膦酸盐没必要用, 唑来膦酸就算了, 抗骨松药以后再说.
	post *regexp.Regexp
	// subject is a negated auxiliary that rules out its clause's subject
	// as post does ("teriparatide won't cut it"), unless what follows it
	// is in subjectKept ("denosumab mustn't be stopped") or the subject is
	// a pronoun.
	subject, subjectKept *regexp.Regexp
	// copulaEn and copulaZh judge a plan's step ("kyphoplasty would be a
	// luxury", 上抗凝药是多余的): see copulaRules. copulaNotZh masks words
	// holding a Chinese copula that are none (还是, 太极).
	copulaEn, copulaZh copulaRules
	copulaNotZh        *regexp.Regexp
}

// copulaRules read "<step> is <predicate>" in one language: the step is
// ruled out when the predicate bears a mark of dismissal (dismissal, not
// masked by notDismissal; a negation not negating a stop; or an excess
// copula itself: 太贵) and kept does not start it.
type copulaRules struct {
	cop, kept, dismissal, notDismissal, negation, excess *regexp.Regexp
}

// negation holds the shipped cues. The file is embedded and its test
// loads it, so a bad cue fails the build's tests, never a request.
var negation = func() *negationCues {
	b, err := fs.ReadFile(Embedded(), "negation.yaml")
	if err != nil {
		panic(err) // embedded
	}
	n, err := loadNegation(b)
	if err != nil {
		panic(err) // the embedded file is checked by TestNegationFile
	}
	return n
}()

// loadNegation parses and checks a negation file: every cue compiles on
// its own and appears once in its list, every list has a cue, and every
// example reads as it says.
func loadNegation(b []byte) (*negationCues, error) {
	var f negationFile
	if err := yamlx.UnmarshalStrict(b, &f); err != nil {
		return nil, fmt.Errorf("negation file: %w", err)
	}
	var errs []error
	alt := func(name string, cues []string) string {
		if len(cues) == 0 {
			errs = append(errs, fmt.Errorf("%s: no cues", name))
		}
		for i, c := range cues {
			switch _, err := regexp.Compile(c); {
			case strings.TrimSpace(c) == "":
				errs = append(errs, fmt.Errorf("%s[%d]: empty cue", name, i))
			case err != nil:
				errs = append(errs, fmt.Errorf("%s[%d] %q: %w", name, i, c, err))
			case slices.Index(cues, c) < i:
				errs = append(errs, fmt.Errorf("%s[%d] %q: listed twice", name, i, c))
			}
		}
		return strings.Join(cues, "|")
	}
	q, p := f.Question, f.Plan
	qEn, qZh, qNot := alt("question.before_en", q.BeforeEn), alt("question.before_zh", q.BeforeZh), alt("question.not_zh", q.NotZh)
	pEn, pNotEn, pZh, pNotZh := alt("plan.before_en", p.BeforeEn), alt("plan.not_en", p.NotEn), alt("plan.before_zh", p.BeforeZh), alt("plan.not_zh", p.NotZh)
	needed, ruledOut := alt("plan.after_not_needed", p.AfterNotNeeded), alt("plan.after_ruled_out", p.AfterRuledOut)
	afterEn, closing := alt("plan.after_en", p.AfterEn), alt("plan.after_zh_closing", p.AfterZhClosing)
	subjectNeg, subjectKept := alt("plan.subject_negation_en", p.SubjectNegEn), alt("plan.subject_kept_en", p.SubjectKeptEn)
	copEn, copKeptEn := alt("plan.copula_en", p.CopulaEn), alt("plan.copula_kept_en", p.CopulaKeptEn)
	dismissEn, notDismissEn, negEn := alt("plan.copula_dismissal_en", p.DismissalEn), alt("plan.copula_not_dismissal_en", p.NotDismissalEn), alt("plan.copula_negation_en", p.NegationEn)
	copZh, copNotZh, copKeptZh := alt("plan.copula_zh", p.CopulaZh), alt("plan.copula_not_zh", p.CopulaNotZh), alt("plan.copula_kept_zh", p.CopulaKeptZh)
	dismissZh, excessZh := alt("plan.copula_dismissal_zh", p.DismissalZh), alt("plan.copula_excess_zh", p.ExcessZh)
	var afterZh []string
	for i, c := range p.AfterZh {
		afterZh = append(afterZh, strings.ReplaceAll(c, "{end}", zhClauseEnd))
		if !strings.Contains(c, "{end}") {
			errs = append(errs, fmt.Errorf("plan.after_zh[%d] %q: says nowhere where its clause ends ({end})", i, c))
		}
	}
	alt("plan.after_zh", afterZh)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("negation file: %w", err)
	}
	// Cues that compile alone can still make a whole rule too large.
	re := func(expr string) *regexp.Regexp {
		r, err := regexp.Compile(expr)
		if err != nil {
			errs = append(errs, err)
		}
		return r
	}
	n := &negationCues{
		// The scope of a question's negation stops at punctuation or a
		// conjunction, at most five words or eight characters.
		question: negationRules{
			en:      re(`(?i)\b(?:` + qEn + `)\b`),
			enEnd:   re(`(?i)[,.;:?!()/\n-]|\b(?:but|however|and|although|except|yet|with)\b`),
			enWords: 5,
			zh:      re(qZh),
			zhEnd:   re(`[，。；：？！、,.;:?!（）()\n]|但|但是|却|而且`),
			zhNot:   re(qNot),
			zhChars: 8,
		},
		// A plan's negation runs to the end of its clause ("or any other
		// bisphosphonate" is ruled out too), at most twelve Chinese
		// characters; the enumeration comma (、) lists what it covers:
		// 不需要低分子肝素、阿司匹林.
		plan: negationRules{
			en:      re(`(?i)\b(?:` + pEn + `)\b`),
			enNot:   re(`(?i)` + pNotEn),
			enEnd:   re(`(?i)[,.;:!?()\n–—]|\s-\s|\b(?:but|then)\b`),
			enLists: true,
			zh:      re(pZh),
			zhEnd:   re(`[，。；：！？,.;:!?（）()\n—]|但`),
			zhNot:   re(pNotZh),
			zhChars: 12,
		},
		post: re(`(?i)` + strings.Join([]string{
			// "is not needed", "isn't worthwhile", "no longer indicated"
			`\b(?:not|no longer|isn't|aren't|wasn't|weren't)\s+(?:` + needed + `)`,
			// "should be avoided", "is contraindicated", "would be overkill"
			`\b(?:is|are|be|been|'s|'re|seems?|looks?)\s+(?:(?:clearly|rather|quite|totally|completely|probably)\s+)?(?:` + ruledOut + `)`,
			afterEn,
			strings.Join(afterZh, "|"),
			`(?:` + closing + `)(?:使用|用药|[用给做查打吃开])?[了的]?(?:` + zhClauseEnd + `)`,
		}, "|")),
		subject: re(`(?i)\b(?:` + subjectNeg + `)\b`),
		// Adverbs and "need to" / "have to" between the auxiliary and the
		// verb do not change what the verb says: "doesn't really need to stop".
		subjectKept: re(`(?i)^\s*(?:(?:really|necessarily|just|ever|yet|even|actually|always)\s+)*(?:(?:need|have)\s+to\s+)?(?:` + subjectKept + `)`),
		copulaEn: copulaRules{
			cop: re(`(?i)\b(?:` + copEn + `)\b`),
			// Adverbs before the predicate do not change it: "is clearly
			// the right step"; nor does an infinitive ("the plan is to give").
			kept:         re(`(?i)^\s*(?:(?:just|simply|clearly|obviously|probably|definitely|certainly|absolutely|really|quite|very|also|then|now|both|all|always|usually|generally|typically|therefore|thus|so)\s+)*(?:to\s|` + copKeptEn + `)`),
			dismissal:    re(`(?i)` + dismissEn),
			notDismissal: re(`(?i)` + notDismissEn),
			negation:     re(`(?i)\b(?:` + negEn + `)\b`),
		},
		copulaZh: copulaRules{
			cop:       re(excessZh + `|` + copZh),
			kept:      re(`^\s*(?:就|都|也|还|又|确实|肯定|当然|其实|可能|仍然|仍|依然|最|更|很|非常|十分|比较|挺|极)*(?:` + copKeptZh + `)`),
			dismissal: re(dismissZh),
			excess:    re(`^(?:` + excessZh + `)$`),
		},
		copulaNotZh: re(copNotZh),
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("negation file: %w", err)
	}
	for i, s := range q.Examples {
		errs = append(errs, s.check(fmt.Sprintf("question.examples[%d]", i), n.negatedScopes(s.Text), nil))
	}
	for i, s := range p.Examples {
		open, negated := n.planNegations(s.Text)
		errs = append(errs, s.check(fmt.Sprintf("plan.examples[%d]", i), negated, &open))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("negation file: %w", err)
	}
	return n, nil
}

// check reports whether s reads as it says, given the negated scopes and
// (for a plan) the text left open.
func (s negationSample) check(name string, negated []string, open *string) error {
	in := func(x string) bool {
		return slices.ContainsFunc(negated, func(n string) bool { return strings.Contains(n, x) })
	}
	switch {
	case s.Text == "" || s.RulesOut == "" && s.Keeps == "":
		return fmt.Errorf("%s: needs text, and rules_out or keeps", name)
	case s.RulesOut != "" && !in(s.RulesOut):
		return fmt.Errorf("%s %q: %q is not ruled out (negated: %q)", name, s.Text, s.RulesOut, negated)
	case s.Keeps != "" && (in(s.Keeps) || open != nil && !strings.Contains(*open, s.Keeps)):
		return fmt.Errorf("%s %q: %q is ruled out (negated: %q)", name, s.Text, s.Keeps, negated)
	}
	return nil
}

// negationRules are NegEx-style triggers and the ends of their scopes,
// for English and Chinese. An English scope runs to enEnd, at most
// enWords words (0: no limit); a Chinese one to zhEnd, at most zhChars
// characters. zhNot are words that hold a negating character without
// negating (无论, 未来); A-not-A questions (有没有, 要不要) are never
// negations.
type negationRules struct {
	en, enEnd, zh, zhEnd, zhNot *regexp.Regexp
	// enNot are English pseudo-negations: "no more than two weeks" limits,
	// it does not rule out.
	enNot            *regexp.Regexp
	enWords, zhChars int
	// enLists lets an English scope run on over a comma into a list that
	// closes with "or" or "nor" ("no Clexane, aspirin or calf pumps").
	enLists bool
}

// zhClauseEnd ends a Chinese clause (a dash too: 是杀鸡用牛刀——补上睾酮).
const zhClauseEnd = `[，。；！？,.;!?\n—]|$`

// planClauseStart ends the clause a post-negation reaches back into; a
// colon does not ("zoledronic acid: not needed"), nor the enumeration
// comma (唑来膦酸、阿仑膦酸都不需要).
//
// planClauseStartNoAnd is the same without "and", for a negation that
// says "both"; bothBefore finds that "both" just before it.
var (
	planClauseStart      = regexp.MustCompile(`(?i)` + clausePunct + `|\b(?:and|but|so|` + subordinators + `)\b`)
	planClauseStartNoAnd = regexp.MustCompile(`(?i)` + clausePunct + `|\b(?:but|so|` + subordinators + `)\b`)
	pluralVerb           = regexp.MustCompile(`(?i)^\s*(?:are|were|aren't|weren't|don't|do not)\b`)
	bothBefore           = regexp.MustCompile(`(?i)\b(?:both|(?:is|are)\s+all|all\s+(?:of\s+them\s+)?(?:are|were))\s*$`)
)

const clausePunct = `[,;!?()\n，。；！？]|(?:^|\D)\.|\s[-–—]\s|[–—]`

// isDash reports whether punct is a dash between clauses ("settles it as
// osteoporosis - DXA would add nothing"); right before its negation
// ("zoledronic acid - not needed") it joins, like a colon.
func isDash(punct string) bool {
	return strings.Trim(punct, " \t") == "-" || strings.ContainsAny(punct, "–—")
}

// subordinators start a clause a post-negation does not reach past: in
// "give zoledronic acid because oral drugs are contraindicated" only the
// oral drugs are ruled out.
const subordinators = `because|since|although|though|whereas|unless|if|when|while|as|which|who`

// enWordsRe finds the words of an English scope.
var enWordsRe = regexp.MustCompile(`\S+`)

// listStart is how a comma-separated stretch that starts a new clause
// begins (a verb of a plan, or a subject), so that a list never runs into
// it: "do not stop, give zoledronic acid or alendronate" negates only the
// stopping.
var listStart = regexp.MustCompile(`(?i)^\s*(?:and\s+|or\s+)?(?:give|start|begin|switch|add|check|recheck|monitor|measure|refer|stop|continue|keep|use|offer|plan|treat|arrange|order|repeat|consider|prescribe|book|image|scan|operate|mobilise|mobilize|teach|explain|tell|advise|discuss|follow|take|try|get|send|do|pause|review|restart|resume|recalculate|reassess|assess|correct|replace|hold|defer|delay|wait|discharge|film|confirm|exclude|reassure|warn|counsel|inject|infuse|then|i|we|she|he|they|it|you|this|that)\b`)

// listClose closes a list; listAnd closes a list of short items.
var (
	listClose = regexp.MustCompile(`(?i)\b(?:or|nor)\b`)
	listAnd   = regexp.MustCompile(`(?i)\band\b`)
)

// listRun returns how far, from a comma at the start of rest, a negated
// list runs on: through the item that closes it with "or" or "nor", when
// no item starts a new clause; 0 when rest is not such a list.
func listRun(rest string, end *regexp.Regexp) int {
	at := 0
	for at < len(rest) && rest[at] == ',' {
		seg := rest[at+1:]
		stop := len(seg)
		if e := end.FindStringIndex(seg); e != nil {
			stop = e[0]
		}
		item := seg[:stop]
		words := len(enWordsRe.FindAllString(item, -1))
		if listStart.MatchString(item) || words > 10 {
			return 0
		}
		at += 1 + stop
		if listClose.MatchString(item) {
			return at
		}
		// "and" closes a list of short items only ("forgo rivaroxaban,
		// aspirin and LMWH"), not a new clause ("no holiday, zoledronic
		// acid and markers at six months").
		if listAnd.MatchString(item) && words <= 4 {
			return at
		}
	}
	return 0
}

// NegatedScopes returns the stretches of a question that a negation
// trigger governs: "no fractures" gives "fractures", "没骨折过" gives
// "骨折过". Question forms are not negations: A-not-A (有没有) and words
// that merely contain a negating character (无法, 未来).
func NegatedScopes(text string) []string { return negation.negatedScopes(text) }

func (n *negationCues) negatedScopes(text string) []string {
	text = norm.NFKC.String(text)
	runes := []rune(text)
	var out []string
	for _, r := range n.question.ranges(text) {
		out = append(out, strings.TrimSpace(string(runes[r.from:r.to])))
	}
	return out
}

// PlanNegations blanks, rune for rune, every stretch of a plan that a
// negation rules out, and returns those stretches with their triggers
// ("would not give zoledronic acid"), for saying what voided a rubric
// item. The drill grader uses it: a drug named only there is not given.
func PlanNegations(text string) (open string, negated []string) { return negation.planNegations(text) }

func (n *negationCues) planNegations(text string) (open string, negated []string) {
	norm := withApostrophes(text)
	if norm == text {
		return n.planNegationsAligned(text)
	}
	open, negated = n.planNegationsAligned(norm)
	return realign(text, norm, open), negated
}

// bareContraction is an English negative contraction typed without its
// apostrophe: "dont", "isnt", "wont", "shouldnt".
var bareContraction = regexp.MustCompile(`(?i)\b(do|does|did|is|are|was|were|wo|ca|should|would|could|must|need|have|has|had)nt\b`)

// withApostrophes restores the apostrophe of negative contractions typed
// without one ("dont") or with a typographic one ("don’t"), so that the
// cues, written with "n't", read them.
func withApostrophes(text string) string {
	return bareContraction.ReplaceAllString(strings.ReplaceAll(text, "’", "'"), "${1}n't")
}

// realign carries the blanks of open, the open text of norm
// (withApostrophes of text), back onto text: a rune of text is blanked
// where its counterpart in norm is; an apostrophe norm added has none.
func realign(text, norm, open string) string {
	orig, nr, or := []rune(text), []rune(norm), []rune(open)
	out := make([]rune, len(orig))
	i := 0
	for j, r := range orig {
		for i < len(nr) && nr[i] == '\'' && r != '\'' && r != '’' {
			i++ // an apostrophe withApostrophes inserted
		}
		out[j] = r
		if i < len(nr) && or[i] == ' ' && nr[i] != ' ' {
			out[j] = ' '
		}
		i++
	}
	return string(out)
}

func (n *negationCues) planNegationsAligned(text string) (open string, negated []string) {
	runes := []rune(text)
	for _, r := range n.plan.ranges(text) {
		if deferred(runes, r) {
			continue
		}
		negated = append(negated, strings.TrimSpace(string(runes[r.trigger:r.to])))
		for i := r.from; i < r.to; i++ {
			runes[i] = ' '
		}
	}
	// A deferral, X等Y再说 ("X once Y, not before"): X is put off until Y,
	// and Y (the wait) stays the plan's own: 唑来膦酸等两年后复查DXA再说.
	for _, m := range waitThen.FindAllStringSubmatchIndex(text, -1) {
		if strings.TrimSpace(text[m[2]:m[3]]) == "" {
			continue
		}
		negated = append(negated, strings.TrimSpace(text[m[2]:m[3]]))
		from, to := utf8.RuneCountInString(text[:m[2]]), utf8.RuneCountInString(text[:m[3]])
		for i := from; i < to; i++ {
			runes[i] = ' '
		}
	}
	// Post-negations: the clause before "isn't necessary" is ruled out,
	// unless it only defers what the plan starts later (第一针先不打，
	// 等血钙正常后再用).
	for _, v := range n.postMatches(text) {
		m := []int{v.at, v.end}
		if defers(text[:m[0]], text[m[0]:m[1]], text[m[1]:]) || settles(text[:m[0]], text[m[0]:m[1]]) {
			continue
		}
		start := 0
		// "X and Y are both unnecessary", "X和Y都不需要": the
		// conjunction joins what is ruled out, it does not start a clause.
		// A plural verb ("painkillers and a brace are just kicking the can")
		// takes the whole "X and Y" as its subject, as "both" does.
		clause := planClauseStart
		switch {
		case v.copula && pluralVerb.MatchString(text[m[0]:m[1]]):
			// "myeloma screens and a biopsy are box-ticking": a plural
			// copula takes the whole "X and Y" as its step.
			clause = copulaClauseStartNoAnd
		case v.copula:
			clause = copulaClauseStart
		case bothBefore.MatchString(text[:m[0]]) || pluralVerb.MatchString(text[m[0]:m[1]]):
			clause = planClauseStartNoAnd
		}
		starts := clause.FindAllStringIndex(text[:m[0]], -1)
		if v.copula {
			starts = slices.DeleteFunc(starts, func(s []int) bool { return determinerThat(text, s) })
		}
		for i := len(starts) - 1; i >= 0; i-- {
			start = starts[i][1]
			if (isDash(text[starts[i][0]:start]) || isComma(text[starts[i][0]:start])) && strings.TrimSpace(text[start:m[0]]) == "" {
				start = 0
				continue
			}
			// "Enoxaparin, rivaroxaban and aspirin are all unnecessary":
			// after "both" or "all" the scope runs back over the commas of
			// a list of short items that start no clause of their own.
			if clause != planClauseStartNoAnd || !isComma(text[starts[i][0]:starts[i][1]]) {
				break
			}
			prev := 0
			if i > 0 {
				prev = starts[i-1][1]
			}
			item := text[prev:starts[i][0]]
			if len(strings.Fields(item)) > 4 || listStart.MatchString(item) {
				break
			}
			start = prev
		}
		from, to := utf8.RuneCountInString(text[:start]), utf8.RuneCountInString(text[:m[1]])
		if s := strings.TrimSpace(string(runes[from:utf8.RuneCountInString(text[:m[0]])])); s != "" {
			// A copula judging a withholding harshly ("holding off on
			// surgery would be a luxury") keeps what is withheld: the
			// stretch is not the plan's, but what it names is not ruled
			// out either. The post cues keep their older reading ("waiting
			// for the calcium is fussing over nothing" rules the calcium
			// out; TestPlanNegations).
			if !v.copula || !withholding.MatchString(text[start:m[0]]) {
				negated = append(negated, strings.TrimSpace(text[start:m[1]]))
			}
			for i := from; i < to; i++ {
				runes[i] = ' '
			}
		}
	}
	return string(runes), negated
}

// postMatches returns, in order, the verdicts that rule out what comes
// before them in their clause: the post cues, and the negated auxiliaries
// whose subject is not a pronoun and whose verb does not negate a stop, a
// delay or a harm ("teriparatide won't cut it", not "denosumab mustn't be
// stopped"). The auxiliary's own forward scope is a plan trigger's.
func (n *negationCues) postMatches(text string) []verdict {
	ms := n.post.FindAllStringIndex(text, -1)
	overlaps := func(m []int) bool {
		return slices.ContainsFunc(ms, func(p []int) bool { return p[0] < m[1] && m[0] < p[1] })
	}
	for _, m := range n.subject.FindAllStringIndex(text, -1) {
		if !pronounBefore.MatchString(text[:m[0]]) && !n.subjectKept.MatchString(text[m[1]:]) && !overlaps(m) {
			ms = append(ms, m)
		}
	}
	var out []verdict
	for _, m := range ms {
		out = append(out, verdict{at: m[0], end: m[1]})
	}
	masked := n.copulaNotZh.ReplaceAllStringFunc(text, func(s string) string { return strings.Repeat("\x00", len(s)) })
	for _, c := range []copulaRules{n.copulaEn, n.copulaZh} {
		for _, m := range c.cop.FindAllStringIndex(masked, -1) {
			if !overlaps(m) && n.judges(text, m, c) {
				out = append(out, verdict{at: m[0], end: m[1], copula: true})
			}
		}
	}
	slices.SortFunc(out, func(a, b verdict) int { return a.at - b.at })
	return out
}

// verdict is a stretch of a plan that rules out what comes before it in its
// clause; a copula's clause also ends at a subordinator of time ("once
// vitamin D is replete"), though not at "after" or "before", mostly
// prepositions there ("a break from alendronate after five years").
type verdict struct {
	at, end int
	copula  bool
}

// copulaClauseStart starts the clause a copula judges; withholding is a
// step that withholds something (so judging it harshly keeps the thing).
var (
	copulaClauseStart      = regexp.MustCompile(`(?i)` + clausePunct + `|\b(?:and|but|so|then|once|until|till|whenever|wherever|where|that|` + subordinators + `)\b`)
	copulaClauseStartNoAnd = regexp.MustCompile(`(?i)` + clausePunct + `|\b(?:but|so|then|once|until|till|whenever|wherever|where|that|` + subordinators + `)\b`)
	withholding            = regexp.MustCompile(`(?i)\b(?:hold(?:ing)? off|withhold(?:ing)?|stop(?:ping)?|delay(?:ing)?|defer(?:ring)?|postpon(?:e|ing)|skip(?:ping)?|omit(?:ting)?|wait(?:ing)?|leav(?:e|ing) out|drop(?:ping)?|interrupt(?:ing)?|paus(?:e|ing)|not (?:giving|treating|operating|starting|using)|no)\b|停|暂缓|推迟|延后|不用|不打|不吃|不做|不给`)
)

// determinerThat reports whether the clause start at s is "that" after a
// preposition, a determiner ("an anterior approach over that ossification
// is reckless") rather than a relative pronoun ("the drug that is best").
func determinerThat(text string, s []int) bool {
	return strings.EqualFold(strings.TrimSpace(text[s[0]:s[1]]), "that") && prepositionBefore.MatchString(text[:s[0]])
}

var prepositionBefore = regexp.MustCompile(`(?i)\b(?:over|on|in|at|for|with|of|from|to|into|across|through|past|about|around|near|under|above|below|beside|behind)\s+$`)

// judges reports whether the copula at m dismisses the step before it:
// its subject is not a pronoun, the patient or something of theirs ("she
// is frail", "her CTX is high", 她太瘦), and its predicate is there, not
// negated at its start (the negation rules read "is not needed"), not one
// that keeps the step, and marked as a dismissal.
func (n *negationCues) judges(text string, m []int, c copulaRules) bool {
	subject, pred := text[:m[0]], text[m[1]:]
	// The step before a comma or a dash when the verdict starts its own
	// clause (为了大腿酸就停药，是因噎废食), as the post loop reads it.
	starts := copulaClauseStart.FindAllStringIndex(subject, -1)
	for i := len(starts) - 1; i >= 0; i-- {
		s := subject[starts[i][1]:]
		if punct := subject[starts[i][0]:starts[i][1]]; strings.TrimSpace(s) != "" || !isComma(punct) && !isDash(punct) {
			subject = s
			break
		}
		subject = subject[:starts[i][0]]
	}
	pred = strings.TrimLeft(pred, " \t")
	if e := predicateClauseEnd.FindStringIndex(pred); e != nil {
		pred = pred[:e[0]]
	}
	if strings.TrimSpace(subject) == "" || strings.TrimSpace(pred) == "" || pronounBefore.MatchString(subject) ||
		patientSubject.MatchString(subject) || negatedPredicate.MatchString(pred) || c.kept.MatchString(pred) {
		return false
	}
	if c.excess != nil && c.excess.MatchString(text[m[0]:m[1]]) {
		return true
	}
	if c.notDismissal != nil {
		pred = c.notDismissal.ReplaceAllString(pred, " ")
	}
	if c.dismissal.MatchString(pred) {
		return true
	}
	if c.negation != nil {
		for _, g := range c.negation.FindAllStringIndex(pred, -1) {
			if !n.subjectKept.MatchString(pred[g[1]:]) {
				return true
			}
		}
	}
	return false
}

// patientSubject is a subject about the patient, not a step of the plan;
// negatedPredicate starts a predicate the negation rules read;
// predicateClauseEnd ends the predicate a copula's marks are read in (a
// predicate that ends at once, "is it?", is none).
var (
	patientSubject     = regexp.MustCompile(`(?i)^\s*(?:(?:her|his|their|its|my|our|your|(?:the|this) patient's|(?:the|this) patient|she|he|they)\b|[她他我你它]|患者|病人)`)
	negatedPredicate   = regexp.MustCompile(`(?i)^(?:not|no|never|hardly|barely|neither|nor|nothing|none)\b|^[不没无非未别勿]`)
	predicateClauseEnd = regexp.MustCompile(`(?i)[,.;:!?()\n，。；：！？]|\s[-–—]\s|[–—]|\bbut\b|但`)
)

// pronounBefore finds a pronoun just before a negated auxiliary: its
// subject is the speaker or a thing named elsewhere, not the stretch
// before it ("keep filling until it won't take more").
var pronounBefore = regexp.MustCompile(`(?i)\b(?:i|we|you|she|he|they|it|this|that|these|those|one|who|which|what|there|someone|anyone|everyone|nobody)\s*$`)

// isComma reports whether punct is a comma that can join a list.
func isComma(punct string) bool { return punct == "," || punct == "，" }

// deferred reports whether a negation only puts something off, to be done
// later in the same plan: 先别打地舒单抗……血钙正常后再开始, "do not give
// denosumab yet; correct the calcium, then start it". The plan does it, in
// its time, so it is not ruled out.
func deferred(runes []rune, r negRange) bool {
	before := string(runes[max(0, r.trigger-2):r.trigger])
	scope := string(runes[r.trigger:r.to])
	return defers(before, scope, string(runes[r.to:]))
}

// defers reports whether a negation (scope, with the text before and after
// it) only puts something off: "not yet" or 先 at it, and a later start of
// the same thing after it.
func defers(before, scope, after string) bool {
	return (deferralBefore.MatchString(strings.TrimRight(before, " ")) || deferralIn.MatchString(scope)) && resumption.MatchString(after)
}

// The cues of a deferral: "not yet" before or in the negation, and a later
// start of the same thing, named by a pronoun or not at all ("then start
// it", 再开始。): "先别用降钙素，再开始地舒单抗" starts another drug and defers
// nothing.
var (
	deferralBefore = regexp.MustCompile(`(?:先|暂|还|暂时)$`)
	deferralIn     = regexp.MustCompile(`(?i)\b(?:yet|for now|until|first)\b|暂时|先`)
	resumption     = regexp.MustCompile(`(?i)\bthen\s+(?:start|give|begin|inject|use)\s+(?:it|them)\b|\bstart (?:it|them) (?:once|when|after)\b|[再才](?:开始|用|打|给|注射|启动)(?:使用|用药)?了?(?:` + zhClauseEnd + `)`)
)

// waitThen is a Chinese deferral, X等Y再说: its first group is X, from the
// clause's start to 等. Only the noncommittal 再说, 再考虑, 再决定 and 再议:
// 地舒单抗等血钙正常再用 starts the drug then, as the plan says.
var waitThen = regexp.MustCompile(`([^，。；：！？,.;:!?\n—]*?)等[^，。；：！？,.;:!?\n—]{1,15}?再(?:说|考虑|决定|议)`)

// settles reports whether 算了 closes a clause that does a little of
// something and stops there (抹点睾酮凝胶就算了, "put on some testosterone
// gel and leave it at that"): what it names is done, not ruled out, unlike
// 唑来膦酸就算了 ("forget the zoledronic acid").
func settles(before, verdict string) bool {
	return settleVerdict.MatchString(verdict) && settleClause.MatchString(before)
}

var (
	settleVerdict = regexp.MustCompile(`^就?算了`)
	settleClause  = regexp.MustCompile(`[抹涂擦吃开补打用做上贴喷加查拍来弄][点个些][^，。；！？,.;!?]*$`)
)

// StatesNegation reports whether a phrase itself rules something out ("no
// routine duplex", 没有药物假期, or with a verdict after it: "theatre can
// wait"), so that it is matched on a plan as written rather than outside
// its negations.
func StatesNegation(phrase string) bool {
	if v, ok := statesNegation.get(phrase); ok {
		return v
	}
	v := len(negation.plan.ranges(phrase)) > 0 || negation.plan.en.MatchString(phrase) || negation.post.MatchString(phrase)
	statesNegation.put(phrase, v)
	return v
}

// statesNegation remembers StatesNegation's answers: drill grading asks it
// of every phrase of a case on every submission, and the phrases are the
// case files' own, a few thousand at most. Past its bound the
// cache starts again.
var statesNegation = memo[string, bool]{max: 50_000}

// negRange is a negated scope in runes: the trigger starts at trigger,
// the scope runs from from to to.
type negRange struct{ trigger, from, to int }

// ranges returns the negated scopes of text.
func (nr negationRules) ranges(text string) []negRange {
	var out []negRange
	runeAt := func(s string, byteOff int) int { return len([]rune(s[:byteOff])) }
	enText := text
	if nr.enNot != nil {
		enText = nr.enNot.ReplaceAllStringFunc(text, func(s string) string { return strings.Repeat(" ", len(s)) })
	}
	for _, m := range nr.en.FindAllStringIndex(enText, -1) {
		rest := text[m[1]:]
		if e := nr.enEnd.FindStringIndex(rest); e != nil {
			cut := e[0]
			// A trigger with nothing before the comma negates nothing that
			// follows ("if she would rather not, Reclast could stand in";
			// "No, zoledronic acid"): its list is not run.
			if nr.enLists && rest[cut] == ',' && strings.TrimSpace(rest[:cut]) != "" {
				cut += listRun(rest[cut:], nr.enEnd)
			}
			rest = rest[:cut]
		}
		end := len(rest)
		if nr.enWords > 0 {
			if w := enWordsRe.FindAllStringIndex(rest, nr.enWords); len(w) > 0 {
				end = w[len(w)-1][1]
			} else {
				end = 0
			}
		}
		if strings.TrimSpace(rest[:end]) != "" {
			out = append(out, negRange{runeAt(text, m[0]), runeAt(text, m[1]), runeAt(text, m[1]+end)})
		}
	}
	masked := nr.zhNot.ReplaceAllStringFunc(text, func(s string) string {
		return strings.Repeat("　", len([]rune(s))) // same length in runes, no trigger inside
	})
	mr := []rune(masked)
	for _, m := range nr.zh.FindAllStringIndex(masked, -1) {
		at := runeAt(masked, m[0])
		if at > 0 && at+1 < len(mr) && mr[at-1] == mr[at+1] { // A-not-A: 有没有, 要不要
			continue
		}
		start := runeAt(masked, m[1])
		end := start
		for end < len(mr) && end-start < nr.zhChars && !nr.zhEnd.MatchString(string(mr[end])) {
			end++
		}
		if end > start {
			out = append(out, negRange{at, start, end})
		}
	}
	return out
}
