package analysis

import "testing"

// Query analysis beside document analysis, on the same questions: the
// cost of reading negation and numbers (QueryTerms) over Terms.
func BenchmarkQueryTerms(b *testing.B) {
	a, err := Shared()
	if err != nil {
		b.Fatal(err)
	}
	qs := []string{"72F, T-score -2.8 at the hip, no fractures, which drug first?", "福善美吃了五年可以停吗？",
		"VTE prophylaxis after total knee arthroplasty", "68岁女，两个胸腰椎压缩骨折，T值-3.5，首选什么药"}
	b.Run("Terms", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			a.Terms(qs[i%len(qs)])
		}
	})
	b.Run("QueryTerms", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			a.QueryTerms(qs[i%len(qs)])
		}
	})
}
