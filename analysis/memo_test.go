package analysis

import "testing"

// A memo keeps what it was given until it holds max entries, then starts
// again with the next one.
func TestMemoIsBounded(t *testing.T) {
	c := memo[int, string]{max: 2}
	c.put(1, "a")
	c.put(2, "b")
	if v, ok := c.get(1); !ok || v != "a" {
		t.Fatalf("get(1) = %q, %v; want a, true", v, ok)
	}
	c.put(3, "c")
	if _, ok := c.get(1); ok {
		t.Error("past max, the memo still holds its first entry")
	}
	if v, ok := c.get(3); !ok || v != "c" {
		t.Errorf("get(3) = %q, %v; want c, true", v, ok)
	}
}
