package model

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// xgbModel is the part of XGBoost's JSON model format (save_model to a
// .json file, XGBoost 1.x and 2.x) that a binary:logistic tree booster
// needs.
type xgbModel struct {
	Learner struct {
		FeatureNames    []string `json:"feature_names"`
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
	LeftChildren    []int     `json:"left_children"`
	RightChildren   []int     `json:"right_children"`
	SplitIndices    []int     `json:"split_indices"`
	SplitConditions []float64 `json:"split_conditions"`
	SumHessian      []float64 `json:"sum_hessian"`
	SplitType       []int     `json:"split_type"`
}

// ParseXGBoost reads an XGBoost JSON model of a binary:logistic gradient-
// boosted tree booster whose inputs are features, in that order. Imported
// ensembles compare inputs in float32, as XGBoost does, so that every row
// takes the branch XGBoost takes.
func ParseXGBoost(b []byte, features []string) (*Ensemble, error) {
	var m xgbModel
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("not an XGBoost JSON model: %w", err)
	}
	l := m.Learner
	if l.Objective.Name != "binary:logistic" {
		return nil, fmt.Errorf("XGBoost objective %q; only binary:logistic is supported", l.Objective.Name)
	}
	if l.GradientBooster.Name != "gbtree" {
		return nil, fmt.Errorf("XGBoost booster %q; only gbtree is supported", l.GradientBooster.Name)
	}
	if nc := l.LearnerModelParam.NumClass; nc != "" && nc != "0" {
		return nil, fmt.Errorf("XGBoost model has %s classes; a binary model is needed", nc)
	}
	if nf, _ := strconv.Atoi(l.LearnerModelParam.NumFeature); nf != len(features) {
		return nil, fmt.Errorf("XGBoost model has %s inputs; the predictor has %d", l.LearnerModelParam.NumFeature, len(features))
	}
	if len(l.FeatureNames) > 0 {
		for i, n := range l.FeatureNames {
			if n != features[i] {
				return nil, fmt.Errorf("XGBoost input %d is %q; the predictor expects %q", i, n, features[i])
			}
		}
	}
	bs, err := strconv.ParseFloat(l.LearnerModelParam.BaseScore, 64)
	if err != nil || bs <= 0 || bs >= 1 {
		return nil, fmt.Errorf("XGBoost base_score %q is not a probability", l.LearnerModelParam.BaseScore)
	}
	e := &Ensemble{Features: features, BaseScore: math.Log(bs / (1 - bs)), Float32: true}
	for ti, t := range l.GradientBooster.Model.Trees {
		n := len(t.LeftChildren)
		if n == 0 || len(t.RightChildren) != n || len(t.SplitIndices) != n || len(t.SplitConditions) != n || len(t.SumHessian) != n {
			return nil, fmt.Errorf("XGBoost tree %d: node arrays of different lengths", ti)
		}
		tree := Tree{Nodes: make([]Node, n)}
		for i := range n {
			if len(t.SplitType) == n && t.SplitType[i] != 0 {
				return nil, fmt.Errorf("XGBoost tree %d: categorical splits are not supported", ti)
			}
			nd := Node{Left: t.LeftChildren[i], Right: t.RightChildren[i], Cover: t.SumHessian[i]}
			if nd.Left < 0 {
				nd.Left, nd.Right, nd.Value = -1, -1, t.SplitConditions[i] // a leaf's split_condition is its value
			} else {
				if nd.Left >= n || nd.Right >= n || nd.Right < 0 || t.SplitIndices[i] < 0 || t.SplitIndices[i] >= len(features) {
					return nil, fmt.Errorf("XGBoost tree %d node %d: child or feature out of range", ti, i)
				}
				nd.Feature, nd.Threshold = t.SplitIndices[i], t.SplitConditions[i]
			}
			tree.Nodes[i] = nd
		}
		e.Trees = append(e.Trees, tree)
	}
	return e, nil
}
