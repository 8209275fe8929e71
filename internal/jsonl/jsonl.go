// Package jsonl keeps records as JSON lines in an append-only file: each
// append is one write and one sync, and a last line torn by a crash is cut
// before the next append, so that it never swallows the record after it.
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"sync"
)

// File is an append-only JSON-lines file, safe for concurrent use.
type File struct {
	Path string

	mu      sync.Mutex
	checked bool // the tail was checked for a torn line
}

// Append writes vs, one line each, with one write and one sync: all of them
// or, after a crash, none.
func (f *File) Append(vs ...any) error {
	var buf []byte
	for _, v := range vs {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.checked {
		if err := cutTornLine(f.Path); err != nil {
			return err
		}
		f.checked = true
	}
	w, err := os.OpenFile(f.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := w.Write(buf); err != nil {
		w.Close()
		return err
	}
	if err := w.Sync(); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// cutTornLine removes a last line without its newline (a crash in the
// middle of a write).
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

// Read returns every record of the file (none when it does not exist),
// skipping lines that do not decode (a torn last line).
func Read[T any](f *File) ([]T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := os.Open(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var v T
		if json.Unmarshal(sc.Bytes(), &v) == nil {
			out = append(out, v)
		}
	}
	return out, sc.Err()
}
