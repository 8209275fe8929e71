package model

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

func readTSV(t *testing.T, path string) [][]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var row []float64
		for _, c := range strings.Fields(sc.Text()) {
			v, err := strconv.ParseFloat(c, 64)
			if err != nil {
				t.Fatal(err)
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	return rows
}

func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "x" + strconv.Itoa(i)
	}
	return out
}

// TestLightGBMBinary: a binary DART model saved by LightGBM (fixture from
// dmitryikh/leaves, testdata/lightgbm/README.md) scores every held-out row
// as LightGBM did, to 1e-6; comparing x < t instead of LightGBM's x <= t
// is caught.
func TestLightGBMBinary(t *testing.T) {
	b, err := os.ReadFile("../testdata/lightgbm/lg_dart_breast_cancer.model")
	if err != nil {
		t.Fatal(err)
	}
	x := readTSV(t, "../testdata/lightgbm/breast_cancer_test.tsv")
	want := readTSV(t, "../testdata/lightgbm/lg_dart_breast_cancer_true_predictions.txt")
	e, err := ParseLightGBM(b, names(30))
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != len(want) || len(x) == 0 {
		t.Fatalf("%d rows, %d predictions", len(x), len(want))
	}
	for i, row := range x {
		if got := e.Predict(row); math.Abs(got-want[i][0]) > 1e-6 {
			t.Fatalf("row %d: %.9f, LightGBM %.9f", i, got, want[i][0])
		}
	}
	if _, err := ParseLightGBM(b, names(29)); err == nil {
		t.Error("a model of 30 unnamed inputs mapped to 29 features")
	}
}

// TestLightGBMCategorical: a 13-class model with 14 categorical inputs
// (fixture from dmitryikh/leaves): each class's raw score, summed from its
// trees, matches LightGBM's on every held-out row. The product imports
// binary models only; this checks the trees' decisions, categorical
// bitsets included.
func TestLightGBMCategorical(t *testing.T) {
	b, err := os.ReadFile("../testdata/lightgbm/lg_kddcup99.model")
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseLightGBMText(b)
	if err != nil {
		t.Fatal(err)
	}
	x := readTSV(t, "../testdata/lightgbm/kddcup99_test.tsv")
	want := readTSV(t, "../testdata/lightgbm/lg_kddcup99_true_predictions.txt")
	const classes = 13
	index := make([]int, 41)
	for i := range index {
		index[i] = i
	}
	var trees []Tree
	cats := 0
	for k := range m.trees {
		tr, err := m.tree(k, index, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range tr.Nodes {
			if n.Categorical {
				cats++
			}
		}
		trees = append(trees, tr)
	}
	if cats == 0 {
		t.Fatal("the fixture has no categorical split")
	}
	for i, row := range x {
		for c := range classes {
			var s float64
			for k := c; k < len(trees); k += classes {
				s += trees[k].leaf(row).Value
			}
			if math.Abs(s-want[i][c]) > 1e-6 {
				t.Fatalf("row %d class %d: %.9f, LightGBM %.9f", i, c, s, want[i][c])
			}
		}
	}
	t.Logf("%d rows x %d classes match; %d categorical splits", len(x), classes, cats)
}

// TestLightGBMMissingTypes: the missing types of LightGBM's format on a
// hand-made split (LightGBM's own fixtures here have no missing values).
func TestLightGBMMissingTypes(t *testing.T) {
	for _, tc := range []struct {
		missing     string
		defaultLeft bool
		x           float64
		left        bool
	}{
		{"nan", true, math.NaN(), true},
		{"nan", false, math.NaN(), false},
		{"none", false, math.NaN(), true}, // NaN counts as 0, and 0 <= 0.5
		{"zero", false, 0, false},         // 0 is missing: the default, right
		{"zero", true, math.NaN(), true},
		{"nan", true, 0.5, true}, // x <= t
		{"nan", true, 0.6, false},
	} {
		n := Node{Threshold: 0.5, LE: true, Missing: tc.missing, DefaultLeft: tc.defaultLeft}
		if got := n.goesLeft([]float64{tc.x}); got != tc.left {
			t.Errorf("%s, default left %v, x %v: left %v, want %v", tc.missing, tc.defaultLeft, tc.x, got, tc.left)
		}
	}
	// A LightGBM categorical split: the set goes left; a missing or
	// negative category right, whatever the missing type.
	for _, tc := range []struct {
		x    float64
		left bool
	}{{2, true}, {3, false}, {math.NaN(), false}, {-1, false}, {0, false}} {
		n := Node{Categorical: true, SetLeft: true, Categories: []int{1, 2}, Missing: "zero", DefaultLeft: true}
		if got := n.goesLeft([]float64{tc.x}); got != tc.left {
			t.Errorf("categorical, x %v: left %v, want %v", tc.x, got, tc.left)
		}
	}
}
