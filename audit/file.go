package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"
)

// FileLog keeps the chain as JSON lines, each row written and synced
// before Append returns.
type FileLog struct {
	path string
	mu   sync.Mutex
	f    *os.File
	seq  int64
	last string
}

// OpenFile opens (or creates) the trail at path, reading its tail to
// continue the chain. A torn last line (a crash mid-write) is cut off.
func OpenFile(path string) (*FileLog, error) {
	l := &FileLog{path: path, last: genesis}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		var good int64
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var r Row
			if json.Unmarshal(sc.Bytes(), &r) != nil {
				break
			}
			l.seq, l.last = r.Seq, r.Hash
			good += int64(len(sc.Bytes())) + 1
		}
		f.Close()
		if err := os.Truncate(path, good); err != nil {
			return nil, err
		}
	}
	if l.f, err = os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err != nil {
		return nil, err
	}
	return l, nil
}

// Append implements Log.
func (l *FileLog) Append(_ context.Context, e Event) error {
	body, err := encode(e)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := Row{Seq: l.seq + 1, Body: body, Prev: l.last}
	r.Hash = chain(r.Prev, r.Body)
	b, _ := json.Marshal(r)
	if _, err := l.f.Write(append(b, '\n')); err != nil {
		return err
	}
	if err := l.f.Sync(); err != nil {
		return err
	}
	l.seq, l.last = r.Seq, r.Hash
	return nil
}

// Verify implements Log, reading the file afresh.
func (l *FileLog) Verify(context.Context) (int, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	return verifyRows(func() (Row, bool, error) {
		var r Row
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return r, false, nil
		}
		if err != nil {
			return r, false, &BrokenError{0, "a line is not a row: " + err.Error()}
		}
		return r, true, nil
	})
}

// Close closes the file.
func (l *FileLog) Close() error { return l.f.Close() }
