package cdshooks

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"sync"
	"time"
)

// FeedbackRecord is one stored feedback item: what the user did with a
// card, with the service and when it arrived.
type FeedbackRecord struct {
	Service    string    `json:"service"`
	ReceivedAt time.Time `json:"received_at"`
	Feedback
}

// FileFeedback keeps feedback as JSON lines in a file, each request's
// items written and synced together, so an export for evaluation is the
// file itself (or ReadFeedback).
type FileFeedback struct {
	Path string
	Now  func() time.Time

	mu      sync.Mutex
	checked bool // the tail was checked for a torn line
}

// AddFeedback implements FeedbackStore: all items of a request are
// written with one write and one sync, or none is.
func (s *FileFeedback) AddFeedback(_ context.Context, service string, fb []Feedback) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var buf []byte
	at := now().UTC()
	for _, f := range fb {
		b, err := json.Marshal(FeedbackRecord{Service: service, ReceivedAt: at, Feedback: f})
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.checked {
		if err := cutTornLine(s.Path); err != nil {
			return err
		}
		s.checked = true
	}
	f, err := os.OpenFile(s.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// cutTornLine removes a last line without its newline (a crash in the
// middle of a write), so that the next record does not join it.
func cutTornLine(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || len(b) == 0 || b[len(b)-1] == '\n' {
		return nil
	}
	if err != nil {
		return err
	}
	return os.Truncate(path, int64(bytes.LastIndexByte(b, '\n')+1))
}

// ReadFeedback returns every stored record, skipping a torn last line.
func (s *FileFeedback) ReadFeedback() ([]FeedbackRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.Open(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []FeedbackRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var r FeedbackRecord
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			out = append(out, r)
		}
	}
	return out, sc.Err()
}
