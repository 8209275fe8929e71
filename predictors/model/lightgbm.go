package model

import (
	"bufio"
	"bytes"
	"fmt"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
)

// LightGBM's text model format (Booster.save_model, versions v2 to v4): a
// header of key=value lines, then one "Tree=N" block per tree. Splits send
// x <= threshold left; decision_type packs a categorical flag (bit 0), the
// default direction of missing values (bit 1) and the missing type (bits
// 2-3: none, zero, NaN); categorical splits name, through cat_boundaries,
// a bitset of the levels that go left. Children >= 0 are internal nodes,
// < 0 are leaves (~index).

// lgbModel is a parsed LightGBM text model.
type lgbModel struct {
	header map[string]string
	trees  []map[string]string
}

func parseLightGBMText(b []byte) (*lgbModel, error) {
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("tree")) {
		return nil, fmt.Errorf("not a LightGBM text model (it starts with %q)", firstLine(b))
	}
	m := &lgbModel{header: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var cur map[string]string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "end of trees":
			return m, nil
		case strings.HasPrefix(line, "Tree="):
			cur = map[string]string{}
			m.trees = append(m.trees, cur)
			continue
		case line == "" || line == "tree":
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			if cur == nil {
				m.header[line] = "" // a flag such as average_output
			}
			continue
		}
		if cur == nil {
			m.header[k] = v
		} else {
			cur[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

func firstLine(b []byte) string {
	l, _, _ := bytes.Cut(b, []byte("\n"))
	if len(l) > 40 {
		l = l[:40]
	}
	return string(l)
}

func lgbFloats(s string) ([]float64, error) {
	f := strings.Fields(s)
	out := make([]float64, len(f))
	for i, x := range f {
		v, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", x)
		}
		out[i] = v
	}
	return out, nil
}

func lgbInts(s string) ([]int, error) {
	f := strings.Fields(s)
	out := make([]int, len(f))
	for i, x := range f {
		v, err := strconv.Atoi(x)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", x)
		}
		out[i] = v
	}
	return out, nil
}

// tree converts tree t of the model; index maps the model's inputs to the
// ensemble's features, scale multiplies the leaf values.
func (m *lgbModel) tree(t int, index []int, scale float64) (Tree, error) {
	f := m.trees[t]
	nLeaves, err := strconv.Atoi(f["num_leaves"])
	if err != nil || nLeaves < 1 {
		return Tree{}, fmt.Errorf("LightGBM tree %d: num_leaves %q", t, f["num_leaves"])
	}
	leaves, err := lgbFloats(f["leaf_value"])
	if err != nil || len(leaves) != nLeaves {
		return Tree{}, fmt.Errorf("LightGBM tree %d: leaf_value does not hold %d leaves", t, nLeaves)
	}
	leafCount, _ := lgbFloats(f["leaf_count"])
	inner := nLeaves - 1
	tree := Tree{Nodes: make([]Node, inner+nLeaves)}
	for i, v := range leaves {
		nd := Node{Left: -1, Right: -1, Value: v * scale}
		if len(leafCount) == nLeaves {
			nd.Cover = leafCount[i]
		}
		tree.Nodes[inner+i] = nd
	}
	if inner == 0 {
		return tree, nil
	}
	split, err1 := lgbInts(f["split_feature"])
	thr, err2 := lgbFloats(f["threshold"])
	dt, err3 := lgbInts(f["decision_type"])
	left, err4 := lgbInts(f["left_child"])
	right, err5 := lgbInts(f["right_child"])
	count, _ := lgbFloats(f["internal_count"])
	for _, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			return Tree{}, fmt.Errorf("LightGBM tree %d: %w", t, err)
		}
	}
	for _, n := range []int{len(split), len(thr), len(dt), len(left), len(right)} {
		if n != inner {
			return Tree{}, fmt.Errorf("LightGBM tree %d: split arrays of %d entries for %d splits", t, n, inner)
		}
	}
	var bounds, words []int
	if f["num_cat"] != "" && f["num_cat"] != "0" {
		if bounds, err = lgbInts(f["cat_boundaries"]); err != nil {
			return Tree{}, fmt.Errorf("LightGBM tree %d: %w", t, err)
		}
		if words, err = lgbInts(f["cat_threshold"]); err != nil {
			return Tree{}, fmt.Errorf("LightGBM tree %d: %w", t, err)
		}
	}
	child := func(c int) (int, error) {
		if c >= 0 && c < inner {
			return c, nil
		}
		if c < 0 && -c-1 < nLeaves {
			return inner + (-c - 1), nil
		}
		return 0, fmt.Errorf("LightGBM tree %d: child %d out of range", t, c)
	}
	for i := range inner {
		if split[i] < 0 || split[i] >= len(index) {
			return Tree{}, fmt.Errorf("LightGBM tree %d: split feature %d out of range", t, split[i])
		}
		nd := Node{Feature: index[split[i]], Threshold: thr[i], LE: true, DefaultLeft: dt[i]&2 != 0,
			Missing: [4]string{"none", "zero", "nan", "nan"}[(dt[i]>>2)&3]}
		if len(count) == inner {
			nd.Cover = count[i]
		}
		if dt[i]&1 != 0 {
			k := int(thr[i])
			if k < 0 || k+1 >= len(bounds) || bounds[k] < 0 || bounds[k+1] > len(words) || bounds[k] > bounds[k+1] {
				return Tree{}, fmt.Errorf("LightGBM tree %d: category set %d out of range", t, k)
			}
			nd.Categorical, nd.SetLeft, nd.Threshold = true, true, 0
			for w, word := range words[bounds[k]:bounds[k+1]] {
				for u := uint32(word); u != 0; u &= u - 1 {
					nd.Categories = append(nd.Categories, 32*w+bits.TrailingZeros32(u))
				}
			}
		}
		if nd.Left, err = child(left[i]); err != nil {
			return Tree{}, err
		}
		if nd.Right, err = child(right[i]); err != nil {
			return Tree{}, err
		}
		tree.Nodes[i] = nd
	}
	return tree, nil
}

var autoName = regexp.MustCompile(`^Column_\d+$`)

// ParseLightGBM reads a LightGBM text model of a binary objective and maps
// its inputs to features: by feature_names when the model was given names
// (LightGBM's own Column_N names mean none were, and inputs are then taken
// in schema order). The ensemble decides exactly as LightGBM: x <= t,
// missing values by each split's missing type and default direction,
// categorical splits by their level sets; the sigmoid's scale is folded
// into the leaves, and a random forest's average is taken.
func ParseLightGBM(b []byte, features []string) (*Ensemble, error) {
	m, err := parseLightGBMText(b)
	if err != nil {
		return nil, err
	}
	obj := strings.Fields(m.header["objective"])
	if len(obj) == 0 || (obj[0] != "binary" && obj[0] != "cross_entropy" && obj[0] != "xentropy") {
		return nil, fmt.Errorf("LightGBM objective %q; a binary objective is needed", m.header["objective"])
	}
	if nc := m.header["num_class"]; nc != "" && nc != "1" {
		return nil, fmt.Errorf("LightGBM model has %s classes; a binary model is needed", nc)
	}
	scale := 1.0
	for _, o := range obj[1:] {
		if s, ok := strings.CutPrefix(o, "sigmoid:"); ok {
			if scale, err = strconv.ParseFloat(s, 64); err != nil || scale <= 0 {
				return nil, fmt.Errorf("LightGBM sigmoid %q", s)
			}
		}
	}
	maxIdx, err := strconv.Atoi(m.header["max_feature_idx"])
	if err != nil {
		return nil, fmt.Errorf("LightGBM max_feature_idx %q", m.header["max_feature_idx"])
	}
	names := strings.Fields(m.header["feature_names"])
	auto := len(names) > 0
	for _, n := range names {
		auto = auto && autoName.MatchString(n)
	}
	if auto {
		names = nil
	}
	index, err := mapFeatures("LightGBM", names, maxIdx+1, features)
	if err != nil {
		return nil, err
	}
	if len(m.trees) == 0 {
		return nil, fmt.Errorf("LightGBM model has no trees")
	}
	if _, ok := m.header["average_output"]; ok {
		scale /= float64(len(m.trees))
	}
	e := &Ensemble{Features: features, Missing: true}
	for t := range m.trees {
		tree, err := m.tree(t, index, scale)
		if err != nil {
			return nil, err
		}
		e.Trees = append(e.Trees, tree)
	}
	return e, nil
}

// ParseModel reads an XGBoost (JSON or UBJSON) or LightGBM (text) model,
// telling them apart by their first bytes.
func ParseModel(b []byte, features []string) (*Ensemble, error) {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("tree")) {
		return ParseLightGBM(b, features)
	}
	return ParseXGBoost(b, features)
}
