package embedstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orthocds/orthocds"
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

// A full disk: the write fails with a clear error (503, "earlier data is
// intact"), the failed document is not visible, the store goes on
// answering, and after the disk has room again the earlier data reopens
// intact. The full disk is /dev/full, whose writes fail with ENOSPC.
func TestDiskFull(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full on this system")
	}
	defer full.Close()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Init(ctx, storetest.Model); err != nil {
		t.Fatal(err)
	}
	doc := func(id string) []rag.Document {
		return []rag.Document{{ID: id, Kind: rag.KindDocument, Hash: id,
			Chunks: []rag.Chunk{{ID: id + "#0", DocID: id, Vector: []float32{1, 0, 0, 0}}}}}
	}
	if err := s.PutDocuments(ctx, doc("before")); err != nil {
		t.Fatal(err)
	}
	real := s.log
	s.log = full
	err = s.PutDocuments(ctx, doc("during"))
	if orthocds.ErrorCode(err) != orthocds.EUNAVAILABLE || !strings.Contains(err.Error(), "earlier data is intact") ||
		!strings.Contains(err.Error(), "no space left") {
		t.Errorf("write on a full disk: %v", err)
	}
	hashes, _ := s.DocumentHashes(ctx, "")
	if len(hashes) != 1 || hashes["before"] == "" {
		t.Errorf("after the failed write: %v, want only the earlier document", hashes)
	}
	if _, err := s.Search(ctx, []rag.StoreQuery{{Vector: []float32{1, 0, 0, 0}, K: 5}}); err != nil {
		t.Errorf("search after the failed write: %v", err)
	}
	s.log = real
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hashes, _ = s.DocumentHashes(ctx, "")
	if len(hashes) != 1 || hashes["before"] != "before" {
		t.Errorf("reopened after a full disk: %v", hashes)
	}
}
