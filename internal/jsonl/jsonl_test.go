package jsonl

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type rec struct {
	N int `json:"n"`
}

// Records appended together come back in order; a torn last line is
// skipped on reading and cut before the next append.
func TestAppendRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.jsonl")
	f := &File{Path: path}
	if got, err := Read[rec](f); err != nil || got != nil {
		t.Fatalf("missing file: %v %v", got, err)
	}
	if err := f.Append(rec{1}, rec{2}); err != nil {
		t.Fatal(err)
	}
	w, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	w.WriteString(`{"n": 3`)
	w.Close()
	f = &File{Path: path} // a new process
	got, err := Read[rec](f)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]rec{{1}, {2}}, got); diff != "" {
		t.Errorf("with a torn tail (-want +got):\n%s", diff)
	}
	if err := f.Append(rec{4}); err != nil {
		t.Fatal(err)
	}
	got, _ = Read[rec](f)
	if diff := cmp.Diff([]rec{{1}, {2}, {4}}, got); diff != "" {
		t.Errorf("after the next append (-want +got):\n%s", diff)
	}
}
