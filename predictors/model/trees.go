package model

import (
	"errors"
	"math"
	"slices"
	"sort"
)

// Node is one node of a regression tree, in the layout XGBoost uses: an
// internal node sends x[Feature] < Threshold to Left, else to Right; a leaf
// (Left < 0) holds Value. Cover is the training hessian sum that reached the
// node, which TreeSHAP needs.
type Node struct {
	Feature   int     `json:"feature"`
	Threshold float64 `json:"threshold"`
	Left      int     `json:"left"`
	Right     int     `json:"right"`
	Value     float64 `json:"value"`
	Cover     float64 `json:"cover"`
	// The rest is how imported models decide, exactly as their library:
	// DefaultLeft is where a missing (NaN) input goes, as learned by
	// XGBoost or LightGBM; Missing is LightGBM's missing type ("none": NaN
	// counts as 0; "zero": 0 and NaN take the default direction; "nan": NaN
	// does), empty for XGBoost (NaN takes the default direction).
	DefaultLeft bool   `json:"default_left,omitempty"`
	Missing     string `json:"missing,omitempty"`
	// LE compares x <= Threshold (LightGBM) instead of x < Threshold.
	LE bool `json:"le,omitempty"`
	// Categorical splits test membership of a level index in Categories:
	// XGBoost sends members right, LightGBM (SetLeft) left.
	Categorical bool  `json:"categorical,omitempty"`
	Categories  []int `json:"categories,omitempty"`
	SetLeft     bool  `json:"set_left,omitempty"`
}

// goesLeft reports whether x takes the node's left branch, deciding as
// the library that trained the model does.
func (n *Node) goesLeft(x []float64) bool {
	v := x[n.Feature]
	if math.IsNaN(v) {
		switch {
		case n.Missing == "": // XGBoost: the learned default, numeric or categorical
			return n.DefaultLeft
		case n.Categorical: // LightGBM: a missing category goes right, whatever the missing type
			return false
		case n.Missing == "nan":
			return n.DefaultLeft
		default: // LightGBM "none" and "zero": NaN counts as 0
			v = 0
		}
	}
	if n.Categorical {
		if v < 0 { // not a level: XGBoost goes left, LightGBM right
			return n.Missing == ""
		}
		_, in := slices.BinarySearch(n.Categories, int(v))
		return in == n.SetLeft
	}
	if n.Missing == "zero" && math.Abs(v) <= 1e-35 {
		return n.DefaultLeft
	}
	if n.LE {
		return v <= n.Threshold
	}
	return v < n.Threshold
}

// Tree is a regression tree; node 0 is the root.
type Tree struct {
	Nodes []Node `json:"nodes"`
}

// Ensemble is a sum of trees on the log-odds scale.
type Ensemble struct {
	Features  []string `json:"features"`
	BaseScore float64  `json:"base_score"` // log-odds added to every row
	Trees     []Tree   `json:"trees"`
	// Float32 compares inputs with thresholds in float32, as XGBoost does;
	// set for imported XGBoost models.
	Float32 bool `json:"float32,omitempty"`
	// Missing means the trees route a missing input (NaN) themselves, by
	// the default directions their library learned: an absent optional
	// input is left missing rather than imputed. Set for imported models.
	Missing bool `json:"missing,omitempty"`
}

// GBTConfig configures boosting.
type GBTConfig struct {
	Trees          int     `json:"trees"`
	Depth          int     `json:"depth"`
	LearningRate   float64 `json:"learning_rate"`
	Lambda         float64 `json:"lambda"`           // L2 on leaf values
	MinChildWeight float64 `json:"min_child_weight"` // minimum hessian sum in a child
}

// DefaultGBT suits the cohorts here: a few thousand rows, a dozen inputs.
var DefaultGBT = GBTConfig{Trees: 100, Depth: 3, LearningRate: 0.1, Lambda: 1, MinChildWeight: 1}

// Logit is the ensemble's log-odds for one row.
func (e *Ensemble) Logit(x []float64) float64 {
	x = e.inputs(x)
	s := e.BaseScore
	for i := range e.Trees {
		s += e.Trees[i].leaf(x).Value
	}
	return s
}

// inputs rounds x to float32 for an imported XGBoost model.
func (e *Ensemble) inputs(x []float64) []float64 {
	if !e.Float32 {
		return x
	}
	r := make([]float64, len(x))
	for i, v := range x {
		r[i] = float64(float32(v))
	}
	return r
}

// Predict is the probability for one row.
func (e *Ensemble) Predict(x []float64) float64 { return sigmoid(e.Logit(x)) }

func (t *Tree) leaf(x []float64) *Node {
	n := &t.Nodes[0]
	for n.Left >= 0 {
		if n.goesLeft(x) {
			n = &t.Nodes[n.Left]
		} else {
			n = &t.Nodes[n.Right]
		}
	}
	return n
}

// FitGBT fits a gradient-boosted tree ensemble to binary outcomes with
// second-order (Newton) steps on the logistic loss, exact greedy splits at
// midpoints between distinct values. It is deterministic.
func FitGBT(features []string, x [][]float64, y []float64, cfg GBTConfig) (*Ensemble, error) {
	n := len(x)
	if n == 0 {
		return nil, errors.New("no rows to fit")
	}
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(n)
	mean = math.Min(math.Max(mean, 1e-6), 1-1e-6)
	e := &Ensemble{Features: features, BaseScore: math.Log(mean / (1 - mean))}
	d := len(x[0])
	// Rows sorted by each feature once; nodes then scan these orders.
	order := make([][]int, d)
	for j := range d {
		o := make([]int, n)
		for i := range o {
			o[i] = i
		}
		sort.SliceStable(o, func(a, b int) bool { return x[o[a]][j] < x[o[b]][j] })
		order[j] = o
	}
	margin := make([]float64, n)
	for i := range margin {
		margin[i] = e.BaseScore
	}
	g, h := make([]float64, n), make([]float64, n)
	for range cfg.Trees {
		for i := range n {
			p := sigmoid(margin[i])
			g[i], h[i] = p-y[i], p*(1-p)
		}
		t := growTree(x, g, h, order, cfg)
		for i := range n {
			margin[i] += t.leaf(x[i]).Value
		}
		e.Trees = append(e.Trees, t)
	}
	return e, nil
}

func growTree(x [][]float64, g, h []float64, order [][]int, cfg GBTConfig) Tree {
	n := len(x)
	node := make([]int, n) // the node each row sits in
	var t Tree
	var G, H float64
	for i := range n {
		G, H = G+g[i], H+h[i]
	}
	t.Nodes = append(t.Nodes, Node{Left: -1, Right: -1, Cover: H, Value: -G / (H + cfg.Lambda) * cfg.LearningRate})
	type best struct {
		ok        bool
		gain, thr float64
		feat      int
		gl, hl    float64
	}
	sumG, sumH := []float64{G}, []float64{H}
	frontier := []int{0}
	for depth := 0; depth < cfg.Depth && len(frontier) > 0; depth++ {
		size := len(t.Nodes)
		bests := make([]best, size)
		accG, accH, last := make([]float64, size), make([]float64, size), make([]float64, size)
		open := make([]bool, size)
		for _, k := range frontier {
			open[k] = true
		}
		for j := range order {
			clear(accG)
			clear(accH)
			for _, i := range order[j] {
				k := node[i]
				if !open[k] {
					continue
				}
				v := x[i][j]
				if accH[k] > 0 && v > last[k] {
					gl, hl := accG[k], accH[k]
					gr, hr := sumG[k]-gl, sumH[k]-hl
					if hl >= cfg.MinChildWeight && hr >= cfg.MinChildWeight {
						gain := gl*gl/(hl+cfg.Lambda) + gr*gr/(hr+cfg.Lambda) - sumG[k]*sumG[k]/(sumH[k]+cfg.Lambda)
						if b := &bests[k]; !b.ok || gain > b.gain {
							*b = best{ok: true, gain: gain, thr: (last[k] + v) / 2, feat: j, gl: gl, hl: hl}
						}
					}
				}
				accG[k] += g[i]
				accH[k] += h[i]
				last[k] = v
			}
		}
		var next []int
		for _, k := range frontier {
			b := bests[k]
			if !b.ok || b.gain <= 1e-12 {
				continue
			}
			l, r := len(t.Nodes), len(t.Nodes)+1
			gr, hr := sumG[k]-b.gl, sumH[k]-b.hl
			t.Nodes = append(t.Nodes,
				Node{Left: -1, Right: -1, Cover: b.hl, Value: -b.gl / (b.hl + cfg.Lambda) * cfg.LearningRate},
				Node{Left: -1, Right: -1, Cover: hr, Value: -gr / (hr + cfg.Lambda) * cfg.LearningRate})
			t.Nodes[k].Feature, t.Nodes[k].Threshold, t.Nodes[k].Left, t.Nodes[k].Right = b.feat, b.thr, l, r
			t.Nodes[k].Value = 0
			sumG, sumH = append(sumG, b.gl, gr), append(sumH, b.hl, hr)
			next = append(next, l, r)
		}
		for i := range n {
			if k := node[i]; t.Nodes[k].Left >= 0 {
				if x[i][t.Nodes[k].Feature] < t.Nodes[k].Threshold {
					node[i] = t.Nodes[k].Left
				} else {
					node[i] = t.Nodes[k].Right
				}
			}
		}
		frontier = next
	}
	return t
}
