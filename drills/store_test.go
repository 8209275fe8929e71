package drills_test

import (
	"path/filepath"
	"testing"

	"github.com/orthocds/orthocds/drills"
	"github.com/orthocds/orthocds/drills/drilltest"
)

func TestFileStoreConformance(t *testing.T) {
	st, err := drills.OpenFileStore(filepath.Join(t.TempDir(), "a.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	drilltest.Conformance(t, st)
}
