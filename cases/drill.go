package cases

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/orthocds/orthocds/analysis"
)

// Scope names the clinical concepts of a text; *analysis.Analyzer is one.
type Scope interface {
	DomainConcepts(text string) []string
}

// Drill is one student's work on a case: what was asked and ordered, in
// order. It holds no expected answer until it is submitted.
type Drill struct {
	Case    *Case    `json:"-"`
	Lang    string   `json:"lang"`
	Asked   []string `json:"asked"`   // fact IDs revealed
	Ordered []string `json:"ordered"` // test IDs ordered
	Turns   []Turn   `json:"turns"`
}

// Turn is one exchange of the drill.
type Turn struct {
	Student string `json:"student"`
	Patient string `json:"patient"`
}

// NewDrill starts a drill on c in lang (zh or en).
func NewDrill(c *Case, lang string) *Drill {
	if lang != "zh" {
		lang = "en"
	}
	return &Drill{Case: c, Lang: lang}
}

// cued returns the first cue that text holds ("" for none). A cue that
// starts with a letter or digit of an alphabetic script starts a word:
// "continue alendronate" is not inside "discontinue alendronate", nor
// "ct" inside "fracture"; it may end inside one ("mobilis" meets
// "mobilisation"). Chinese cues match anywhere.
//
// Articles and possessives do not count: "correct the vitamin D" meets
// "correct vitamin d", "stop her HRT" meets "stop hrt".
func cued(text string, cues []string) string {
	t := strings.ToLower(text)
	bare := determiners.ReplaceAllString(t, "")
	for _, c := range cues {
		lc := strings.ToLower(c)
		if lc == "" {
			continue
		}
		first, _ := utf8.DecodeRuneInString(lc)
		wordStart := first < utf8.RuneSelf && (unicode.IsLetter(first) || unicode.IsDigit(first))
		if startsWord(t, lc, wordStart) || wordStart && startsWord(bare, determiners.ReplaceAllString(lc, ""), true) {
			return c
		}
	}
	return ""
}

// stemCues matches a cue of several English words by its words' stems,
// in order, so that a paraphrase in another inflection meets it: "stopped
// the Fosamax" meets "stop the fosamax", "keeps taking alendronate" meets
// "keep taking alendronate", "checks CTX levels" meets "check ctx". A cue
// that states a negation, or holds Chinese, is matched as written only.
// It keeps each text's stems, since one plan is matched against every
// item's cues.
type stemCues struct {
	words func(string) []string // nil: the scope has no stemmer
	texts map[string][]string
}

func newStemCues(scope Scope) *stemCues {
	s := &stemCues{texts: map[string][]string{}}
	if w, ok := scope.(interface{ Words(string) []string }); ok {
		s.words = w.Words
	}
	return s
}

// holds reports whether text holds cue's stems in order, one after another.
func (s *stemCues) holds(text, cue string) bool {
	if s.words == nil || analysis.StatesNegation(cue) || strings.IndexFunc(cue, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
		return false
	}
	want := s.words(cue)
	// A one-word cue widens only when it is long enough for its stem to
	// carry it ("decompression" is met by "decompress"); a cue that stems
	// to one word because the rest are stop words ("then alendronate")
	// does not: its other words are what it asks for.
	if len(want) == 0 || len(want) == 1 && (strings.ContainsAny(cue, " -") || len(cue) < 6) {
		return false
	}
	have, ok := s.texts[text]
	if !ok {
		have = s.words(text)
		s.texts[text] = have
	}
	for i := 0; i+len(want) <= len(have); i++ {
		if slices.Equal(have[i:i+len(want)], want) {
			return true
		}
	}
	return false
}

// determiners are the articles and possessives cued ignores.
var determiners = regexp.MustCompile(`\b(?:the|a|an|her|his|their|its)\s+`)

// startsWord reports whether t holds cue, starting a word when wordStart.
func startsWord(t, cue string, wordStart bool) bool {
	if cue == "" {
		return false
	}
	for from := 0; from <= len(t); {
		i := strings.Index(t[from:], cue)
		if i < 0 {
			return false
		}
		at := from + i
		before, _ := utf8.DecodeLastRuneInString(t[:at])
		if !wordStart || at == 0 || !(before < utf8.RuneSelf && (unicode.IsLetter(before) || unicode.IsDigit(before))) {
			return true
		}
		from = at + len(cue)
	}
	return false
}

// Match returns the history and examination facts whose cues the question
// holds: the only facts a patient may tell in answer to it.
func (d *Drill) Match(question string) []Fact {
	var out []Fact
	for _, f := range append(slices.Clone(d.Case.History), d.Case.Exam...) {
		if cued(question, f.Ask) != "" {
			out = append(out, f)
		}
	}
	return out
}

// Ask answers a question as the scripted patient: with every history or
// examination fact whose cues the question holds, and nothing else.
func (d *Drill) Ask(question string) string {
	facts := d.Match(question)
	parts := make([]string, len(facts))
	for i, f := range facts {
		parts[i] = f.Text.In(d.Lang)
	}
	answer := strings.Join(parts, " ")
	if answer == "" {
		answer = NotUnderstood.In(d.Lang)
	}
	d.Record(question, answer, facts)
	return answer
}

// NotUnderstood is the scripted patient's reply to a question no fact
// answers.
var NotUnderstood = Text{EN: "The patient is not sure what you mean. Ask about symptoms, history, medicines or examination findings.",
	ZH: "患者不太明白您的意思。请询问症状、病史、用药或查体情况。"}

// Record adds an exchange in which facts were told.
func (d *Drill) Record(question, answer string, facts []Fact) {
	for _, f := range facts {
		if !slices.Contains(d.Asked, f.ID) {
			d.Asked = append(d.Asked, f.ID)
		}
	}
	d.Turns = append(d.Turns, Turn{Student: question, Patient: answer})
}

// Order orders the tests the request names and returns their results.
func (d *Drill) Order(request string) []Result {
	var out []Result
	for _, t := range d.Case.Tests {
		if cued(request, t.Order) != "" {
			out = append(out, Result{ID: t.ID, Name: t.Name.In(d.Lang), Result: t.Result.In(d.Lang)})
			if !slices.Contains(d.Ordered, t.ID) {
				d.Ordered = append(d.Ordered, t.ID)
			}
		}
	}
	return out
}

// Result is an ordered test's result.
type Result struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Result string `json:"result"`
}

// ItemScore is one rubric item's grade.
type ItemScore struct {
	ID        string `json:"id"`
	Criterion string `json:"criterion"`
	Points    int    `json:"points"`
	Met       bool   `json:"met"`
	MustNot   bool   `json:"must_not,omitempty"`
	// Why says what in the submission met the item, or that nothing did.
	Why string `json:"why"`
	// Voided is the negated stretch of the plan that named the item but
	// did not meet it ("would not give zoledronic acid").
	Voided  string   `json:"voided,omitempty"`
	Entries []string `json:"entries"`
}

// Grade is a submission's deterministic score.
type Grade struct {
	Items    []ItemScore `json:"items"`
	Earned   int         `json:"earned"`
	Possible int         `json:"possible"`
	// Score is earned over possible, clipped to [0, 1].
	Score float64 `json:"score"`
	// MustNotDone lists the must-not items the submission did.
	MustNotDone []string `json:"must_not_done,omitempty"`
	Expected    Text     `json:"expected_plan"`
	Diagnosis   Text     `json:"expected_diagnosis"`
	Expert      Text     `json:"expert"`
}

// Submit grades a diagnosis and plan. A positive item is met by any of its
// phrases or concepts (concepts carry synonyms in both languages); a
// must-not item by its phrases, by negating the item it negates, or by
// listing more drugs than its selectivity allows, so that naming a drug
// correctly never counts as misusing it. Both kinds are met only outside
// what the plan rules out (analysis.PlanNegations: "avoid calcitonin long
// term" does not count as giving it).
func (d *Drill) Submit(diagnosis, plan string, scope Scope) Grade {
	text := diagnosis + "\n" + plan
	// Positive items are met only outside what the plan rules out.
	open, scopes := analysis.PlanNegations(text)
	// The plan's part of it, for selectivity (the options the plan gives,
	// not the drug the diagnosis says the patient is on) and in_plan items.
	// PlanNegations keeps the length in runes and no scope crosses the
	// line break, so it is the plan analysed alone.
	planOpen := string([]rune(open)[utf8.RuneCountInString(diagnosis)+1:])
	concepts := named(scope, open)
	// What the plan rules out is read longest name first: "no drug
	// holiday" rules out the holiday, not every drug.
	negatedConcepts := namedLongest(scope, strings.Join(scopes, "\n"))
	met, voided := map[string]string{}, map[string]string{}
	planConcepts := named(scope, planOpen)
	stemmed := newStemCues(scope)
	for _, it := range d.Case.Rubric {
		open, concepts, text := open, concepts, text
		if it.InPlan {
			open, concepts, text = planOpen, planConcepts, plan
		}
		// An item's phrase counts outside what the plan rules out ("do
		// not give calcitonin" does not give it), unless the phrase itself
		// states a negation ("no routine duplex").
		for _, p := range it.Phrases {
			in := open
			if analysis.StatesNegation(p) {
				in = text
			}
			// Stems widen a positive item only: a must-not cue is a
			// wording the case file chose to catch as written.
			if cued(in, []string{p}) != "" || !it.MustNot && stemmed.holds(in, p) {
				met[it.ID] = p
				break
			}
			if voided[it.ID] == "" && !it.MustNot {
				voided[it.ID] = scopeOf(scopes, p)
			}
		}
		if it.MustNot {
			if _, ok := met[it.ID]; !ok {
				if why := d.unselective(scope, planOpen, it); why != "" {
					met[it.ID] = why
				} else if why := d.alone(scope, planOpen, it); why != "" {
					met[it.ID] = why
				}
			}
			continue
		}
		if _, ok := met[it.ID]; ok {
			continue
		}
		for _, c := range it.Concepts {
			// A narrower concept meets the item: enoxaparin is a LMWH. A
			// finding does not meet a condition: clumsy hands are a sign of
			// myelopathy, not its diagnosis.
			if i := slices.IndexFunc(concepts, func(x string) bool { return x == c || isA(scope, x, c) && !signOf(scope, x, c) }); i >= 0 {
				met[it.ID] = conceptName(scope, concepts[i], d.Lang)
				break
			}
			// Ruling out a class rules out its members: "no anticoagulant"
			// voids an item met by LMWH.
			if voided[it.ID] == "" && slices.ContainsFunc(negatedConcepts, func(x string) bool { return x == c || isA(scope, x, c) || isA(scope, c, x) }) {
				voided[it.ID] = conceptScope(scope, scopes, c)
			}
		}
	}
	// A clause item is met by one clause of the plan that names all its
	// concepts together.
	for _, it := range d.Case.Rubric {
		if _, done := met[it.ID]; done || len(it.Clause) == 0 {
			continue
		}
		in := open
		if it.InPlan {
			in = planOpen
		}
		if c := clauseNaming(scope, in, it.Clause); c != "" {
			met[it.ID] = c
		}
	}
	// An omission item is met where the plan rules out what it omits ("no
	// preventive operation").
	for _, it := range d.Case.Rubric {
		if _, done := met[it.ID]; done || it.MustNot {
			continue
		}
		for _, c := range it.RulingOut {
			if s := rulingOut(scope, scopes, c); s != "" {
				met[it.ID] = s
				delete(voided, it.ID)
				break
			}
		}
	}
	// A must-not omission is done when the item it negates is named only
	// where the plan rules it out.
	for _, it := range d.Case.Rubric {
		if _, done := met[it.ID]; !done && it.Negates != "" && voided[it.Negates] != "" {
			if _, positive := met[it.Negates]; !positive {
				met[it.ID] = voided[it.Negates]
			}
		}
	}
	g := d.Case.Score(d.Lang, met)
	for i, s := range g.Items {
		if v := voided[s.ID]; v != "" && !s.Met {
			g.Items[i].Voided = v
			g.Items[i].Why = Text{EN: fmt.Sprintf("Not met: the plan names it only where it is negated (%q).", v),
				ZH: fmt.Sprintf("未达到：方案仅在否定语境中提及（“%s”）。", v)}.In(d.Lang)
		}
	}
	return g
}

// planClause splits a plan into clauses: at punctuation, a dash between
// words, or a line break. A colon or a dash after a label of a word or two
// does not ("HRT - pause it four weeks before", "Pre-op: HRT - pause",
// 激素替代——术前暂停): what follows is about the label.
var (
	planClause = regexp.MustCompile(`[,;:.!?()，。；：！？、（）\n]|\s[-–—]\s|[–—]+`)
	planLabel  = regexp.MustCompile(`^(?:[:：]|\s[-–—]\s|[–—]+)$`)
)

// clauseNaming returns the first clause of text that names every concept
// of want (or a narrower one), trimmed; "" when none does. The enumeration
// comma splits too: 停激素、用依诺肝素 are two steps.
func clauseNaming(scope Scope, text string, want []string) string {
	var clauses []string
	at, label := 0, false
	for _, m := range append(planClause.FindAllStringIndex(text, -1), []int{len(text), len(text)}) {
		cl := text[at:m[0]]
		if label {
			clauses[len(clauses)-1] += " " + cl
		} else {
			clauses = append(clauses, cl)
		}
		label = planLabel.MatchString(text[m[0]:m[1]]) && len(strings.Fields(cl)) <= 2 && utf8.RuneCountInString(strings.TrimSpace(cl)) <= 16
		at = m[1]
	}
	for _, cl := range clauses {
		if strings.TrimSpace(cl) == "" {
			continue
		}
		got := named(scope, cl)
		if !slices.ContainsFunc(want, func(c string) bool {
			return !slices.ContainsFunc(got, func(x string) bool { return x == c || isA(scope, x, c) })
		}) {
			return strings.TrimSpace(cl)
		}
	}
	return ""
}

// named returns the concepts a text names: all of them, generic ones
// included ("exercise"), when scope can tell, else its domain concepts.
func named(scope Scope, text string) []string {
	if n, ok := scope.(interface{ Named(string) []string }); ok {
		return n.Named(text)
	}
	return scope.DomainConcepts(text)
}

// namedLongest is named reading names longest first, when scope can.
func namedLongest(scope Scope, text string) []string {
	if n, ok := scope.(interface{ NamedLongest(string) []string }); ok {
		return n.NamedLongest(text)
	}
	return named(scope, text)
}

// signOf reports whether x is a finding that falls under condition c
// (when scope knows kinds): a sign, not the diagnosis.
func signOf(scope Scope, x, c string) bool {
	k, ok := scope.(interface{ ConceptKind(id string) string })
	return ok && k.ConceptKind(x) == "finding" && k.ConceptKind(c) == "condition"
}

// isA reports whether concept x falls under c, when scope knows.
func isA(scope Scope, x, c string) bool {
	ds, ok := scope.(DrugScope)
	return ok && ds.IsA(x, c)
}

// DrugScope is a Scope that names the drugs of a text under given
// classes, most specific only, and knows which concept falls under which
// (*analysis.Analyzer is one).
type DrugScope interface {
	NamedUnder(text string, roots []string) []string
	IsA(id, ancestor string) bool
}

// unselective says how a plan (its text outside negations) fails a
// selectivity item: more drugs than the case allows, or a ruled-out one
// listed among others; "" when it does not, or when it is no such item.
func (d *Drill) unselective(scope Scope, open string, it Item) string {
	ds, ok := scope.(DrugScope)
	if !it.Selective() || !ok {
		return ""
	}
	named := ds.NamedUnder(open, it.Counts)
	names := make([]string, len(named))
	var ruled []string
	for i, c := range named {
		names[i] = conceptName(scope, c, d.Lang)
		if slices.ContainsFunc(it.RuledOut, func(r string) bool { return ds.IsA(c, r) }) {
			ruled = append(ruled, names[i])
		}
	}
	list := strings.Join(names, ", ")
	switch {
	case len(named) > it.MaxDrugs:
		return Text{EN: fmt.Sprintf("%d drugs named (%s) where the case calls for at most %d", len(named), list, it.MaxDrugs),
			ZH: fmt.Sprintf("列出%d种药物（%s），本病例至多需要%d种", len(named), list, it.MaxDrugs)}.In(d.Lang)
	case len(named) >= 2 && len(ruled) > 0:
		return Text{EN: fmt.Sprintf("lists %s, ruled out for this patient, among other options (%s)", strings.Join(ruled, ", "), list),
			ZH: fmt.Sprintf("在多个选项中列出本例不宜使用的%s（%s）", strings.Join(ruled, "、"), list)}.In(d.Lang)
	}
	return ""
}

// alone says how a plan (its text outside negations) gives only what an
// item's Alone names, with nothing under its Besides: "calcium and vitamin
// D" once teriparatide is turned down; "" when it does not.
func (d *Drill) alone(scope Scope, open string, it Item) string {
	ds, ok := scope.(DrugScope)
	if len(it.Alone) == 0 || !ok {
		return ""
	}
	given := ds.NamedUnder(open, it.Alone)
	if len(given) == 0 || len(ds.NamedUnder(open, it.Besides)) > 0 {
		return ""
	}
	names := make([]string, len(given))
	for i, c := range given {
		names[i] = conceptName(scope, c, d.Lang)
	}
	return Text{EN: fmt.Sprintf("gives %s and nothing besides", strings.Join(names, ", ")),
		ZH: fmt.Sprintf("仅给予%s，别无其他", strings.Join(names, "、"))}.In(d.Lang)
}

// conceptName is a concept's name in lang when scope can give one, its ID
// otherwise.
func conceptName(scope Scope, id, lang string) string {
	if n, ok := scope.(interface{ ConceptName(id, lang string) string }); ok {
		return n.ConceptName(id, lang)
	}
	return id
}

// Score grades a submission from the rubric items it met, keyed by item ID
// with what met each (a phrase, a concept, or a judge's reason).
func (c *Case) Score(lang string, met map[string]string) Grade {
	g := Grade{Expected: c.Expected.Plan, Diagnosis: c.Expected.Diagnosis, Expert: c.Expected.Expert}
	for _, it := range c.Rubric {
		why, ok := met[it.ID]
		s := ItemScore{ID: it.ID, Criterion: it.Criterion.In(lang), Points: it.Points, Met: ok, MustNot: it.MustNot, Entries: it.Entries}
		switch {
		case ok && it.MustNot:
			s.Why = Text{EN: fmt.Sprintf("The plan does this (%q): a must-not item.", why), ZH: fmt.Sprintf("方案中出现了此项（“%s”），属于禁忌项。", why)}.In(lang)
		case ok:
			s.Why = Text{EN: fmt.Sprintf("Met: the answer covers it (%q).", why), ZH: fmt.Sprintf("已达到：答案涉及此项（“%s”）。", why)}.In(lang)
		case it.MustNot:
			s.Why = Text{EN: "Avoided.", ZH: "已避免。"}.In(lang)
		default:
			s.Why = Text{EN: "Not found in the diagnosis or plan.", ZH: "诊断或方案中未涉及。"}.In(lang)
		}
		g.Items = append(g.Items, s)
		if it.Points > 0 {
			g.Possible += it.Points
		}
		if ok {
			g.Earned += it.Points
			if it.MustNot {
				g.MustNotDone = append(g.MustNotDone, it.ID)
			}
		}
	}
	g.Score = min(1, max(0, float64(g.Earned)/float64(g.Possible)))
	return g
}

// scopeOf returns the negated scope holding phrase.
func scopeOf(scopes []string, phrase string) string {
	for _, s := range scopes {
		if strings.Contains(strings.ToLower(s), strings.ToLower(phrase)) {
			return s
		}
	}
	return ""
}

// conceptScope returns the negated scope naming concept c.
// stopping is the concept of stopping a treatment. A negated stop keeps
// what it names: "do not stop alendronate" does not rule alendronate out.
const stopping = "discontinuation"

// rulingOut returns the first negated stretch of scopes that rules out c
// (or a narrower concept) and is not a negated stop; "" when none does.
func rulingOut(scope Scope, scopes []string, c string) string {
	for _, s := range scopes {
		got := namedLongest(scope, s)
		if slices.ContainsFunc(got, func(x string) bool { return x == c || isA(scope, x, c) }) && !slices.Contains(got, stopping) {
			return s
		}
	}
	return ""
}

func conceptScope(scope Scope, scopes []string, c string) string {
	for _, s := range scopes {
		if slices.ContainsFunc(namedLongest(scope, s), func(x string) bool { return x == c || isA(scope, x, c) || isA(scope, c, x) }) {
			return s
		}
	}
	return ""
}
