package guidelines

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Stats counts a corpus by domain, source, language and grade status, and
// lists entries that lack a field the corpus expects.
type Stats struct {
	Entries  int            `json:"entries"`
	ByDomain map[string]int `json:"by_domain"`
	BySource map[string]int `json:"by_source"`
	ByLang   map[string]int `json:"by_language"`
	ByGrade  map[string]int `json:"by_grade_status"`
	Missing  []string       `json:"missing"` // "entry-id: field"
}

// Stats computes the corpus statistics.
func (c *Corpus) Stats() Stats {
	s := Stats{Entries: len(c.Entries), ByDomain: map[string]int{}, BySource: map[string]int{},
		ByLang: map[string]int{}, ByGrade: map[string]int{}}
	for _, e := range c.Entries {
		s.ByDomain[e.Domain]++
		s.BySource[fmt.Sprintf("%s %d", e.Source.Key, e.Source.Year)]++
		s.ByGrade[e.Grade.Status]++
		if e.Text.EN != "" {
			s.ByLang["en"]++
		}
		if e.Text.ZH != "" {
			s.ByLang["zh"]++
		}
		for field, v := range map[string]string{"text.en": e.Text.EN, "text.zh": e.Text.ZH, "source.doi or url": e.Source.DOI + e.Source.URL,
			"section": e.Section, "grade.status": e.Grade.Status, "population.en": e.Population.EN, "population.zh": e.Population.ZH} {
			if strings.TrimSpace(v) == "" {
				s.Missing = append(s.Missing, e.ID+": "+field)
			}
		}
	}
	sort.Strings(s.Missing)
	return s
}

// Print writes the statistics as a readable table.
func (s Stats) Print(w io.Writer) {
	fmt.Fprintf(w, "%d entries\n", s.Entries)
	for _, part := range []struct {
		name string
		m    map[string]int
	}{{"domain", s.ByDomain}, {"language", s.ByLang}, {"grade status", s.ByGrade}, {"source", s.BySource}} {
		fmt.Fprintf(w, "\nby %s:\n", part.name)
		keys := make([]string, 0, len(part.m))
		for k := range part.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-28s %4d\n", k, part.m[k])
		}
	}
	if len(s.Missing) == 0 {
		fmt.Fprintln(w, "\nevery entry has both languages, a source, a section and a grade status")
		return
	}
	fmt.Fprintf(w, "\n%d missing fields:\n", len(s.Missing))
	for _, m := range s.Missing {
		fmt.Fprintln(w, "  "+m)
	}
}
