package model

// Exact path-dependent TreeSHAP (Lundberg, Erion and Lee, "Consistent
// individualized feature attribution for tree ensembles", 2018, Algorithm
// 2): each feature's Shapley value for one row, with the expectation over
// missing features taken along the tree by training cover. The values plus
// ExpectedLogit add up to the row's log-odds exactly.

type pathElem struct {
	d    int     // feature, -1 for the root
	z, o float64 // fraction of zero (cold) and one (hot) paths through it
	w    float64 // permutation weight
}

// Contributions returns each feature's exact SHAP value on the log-odds
// scale. ExpectedLogit plus their sum equals Logit.
func (e *Ensemble) Contributions(x []float64) []float64 {
	x = e.inputs(x)
	phi := make([]float64, len(x))
	depth := 0
	for i := range e.Trees {
		depth = max(depth, e.Trees[i].depth(0))
	}
	// Each recursion level copies its parent's path into the space after
	// it: a triangular buffer serves a whole tree without allocating.
	buf := make([]pathElem, (depth+2)*(depth+3)/2)
	for i := range e.Trees {
		e.Trees[i].recurse(0, nil, buf, 1, 1, -1, x, phi)
	}
	return phi
}

func (t *Tree) depth(j int) int {
	n := &t.Nodes[j]
	if n.Left < 0 {
		return 0
	}
	return 1 + max(t.depth(n.Left), t.depth(n.Right))
}

// ExpectedLogit is the cover-weighted mean log-odds: the baseline that
// the contributions start from.
func (e *Ensemble) ExpectedLogit() float64 {
	s := e.BaseScore
	for i := range e.Trees {
		s += e.Trees[i].expected(0)
	}
	return s
}

func (t *Tree) expected(j int) float64 {
	n := &t.Nodes[j]
	if n.Left < 0 {
		return n.Value
	}
	l, r := &t.Nodes[n.Left], &t.Nodes[n.Right]
	if n.Cover == 0 {
		return (t.expected(n.Left) + t.expected(n.Right)) / 2
	}
	return (l.Cover*t.expected(n.Left) + r.Cover*t.expected(n.Right)) / n.Cover
}

func (t *Tree) recurse(j int, parent, buf []pathElem, pz, po float64, pi int, x, phi []float64) {
	m := buf[:len(parent)]
	copy(m, parent)
	m = extend(m, pz, po, pi)
	rest := buf[len(m):]
	n := &t.Nodes[j]
	if n.Left < 0 {
		for i := 1; i < len(m); i++ {
			phi[m[i].d] += unwoundSum(m, i) * (m[i].o - m[i].z) * n.Value
		}
		return
	}
	hot, cold := n.Right, n.Left
	if n.goesLeft(x) {
		hot, cold = n.Left, n.Right
	}
	iz, io := 1.0, 1.0
	for k := 1; k < len(m); k++ {
		if m[k].d == n.Feature {
			iz, io = m[k].z, m[k].o
			m = unwind(m, k)
			break
		}
	}
	t.recurse(hot, m, rest, iz*t.ratio(hot, j), io, n.Feature, x, phi)
	t.recurse(cold, m, rest, iz*t.ratio(cold, j), 0, n.Feature, x, phi)
}

// ratio is the share of a node's cover that went to one child.
func (t *Tree) ratio(child, parent int) float64 {
	if t.Nodes[parent].Cover == 0 {
		return 0.5
	}
	return t.Nodes[child].Cover / t.Nodes[parent].Cover
}

// extend appends in place: m must have capacity for one more element.
func extend(m []pathElem, pz, po float64, pi int) []pathElem {
	l := len(m)
	m = append(m, pathElem{d: pi, z: pz, o: po})
	if l == 0 {
		m[0].w = 1
	}
	for i := l - 1; i >= 0; i-- {
		m[i+1].w += po * m[i].w * float64(i+1) / float64(l+1)
		m[i].w = pz * m[i].w * float64(l-i) / float64(l+1)
	}
	return m
}

// unwind removes element i in place.
func unwind(m []pathElem, i int) []pathElem {
	l := len(m) - 1
	n := m[l].w
	for j := l - 1; j >= 0; j-- {
		if m[i].o != 0 {
			t := m[j].w
			m[j].w = n * float64(l+1) / (float64(j+1) * m[i].o)
			n = t - m[j].w*m[i].z*float64(l-j)/float64(l+1)
		} else {
			m[j].w = m[j].w * float64(l+1) / (m[i].z * float64(l-j))
		}
	}
	for j := i; j < l; j++ {
		m[j].d, m[j].z, m[j].o = m[j+1].d, m[j+1].z, m[j+1].o
	}
	return m[:l]
}

func unwoundSum(m []pathElem, i int) float64 {
	l := len(m) - 1
	var total float64
	if m[i].o != 0 {
		n := m[l].w
		for j := l - 1; j >= 0; j-- {
			t := n * float64(l+1) / (float64(j+1) * m[i].o)
			total += t
			n = m[j].w - t*m[i].z*float64(l-j)/float64(l+1)
		}
	} else {
		for j := l - 1; j >= 0; j-- {
			total += m[j].w * float64(l+1) / (m[i].z * float64(l-j))
		}
	}
	return total
}
