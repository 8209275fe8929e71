package guidelines

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
)

// Asked is one labelled question: how someone asked, in everyday words,
// and the entries that answer it. The questions in asked/*.jsonl are the
// everyday-wording question set's tuning split (issue 16). Each joins the
// index terms and concept coverage of its gold entries, the way a search
// engine learns from the questions its users asked before (document
// expansion); it does not join their embedding, whose model has a bounded
// context. The set's frozen test and held-out splits (evals/data) are never
// added; the evaluation measures the tuning split itself by
// cross-validation, each question against an index built without it.
type Asked struct {
	ID       string   `json:"id"`
	Lang     string   `json:"lang"`
	Kind     string   `json:"kind,omitempty"` // brand, lay, abbrev, vignette, typo, colloquial
	Question string   `json:"question"`
	Gold     []string `json:"gold"`
}

// AskedDir holds the labelled questions, one JSON object a line.
const AskedDir = "asked"

// loadAsked reads asked/*.jsonl, if fsys has it, and adds each question to
// the wordings of its gold entries. A record that does not decode, an ID
// used twice, a bad wording, no gold entry, or a gold entry that is
// unknown, superseded or listed twice is an error naming the file, the
// line and the field.
func (c *Corpus) loadAsked(fsys fs.FS) error {
	names, err := fs.Glob(fsys, AskedDir+"/*.jsonl")
	if err != nil {
		return err
	}
	sort.Strings(names)
	seen := map[string]bool{}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for line := 1; sc.Scan(); line++ {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			at := fmt.Sprintf("line %d", line)
			var a Asked
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&a); err != nil {
				return fileError(name, at, "cannot decode: "+oneLine(err.Error()))
			}
			switch {
			case a.ID == "":
				return fileError(name, at+".id", "is required")
			case seen[a.ID]:
				return fileError(name, at+".id", a.ID+" is used twice")
			case len(a.Gold) == 0:
				return fileError(name, at+".gold", "name at least one entry that answers the question")
			}
			seen[a.ID] = true
			if msg := checkWording(a.Lang, a.Question); msg != "" {
				return fileError(name, at+".question", msg)
			}
			for j, id := range a.Gold {
				f := fmt.Sprintf("%s.gold[%d]", at, j)
				i, ok := c.byID[id]
				switch {
				case !ok:
					return fileError(name, f, "no entry has the ID "+id)
				case c.Entries[i].SupersededBy != "":
					return fileError(name, f, id+" is superseded; name the entry that replaces it")
				case slices.Contains(a.Gold[:j], id):
					return fileError(name, f, id+" is listed twice")
				}
				e := &c.Entries[i]
				if a.Lang == "zh" {
					e.Asked.ZH = append(e.Asked.ZH, a.Question)
				} else {
					e.Asked.EN = append(e.Asked.EN, a.Question)
				}
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}
