package analysis

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTerms(t *testing.T) {
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
		{"ＤＸＡ　T-score", []string{"dxa", "score"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, a.Terms(tt.in)); diff != "" {
			t.Errorf("Terms(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
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
