package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// xgbModel is the part of XGBoost's model format (save_model to .json or
// .ubj; XGBoost 1.x and 2.x) that a binary:logistic tree booster needs.
type xgbModel struct {
	Learner struct {
		FeatureNames    []string `json:"feature_names"`
		FeatureTypes    []string `json:"feature_types"`
		GradientBooster struct {
			Name  string `json:"name"`
			Model struct {
				Trees []xgbTree `json:"trees"`
			} `json:"model"`
		} `json:"gradient_booster"`
		LearnerModelParam struct {
			BaseScore  string `json:"base_score"`
			NumClass   string `json:"num_class"`
			NumFeature string `json:"num_feature"`
		} `json:"learner_model_param"`
		Objective struct {
			Name string `json:"name"`
		} `json:"objective"`
	} `json:"learner"`
}

type xgbTree struct {
	LeftChildren       []int       `json:"left_children"`
	RightChildren      []int       `json:"right_children"`
	SplitIndices       []int       `json:"split_indices"`
	SplitConditions    []nullFloat `json:"split_conditions"`
	SumHessian         []float64   `json:"sum_hessian"`
	DefaultLeft        []int       `json:"default_left"`
	SplitType          []int       `json:"split_type"`
	Categories         []int       `json:"categories"`
	CategoriesNodes    []int       `json:"categories_nodes"`
	CategoriesSegments []int       `json:"categories_segments"`
	CategoriesSizes    []int       `json:"categories_sizes"`
}

// nullFloat reads a number or null (a NaN, which XGBoost writes for a
// categorical split's condition) as NaN.
type nullFloat float64

func (f *nullFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = nullFloat(math.NaN())
		return nil
	}
	var v float64
	err := json.Unmarshal(b, &v)
	*f = nullFloat(v)
	return err
}

// ParseXGBoost reads an XGBoost model (JSON or UBJSON, 1.x or 2.x) of a
// binary:logistic gradient-boosted tree booster and maps its inputs to
// features: by the model's feature names when it has them (in any order;
// a name the predictor lacks is refused), else by position. Imported
// ensembles decide exactly as XGBoost: inputs compared in float32, a
// missing input sent where each split learned to send it, categorical
// splits by their category sets (level indexes in the schema's order).
func ParseXGBoost(b []byte, features []string) (*Ensemble, error) {
	var err error
	if isUBJSON(b) {
		if b, err = ubjsonToJSON(b); err != nil {
			return nil, fmt.Errorf("not an XGBoost UBJSON model: %w", err)
		}
	} else {
		b = nanToNull(b)
	}
	var m xgbModel
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("not an XGBoost model: %w", err)
	}
	l := m.Learner
	if l.Objective.Name != "binary:logistic" {
		return nil, fmt.Errorf("XGBoost objective %q; only binary:logistic is supported", l.Objective.Name)
	}
	if l.GradientBooster.Name != "gbtree" {
		return nil, fmt.Errorf("XGBoost booster %q; only gbtree is supported", l.GradientBooster.Name)
	}
	if nc := l.LearnerModelParam.NumClass; nc != "" && nc != "0" && nc != "1" {
		return nil, fmt.Errorf("XGBoost model has %s classes; a binary model is needed", nc)
	}
	nf, _ := strconv.Atoi(l.LearnerModelParam.NumFeature)
	index, err := mapFeatures("XGBoost", l.FeatureNames, nf, features)
	if err != nil {
		return nil, err
	}
	// 1.x writes "5E-1"; 2.x writes "[5E-1]".
	bs, err := strconv.ParseFloat(strings.Trim(l.LearnerModelParam.BaseScore, "[] "), 64)
	if err != nil || bs <= 0 || bs >= 1 {
		return nil, fmt.Errorf("XGBoost base_score %q is not a probability", l.LearnerModelParam.BaseScore)
	}
	e := &Ensemble{Features: features, BaseScore: math.Log(bs / (1 - bs)), Float32: true, Missing: true}
	for ti, t := range l.GradientBooster.Model.Trees {
		n := len(t.LeftChildren)
		if n == 0 || len(t.RightChildren) != n || len(t.SplitIndices) != n || len(t.SplitConditions) != n || len(t.SumHessian) != n {
			return nil, fmt.Errorf("XGBoost tree %d: node arrays of different lengths", ti)
		}
		if len(t.DefaultLeft) != 0 && len(t.DefaultLeft) != n {
			return nil, fmt.Errorf("XGBoost tree %d: default_left has %d entries for %d nodes", ti, len(t.DefaultLeft), n)
		}
		cats := map[int][]int{}
		if len(t.CategoriesNodes) != len(t.CategoriesSegments) || len(t.CategoriesNodes) != len(t.CategoriesSizes) {
			return nil, fmt.Errorf("XGBoost tree %d: category arrays of different lengths", ti)
		}
		for k, node := range t.CategoriesNodes {
			lo, size := t.CategoriesSegments[k], t.CategoriesSizes[k]
			if lo < 0 || size < 0 || lo+size > len(t.Categories) {
				return nil, fmt.Errorf("XGBoost tree %d: categories of node %d out of range", ti, node)
			}
			set := slices.Clone(t.Categories[lo : lo+size])
			slices.Sort(set)
			cats[node] = set
		}
		tree := Tree{Nodes: make([]Node, n)}
		for i := range n {
			nd := Node{Left: t.LeftChildren[i], Right: t.RightChildren[i], Cover: t.SumHessian[i]}
			if nd.Left < 0 {
				nd.Left, nd.Right, nd.Value = -1, -1, float64(t.SplitConditions[i]) // a leaf's split_condition is its value
				tree.Nodes[i] = nd
				continue
			}
			f := t.SplitIndices[i]
			if nd.Left >= n || nd.Right >= n || nd.Right < 0 || f < 0 || f >= len(index) {
				return nil, fmt.Errorf("XGBoost tree %d node %d: child or feature out of range", ti, i)
			}
			nd.Feature = index[f]
			nd.DefaultLeft = len(t.DefaultLeft) == n && t.DefaultLeft[i] != 0
			if len(t.SplitType) == n && t.SplitType[i] != 0 {
				set, ok := cats[i]
				if !ok {
					return nil, fmt.Errorf("XGBoost tree %d node %d: a categorical split without its categories", ti, i)
				}
				nd.Categorical, nd.Categories = true, set
			} else {
				nd.Threshold = float64(float32(t.SplitConditions[i])) // XGBoost stores float32
				if math.IsNaN(nd.Threshold) {
					return nil, fmt.Errorf("XGBoost tree %d node %d: a numeric split without a threshold", ti, i)
				}
			}
			tree.Nodes[i] = nd
		}
		e.Trees = append(e.Trees, tree)
	}
	return e, nil
}

// mapFeatures maps a model's input positions to the predictor's features:
// by name when the model names its inputs (every name must be one of
// features, each once), else by position (the counts must agree).
func mapFeatures(lib string, names []string, n int, features []string) ([]int, error) {
	if len(names) == 0 {
		if n != len(features) {
			return nil, fmt.Errorf("%s model has %d unnamed inputs; the predictor has %d (name them, or train on the schema's columns in order)", lib, n, len(features))
		}
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	if n > 0 && n != len(names) {
		return nil, fmt.Errorf("%s model has %d inputs but %d names", lib, n, len(names))
	}
	idx := make([]int, len(names))
	seen := map[string]bool{}
	for i, name := range names {
		j := slices.Index(features, name)
		if j < 0 {
			return nil, fmt.Errorf("%s input %q is not an input of the predictor (%s)", lib, name, strings.Join(features, ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("%s input %q appears twice", lib, name)
		}
		seen[name] = true
		idx[i] = j
	}
	return idx, nil
}

// nanToNull replaces the NaN, Infinity and -Infinity that XGBoost's JSON
// writer emits (outside strings) with null, which encoding/json reads.
func nanToNull(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	var out bytes.Buffer
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			out.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case bytes.HasPrefix(b[i:], []byte("NaN")):
			out.WriteString("null")
			i += 2
			continue
		case bytes.HasPrefix(b[i:], []byte("-Infinity")):
			out.WriteString("null")
			i += 8
			continue
		case bytes.HasPrefix(b[i:], []byte("Infinity")):
			out.WriteString("null")
			i += 7
			continue
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}
