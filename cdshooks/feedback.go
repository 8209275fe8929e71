package cdshooks

import (
	"context"
	"sync"
	"time"

	"github.com/orthocds/orthocds/internal/jsonl"
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

	once sync.Once
	file *jsonl.File
}

func (s *FileFeedback) lines() *jsonl.File {
	s.once.Do(func() { s.file = &jsonl.File{Path: s.Path} })
	return s.file
}

// AddFeedback implements FeedbackStore: all items of a request are
// written with one write and one sync, or none is.
func (s *FileFeedback) AddFeedback(_ context.Context, service string, fb []Feedback) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	at := now().UTC()
	recs := make([]any, len(fb))
	for i, f := range fb {
		recs[i] = FeedbackRecord{Service: service, ReceivedAt: at, Feedback: f}
	}
	return s.lines().Append(recs...)
}

// ReadFeedback returns every stored record, skipping a torn last line.
func (s *FileFeedback) ReadFeedback() ([]FeedbackRecord, error) {
	return jsonl.Read[FeedbackRecord](s.lines())
}
