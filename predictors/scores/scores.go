// Package scores holds the rule-based calculators OrthoCDS uses in answers
// and serves at /v1/calculators: the WHO T-score category, the OSTA index,
// the Caprini 2005 VTE score and the interpretation of FRAX probabilities
// against guideline thresholds (FRAX itself is not computed). Every result
// names the guideline entries it rests on.
package scores

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/orthocds/orthocds"
)

// Result is a calculator's output.
type Result struct {
	Calculator string        `json:"calculator"`
	Value      *float64      `json:"value,omitempty"`
	Category   string        `json:"category"`
	Summary    Bilingual     `json:"summary"`
	Findings   []Bilingual   `json:"findings,omitempty"`
	Items      []Contributor `json:"items,omitempty"`
	Sources    []string      `json:"sources"` // guideline entry IDs
}

// Bilingual is a sentence in English and Chinese.
type Bilingual struct {
	EN string `json:"en"`
	ZH string `json:"zh"`
}

// Contributor is one scored item.
type Contributor struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Points int    `json:"points"`
}

func num(v float64) *float64 { return &v }

// TScoreInput is the input of the T-score calculator.
type TScoreInput struct {
	TScore            *float64 `json:"t_score"`
	FragilityFracture bool     `json:"fragility_fracture"`
}

// TScore classifies a T-score by the WHO categories.
func TScore(in TScoreInput) (Result, error) {
	if in.TScore == nil {
		return Result{}, orthocds.Invalid("/t_score", "is required")
	}
	t := *in.TScore
	if math.IsNaN(t) || t < -10 || t > 10 {
		return Result{}, orthocds.Invalid("/t_score", "must be between -10 and 10")
	}
	r := Result{Calculator: "t-score", Value: num(t), Sources: []string{"who-1994-tscore-categories"}}
	switch {
	case t <= -2.5 && in.FragilityFracture:
		r.Category = "severe-osteoporosis"
		r.Summary = Bilingual{"Severe (established) osteoporosis: T-score -2.5 or lower with a fragility fracture.",
			"严重骨质疏松症：T值≤-2.5且伴脆性骨折。"}
		r.Sources = append(r.Sources, "who-1994-severe-osteoporosis")
	case t <= -2.5:
		r.Category = "osteoporosis"
		r.Summary = Bilingual{"Osteoporosis: T-score -2.5 or lower.", "骨质疏松症：T值≤-2.5。"}
	case t < -1.0:
		r.Category = "low-bone-mass"
		r.Summary = Bilingual{"Low bone mass (osteopenia): T-score between -1.0 and -2.5.", "低骨量：T值介于-1.0与-2.5之间。"}
	default:
		r.Category = "normal"
		r.Summary = Bilingual{"Normal bone density: T-score -1.0 or higher.", "骨密度正常：T值≥-1.0。"}
	}
	return r, nil
}

// OSTAInput is the input of the OSTA calculator.
type OSTAInput struct {
	WeightKg *float64 `json:"weight_kg"`
	AgeYears *float64 `json:"age_years"`
}

// OSTA computes (weight - age) x 0.2 and its risk band.
func OSTA(in OSTAInput) (Result, error) {
	var bad []orthocds.FieldError
	if in.WeightKg == nil || *in.WeightKg < 20 || *in.WeightKg > 300 {
		bad = append(bad, orthocds.FieldError{Field: "/weight_kg", Detail: "is required, between 20 and 300 kg"})
	}
	if in.AgeYears == nil || *in.AgeYears < 18 || *in.AgeYears > 120 {
		bad = append(bad, orthocds.FieldError{Field: "/age_years", Detail: "is required, between 18 and 120 years"})
	}
	if err := fieldErrors(bad); err != nil {
		return Result{}, err
	}
	// Round to one decimal so that (50 - 55) x 0.2 is -1, not -1.0000000000000002.
	v := math.Round((*in.WeightKg-*in.AgeYears)*0.2*10) / 10
	r := Result{Calculator: "osta", Value: num(v), Sources: []string{"csobmr-2022-osta"}}
	switch {
	case v > -1:
		r.Category = "low"
		r.Summary = Bilingual{"OSTA above -1: low risk.", "OSTA>-1：低风险。"}
	case v >= -4:
		r.Category = "medium"
		r.Summary = Bilingual{"OSTA -1 to -4: medium risk; measure BMD by DXA.", "OSTA在-1至-4之间：中风险，建议DXA检查骨密度。"}
	default:
		r.Category = "high"
		r.Summary = Bilingual{"OSTA below -4: high risk; measure BMD by DXA.", "OSTA<-4：高风险，建议DXA检查骨密度。"}
	}
	return r, nil
}

// FRAXInput holds 10-year probabilities in percent.
type FRAXInput struct {
	MajorPercent *float64 `json:"major_osteoporotic_percent"`
	HipPercent   *float64 `json:"hip_percent"`
}

// FRAX interprets FRAX probabilities against the thresholds the guidelines
// state. It does not compute FRAX.
func FRAX(in FRAXInput) (Result, error) {
	var bad []orthocds.FieldError
	for _, f := range []struct {
		name string
		v    *float64
	}{{"/major_osteoporotic_percent", in.MajorPercent}, {"/hip_percent", in.HipPercent}} {
		if f.v == nil || *f.v < 0 || *f.v > 100 {
			bad = append(bad, orthocds.FieldError{Field: f.name, Detail: "is required, a percentage from 0 to 100"})
		}
	}
	if err := fieldErrors(bad); err != nil {
		return Result{}, err
	}
	mof, hip := *in.MajorPercent, *in.HipPercent
	r := Result{Calculator: "frax", Category: "below-threshold",
		Sources: []string{"bhof-2022-treat-low-bone-mass", "csobmr-2022-frax-china"}}
	r.Summary = Bilingual{"Below the FRAX treatment thresholds (hip 3%, major 20%).", "未达到FRAX治疗阈值（髋部3%，主要骨折20%）。"}
	if hip >= 3 || mof >= 20 {
		r.Category = "treatment-threshold"
		r.Summary = Bilingual{"At or above a FRAX treatment threshold (hip >= 3% or major >= 20%): consider drug treatment.",
			"达到FRAX治疗阈值（髋部≥3%或主要骨折≥20%）：应考虑药物治疗。"}
	}
	if mof > 30 || hip > 4.5 {
		r.Category = "very-high-risk"
		r.Summary = Bilingual{"Above the AACE/ACE 2020 very-high-risk FRAX levels (major > 30% or hip > 4.5%).",
			"超过AACE/ACE 2020极高风险FRAX水平（主要骨折>30%或髋部>4.5%）。"}
		r.Sources = append(r.Sources, "aace-2020-very-high-risk")
	}
	r.Findings = []Bilingual{{"FRAX may underestimate fracture risk in Chinese patients; do not rule out treatment on a low FRAX alone.",
		"FRAX可能低估中国患者骨折风险，不应仅凭FRAX偏低排除治疗。"}}
	return r, nil
}

func fieldErrors(bad []orthocds.FieldError) error {
	if len(bad) == 0 {
		return nil
	}
	return &orthocds.Error{Code: orthocds.EINVALID, Field: bad[0].Field, Message: "invalid input", FieldErrors: bad}
}

// Names lists the calculators.
func Names() []string {
	names := make([]string, 0, len(calculators))
	for n := range calculators {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var calculators = map[string]func(json.RawMessage) (Result, error){
	"t-score": decodeRun(TScore),
	"osta":    decodeRun(OSTA),
	"caprini": decodeRun(Caprini),
	"frax":    decodeRun(FRAX),
}

func decodeRun[T any](fn func(T) (Result, error)) func(json.RawMessage) (Result, error) {
	return func(b json.RawMessage) (Result, error) {
		var in T
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return Result{}, orthocds.Invalid("/", "%s", decodeMessage(err))
		}
		return fn(in)
	}
}

func decodeMessage(err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return fmt.Sprintf("field %q must be a %s", ute.Field, ute.Type)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// Run runs the named calculator on a JSON input.
func Run(name string, input json.RawMessage) (Result, error) {
	fn, ok := calculators[name]
	if !ok {
		return Result{}, &orthocds.Error{Code: orthocds.ENOTFOUND, Field: "name",
			Message: fmt.Sprintf("no calculator %q; available: %s", name, strings.Join(Names(), ", "))}
	}
	return fn(input)
}
