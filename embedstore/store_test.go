package embedstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/orthocds/orthocds/rag"
	"github.com/orthocds/orthocds/rag/storetest"
)

func harness() storetest.Harness {
	dirs := map[rag.Store]string{}
	return storetest.Harness{
		Open: func(t *testing.T) rag.Store {
			dir := t.TempDir()
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			dirs[s] = dir
			return s
		},
		Reopen: func(t *testing.T, old rag.Store) rag.Store {
			old.Close()
			s, err := Open(dirs[old])
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			dirs[s] = dirs[old]
			return s
		},
	}
}

func TestConformance(t *testing.T) { storetest.Run(t, harness()) }

// A write cut off part-way (a crash, a full disk) must leave the documents
// committed before it intact and no part of the interrupted one.
func TestTornWrite(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Init(ctx, storetest.Model); err != nil {
		t.Fatal(err)
	}
	put := func(id string) {
		d := rag.Document{ID: id, Kind: rag.KindDocument, Hash: id,
			Chunks: []rag.Chunk{{ID: id + "#0", DocID: id, Vector: []float32{1, 0, 0, 0}}}}
		if err := s.PutDocuments(ctx, []rag.Document{d}); err != nil {
			t.Fatal(err)
		}
	}
	put("first")
	size := s.size
	put("second")
	s.Close()
	// Cut the second frame in half, as a crash during the write would.
	path := filepath.Join(dir, logName)
	fi, _ := os.Stat(path)
	if err := os.Truncate(path, size+(fi.Size()-size)/2); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatalf("reopen after torn write: %v", err)
	}
	defer s.Close()
	hashes, _ := s.DocumentHashes(ctx, "")
	if len(hashes) != 1 || hashes["first"] != "first" {
		t.Fatalf("after torn write: %v, want only first", hashes)
	}
	if fi, _ := os.Stat(path); fi.Size() != size {
		t.Errorf("log not truncated to the last whole frame: %d, want %d", fi.Size(), size)
	}
}
