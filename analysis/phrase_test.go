package analysis

import (
	"encoding/json"
	"os"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    []string
	}{
		{`\bon the pill\b`, []string{"on the pill"}},
		{`\b(?:on|taking)\s+the\s+pill\b`, []string{"pill"}},
		{`\bfor a break\b|\b(?:take|taking) a break from\b`, []string{"for a break", " a break from"}},
		{`\bslipped (?:and|on)\b|\ba (?:slip|trip)\b`, []string{"slipped ", "a "}},
		{`\bligament\b[^.?!]{0,40}\bturned\s+to\s+bone\b`, []string{"ligament"}},
		{`Hump`, []string{"hump"}},
		{`(?:两|二|三)(?:处|个)骨折`, []string{"骨折"}},
		{`(?:stockings?|pumps?)\b[^.?!]{0,30}\b(?:too|also)\b`, []string{"stocking", "pump"}},
		{`(?:stockings?|[a-z]+)\b`, nil},
		{`x?ray`, []string{"ray"}},
		{`(?:ab)+c`, []string{"ab"}},
		{`[ab]c`, []string{"c"}},
		{`\bgo(?:ne)?\b`, []string{"go"}},
	} {
		tree, err := syntax.Parse(tc.pattern, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		got := required(tree.Simplify())
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("required(%q) = %q, want %q", tc.pattern, got, tc.want)
		}
	}
}

// The words a phrase needs only pass over texts its expression would not
// match: every shipped phrase gives the same answer with and without them
// on every labelled everyday question and student answer.
func TestPhrasePrefilterKeepsMatches(t *testing.T) {
	v, err := LoadVocabulary(Embedded())
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, file := range []string{"../guidelines/data/asked/everyday.jsonl", "../evals/data/grader-tune.jsonl", "../evals/data/retrieval-starter.jsonl"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var rec struct{ Question, Plan string }
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			texts = append(texts, rec.Question, rec.Plan, strings.ToUpper(rec.Question))
		}
	}
	filtered, matched := 0, 0
	for _, p := range v.phrases {
		for _, text := range texts {
			want := p.re.MatchString(text)
			if got := p.match(text, strings.ToLower(text)); got != want {
				t.Errorf("phrase %s %q on %q: %v with its needed words, %v without", p.id, p.re, text, got, want)
			}
			if want {
				matched++
			}
			if len(p.need) > 0 && !containsAny(strings.ToLower(text), p.need) {
				filtered++
			}
		}
	}
	if matched == 0 || filtered == 0 {
		t.Errorf("%d matches and %d texts passed over: the check saw nothing", matched, filtered)
	}
	t.Logf("%d phrases, %d texts: %d matches, %d passed over without running the expression", len(v.phrases), len(texts), matched, filtered)
}
