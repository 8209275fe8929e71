package analysis

import (
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/orthocds/orthocds/rag"
)

// entry is the text of one indexed chunk as coverage sees it.
type entry struct {
	ID, Title, Text string
	Topics          []string
	Asks            []string // wordings it is asked in, when known
}

// Coverage measures how much of what a question names an entry names too:
// the share of the question's concepts (each weighted by its inverse
// document frequency in a reference corpus, so that "alendronate" counts
// more than "osteoporosis") found among the entry's concepts. Fused
// rankings favour entries that repeat a few words of the question; an
// entry that names every concept asked about is more often the answer.
// It is safe for concurrent use.
type Coverage struct {
	a       *Analyzer
	idf     map[string]float64
	maxIDF  float64
	weights map[string]float64 // language -> weight of coverage in the fused score
	// detectOthers is whether a language other than Chinese has a weight,
	// so that Weight must detect the language of a non-Chinese question.
	detectOthers bool
	// ref holds the reference corpus's entries, asks included, for good;
	// cache the other chunks met in searches, within coverageCache.
	ref map[string]cachedEntry

	cache memo[string, cachedEntry]
}

type cachedEntry struct {
	title, text string
	concepts    map[string]bool
}

// coverageCache bounds the entries whose concepts are kept; past it the
// cache starts again (a corpus of millions of chunks is searched a few
// dozen candidates at a time).
const coverageCache = 100_000

// CoverageWeights returns how much full coverage scales a fused score, per
// question language (rag.Retriever multiplies it by 1 + weight x
// coverage). Fitted on the everyday-wording tuning split (evals, MRR@10 +
// recall@10/2 with the starter set held within 0.005; README "Questions
// in everyday words"): in English, where words map to concepts cleanly, it
// did not help and counts nothing; in Chinese, where single characters
// dilute the lexical match, it did. It used to be added (0.06, about four
// times the first place's 1/61); once the vocabulary had grown, adding it
// cost the tuning split (MRR@10 0.868 against 0.870 without coverage) and
// the starter set (0.918 against 0.939), while scaling by the same weight
// gave 0.877 and 0.936 (2026-12-06).
// Each call returns a fresh map, so no caller changes another's weights.
func CoverageWeights() map[string]float64 { return map[string]float64{"zh": 0.06, "en": 0} }

// NewCoverage returns a Coverage whose concept weights come from the
// chunks of ref, the reference corpus (the shipped guidelines).
func NewCoverage(a *Analyzer, ref []rag.Document, weights map[string]float64) *Coverage {
	c := &Coverage{a: a, idf: map[string]float64{}, weights: maps.Clone(weights), ref: map[string]cachedEntry{}}
	c.cache.max = coverageCache
	for lang, w := range weights {
		c.detectOthers = c.detectOthers || lang != "zh" && w != 0
	}
	df := map[string]int{}
	n := 0
	for _, d := range ref {
		for _, ch := range d.Chunks {
			n++
			e := entry{ID: ch.ID, Title: ch.Title, Text: ch.Text, Topics: ch.Topics, Asks: slices.Concat(ch.Asks, ch.Asked)}
			m := c.entryConcepts(e)
			for t := range m {
				df[t]++
			}
			c.ref[ch.ID] = cachedEntry{title: ch.Title, text: ch.Text, concepts: m}
		}
	}
	c.maxIDF = math.Log(1 + (float64(n)+0.5)/0.5)
	for t, d := range df {
		c.idf[t] = math.Log(1 + (float64(n)-float64(d)+0.5)/(float64(d)+0.5))
	}
	return c
}

// Weight is how much coverage counts for question, by its language. It
// runs once per question of every search batch: Chinese is told by its
// share of Han characters, and the slower detection of other languages
// runs only when a language other than Chinese has a weight.
func (c *Coverage) Weight(question string) float64 {
	if chinese(question) {
		return c.weights["zh"]
	}
	if c.detectOthers {
		return c.weights[DetectLang(question)]
	}
	return 0
}

// Measure returns the weighted share, 0 to 1, of the concepts in qterms (a
// question's QueryTerms) that the entry (chunk id with its title, text and
// topic tags) names.
func (c *Coverage) Measure(qterms []string, id, title, text string, topics []string) float64 {
	have := c.concepts(entry{ID: id, Title: title, Text: text, Topics: topics})
	// Sum in a fixed order: Terms lists concepts in map order, and a float
	// sum must not depend on it (the same question gives the same score).
	var qc []string
	for _, t := range qterms {
		if strings.HasPrefix(t, conceptPrefix) {
			qc = append(qc, t)
		}
	}
	slices.Sort(qc)
	qc = slices.Compact(qc)
	var all, met float64
	for _, t := range qc {
		w, ok := c.idf[t]
		if !ok {
			w = c.maxIDF
		}
		all += w
		if have[t] {
			met += w
		}
	}
	if all == 0 {
		return 0
	}
	return met / all
}

func (c *Coverage) concepts(e entry) map[string]bool {
	if ce, ok := c.ref[e.ID]; ok && ce.title == e.Title && ce.text == e.Text {
		return ce.concepts
	}
	if ce, ok := c.cache.get(e.ID); ok && ce.title == e.Title && ce.text == e.Text {
		return ce.concepts
	}
	m := c.entryConcepts(e)
	c.cache.put(e.ID, cachedEntry{title: e.Title, text: e.Text, concepts: m})
	return m
}

// entryConcepts are the concept terms of an entry as the index has them.
func (c *Coverage) entryConcepts(e entry) map[string]bool {
	m := map[string]bool{}
	text := e.Title + "\n" + e.Text
	if len(e.Asks) > 0 {
		text += "\n" + strings.Join(e.Asks, "\n")
	}
	for _, t := range append(c.a.Terms(text), c.a.TopicTerms(e.Topics)...) {
		if strings.HasPrefix(t, conceptPrefix) {
			m[t] = true
		}
	}
	return m
}
