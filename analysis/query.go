package analysis

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// QueryTerms returns the lexical terms of a question. Beyond Terms it
// understands two things a question written as a vignette carries:
//
//   - findings stated as absent ("no fractures", "没骨折过") do not count:
//     the condition and finding concepts inside a negated scope, and their
//     words, are dropped (a drug or procedure inside one stays: "I don't
//     want injections" is about injections);
//   - numbers with their scale become the category they fall in: a T-score
//     of -2.5 or lower is osteoporosis and one between -1.0 and -2.5
//     osteopenia (WHO 1994), one below -3.0 also very high fracture risk
//     (AACE 2020), an mJOA of 15 to 17 is mild myelopathy and a
//     lower one moderate or severe (WFNS 2019, as the corpus states).
func (a *Analyzer) QueryTerms(text string) []string {
	text = norm.NFKC.String(text)
	// A negated stretch that names a condition or finding is blanked before
	// analysis, so that neither its words nor a concept spanning its edge
	// ("hip, no fractures" is no hip fracture) count.
	runes := []rune(text)
	for _, r := range questionNegation.ranges(text) {
		scope := string(runes[r.from:r.to])
		for id := range a.find(a.Words(scope), false) {
			if c, ok := a.vocab.Concept(id); ok && (c.Kind == "condition" || c.Kind == "finding") {
				for i := r.from; i < r.to; i++ {
					runes[i] = ' '
				}
				break
			}
		}
	}
	terms := a.Terms(string(runes))
	for _, id := range numericConcepts(text) {
		terms = append(terms, ConceptTerm(id))
	}
	// Wordings no fixed name covers ("a fracture that's 2 years old"), and
	// names misspelt.
	for _, id := range append(a.phraseConcepts(string(runes)), a.fuzzyConcepts(string(runes))...) {
		terms = append(terms, ConceptTerm(id))
		for _, b := range a.ancestors[id] {
			terms = append(terms, ConceptTerm(b))
		}
	}
	return terms
}

// phraseConcepts returns the concepts whose phrases (concepts.yaml) text
// matches. Questions are read this way; guideline entries and documents,
// edited text that uses the concepts' names, are not, which keeps indexing
// a large corpus cheap.
func (a *Analyzer) phraseConcepts(text string) []string {
	var out []string
	han := hasHan(text)
	latin := strings.IndexFunc(text, func(r rune) bool { return r < utf8.RuneSelf && unicode.IsLetter(r) }) >= 0
	for _, p := range a.vocab.phrases {
		// A Chinese wording needs Chinese text, an English one letters.
		if p.han && !han || !p.han && !latin {
			continue
		}
		if p.re.MatchString(text) {
			out = append(out, p.id)
		}
	}
	return out
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

// questionNegation states a finding absent in a question. "not" and 不
// are left out: in questions they negate a wish or an action ("I don't
// want injections", 不想打针, 不能做), not a finding. The scope stops at
// punctuation or a conjunction, at most five words or eight characters.
var questionNegation = negationRules{
	en:      regexp.MustCompile(`(?i)\b(?:no|without|never|denies|denied|absence of|free of|negative for|has not had|have not had)\b`),
	enEnd:   regexp.MustCompile(`(?i)[,.;:?!()/\n-]|\b(?:but|however|and|although|except|yet|with)\b`),
	enWords: 5,
	zh:      regexp.MustCompile(`没有|没|未|无`),
	zhEnd:   regexp.MustCompile(`[，。；：？！、,.;:?!（）()\n]|但|但是|却|而且`),
	// 没给, 没开: what a doctor did not do is the question's point
	// (医生没给任何抗骨松的药), not an absent finding.
	zhNot:   regexp.MustCompile(`无论|未来|无法|无效|无需|没有?(?:给|开|治|管|提|说|让|建议|安排|处理)`),
	zhChars: 8,
}

// planPostNegation rules out what comes before it in its clause: "a
// bisphosphonate isn't necessary", "markers are not needed", "enoxaparin is
// contraindicated", "calf pumps won't help", "a bisphosphonate would be
// overkill". The scope runs back to the start of the clause.
// In Chinese the object often comes first: 双膦酸盐没必要用, 指标也不用查,
// 抗凝针免了, 唑来膦酸就算了, 低分子肝素也不打, 阿司匹林避免使用,
// 低分子肝素没用, 阿司匹林意义不大, 气压泵可以不做, 特立帕肽不主张用,
// 药物假期不予考虑, 先纠正血钙不急于一时, 阿司匹林拉倒吧, 抗骨松药以后再说,
// 唑来膦酸不够指征 (a negation closing its clause); and "referral is
// premature", "teriparatide is not for her", "teriparatide is more than she
// needs", "a bisphosphonate can be dispensed with", "I'd give the
// alendronate a miss".
var planPostNegation = regexp.MustCompile(`(?i)` + strings.Join([]string{
	// "is not needed", "isn't worthwhile", "no longer indicated"
	`\b(?:not|no longer|isn't|aren't|wasn't|weren't)\s+(?:` + postNeeded + `)`,
	// "should be avoided", "is contraindicated", "would be overkill"
	`\b(?:is|are|be|been|'s|'re|seems?|looks?)\s+(?:(?:clearly|rather|quite|totally|completely|probably)\s+)?(?:` + postRuledOut + `)`,
	`\bunneeded\b|\b(?:just|only)\s+(?:frightens?|scares?|confuses?)\b|\bfor no (?:good )?reason\b|\bwould make (?:her|him|them) miserable\b|\b(?:can't|cannot|can not|couldn't|could not) be (?:justified|defended)\b|\b(?:would|will|could)\s+only\s+(?:make|slow|delay|worry|hurt|add|cause|get in the way|confuse|upset)\b|\bonly\s+(?:makes?|slows?|delays?|worr(?:y|ies)|hurts?|causes?|gets? in the way)\b|\b(?:won't|will not|wouldn't|would not|doesn't|does not)\s+(?:tell us|show(?: us)?) (?:anything|much)(?: new| more)?\b|\b(?:unnecessary|pointless)\b|\bwould only (?:hold things up|delay things|slow things down|get in the way|waste time)\b|\bhardly matters?\b|\bmatters? little\b|\b(?:can|could|should|must|will|has to|have to|needs? to|will have to)\s+wait\b|\bwaits\s+(?:until|till|for)\b`,
	// "won't help", "adds nothing", "makes no difference"
	`\b(?:won't|will not|wouldn't|would not|doesn't|does not|don't|do not)\s+(?:help|(?:change|alter|affect) (?:anything|management|the plan|what we do|our plan|the outcome|much)|add (?:anything|much)|make (?:a|any) difference)\b`,
	`\b(?:doesn't|don't|does not|do not)\s+(?:really\s+)?matter\b|\b(?:she|he|they|we|you|the patient)\s+(?:doesn't|does not|don't|do not|won't|will not)\s+(?:really\s+)?need(?:\s+(?:yet|now|it|them|that|at all))?\s*(?:[,.;!?]|$)|\badds? nothing\b|\bmakes? no difference\b|\b(?:has|have|serves?) no (?:role|place|benefit|purpose|point)\b|\b(?:would|will|could|might)\s+do more harm than good\b`,
	// "LMWH? No.", "stockings - forget them", "is not something I would give"
	`\?\s*(?:also\s+|again\s+)?(?:no|not|nope)\b|[？?]\s*(?:他|她|患者|病人|我们)?也?(?:用不着|不需要|不用|不必|没必要|不要|不行)|\bforget (?:it|them|that|about it)\b|\b(?:is|are)\s+not\s+(?:something|what)\b|\b(?:isn't|aren't)\s+(?:something|what)\b`,
	// "I'd give the alendronate a miss", "teriparatide is more than she needs"
	`\bgive\b[^,.;:!?]{1,40}?\ba (?:miss|pass)\b|\b(?:is|are)\s+more than (?:she|he|they|the patient|this patient|we|the situation|the case|this|it) (?:needs?|requires?|calls? for|warrants?|merits?)\b`,
	`(?:没有必要|没(?:这个|那个|啥|什么)?必要|不必要|不需要|不再需要|用不着|不用|无需|无须|不必)(?:再|反复|多|总|老|一直|天天|经常)?(?:使用|用药|规划|考虑|安排|评估|复查|[用查做打吃给拍找请约开管看讲说提])?了?(?:` + zhClauseEnd + `)`,
	`没(?:啥|什么)好再?(?:评估|考虑|查|做|用)的?(?:` + zhClauseEnd + `)`,
	`(?:就算了|算了|免了|省了|不适用|不适合|不合适|是错误的|是错的|不[吃打做查开给上补问拍找提]|暂?不(?:考虑|建议|推荐|宜)|避免|禁用|没用|没有用|没什么用|意义不大|没有意义|没(?:啥|什么|多大|太大)?意义|(?:太|很|挺|有点)(?:麻烦|折腾)|看不出(?:什么|啥)(?:名堂)?来?|不是必须的?|不是必需的?|并非必需|并非必须|不值得|不划算|帮助不大|没有帮助|没帮助|用处不大|作用不大|不可取|可以不[用做查打吃给开]|犯不着|犯不上|禁忌|没道理|没有道理|帮不上忙|没好处|没有好处|(?:先|暂时?|就)?不管|(?:我|我们)?不会[用给开做打]|(?:也|就|先)?别(?:再)?[吃打做查用补上开给]了?|不要了|暂缓|缓一缓|缓缓|放一放|先放放|不予(?:考虑)?|不主张|省掉|省去|不急于一时|不着急|拉倒吧?|不值当|(?:以后|之后|回头|过后|改天|后)再(?:说|议)吧?|不够指征|够不上指征|达不到指征|没有指征|没指征|无指征|没有依据|没依据|缺乏依据|依据不足|多此一举|画蛇添足|(?:我|我们)?不(?:同意|赞成|支持)|(?:也是?)?白[吃打用做查花]|说不过去|太冒进|太激进|(?:有点|太|很)?过分了?|(?:也是|是)?浪费(?:钱|时间|资源)?|白费(?:功夫|力气)?|太过了?|过了头|多余|过度了?|过头了?|为时(?:过|太)早|操之过急|不妥|不恰当|不可行|不现实|不靠谱|不明智|没(?:有)?价值|价值不大|得不偿失|杀鸡用牛刀|(?:是)?奢侈品?|可以省(?:掉|了)?|(?:是)?白白(?:耽误|浪费)(?:时间)?|纯属多虑|多虑了?|小题大做|改变不了(?:什么|啥|做法|结果|处理)|只会[^，。；！？,.;!?\n]{1,6}|(?:就|也)?别折腾了?|自找麻烦|(?:先|暂时?)放着|(?:先|暂时?)?取消|作罢|耽误事|是(?:他|她|他们|患者|病人)自己的事|无所谓|不重要|(?:不用|不必|无需|用不着)(?:太|过于|那么)?(?:在意|在乎|担心|纠结|操心)|弊大于利|用不上|不实用|不合理|(?:也|就)?没(?:什么|啥)?意思|没(?:多大|太大|啥|什么)用|(?:都|也)?不(?:太|怎么)?想[用给打开做])(?:使用|用药|[用给做查打吃开])?了?(?:` + zhClauseEnd + `)`,
}, "|"))

// What a post-negation says of what it rules out: not needed (after "not"
// or "isn't"), or ruled out (after "is" or "should be").
const (
	postNeeded   = `necessary|needed|required|indicated|recommended|warranted|advised|advisable|appropriate|helpful|useful|worthwhile|beneficial|justified|essential|called for|a good idea|worth\b(?:\s+(?:it|doing|giving|trying|the risk))?`
	postRuledOut = `avoided|withheld|omitted|skipped|dispensed with|done without|left out|left (?:in the cupboard|on the shelf|aside)|surplus to requirements|jumping the gun|a step too far|going overboard|overboard|overdoing it|hard to justify|difficult to justify|hard to defend|superfluous|redundant|needless|uncalled for|inadvisable|unwise|ill-judged|misguided|questionable|dubious|excessive|over the top|too (?:much|aggressive|early|soon|risky)|a (?:bad|poor) (?:idea|choice)|not a good idea|the wrong (?:choice|call|move|drug)|low[- ](?:value|yield)|of little (?:use|value|benefit)|a stretch|(?:not )?on the cards|off the cards|not on the table|contraindicated|unwarranted|unhelpful|useless|futile|overkill|inappropriate|ill-advised|unjustified|premature|a mistake|wrong|a waste(?: of (?:time|money|effort|resources))?|not an option|off the table|out of the question|of no (?:use|benefit|value)|not for (?:her|him|them|this patient)|something to revisit|a recipe for (?:disaster|trouble|complications)|asking for (?:trouble|a \w+(?: \w+)?)|(?:a )?sledgehammer to crack a nut|(?:just )?kicking the can(?: down the road)?|medicalis(?:ing|ed)\b[^,.;!?]{0,20}|fussing over nothing|making a fuss(?: over nothing)?|overcautious|over-cautious|an? (?:needless|pointless|unnecessary|avoidable) (?:delay|step|expense|exercise|detour)|(?:kept|held) in reserve|jumping ahead|getting ahead of (?:ourselves|itself)|left (?:until|till) (?:later|after)|surplus|(?:his|her|their|the patient's) own (?:business|affair|lookout)|more (?:trouble|hassle|bother) than (?:it's|it is|they're|they are) worth|not worth the (?:trouble|hassle|bother|effort)`
	zhClauseEnd  = `[，。；！？,.;!?\n]|$`
)

// planClauseStart ends the clause a post-negation reaches back into; a
// colon does not ("zoledronic acid: not needed"), nor the enumeration
// comma (唑来膦酸、阿仑膦酸都不需要).
//
// planClauseStartNoAnd is the same without "and", for a negation that
// says "both"; bothBefore finds that "both" just before it.
var (
	planClauseStart      = regexp.MustCompile(`(?i)` + clausePunct + `|\b(?:and|but|so|` + subordinators + `)\b`)
	planClauseStartNoAnd = regexp.MustCompile(`(?i)` + clausePunct + `|\b(?:but|so|` + subordinators + `)\b`)
	pluralVerb           = regexp.MustCompile(`(?i)^\s*(?:are|were|aren't|weren't)\b`)
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

// planNegation rules out an action in a plan or answer: "I would not give
// zoledronic acid", "no need to monitor markers", 不需要唑来膦酸. The
// scope runs to the end of the clause ("or any other bisphosphonate" is
// ruled out too), at most twelve Chinese characters.
var planNegation = negationRules{
	en:      regexp.MustCompile(`(?i)\b(?:no|not|never|without|avoid|avoiding|don't|do not|does not|doesn't|won't|would not|instead of|rather than|neither|nor|none of|skip|skipping|omit|omitting|forgo|forgoing|withhold|withholding|wouldn't|shouldn't|should not|cannot|can't|needn't|need not|hold off|steer clear of|refrain from|stay away from|drop (?:the|all|any)|(?:advise|advised|advises|recommend|recommends|argue) against|forget about|(?:nothing|little) to gain from|leave (?:out|off|aside)|declines|declined|refuses|refused|cancel|cancelling|canceling|call off|calling off|scrap|scrapping|shelve|(?:decline|refuse) (?:the|a|an|any)|before (?:we|i|you) (?:bother|worry) (?:with|about)|forget the|nothing to)\b`),
	enNot:   regexp.MustCompile(`(?i)\b(?:no|not)\s+(?:more|longer|later|sooner|fewer|less)\s+than\b|\bnot\s+only\b|\bno\s+doubt\b`),
	enEnd:   regexp.MustCompile(`(?i)[,.;:!?()\n–—]|\s-\s|\b(?:but|then)\b`),
	enLists: true,
	zh:      regexp.MustCompile(`不需要|不用|不要|不必|没有|避免|而非|不|无|未|没|勿|别|甭`),
	// The enumeration comma (、) lists what the negation covers:
	// 不需要低分子肝素、阿司匹林.
	zhEnd:   regexp.MustCompile(`[，。；：！？,.;:!?（）()\n]|但`),
	zhNot:   regexp.MustCompile(`不完全|不稳定|不良反应|不适|无论|未来|无法|无效|未愈合|不愈合|不高|不大|不低|不多|不少|不重|不严重|不明显|识别|鉴别|区别|辨别|差别|分别|特别|个别|类别|级别|性别|别人|告别`),
	zhChars: 12,
}

var enWordsRe = regexp.MustCompile(`\S+`)

// listStart is how a comma-separated stretch that starts a new clause
// begins (a verb of a plan, or a subject), so that a list never runs into
// it: "do not stop, give zoledronic acid or alendronate" negates only the
// stopping.
var listStart = regexp.MustCompile(`(?i)^\s*(?:and\s+|or\s+)?(?:give|start|begin|switch|add|check|recheck|monitor|measure|refer|stop|continue|keep|use|offer|plan|treat|arrange|order|repeat|consider|prescribe|book|image|scan|operate|mobilise|mobilize|teach|explain|tell|advise|discuss|follow|take|try|get|send|do|then|i|we|she|he|they|it|you|this|that)\b`)

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
func NegatedScopes(text string) []string {
	text = norm.NFKC.String(text)
	runes := []rune(text)
	var out []string
	for _, r := range questionNegation.ranges(text) {
		out = append(out, strings.TrimSpace(string(runes[r.from:r.to])))
	}
	return out
}

// PlanNegations blanks, rune for rune, every stretch of a plan that a
// negation rules out, and returns those stretches with their triggers
// ("would not give zoledronic acid"), for saying what voided a rubric
// item. The drill grader uses it: a drug named only there is not given.
func PlanNegations(text string) (open string, negated []string) {
	runes := []rune(text)
	for _, r := range planNegation.ranges(text) {
		if deferred(runes, r) {
			continue
		}
		negated = append(negated, strings.TrimSpace(string(runes[r.trigger:r.to])))
		for i := r.from; i < r.to; i++ {
			runes[i] = ' '
		}
	}
	// Post-negations: the clause before "isn't necessary" is ruled out,
	// unless it only defers what the plan starts later (第一针先不打，
	// 等血钙正常后再用).
	for _, m := range planPostNegation.FindAllStringIndex(text, -1) {
		if defers(text[:m[0]], text[m[0]:m[1]], text[m[1]:]) {
			continue
		}
		start := 0
		// "X and Y are both unnecessary", "X和Y都不需要": the
		// conjunction joins what is ruled out, it does not start a clause.
		// A plural verb ("painkillers and a brace are just kicking the can")
		// takes the whole "X and Y" as its subject, as "both" does.
		clause := planClauseStart
		if bothBefore.MatchString(text[:m[0]]) || pluralVerb.MatchString(text[m[0]:m[1]]) {
			clause = planClauseStartNoAnd
		}
		starts := clause.FindAllStringIndex(text[:m[0]], -1)
		for i := len(starts) - 1; i >= 0; i-- {
			start = starts[i][1]
			if isDash(text[starts[i][0]:start]) && strings.TrimSpace(text[start:m[0]]) == "" {
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
			negated = append(negated, strings.TrimSpace(text[start:m[1]]))
			for i := from; i < to; i++ {
				runes[i] = ' '
			}
		}
	}
	return string(runes), negated
}

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

// StatesNegation reports whether a phrase itself rules something out ("no
// routine duplex", 没有药物假期), so that it is matched on a plan as
// written rather than outside its negations.
func StatesNegation(phrase string) bool {
	return len(planNegation.ranges(phrase)) > 0 || planNegation.en.MatchString(phrase)
}

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
			if nr.enLists && rest[cut] == ',' {
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

// Numbers with their scale: a T-score (t-score, T score, T值) or an mJOA
// score followed by its value; a negative number after a scan, DXA or
// 骨密度 is a T-score read off a report.
var (
	tScoreRe         = regexp.MustCompile(`(?i)\bt(?:[- ]?(?:score|值)\s*(?:of|is|was|only|为|是|只有|仅|=|:|：)?\s*([-−–]?\s*\d+(?:\.\d+)?)|\s*[=:：]?\s*([-−–]\s*\d+(?:\.\d+)?))`)
	densityReadingRe = regexp.MustCompile(`(?i)(?:\b(?:scan|scans|dxa|dexa|density|bmd|reading|result|results)\b|骨密度|扫描|检查结果|报告)[^\d\n.?!。？！−–-]{0,20}([-−–]\s*\d(?:\.\d+)?)(?:[^\d.]|\.(?:\D|$)|$)`)
	mjoaRe           = regexp.MustCompile(`(?i)\bmjoa\s*(?:score|评分)?\s*(?:of|is|was|为|是|=|:|：)?\s*(\d{1,2})`)
)

// tScoreCategories are the categories a T-score falls in: osteoporosis at
// -2.5 or lower and osteopenia between -1.0 and -2.5 (WHO 1994), and very
// high fracture risk below -3.0 (AACE 2020).
func tScoreCategories(v float64) []string {
	switch {
	case v < -3.0:
		return []string{"osteoporosis", "veryhigh"}
	case v <= -2.5:
		return []string{"osteoporosis"}
	case v < -1.0:
		return []string{"osteopenia"}
	}
	return nil
}

// parseReading reads a signed number as a report writes it ("- 2.7",
// "−2.7").
func parseReading(s string) (float64, error) {
	return strconv.ParseFloat(strings.NewReplacer("−", "-", "–", "-", " ", "").Replace(s), 64)
}

// numericConcepts returns the categories that the numbers of text fall in.
func numericConcepts(text string) []string {
	text = norm.NFKC.String(text)
	var out []string
	for _, m := range tScoreRe.FindAllStringSubmatch(text, -1) {
		if v, err := parseReading(m[1] + m[2]); err == nil {
			out = append(out, tScoreCategories(v)...)
		}
	}
	// A bone density reading given without its name ("my scan says -1.8",
	// 骨密度-2.7) is a T-score: a Z-score is named as one, and a BMD in
	// g/cm² is never negative.
	for _, m := range densityReadingRe.FindAllStringSubmatch(text, -1) {
		if tScoreRe.MatchString(m[0]) {
			continue // counted above
		}
		if v, err := parseReading(m[1]); err == nil && v >= -6 {
			out = append(append(out, "tscore"), tScoreCategories(v)...)
		}
	}
	for _, m := range mjoaRe.FindAllStringSubmatch(text, -1) {
		v, err := strconv.Atoi(m[1])
		switch {
		case err != nil || v > 18:
		case v >= 15:
			out = append(out, "mild")
		default:
			out = append(out, "moderatesevere")
		}
	}
	return out
}
