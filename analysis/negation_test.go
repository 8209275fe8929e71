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
