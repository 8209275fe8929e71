package embedstore

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/orthocds/orthocds/rag"
)

// record is one transaction in the log: documents to write (each replacing
// its earlier version) and documents to delete.
type record struct {
	Put    []rag.Document
	Delete []string
}

// Frame layout: 4-byte little-endian payload length, 4-byte CRC-32 (IEEE) of
// the payload, then the gob-encoded record. A frame that is short or fails
// its checksum marks the end of what was committed.
const frameHeader = 8

// maxFrame bounds one record so that a corrupt length cannot make replay
// allocate without limit.
const maxFrame = 1 << 30

func encodeFrame(r record) ([]byte, error) {
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(r); err != nil {
		return nil, err
	}
	buf := make([]byte, frameHeader, frameHeader+payload.Len())
	binary.LittleEndian.PutUint32(buf[0:4], uint32(payload.Len()))
	binary.LittleEndian.PutUint32(buf[4:8], crc32.ChecksumIEEE(payload.Bytes()))
	return append(buf, payload.Bytes()...), nil
}

// replay calls apply for each committed record of f and returns the offset
// where committed data ends. Anything after it is an interrupted write.
func replay(f *os.File, apply func(record)) (int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	br := bufio.NewReaderSize(f, 1<<20)
	var off int64
	hdr := make([]byte, frameHeader)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return off, nil
			}
			return off, err
		}
		n := binary.LittleEndian.Uint32(hdr[0:4])
		if n > maxFrame {
			return off, nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return off, nil
			}
			return off, err
		}
		if crc32.ChecksumIEEE(payload) != binary.LittleEndian.Uint32(hdr[4:8]) {
			return off, nil
		}
		var r record
		if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&r); err != nil {
			return off, fmt.Errorf("decode record at offset %d: %w", off, err)
		}
		apply(r)
		off += frameHeader + int64(n)
	}
}
