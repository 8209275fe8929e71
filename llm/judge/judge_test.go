package judge

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type replies struct {
	out   []string
	err   error
	calls int
}

func (r *replies) Name() string { return "test" }
func (r *replies) Complete(context.Context, string, string, func(string) error) (string, error) {
	r.calls++
	if r.err != nil {
		return "", r.err
	}
	return r.out[min(r.calls, len(r.out))-1], nil
}

func TestMet(t *testing.T) {
	items := []Item{{"a", "does A"}, {"b", "does B"}}
	for _, tc := range []struct {
		name       string
		out        []string
		err        error
		met        []string
		unscorable bool
		calls      int
	}{
		{"valid", []string{`{"met": ["b", "a", "b"]}`}, nil, []string{"a", "b"}, false, 1},
		{"none met", []string{`{"met": []}`}, nil, []string{}, false, 1},
		{"retried after prose", []string{"Both are met.", `{"met": ["a"]}`}, nil, []string{"a"}, false, 2},
		{"unknown item every time", []string{`{"met": ["z"]}`}, nil, nil, true, Attempts},
		{"extra field every time", []string{`{"met": ["a"], "why": "x"}`}, nil, nil, true, Attempts},
		{"model down", nil, errors.New("refused"), nil, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &replies{out: tc.out, err: tc.err}
			met, why, err := Met(context.Background(), m, "q", "r", items)
			if (err != nil) != (tc.err != nil) || (why != "") != tc.unscorable || m.calls != tc.calls {
				t.Fatalf("err %v, unscorable %q, %d calls", err, why, m.calls)
			}
			if diff := cmp.Diff(tc.met, met); diff != "" {
				t.Errorf("met (-want +got):\n%s", diff)
			}
		})
	}
}
