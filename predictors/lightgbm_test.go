package predictors

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/orthocds/orthocds/predictors/model"
)

// TestLightGBMMissingValues checks models trained by LightGBM itself (the
// command-line program of LightGBM 4.1.0.99; fixtures made by
// testdata/lightgbm/make_missing_fixtures.py, which says where LightGBM
// came from) on the SYNTHETIC vte-arthroplasty cohorts with D-dimer and
// hours to ambulation missing in 30% of rows: one per way LightGBM treats
// a missing value (missing types NaN and None with its defaults, Zero with
// zero_as_missing) and one with sex and joint as categorical inputs. Every
// validation row's probability matches LightGBM's to 1e-6, the 256 rows
// that miss an input included. Reversing the learned default directions,
// or imputing the schema defaults, moves rows, so the test can fail.
func TestLightGBMMissingValues(t *testing.T) {
	def, _ := Get("vte-arthroplasty")
	f, err := os.Open("testdata/xgb-vte-valid.csv")
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := ReadCSVMissing(def, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, _ = os.Open("testdata/xgb-vte-valid.csv")
	imputed, _, err := ReadCSV(def, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		missing map[string]int // decision nodes per missing type the model must hold
	}{
		{"missing", map[string]int{"nan": 1, "none": 1}},
		{"zero", map[string]int{"zero": 1}},
		{"categorical", map[string]int{"nan": 1, "categorical": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := os.ReadFile("testdata/lightgbm/lgb-vte-" + tc.name + ".txt")
			if err != nil {
				t.Fatal(err)
			}
			e, err := model.ParseModel(b, def.Schema.Names())
			if err != nil {
				t.Fatal(err)
			}
			want := readPredictions(t, "testdata/lightgbm/lgb-vte-"+tc.name+".pred.txt")
			if len(want) != len(d.X) {
				t.Fatalf("%d LightGBM probabilities for %d rows", len(want), len(d.X))
			}
			kinds := map[string]int{}
			for _, tr := range e.Trees {
				for _, n := range tr.Nodes {
					switch {
					case n.Left < 0:
					case n.Categorical:
						kinds["categorical"]++
					default:
						kinds[n.Missing]++
					}
				}
			}
			for k := range tc.missing {
				if kinds[k] == 0 {
					t.Errorf("the model holds no %s split (%v): the fixture does not test it", k, kinds)
				}
			}
			worst := func(e *model.Ensemble, rows [][]float64) (float64, int) {
				var w float64
				var at int
				for i, x := range rows {
					if diff := math.Abs(e.Predict(x) - want[i]); diff > w {
						w, at = diff, i
					}
				}
				return w, at
			}
			if w, at := worst(e, d.X); w > 1e-6 {
				t.Errorf("row %d off LightGBM by %.2g", at, w)
			}
			if w, _ := worst(e, imputed.X); w < 0.01 {
				t.Errorf("imputing the schema defaults moves no row by 0.01 (worst %.3g)", w)
			}
			for ti := range e.Trees {
				for ni := range e.Trees[ti].Nodes {
					e.Trees[ti].Nodes[ni].DefaultLeft = !e.Trees[ti].Nodes[ni].DefaultLeft
				}
			}
			if w, _ := worst(e, d.X); w < 0.01 {
				t.Errorf("with the default directions reversed the worst row is off by only %.3g", w)
			}
		})
	}
}

// readPredictions reads one probability per line, as LightGBM's predict
// task writes them.
func readPredictions(t *testing.T, path string) []float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []float64
	s := bufio.NewScanner(f)
	for s.Scan() {
		v, err := strconv.ParseFloat(s.Text(), 64)
		if err != nil {
			t.Fatalf("%s line %d: %v", path, len(out)+1, err)
		}
		out = append(out, v)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
