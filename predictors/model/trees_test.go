package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// condExpect is the path-dependent expectation of a tree's output when only
// the features in s are known (TreeSHAP paper, Algorithm 1).
func condExpect(t *Tree, j int, x []float64, s map[int]bool) float64 {
	n := &t.Nodes[j]
	if n.Left < 0 {
		return n.Value
	}
	if s[n.Feature] {
		if x[n.Feature] < n.Threshold {
			return condExpect(t, n.Left, x, s)
		}
		return condExpect(t, n.Right, x, s)
	}
	return (t.Nodes[n.Left].Cover*condExpect(t, n.Left, x, s) + t.Nodes[n.Right].Cover*condExpect(t, n.Right, x, s)) / n.Cover
}

// bruteShapley computes Shapley values by enumerating every subset.
func bruteShapley(e *Ensemble, x []float64) []float64 {
	d := len(x)
	phi := make([]float64, d)
	fact := func(n int) float64 { return math.Gamma(float64(n + 1)) }
	for i := range d {
		for mask := 0; mask < 1<<d; mask++ {
			if mask&(1<<i) != 0 {
				continue
			}
			s := map[int]bool{}
			for k := range d {
				if mask&(1<<k) != 0 {
					s[k] = true
				}
			}
			size := len(s)
			w := fact(size) * fact(d-size-1) / fact(d)
			with := map[int]bool{i: true}
			for k := range s {
				with[k] = true
			}
			for ti := range e.Trees {
				phi[i] += w * (condExpect(&e.Trees[ti], 0, x, with) - condExpect(&e.Trees[ti], 0, x, s))
			}
		}
	}
	return phi
}

func toyData(n int, seed uint64) ([][]float64, []float64) {
	r := rand.New(rand.NewPCG(seed, 9))
	var x [][]float64
	var y []float64
	for range n {
		row := []float64{r.NormFloat64(), float64(r.IntN(2)), r.Float64() * 10, r.NormFloat64()}
		z := 1.2*row[0] + 0.8*row[1] - 0.2*row[2] + 0.5*row[0]*row[1]
		x = append(x, row)
		if r.Float64() < sigmoid(z) {
			y = append(y, 1)
		} else {
			y = append(y, 0)
		}
	}
	return x, y
}

func TestTreeSHAPIsExact(t *testing.T) {
	x, y := toyData(600, 1)
	e, err := FitGBT([]string{"a", "b", "c", "d"}, x, y, GBTConfig{Trees: 15, Depth: 3, LearningRate: 0.3, Lambda: 1, MinChildWeight: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range x[:25] {
		fast, brute := e.Contributions(row), bruteShapley(e, row)
		sum := e.ExpectedLogit()
		for i := range fast {
			if math.Abs(fast[i]-brute[i]) > 1e-9 {
				t.Fatalf("row %v feature %d: TreeSHAP %v, brute force %v", row, i, fast[i], brute[i])
			}
			sum += fast[i]
		}
		if math.Abs(sum-e.Logit(row)) > 1e-9 {
			t.Fatalf("row %v: expected + contributions = %v, logit %v", row, sum, e.Logit(row))
		}
	}
}

func TestGBTLearns(t *testing.T) {
	x, y := toyData(2000, 2)
	tx, ty, vx, vy := x[:1500], y[:1500], x[1500:], y[1500:]
	e, err := FitGBT([]string{"a", "b", "c", "d"}, tx, ty, DefaultGBT)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, len(vx))
	for i, r := range vx {
		p[i] = e.Predict(r)
	}
	// The generating model's own AUC on the held-out rows bounds what is possible.
	oracle := make([]float64, len(vx))
	for i, r := range vx {
		oracle[i] = 1.2*r[0] + 0.8*r[1] - 0.2*r[2] + 0.5*r[0]*r[1]
	}
	got, best := AUC(vy, p), AUC(vy, oracle)
	if got < best-0.04 {
		t.Errorf("held-out AUC %.3f, generating model %.3f", got, best)
	}
	again, _ := FitGBT([]string{"a", "b", "c", "d"}, tx, ty, DefaultGBT)
	if again.Logit(vx[0]) != e.Logit(vx[0]) {
		t.Error("GBT fit is not deterministic")
	}
}
