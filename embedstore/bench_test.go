package embedstore

import (
	"testing"

	"github.com/orthocds/orthocds/rag/storetest"
)

// BenchmarkBatchVsLoop: 10k chunks of 512 dimensions, a batch of 64.
func BenchmarkBatchVsLoop(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchBatchVsLoop(b, s, 10_000, 512)
}
