package analysis

import (
	"fmt"
	"strings"

	"github.com/longbridgeapp/opencc"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Traditional Chinese. Doctors in Hong Kong and Taiwan, and patients
// anywhere, write 髖部骨折 and 雙膦酸鹽, while the vocabulary, the
// segmenter's dictionary and the corpus are in simplified characters. Text
// holding a traditional-only character is converted to simplified
// characters, phrase by phrase, with OpenCC's tables (t2s) before it is
// analysed; text without one, such as the corpus's own, is left as it is.

// hanFirst and hanLast bound the CJK Unified Ideographs block, where the
// traditional-only characters are looked for.
const (
	hanFirst = 0x4E00
	hanLast  = 0x9FFF
)

// simplifier converts traditional Chinese to simplified.
type simplifier struct {
	cc *opencc.OpenCC
	// traditional marks, by rune-hanFirst, the characters that t2s
	// changes and that the simplified standard (GB 2312) lacks: 髖 and 雙,
	// not 後 or 乾, which simplified text also uses.
	traditional []bool
}

func newSimplifier() (*simplifier, error) {
	cc, err := opencc.New("t2s")
	if err != nil {
		return nil, fmt.Errorf("analysis: traditional Chinese tables: %w", err)
	}
	// Each character of the block, one per line, converted in one pass.
	var b strings.Builder
	for r := rune(hanFirst); r <= hanLast; r++ {
		b.WriteRune(r)
		b.WriteByte('\n')
	}
	out, err := cc.Convert(b.String())
	if err != nil {
		return nil, fmt.Errorf("analysis: traditional Chinese tables: %w", err)
	}
	s := &simplifier{cc: cc, traditional: make([]bool, hanLast-hanFirst+1)}
	gb2312 := simplifiedchinese.HZGB2312.NewEncoder()
	for i, line := range strings.Split(out, "\n") {
		r := rune(hanFirst + i)
		if r > hanLast {
			break
		}
		if line == string(r) {
			continue
		}
		if _, err := gb2312.String(string(r)); err != nil {
			s.traditional[r-hanFirst] = true
		}
	}
	return s, nil
}

// simplify returns text in simplified characters when it holds a
// traditional-only one, and text itself otherwise.
func (s *simplifier) simplify(text string) string {
	for _, r := range text {
		if r >= hanFirst && r <= hanLast && s.traditional[r-hanFirst] {
			if out, err := s.cc.Convert(text); err == nil {
				return out
			}
			return text
		}
	}
	return text
}
