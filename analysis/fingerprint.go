package analysis

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
)

// analysisVersion changes whenever the code that turns text into terms
// changes (the vocabulary is hashed by Fingerprint itself). Version 2 adds
// single Chinese characters to the lexical terms; version 3 keeps T- and
// Z-scores as single terms; version 4 adds glossary concepts to the lexical
// terms; version 5 matches glossary phrases of any length (it stopped at
// three words, missing "low-molecular-weight heparin"); version 6 reads the
// concept layer from data files and adds broader concepts; version 7 maps
// a topic tag without a concept of its own to the concepts its words name;
// version 8 keeps one-word brand names unstemmed (Evenity is not "even");
// version 9 reads case-sensitive abbreviations (abbr_cased: OP).
const analysisVersion = 9

// Fingerprint identifies the analysis code version, the vocabulary files
// and the stop words: anything that changes the terms or concepts of a
// text changes it, so an index built with other analysis can be recognised
// and refused.
func Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "v %d\n", analysisVersion)
	for _, name := range []string{"concepts.yaml", "lexicon.yaml"} {
		b, err := fs.ReadFile(Embedded(), name)
		if err != nil {
			panic(err) // embedded
		}
		fmt.Fprintf(h, "f %s %d\n", name, len(b))
		h.Write(b)
	}
	for _, m := range []map[string]bool{enStop, zhStop} {
		words := make([]string, 0, len(m))
		for w := range m {
			words = append(words, w)
		}
		sort.Strings(words)
		fmt.Fprintf(h, "s %q\n", words)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
