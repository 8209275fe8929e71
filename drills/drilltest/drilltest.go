// Package drilltest checks that a drills.Store behaves as the drills need:
// the file store and the PostgreSQL store run the same test.
package drilltest

import (
	"context"
	"testing"
	"time"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/cases"
	"github.com/orthocds/orthocds/drills"
)

// Conformance saves, reloads, filters and refuses a stale save on an empty
// store.
func Conformance(t *testing.T, st drills.Store) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	mk := func(id, student, caseID string, minute int) *drills.Attempt {
		return &drills.Attempt{ID: id, Student: student, CaseID: caseID, Status: drills.Active,
			Drill: cases.Drill{Lang: "zh", Asked: []string{}, Ordered: []string{}, Turns: []cases.Turn{}}, Started: at.Add(time.Duration(minute) * time.Minute)}
	}
	a := mk("att_a", "s1", "giop", 0)
	for _, x := range []*drills.Attempt{a, mk("att_b", "s2", "giop", 1), mk("att_c", "s1", "vte-tka", 2)} {
		if err := st.Save(ctx, x); err != nil {
			t.Fatal(err)
		}
		if x.Version != 1 {
			t.Errorf("%s: version %d after the first save", x.ID, x.Version)
		}
	}
	if err := st.Save(ctx, mk("att_a", "s9", "giop", 5)); orthocds.ErrorCode(err) != orthocds.ECONFLICT {
		t.Errorf("creating an existing ID: %v", err)
	}
	stale, err := st.Get(ctx, "att_a")
	if err != nil {
		t.Fatal(err)
	}
	a.Status = drills.Paused
	a.Turns = append(a.Turns, cases.Turn{Student: "你吸烟吗？", Patient: "不吸烟。"})
	if err := st.Save(ctx, a); err != nil || a.Version != 2 {
		t.Fatalf("update: %v, version %d", err, a.Version)
	}
	stale.Status = drills.Submitted
	if err := st.Save(ctx, stale); orthocds.ErrorCode(err) != orthocds.ECONFLICT {
		t.Errorf("save from a stale copy: %v", err)
	}
	got, err := st.Get(ctx, "att_a")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != drills.Paused || len(got.Turns) != 1 || got.Turns[0].Patient != "不吸烟。" || got.Lang != "zh" || !got.Started.Equal(at) {
		t.Errorf("reloaded %+v", got)
	}
	if _, err := st.Get(ctx, "att_none"); orthocds.ErrorCode(err) != orthocds.ENOTFOUND {
		t.Errorf("unknown attempt: %v", err)
	}
	for _, tc := range []struct {
		f    drills.Filter
		want []string
	}{
		{drills.Filter{}, []string{"att_a", "att_b", "att_c"}},
		{drills.Filter{Student: "s1"}, []string{"att_a", "att_c"}},
		{drills.Filter{CaseID: "giop"}, []string{"att_a", "att_b"}},
		{drills.Filter{Student: "s2", CaseID: "vte-tka"}, nil},
	} {
		list, err := st.List(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, x := range list {
			ids = append(ids, x.ID)
		}
		if len(ids) != len(tc.want) {
			t.Errorf("list %+v: %v, want %v", tc.f, ids, tc.want)
			continue
		}
		for i := range ids {
			if ids[i] != tc.want[i] {
				t.Errorf("list %+v: %v, want %v", tc.f, ids, tc.want)
				break
			}
		}
	}
}
