// Package predictors serves the OrthoCDS risk predictors: cement leakage
// after vertebral augmentation, DVT/PE after hip or knee arthroplasty, and
// axial pain after surgery for degenerative cervical myelopathy. Each has a
// feature schema with units, ranges and the sources that make each feature
// a predictor; rows are validated against it before anything is scored.
package predictors

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/orthocds/orthocds"
)

// Feature types.
const (
	Number   = "number"
	Bool     = "bool"
	Category = "category"
)

// Text is a sentence in English and Chinese.
type Text struct {
	EN string `json:"en"`
	ZH string `json:"zh"`
}

// Feature describes one input.
type Feature struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Unit     string   `json:"unit,omitempty"`
	Min      float64  `json:"min,omitempty"`
	Max      float64  `json:"max,omitempty"`
	Integer  bool     `json:"integer,omitempty"`
	Levels   []string `json:"levels,omitempty"` // categories; the first is the reference
	Required bool     `json:"required"`
	// Default is used for a missing optional input and reported as imputed.
	Default     float64  `json:"default"`
	Description Text     `json:"description"`
	Sources     []string `json:"sources"` // why it predicts, with effect sizes where published
	// units maps accepted unit spellings to a factor into Unit.
	units map[string]float64
}

// Schema is a predictor's inputs, in model order.
type Schema []Feature

// Row is one set of inputs as sent: a number, a bool, a category name, or
// {"value": x, "unit": "..."} for a measured value.
type Row map[string]json.RawMessage

type measured struct {
	Value *float64 `json:"value"`
	Unit  string   `json:"unit"`
}

// Encoded is a validated row: one value per feature in schema order (bools
// 0/1, categories as level index), the features that were imputed, and
// those left missing (NaN) for a model that routes them itself.
type Encoded struct {
	X       []float64
	Imputed []string
	Missing []string
}

// Validate checks a row against the schema and encodes it, an absent
// optional input imputed with its default. It reports every bad field at
// once, each as a JSON pointer under prefix.
func (s Schema) Validate(row Row, prefix string) (Encoded, []orthocds.FieldError) {
	return s.Encode(row, prefix, false)
}

// Encode is Validate; with keepMissing an absent optional input is left
// missing (NaN), for a model that learned where to send it.
func (s Schema) Encode(row Row, prefix string, keepMissing bool) (Encoded, []orthocds.FieldError) {
	var bad []orthocds.FieldError
	add := func(name, format string, args ...any) {
		bad = append(bad, orthocds.FieldError{Field: prefix + "/" + name, Detail: fmt.Sprintf(format, args...)})
	}
	known := map[string]bool{}
	enc := Encoded{X: make([]float64, len(s))}
	for i, f := range s {
		known[f.Name] = true
		raw, ok := row[f.Name]
		if !ok || string(raw) == "null" {
			switch {
			case f.Required:
				add(f.Name, "is required")
			case keepMissing:
				enc.X[i] = math.NaN()
				enc.Missing = append(enc.Missing, f.Name)
			default:
				enc.X[i] = f.Default
				enc.Imputed = append(enc.Imputed, f.Name)
			}
			continue
		}
		v, err := f.decode(raw)
		if err != "" {
			add(f.Name, "%s", err)
			continue
		}
		enc.X[i] = v
	}
	var unknown []string
	for name := range row {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		add(name, "unknown field")
	}
	return enc, bad
}

// decode reads one value, returning a message when it is wrong.
func (f Feature) decode(raw json.RawMessage) (float64, string) {
	switch f.Type {
	case Bool:
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return 0, "must be true or false"
		}
		if b {
			return 1, ""
		}
		return 0, ""
	case Category:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, fmt.Sprintf("must be one of %s", strings.Join(f.Levels, ", "))
		}
		for i, l := range f.Levels {
			if l == s {
				return float64(i), ""
			}
		}
		return 0, fmt.Sprintf("%q is not one of %s", s, strings.Join(f.Levels, ", "))
	}
	var v float64
	if json.Unmarshal(raw, &v) != nil {
		var m measured
		if json.Unmarshal(raw, &m) != nil || m.Value == nil {
			return 0, fmt.Sprintf("must be a number in %s, or {\"value\": n, \"unit\": %q}", f.Unit, f.Unit)
		}
		factor, ok := f.units[m.Unit]
		if !ok && m.Unit != f.Unit {
			return 0, fmt.Sprintf("unit %q is not accepted; use %s", m.Unit, f.acceptedUnits())
		}
		if !ok {
			factor = 1
		}
		v = *m.Value * factor
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v < f.Min || v > f.Max {
		return 0, fmt.Sprintf("%g %s is outside %g to %g", v, f.Unit, f.Min, f.Max)
	}
	if f.Integer && v != math.Trunc(v) {
		return 0, "must be a whole number"
	}
	return v, ""
}

func (f Feature) acceptedUnits() string {
	names := []string{f.Unit}
	for u := range f.units {
		if u != f.Unit {
			names = append(names, u)
		}
	}
	sort.Strings(names[1:])
	return strings.Join(names, ", ")
}

// DefaultLabel is the default of an optional input as a user would write it.
func (f Feature) DefaultLabel() string {
	switch f.Type {
	case Bool:
		return strconv.FormatBool(f.Default == 1)
	case Category:
		if i := int(f.Default); i >= 0 && i < len(f.Levels) {
			return f.Levels[i]
		}
	}
	return strconv.FormatFloat(f.Default, 'g', -1, 64) + " " + f.Unit
}

// Names lists the feature names in model order.
func (s Schema) Names() []string {
	out := make([]string, len(s))
	for i, f := range s {
		out[i] = f.Name
	}
	return out
}
