package ingest

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/orthocds/orthocds"
)

// A PDF whose fonts lack a Unicode map, a text file in another encoding,
// or a bad OCR gives text that looks like text to a program and like
// garbage to a doctor. Indexing it would hide the document (no question
// finds it) and quote nonsense when something does. quality measures a
// page's text; check refuses it, naming the page.

// textQuality is what check measures.
type textQuality struct {
	Runes       int     // characters other than spaces
	Expected    float64 // share in the scripts a guideline is written in
	Replacement int     // U+FFFD, private-use and control characters
	Bigrams     int     // letter pairs inside Latin words
	Common      float64 // share of those among English's commonest pairs
}

// Thresholds, chosen so that every real document in the tests passes with
// a wide margin and the mojibake of a PDF without a Unicode map (mostly
// Latin-1 letters and control characters, or Latin letters shifted by a
// constant) fails with a wide margin.
const (
	minExpected = 0.95 // expected-script share
	maxBadShare = 0.01 // replacement, private-use and control characters
	minBigrams  = 40   // letter pairs needed before judging them
	minCommon   = 0.15 // English prose runs near 0.4, shifted letters near 0.05
)

// expected reports whether r belongs to the text of a bilingual guideline:
// Chinese characters and punctuation, ASCII, Greek letters (α, β), the
// common symbols of clinical text (°, ±, ×, ≥, µ, ①...), and full-width
// forms.
func expected(r rune) bool {
	switch {
	case r < 0x80:
		return unicode.IsPrint(r)
	case unicode.Is(unicode.Han, r):
		return true
	case r >= 0x3000 && r <= 0x303f, r >= 0xff00 && r <= 0xffef: // CJK punctuation, full-width forms
		return true
	case r >= 0x0391 && r <= 0x03c9: // Greek letters
		return true
	case r >= 0x2000 && r <= 0x2bff: // punctuation, super/subscripts, letterlike, arrows, maths, shapes, enclosed
		return true
	case strings.ContainsRune("°±×÷·µ²³¹¼½¾§¶©®«»¬¿¡", r):
		return true
	case r >= 0x00c0 && r <= 0x017f && unicode.IsLetter(r): // accented Latin letters (names, naïve): tolerated
		return true
	}
	return false
}

// commonBigrams are the thirty commonest letter pairs of English text
// (th, he, in, er, an...); they make up about two fifths of the pairs of
// any English prose, abbreviations included, and few of a cipher's.
var commonBigrams = map[string]bool{}

func init() {
	for _, b := range strings.Fields("th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io le") {
		commonBigrams[b] = true
	}
}

func quality(text string) textQuality {
	var q textQuality
	var exp int
	for _, r := range text {
		if unicode.IsSpace(r) {
			continue
		}
		q.Runes++
		switch {
		case r == utf8.RuneError, unicode.Is(unicode.Co, r), unicode.IsControl(r):
			q.Replacement++
		case expected(r):
			exp++
		}
	}
	if q.Runes > 0 {
		q.Expected = float64(exp) / float64(q.Runes)
	}
	common := 0
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return r >= 0x80 || !unicode.IsLetter(r) }) {
		for i := 0; i+1 < len(w); i++ {
			q.Bigrams++
			if commonBigrams[w[i:i+2]] {
				common++
			}
		}
	}
	if q.Bigrams > 0 {
		q.Common = float64(common) / float64(q.Bigrams)
	}
	return q
}

// problem says what is wrong with text, or "" when it reads as text.
func (q textQuality) problem() string {
	switch {
	case q.Runes == 0:
		return ""
	case float64(q.Replacement) > maxBadShare*float64(q.Runes):
		return fmt.Sprintf("%d of its %d characters are replacement or control characters", q.Replacement, q.Runes)
	case q.Expected < minExpected:
		return fmt.Sprintf("only %.0f%% of its characters are Chinese, Latin or common symbols", q.Expected*100)
	case q.Bigrams >= minBigrams && q.Common < minCommon:
		return fmt.Sprintf("its Latin letters do not read as English (%.0f%% common letter pairs)", q.Common*100)
	}
	return ""
}

// checkText refuses text that is not readable, naming the file and, when
// paged, the page.
func checkText(name string, page int, text string) error {
	p := quality(text).problem()
	if p == "" {
		return nil
	}
	where := name
	if page > 0 {
		where = fmt.Sprintf("%s, page %d", name, page)
	}
	return unreadable(where, p)
}

func unreadable(where, problem string) error {
	return orthocds.Invalid("path", "%s: the extracted text is not readable: %s. Nothing was indexed; "+
		"a PDF whose fonts lack a Unicode map must be exported again from its source, or scanned and read by OCR", where, problem)
}
