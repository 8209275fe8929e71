package handouts

import (
	"bufio"
	"io/fs"
	"math"
	"regexp"
	"strings"
	"unicode"
)

// Readability is how hard a handout is to read, measured and compared with
// the project's target for patient material.
//
// English: the Flesch-Kincaid grade, 0.39 x (words / sentences) + 11.8 x
// (syllables / words) - 15.59. A word is a run of letters, digits or
// apostrophes; a sentence ends at . ! ? or a line break; syllables are
// counted by rule (groups of vowels, y counting as one, a silent final
// "e" not counted except in "-le" after a consonant, at least one a word).
// Target: grade 8 or below.
//
// Chinese: there is no Flesch-Kincaid. The measure is the two things
// Chinese readability formulas weigh most: the mean sentence length in
// Han characters (a sentence ends at 。！？；!?; or a line break) and the
// share of Han characters that are among the 3,500 of the 现代汉语常用字表
// (data/common-chars-3500.txt). Target: at most 25 characters a sentence
// and at least 95% common characters.
//
// The targets are the project's settings, not published cut-offs.
type Readability struct {
	Lang string `json:"lang"`
	// English.
	Grade     float64 `json:"flesch_kincaid_grade,omitempty"`
	Words     int     `json:"words,omitempty"`
	Syllables int     `json:"syllables,omitempty"`
	// Chinese.
	MeanSentenceChars float64 `json:"mean_sentence_chars,omitempty"`
	CommonShare       float64 `json:"common_char_share,omitempty"`
	Sentences         int     `json:"sentences"`
	// Target says the level aimed at; AboveTarget flags a harder text.
	Target      string `json:"target"`
	AboveTarget bool   `json:"above_target"`
}

// Targets (project settings).
const (
	MaxGrade         = 8.0
	MaxSentenceChars = 25.0
	MinCommonShare   = 0.95
)

var (
	enSentenceEnd = regexp.MustCompile(`[.!?]+|\n`)
	enWord        = regexp.MustCompile(`[A-Za-z0-9']+`)
	zhSentenceEnd = regexp.MustCompile(`[。！？；!?;\n]`)
)

// Measure returns text's readability in lang (en or zh).
func (s *Set) Measure(text, lang string) Readability {
	if lang == "zh" {
		return s.chinese(text)
	}
	return english(text)
}

func english(text string) Readability {
	r := Readability{Lang: "en", Target: "Flesch-Kincaid grade 8 or below"}
	for _, sent := range enSentenceEnd.Split(text, -1) {
		words := enWord.FindAllString(sent, -1)
		if len(words) == 0 {
			continue
		}
		r.Sentences++
		for _, w := range words {
			r.Words++
			r.Syllables += Syllables(w)
		}
	}
	if r.Words == 0 {
		return r
	}
	r.Grade = round2(0.39*float64(r.Words)/float64(r.Sentences) + 11.8*float64(r.Syllables)/float64(r.Words) - 15.59)
	r.AboveTarget = r.Grade > MaxGrade
	return r
}

// Syllables counts the syllables of an English word by rule.
func Syllables(word string) int {
	w := strings.ToLower(strings.Trim(word, "'"))
	if w == "" {
		return 0
	}
	if strings.IndexFunc(w, unicode.IsLetter) < 0 {
		return 1 // a number is read as one word
	}
	vowel := func(r rune) bool { return strings.ContainsRune("aeiouy", r) }
	rs := []rune(w)
	n, prev := 0, false
	for _, c := range rs {
		v := vowel(c)
		if v && !prev {
			n++
		}
		prev = v
	}
	if l := len(rs); l > 2 && rs[l-1] == 'e' && !vowel(rs[l-2]) && !(rs[l-2] == 'l' && !vowel(rs[l-3])) && n > 1 {
		n-- // silent final e ("stone"), but not "-le" after a consonant ("table")
	}
	return max(n, 1)
}

func (s *Set) chinese(text string) Readability {
	r := Readability{Lang: "zh", Target: "每句不超过25个汉字，常用字占比不低于95%"}
	han, common := 0, 0
	for _, sent := range zhSentenceEnd.Split(text, -1) {
		n := 0
		for _, c := range sent {
			if unicode.Is(unicode.Han, c) {
				n++
				if s.common[c] {
					common++
				}
			}
		}
		if n > 0 {
			r.Sentences++
			han += n
		}
	}
	if r.Sentences == 0 {
		return r
	}
	r.MeanSentenceChars = round2(float64(han) / float64(r.Sentences))
	r.CommonShare = round2(float64(common) / float64(han))
	r.AboveTarget = r.MeanSentenceChars > MaxSentenceChars || r.CommonShare < MinCommonShare
	return r
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// readCommon reads the common-character list: every Han character of
// every line not starting with #.
func readCommon(fsys fs.FS) (map[rune]bool, error) {
	f, err := fsys.Open("data/common-chars-3500.txt")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[rune]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		for _, c := range sc.Text() {
			if unicode.Is(unicode.Han, c) {
				out[c] = true
			}
		}
	}
	return out, sc.Err()
}
