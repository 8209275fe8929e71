package analysis

import (
	"slices"
	"testing"
)

// Traditional Chinese is analysed as its simplified form; simplified text,
// including characters both scripts use (後, 著), is left as it is.
func TestTraditionalChinese(t *testing.T) {
	a, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ traditional, simplified string }{
		{"髖部骨折", "髋部骨折"},
		{"長期服用潑尼松，已經有兩處脊椎骨折", "长期服用泼尼松，已经有两处脊椎骨折"},
		{"雙膦酸鹽停藥", "双膦酸盐停药"},
	} {
		if got, want := a.Words(tc.traditional), a.Words(tc.simplified); !slices.Equal(got, want) {
			t.Errorf("Words(%q) = %v, want those of %q, %v", tc.traditional, got, tc.simplified, want)
		}
	}
	for _, s := range []string{"显著降低", "术后三天", "著名的研究", "阿仑膦酸钠 Fosamax"} {
		if got := a.simp.simplify(s); got != s {
			t.Errorf("simplify(%q) = %q, want it unchanged", s, got)
		}
	}
	terms := a.QueryTerms("福善美對已經有脊椎骨折的女性，能減少髖部骨折嗎？")
	for _, id := range []string{"alendronate", "vertebral", "hipfx"} {
		if !slices.Contains(terms, ConceptTerm(id)) {
			t.Errorf("the traditional question misses concept %s: %v", id, terms)
		}
	}
}
