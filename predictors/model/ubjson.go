package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// XGBoost saves models as Universal Binary JSON (.ubj) by default since
// 2.0. ubjsonToJSON rewrites a UBJSON document (draft 12, with the
// optimised typed and counted containers XGBoost writes) as JSON, so that
// one decoder reads both formats. Numbers keep their precision: float32
// values are written with float32 precision, NaN as null.

// isUBJSON tells a UBJSON object from a JSON one: both open with '{', but
// a JSON key is quoted and a UBJSON key starts with its length's type.
func isUBJSON(b []byte) bool {
	return len(b) > 1 && b[0] == '{' && bytes.IndexByte([]byte("iUIlL$#}"), b[1]) >= 0
}

// maxUBJSONDepth bounds nesting, and maxUBJSONCount a container's
// declared size, so that a hostile file cannot exhaust memory.
const (
	maxUBJSONDepth = 64
	maxUBJSONCount = 1 << 28
)

type ubjReader struct {
	b   []byte
	pos int
	out bytes.Buffer
}

func ubjsonToJSON(b []byte) ([]byte, error) {
	r := &ubjReader{b: b}
	if err := r.value(0, 0); err != nil {
		return nil, fmt.Errorf("at byte %d: %w", r.pos, err)
	}
	return r.out.Bytes(), nil
}

var errShort = errors.New("unexpected end of data")

func (r *ubjReader) next() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errShort
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *ubjReader) take(n int) ([]byte, error) {
	if n < 0 || r.pos+n > len(r.b) {
		return nil, errShort
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s, nil
}

// integer reads an integer of type t.
func (r *ubjReader) integer(t byte) (int64, error) {
	size := map[byte]int{'i': 1, 'U': 1, 'I': 2, 'l': 4, 'L': 8}[t]
	if size == 0 {
		return 0, fmt.Errorf("%q is not an integer type", t)
	}
	s, err := r.take(size)
	if err != nil {
		return 0, err
	}
	switch t {
	case 'i':
		return int64(int8(s[0])), nil
	case 'U':
		return int64(s[0]), nil
	case 'I':
		return int64(int16(binary.BigEndian.Uint16(s))), nil
	case 'l':
		return int64(int32(binary.BigEndian.Uint32(s))), nil
	}
	return int64(binary.BigEndian.Uint64(s)), nil
}

// length reads a length or count: an integer with its own type marker.
func (r *ubjReader) length() (int, error) {
	t, err := r.next()
	if err != nil {
		return 0, err
	}
	n, err := r.integer(t)
	if err != nil {
		return 0, err
	}
	if n < 0 || n > maxUBJSONCount {
		return 0, fmt.Errorf("length %d out of range", n)
	}
	return int(n), nil
}

func (r *ubjReader) float(v float64, bits int) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		r.out.WriteString("null")
		return
	}
	r.out.WriteString(strconv.FormatFloat(v, 'g', -1, bits))
}

// value reads one value; t is its type when a typed container gave it
// (0: read the marker).
func (r *ubjReader) value(t byte, depth int) error {
	if depth > maxUBJSONDepth {
		return errors.New("nested too deeply")
	}
	var err error
	for t == 0 || t == 'N' {
		if t, err = r.next(); err != nil {
			return err
		}
	}
	switch t {
	case 'Z':
		r.out.WriteString("null")
	case 'T':
		r.out.WriteString("true")
	case 'F':
		r.out.WriteString("false")
	case 'i', 'U', 'I', 'l', 'L':
		n, err := r.integer(t)
		if err != nil {
			return err
		}
		r.out.WriteString(strconv.FormatInt(n, 10))
	case 'd':
		s, err := r.take(4)
		if err != nil {
			return err
		}
		r.float(float64(math.Float32frombits(binary.BigEndian.Uint32(s))), 32)
	case 'D':
		s, err := r.take(8)
		if err != nil {
			return err
		}
		r.float(math.Float64frombits(binary.BigEndian.Uint64(s)), 64)
	case 'C':
		c, err := r.next()
		if err != nil {
			return err
		}
		b, _ := json.Marshal(string(rune(c)))
		r.out.Write(b)
	case 'S', 'H':
		n, err := r.length()
		if err != nil {
			return err
		}
		s, err := r.take(n)
		if err != nil {
			return err
		}
		if t == 'H' {
			if _, err := strconv.ParseFloat(string(s), 64); err != nil {
				return fmt.Errorf("high-precision number %q", s)
			}
			r.out.Write(s)
			return nil
		}
		b, _ := json.Marshal(string(s))
		r.out.Write(b)
	case '[', '{':
		return r.container(t, depth)
	default:
		return fmt.Errorf("unknown type marker %q", t)
	}
	return nil
}

// container reads an array or an object, plain or with a $type and #count.
func (r *ubjReader) container(open byte, depth int) error {
	var typ byte
	count := -1
	if r.pos < len(r.b) && r.b[r.pos] == '$' {
		r.pos++
		var err error
		if typ, err = r.next(); err != nil {
			return err
		}
		if r.pos >= len(r.b) || r.b[r.pos] != '#' {
			return errors.New("a typed container without a count")
		}
	}
	if r.pos < len(r.b) && r.b[r.pos] == '#' {
		r.pos++
		n, err := r.length()
		if err != nil {
			return err
		}
		count = n
	}
	closeJSON := map[byte]byte{'[': ']', '{': '}'}[open]
	r.out.WriteByte(open)
	for i := 0; ; i++ {
		if count >= 0 && i == count {
			break
		}
		if count < 0 {
			if r.pos >= len(r.b) {
				return errShort
			}
			if c := r.b[r.pos]; (open == '[' && c == ']') || (open == '{' && c == '}') {
				r.pos++
				break
			}
		}
		if i > 0 {
			r.out.WriteByte(',')
		}
		if open == '{' {
			n, err := r.length()
			if err != nil {
				return err
			}
			k, err := r.take(n)
			if err != nil {
				return err
			}
			b, _ := json.Marshal(string(k))
			r.out.Write(b)
			r.out.WriteByte(':')
		}
		if err := r.value(typ, depth+1); err != nil {
			return err
		}
	}
	r.out.WriteByte(closeJSON)
	return nil
}
