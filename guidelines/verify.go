package guidelines

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
)

// What a verification was made against.
const (
	// AgainstFullText: the source's full text, at the recommendation or
	// section named.
	AgainstFullText = "full-text"
	// AgainstSourceSummary: the source's own summary of its recommendations
	// (its abstract, executive summary or recommendation table), not a
	// third party's.
	AgainstSourceSummary = "source-summary"
	// AgainstSecondary: only a third party's summary of the source (a
	// guideline clearinghouse table) could be read. It is recorded, and
	// lets a grade be shown with that caveat, but it does not count as
	// verified.
	AgainstSecondary = "secondary-summary"
)

// Verification records where an entry was checked against its source: the
// copy read, the place in it, the day, the grade in the source's own words,
// and every number of the entry traced to that place. The entry's text stays
// in the project's own words; nothing here is quoted.
type Verification struct {
	Against string `yaml:"against" json:"against"` // full-text or source-summary
	// Via is the URL or DOI of the copy actually read.
	Via string `yaml:"via" json:"via"`
	// Where is the recommendation number, section or table in that copy.
	Where   string `yaml:"where" json:"where"`
	Checked string `yaml:"checked" json:"checked"` // YYYY-MM-DD
	// Grade is the grade and strength exactly as the source gives them, in
	// its own system (e.g. "1B", "strong recommendation, moderate-quality
	// evidence", "offer"); empty when the source gives none.
	Grade string `yaml:"grade" json:"grade,omitempty"`
	// Numbers traces every number in the entry's title, population and text
	// (both languages): each item starts with the number as the entry
	// writes it, then says what it is in the source.
	Numbers []string `yaml:"numbers" json:"numbers,omitempty"`
	// Note records a correction made when checking, or a caveat.
	Note string `yaml:"note" json:"note,omitempty"`
}

// numberPattern finds the numbers an entry states: 10, 2.5, 1,000.
var numberPattern = regexp.MustCompile(`\d+(?:[.,]\d+)*`)

func normNumber(s string) string { return strings.ReplaceAll(s, ",", "") }

// Numbers lists the distinct numbers written in the entry's title,
// population and text in both languages, in order of first appearance.
func (e *Entry) Numbers() []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range []Text{e.Title, e.Population, e.Text} {
		for _, s := range []string{t.EN, t.ZH} {
			for _, n := range numberPattern.FindAllString(s, -1) {
				n = normNumber(strings.TrimRight(n, ".,"))
				if !seen[n] {
					seen[n] = true
					out = append(out, n)
				}
			}
		}
	}
	return out
}

func (v *Verification) validate(e *Entry) *fieldErr {
	switch v.Against {
	case AgainstFullText, AgainstSourceSummary, AgainstSecondary:
	default:
		return &fieldErr{"against", fmt.Sprintf("%q is not one of %s, %s, %s", v.Against, AgainstFullText, AgainstSourceSummary, AgainstSecondary)}
	}
	if strings.TrimSpace(v.Via) == "" {
		return &fieldErr{"via", "give the URL or DOI of the copy read"}
	}
	if strings.TrimSpace(v.Where) == "" {
		return &fieldErr{"where", "give the recommendation number, section or table read"}
	}
	if _, err := time.Parse(time.DateOnly, v.Checked); err != nil {
		return &fieldErr{"checked", fmt.Sprintf("%q is not a date (YYYY-MM-DD)", v.Checked)}
	}
	if e.Grade.Status == GradeStated && strings.TrimSpace(v.Grade) == "" {
		return &fieldErr{"grade", "a stated grade needs the grade as the source gives it"}
	}
	if e.Grade.Status == GradeNotGraded && v.Grade != "" {
		return &fieldErr{"grade", "the entry says the source gives no grade, but the record gives one"}
	}
	traced := map[string]bool{}
	for i, item := range v.Numbers {
		n := numberPattern.FindString(item)
		if n == "" || !strings.HasPrefix(strings.TrimLeft(item, "<>≤≥=~-−+ "), n) {
			return &fieldErr{fmt.Sprintf("numbers[%d]", i), fmt.Sprintf("%q must start with the number it traces", item)}
		}
		if !strings.Contains(item, ":") {
			return &fieldErr{fmt.Sprintf("numbers[%d]", i), fmt.Sprintf("%q must say what the number is in the source, after a colon", item)}
		}
		traced[normNumber(n)] = true
	}
	var untraced []string
	for _, n := range e.Numbers() {
		if !traced[n] {
			untraced = append(untraced, n)
		}
	}
	if len(untraced) > 0 {
		return &fieldErr{"numbers", fmt.Sprintf("the entry writes %s but the record does not trace it", strings.Join(untraced, ", "))}
	}
	return nil
}

// GradeLabel says how the source grades the entry, in its own system and
// named: "ACCP 2012: 1B", or plainly that the source gives no grade, or
// that the grade has not been checked yet. lang is "en" or "zh".
func (e *Entry) GradeLabel(lang string) string {
	src := fmt.Sprintf("%s %d", e.Source.Key, e.Source.Year)
	zh := lang == "zh"
	switch {
	case e.Grade.Status == GradeStated && e.Verified != nil:
		if e.Verified.Against == AgainstSecondary {
			if zh {
				return src + ": " + e.Verified.Grade + "（据第三方摘要，未与原文核对）"
			}
			return src + ": " + e.Verified.Grade + " (from a third-party summary, not the source itself)"
		}
		return src + ": " + e.Verified.Grade
	case e.Grade.Status == GradeNotGraded:
		if zh {
			return src + " 未对此条分级"
		}
		return src + " does not grade this statement"
	default:
		if zh {
			return src + "：分级尚未与原文核对，不予显示"
		}
		return src + ": grade not yet checked against the source, so none is shown"
	}
}

// Unchecked reasons, when a source gives none of its own.
const reasonNotYetChecked = "not yet checked against the source"

// SourceVerification counts one source's entries.
type SourceVerification struct {
	Source   string `json:"source"` // "ACCP 2012"
	File     string `json:"file"`
	Entries  int    `json:"entries"`
	Verified int    `json:"verified"`
	FullText int    `json:"full_text"`
}

// Unverified is an entry without a verification record and why.
type Unverified struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Reason string `json:"reason"`
}

// VerifyReport says how much of the corpus has been checked against its
// sources.
type VerifyReport struct {
	Entries    int                  `json:"entries"`
	Verified   int                  `json:"verified"`
	FullText   int                  `json:"full_text"`
	Secondary  int                  `json:"secondary"` // checked only against a third party's summary
	Stated     int                  `json:"stated"`
	Sources    []SourceVerification `json:"sources"`
	Unverified []Unverified         `json:"unverified"`
}

// Fraction is the share of entries verified.
func (r VerifyReport) Fraction() float64 {
	if r.Entries == 0 {
		return 0
	}
	return float64(r.Verified) / float64(r.Entries)
}

// Verify reports, per source and overall, which entries carry a
// verification record and why the others do not.
func (c *Corpus) Verify() VerifyReport {
	var r VerifyReport
	bySource := map[string]*SourceVerification{}
	for _, e := range c.Entries {
		key := e.File
		s := bySource[key]
		if s == nil {
			s = &SourceVerification{Source: fmt.Sprintf("%s %d", e.Source.Key, e.Source.Year), File: e.File}
			bySource[key] = s
		}
		s.Entries++
		r.Entries++
		if e.Grade.Status == GradeStated {
			r.Stated++
		}
		if e.Verified == nil || e.Verified.Against == AgainstSecondary {
			reason := e.Source.Unverified
			switch {
			case e.Verified != nil:
				r.Secondary++
				reason = "checked only against a third-party summary (" + e.Verified.Via + ")"
			case reason == "":
				reason = reasonNotYetChecked
			}
			r.Unverified = append(r.Unverified, Unverified{ID: e.ID, Source: s.Source, Reason: reason})
			continue
		}
		s.Verified++
		r.Verified++
		if e.Verified.Against == AgainstFullText {
			s.FullText++
			r.FullText++
		}
	}
	for _, s := range bySource {
		r.Sources = append(r.Sources, *s)
	}
	sort.Slice(r.Sources, func(i, j int) bool { return r.Sources[i].File < r.Sources[j].File })
	return r
}

// Print writes the report: per source, overall, then every unverified entry
// with its reason.
func (r VerifyReport) Print(w io.Writer) {
	fmt.Fprintf(w, "%-34s %8s %9s %10s\n", "source", "entries", "verified", "full text")
	for _, s := range r.Sources {
		fmt.Fprintf(w, "%-34s %8d %9d %10d\n", s.File, s.Entries, s.Verified, s.FullText)
	}
	fmt.Fprintf(w, "\noverall: %d of %d entries verified (%.1f%%), %d against the full text, %d against the source's own summary; %d more checked only against a third-party summary; %d grades stated\n",
		r.Verified, r.Entries, 100*r.Fraction(), r.FullText, r.Verified-r.FullText, r.Secondary, r.Stated)
	if len(r.Unverified) == 0 {
		return
	}
	fmt.Fprintf(w, "\nnot verified (%d):\n", len(r.Unverified))
	for _, u := range r.Unverified {
		fmt.Fprintf(w, "  %-44s %-14s %s\n", u.ID, u.Source, u.Reason)
	}
}
