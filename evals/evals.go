// Package evals holds the evaluation data sets written by the project and
// the metrics computed on them. The starter retrieval set checks that the
// built-in embedder and hybrid search find the right guideline entries in
// both languages; the evaluation runner of a later issue builds on it.
package evals

import (
	"bufio"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed data
var data embed.FS

// Data returns the bundled data sets.
func Data() fs.FS {
	sub, err := fs.Sub(data, "data")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}

// RetrievalItem is a question with the IDs of the entries that answer it.
type RetrievalItem struct {
	ID       string `json:"id"`
	Lang     string `json:"lang"`
	Question string `json:"question"`
	// Kind says how the question is worded (brand, lay, abbrev,
	// vignette, typo, colloquial), for the everyday-wording sets.
	Kind string   `json:"kind,omitempty"`
	Gold []string `json:"gold"`
}

// LoadRetrieval reads a JSONL retrieval set, naming the line of any bad
// record.
func LoadRetrieval(fsys fs.FS, name string) ([]RetrievalItem, error) {
	return loadJSONL(fsys, name, func(it RetrievalItem) bool { return it.Question != "" && len(it.Gold) > 0 })
}

// loadJSONL reads one record a line, skipping blank lines; valid says
// whether a decoded record has what the set needs.
func loadJSONL[T any](fsys fs.FS, name string, valid func(T) bool) ([]T, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var it T
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil || !valid(it) {
			return nil, fmt.Errorf("%s:%d: not a valid record", name, line)
		}
		out = append(out, it)
	}
	return out, sc.Err()
}

// Rank returns the 1-based rank of the first gold ID in got, or 0.
func Rank(got []string, gold []string) int {
	for i, id := range got {
		for _, g := range gold {
			if id == g {
				return i + 1
			}
		}
	}
	return 0
}

// OutOfScopeItem is a question the corpus does not answer: the right
// outcome is to abstain.
type OutOfScopeItem struct {
	ID       string `json:"id"`
	Lang     string `json:"lang"`
	Question string `json:"question"`
}

// LoadOutOfScope reads a JSONL out-of-scope set.
func LoadOutOfScope(fsys fs.FS, name string) ([]OutOfScopeItem, error) {
	return loadJSONL(fsys, name, func(it OutOfScopeItem) bool { return it.Question != "" })
}
