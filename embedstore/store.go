// Package embedstore is the embedded, in-process rag.Store: no server
// needed. Every write is one checksummed frame appended to a log in the data
// directory and synced before it is applied in memory, so a crash or a full
// disk leaves earlier data intact and no half document. The log is replayed
// on start. Dense search is exact; lexical search is BM25 over analysed
// terms.
package embedstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/rag"
)

const (
	logName  = "documents.log"
	metaName = "index.json"
)

// Store is the embedded store. It is safe for concurrent use.
type Store struct {
	dir string

	mu    sync.RWMutex
	log   *os.File
	size  int64 // committed length of the log
	model rag.ModelInfo
	docs  map[string]*rag.Document // chunks without vectors or terms; see rows
	bySrc map[string]string        // Source -> document ID
	rows  *rows
}

var _ rag.Store = (*Store)(nil)

// Open opens or creates the store in dir and replays its log.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("embedstore: create %s: %w", dir, err)
	}
	s := &Store{dir: dir, docs: map[string]*rag.Document{}, bySrc: map[string]string{}, rows: newRows()}
	if b, err := os.ReadFile(filepath.Join(dir, metaName)); err == nil {
		if err := json.Unmarshal(b, &s.model); err != nil {
			return nil, fmt.Errorf("embedstore: read %s: %w", metaName, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, logName), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("embedstore: open log: %w", err)
	}
	end, err := replay(f, s.apply)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("embedstore: replay %s: %w", logName, err)
	}
	// Drop an interrupted tail so the next frame starts on a boundary.
	if err := f.Truncate(end); err != nil {
		f.Close()
		return nil, err
	}
	s.log, s.size = f, end
	return s, nil
}

// Init binds the store to model, or refuses a different one.
func (s *Store) Init(_ context.Context, model rag.ModelInfo) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.model.Name != "" {
		if s.model != model {
			return rag.ModelMismatch(s.model, model)
		}
		return nil
	}
	b, _ := json.Marshal(model)
	tmp := filepath.Join(s.dir, metaName+".tmp")
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, metaName)); err != nil {
		return err
	}
	s.model = model
	return nil
}

// PutDocuments appends one log frame holding every document, syncs it, then
// applies it in memory.
func (s *Store) PutDocuments(ctx context.Context, docs []rag.Document) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkVectors(docs); err != nil {
		return err
	}
	return s.commit(record{Put: docs})
}

// DeleteDocuments removes documents by ID; unknown IDs are ignored.
func (s *Store) DeleteDocuments(ctx context.Context, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commit(record{Delete: ids})
}

func (s *Store) checkVectors(docs []rag.Document) error {
	if s.model.Name == "" {
		return orthocds.Errorf(orthocds.EINTERNAL, "embedstore: Init was not called")
	}
	for _, d := range docs {
		for _, c := range d.Chunks {
			if len(c.Vector) != s.model.Dim {
				return orthocds.Errorf(orthocds.EINVALID, "chunk %s has %d dimensions; the index has %d",
					c.ID, len(c.Vector), s.model.Dim)
			}
		}
	}
	return nil
}

// commit writes r durably, undoing a partial write, and then applies it.
func (s *Store) commit(r record) error {
	frame, err := encodeFrame(r)
	if err != nil {
		return err
	}
	if _, err := s.log.WriteAt(frame, s.size); err != nil {
		s.log.Truncate(s.size) // best effort: the tail would fail its checksum anyway
		return orthocds.Unavailable(err, "embedded store: write failed; earlier data is intact")
	}
	if err := s.log.Sync(); err != nil {
		s.log.Truncate(s.size)
		return orthocds.Unavailable(err, "embedded store: sync failed; earlier data is intact")
	}
	s.size += int64(len(frame))
	s.apply(r)
	return nil
}

func (s *Store) apply(r record) {
	for _, id := range r.Delete {
		s.remove(id)
	}
	for i := range r.Put {
		d := r.Put[i]
		// Copy the chunks: the caller's slice must not be changed.
		d.Chunks = append([]rag.Chunk(nil), d.Chunks...)
		s.remove(d.ID)
		if old, ok := s.bySrc[d.Source]; ok && d.Source != "" {
			s.remove(old)
		}
		for j := range d.Chunks {
			s.rows.add(&d.Chunks[j])
			d.Chunks[j].Vector, d.Chunks[j].Terms = nil, nil
		}
		s.docs[d.ID] = &d
		if d.Source != "" {
			s.bySrc[d.Source] = d.ID
		}
	}
}

func (s *Store) remove(id string) {
	d, ok := s.docs[id]
	if !ok {
		return
	}
	for _, c := range d.Chunks {
		s.rows.remove(c.ID)
	}
	delete(s.docs, id)
	if s.bySrc[d.Source] == id {
		delete(s.bySrc, d.Source)
	}
}

// DocumentHashes returns ID -> content hash for documents of kind.
func (s *Store) DocumentHashes(_ context.Context, kind string) (map[string]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]string{}
	for id, d := range s.docs {
		if kind == "" || d.Kind == kind {
			out[id] = d.Hash
		}
	}
	return out, nil
}

// FindByHash returns a document with the given content hash.
func (s *Store) FindByHash(_ context.Context, hash string) (string, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id, d := range s.docs {
		if d.Hash == hash {
			return id, true, nil
		}
	}
	return "", false, nil
}

// Search answers a batch: all queries are scored in one pass over the rows.
func (s *Store) Search(_ context.Context, qs []rag.StoreQuery) ([]rag.Candidates, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i, q := range qs {
		if len(q.Vector) != s.model.Dim {
			return nil, orthocds.Errorf(orthocds.ECONFLICT,
				"query %d has %d dimensions; the index has %d (model %s)", i, len(q.Vector), s.model.Dim, s.model.Name)
		}
	}
	return s.rows.search(qs), nil
}

// Stats counts documents and chunks.
func (s *Store) Stats(context.Context) (rag.Stats, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := rag.Stats{Documents: len(s.docs), ByKind: map[string]int{}, Model: s.model}
	for _, d := range s.docs {
		st.Chunks += len(d.Chunks)
		st.ByKind[d.Kind]++
	}
	return st, nil
}

// Reset empties the log and forgets the model. The empty log is synced
// before the model file goes, so a crash leaves either the old index or an
// empty one.
func (s *Store) Reset(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.log.Truncate(0); err != nil {
		return err
	}
	if err := s.log.Sync(); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, metaName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	s.size, s.model = 0, rag.ModelInfo{}
	s.docs, s.bySrc, s.rows = map[string]*rag.Document{}, map[string]string{}, newRows()
	return nil
}

// Ping reports whether the log is open.
func (s *Store) Ping(context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.log == nil {
		return orthocds.Errorf(orthocds.EUNAVAILABLE, "embedded store is closed")
	}
	return nil
}

// Close closes the log.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return nil
	}
	err := s.log.Close()
	s.log = nil
	return err
}
