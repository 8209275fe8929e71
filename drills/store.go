package drills

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/internal/jsonl"
)

// FileStore keeps attempts in a JSON-lines file (DATA/attempts.jsonl on the
// embedded defaults): every save appends the attempt whole, synced, and the
// last line of an attempt wins when the file is read. It serves one
// process; several servers share attempts through drillpg.
type FileStore struct {
	file *jsonl.File

	mu    sync.Mutex
	byID  map[string]*Attempt
	order []string
}

// OpenFileStore reads the attempts kept at path.
func OpenFileStore(path string) (*FileStore, error) {
	f := &jsonl.File{Path: path}
	recs, err := jsonl.Read[Attempt](f)
	if err != nil {
		return nil, err
	}
	s := &FileStore{file: f, byID: map[string]*Attempt{}}
	for i := range recs {
		a := recs[i]
		if _, ok := s.byID[a.ID]; !ok {
			s.order = append(s.order, a.ID)
		}
		s.byID[a.ID] = &a
	}
	return s, nil
}

// copyOf returns a deep copy, so that callers never share the store's.
func copyOf(a *Attempt) *Attempt {
	b, _ := json.Marshal(a)
	var c Attempt
	json.Unmarshal(b, &c)
	return &c
}

// Save implements Store.
func (s *FileStore) Save(_ context.Context, a *Attempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byID[a.ID]
	switch {
	case a.Version == 0 && ok:
		return orthocds.Errorf(orthocds.ECONFLICT, "attempt %s exists", a.ID)
	case a.Version != 0 && (!ok || old.Version != a.Version):
		return orthocds.Errorf(orthocds.ECONFLICT, "attempt %s was changed by another request; reload it", a.ID)
	}
	next := copyOf(a)
	next.Version++
	if err := s.file.Append(next); err != nil {
		return err
	}
	if !ok {
		s.order = append(s.order, a.ID)
	}
	s.byID[a.ID] = next
	a.Version = next.Version
	return nil
}

// Get implements Store.
func (s *FileStore) Get(_ context.Context, id string) (*Attempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byID[id]
	if !ok {
		return nil, orthocds.Errorf(orthocds.ENOTFOUND, "no attempt %s", id)
	}
	return copyOf(a), nil
}

// List implements Store.
func (s *FileStore) List(_ context.Context, f Filter) ([]*Attempt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Attempt
	for _, id := range s.order {
		a := s.byID[id]
		if (f.Student == "" || a.Student == f.Student) && (f.CaseID == "" || a.CaseID == f.CaseID) {
			out = append(out, copyOf(a))
		}
	}
	return out, nil
}
