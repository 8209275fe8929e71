package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// Bad bench flags are refused before anything is generated or loaded,
// naming the flag.
func TestBenchSearchFlags(t *testing.T) {
	tests := []struct {
		args  []string
		field string
	}{
		{[]string{"--ef-search", "40,x"}, "ef-search"},
		{[]string{"--ef-search", "64,40"}, "ef-search"},
		{[]string{"--ef-search", "0"}, "ef-search"},
		{[]string{"--sizes", "10"}, "sizes"},
		{[]string{"--methods", "faiss"}, "methods"},
		{[]string{"--halfvec-m", "1"}, "halfvec-m"},
	}
	env := map[string]string{"ORTHOCDS_DATA": t.TempDir()}
	for _, tt := range tests {
		err := run(context.Background(), append([]string{"bench", "search", "--quick"}, tt.args...), mapEnv(env), nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%v: %v, want an error naming %s", tt.args, err, tt.field)
		}
	}
}
