package guidelines

import (
	"io/fs"
	"testing"
)

// FuzzParse: any bytes as a guideline file parse or fail with the file
// and field named, never a panic.
func FuzzParse(f *testing.F) {
	names, _ := fs.Glob(Embedded(), "*.yaml")
	for _, n := range names[:8] {
		b, _ := fs.ReadFile(Embedded(), n)
		f.Add(b)
	}
	f.Add([]byte("source: {key: X}\nentries: [{id: a, text: {en: 1}}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := Parse("fuzz.yaml", b)
		if err == nil && entries == nil {
			t.Fatal("no error and no entries")
		}
	})
}
