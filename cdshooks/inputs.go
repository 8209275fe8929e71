package cdshooks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/orthocds/orthocds/patient"
	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/valuesets"
)

// inputs is a predictor row with where each value came from, so that a
// card can say which inputs the record gave (by code or by words), which
// the order gave, and which were assumed.
type inputs struct {
	p    patient.Record
	row  predictors.Row
	from map[string]origin
}

// origin says where an input's value came from, in both languages.
type origin struct{ en, zh string }

var (
	fromDemographics = origin{"the record (Patient)", "病历（Patient资源）"}
	fromWeightHeight = origin{"weight and height in the record", "病历中的体重和身高"}
	fromWords        = origin{"words in the record (no code matched)", "病历文字（无编码匹配）"}
	fromAbsent       = origin{"not in the record: taken as no", "病历中未见：按“否”计"}
	fromObservation  = origin{"an OrthoCDS input Observation", "OrthoCDS输入Observation"}
	fromOrder        = origin{"the order", "医嘱"}
	fromProblemList  = origin{"fractures on the problem list", "问题列表中的骨折"}
)

func fromCode(code string) origin {
	system, c, _ := strings.Cut(code, "|")
	s := valuesets.SystemName(system) + " " + c
	return origin{"the record, " + s, "病历，" + s}
}

func fromLab(en, zh string) origin {
	return origin{"the record, " + en + " result", "病历，" + zh + "结果"}
}

// newInputs starts a row with the inputs every predictor takes.
func newInputs(p patient.Record) *inputs {
	in := &inputs{p: p, row: predictors.Row{}, from: map[string]origin{}}
	in.num("age_years", p.AgeYears, fromDemographics)
	in.cat("sex", p.Sex, fromDemographics)
	return in
}

func (in *inputs) num(name string, v *float64, o origin) {
	if v != nil {
		in.row[name], _ = json.Marshal(*v)
		in.from[name] = o
	}
}

func (in *inputs) cat(name, v string, o origin) {
	if v != "" {
		in.row[name], _ = json.Marshal(v)
		in.from[name] = o
	}
}

func (in *inputs) flag(name string, v bool, o origin) {
	in.row[name], _ = json.Marshal(v)
	in.from[name] = o
}

// fact sets a yes/no input from a value set the record may hold, saying
// whether a code or words reached it.
func (in *inputs) fact(name, set string) {
	if !in.p.Has(set) {
		in.flag(name, false, fromAbsent)
		return
	}
	f := in.p.Facts[set]
	o := fromWords
	if f.By == valuesets.ByCode {
		o = fromCode(f.Code)
	}
	in.flag(name, true, o)
}

// words sets a yes/no input from words on the problem list (the facts no
// value set covers yet).
func (in *inputs) words(name string, words ...string) {
	if in.p.HasCondition(words...) {
		in.flag(name, true, fromWords)
		return
	}
	in.flag(name, false, fromAbsent)
}

// bmi sets body-mass index from weight and height, else from a BMI result.
func (in *inputs) bmi(sets *valuesets.Sets) {
	if v := in.p.BMI(); v != nil {
		in.num("bmi_kg_m2", v, fromWeightHeight)
		return
	}
	in.lab("bmi_kg_m2", "obs-bmi", sets)
}

// lab sets a number from a laboratory result read by value set.
func (in *inputs) lab(name, set string, sets *valuesets.Sets) {
	v, ok := in.p.Labs[set]
	if !ok {
		return
	}
	en, zh := set, set
	if vs, ok := sets.Get(set); ok {
		en, zh = vs.Title.EN, vs.Title.ZH
	}
	in.num(name, &v, fromLab(en, zh))
}

// isBoolInput reports whether a predictor input is yes/no, in any
// predictor, shipped or the hospital's own.
func isBoolInput(name string) bool {
	for _, d := range predictors.All() {
		for _, f := range d.Schema {
			if f.Name == name && f.Type == predictors.Bool {
				return true
			}
		}
	}
	return false
}

// recorded copies predictor inputs recorded on the patient as OrthoCDS
// input Observations, then those on the order (which win), for the names
// given.
func (in *inputs) recorded(onOrder map[string]float64, names ...string) {
	for _, src := range []struct {
		values map[string]float64
		o      origin
	}{{in.p.Inputs, fromObservation}, {onOrder, fromOrder}} {
		for _, n := range names {
			v, ok := src.values[n]
			if !ok {
				continue
			}
			if isBoolInput(n) {
				in.flag(n, v != 0, src.o)
			} else {
				in.num(n, &v, src.o)
			}
		}
	}
}

// only keeps the inputs named.
func (in *inputs) only(names []string) {
	for n := range in.row {
		if !slices.Contains(names, n) {
			delete(in.row, n)
			delete(in.from, n)
		}
	}
}

// recordedFor is recorded for one predictor's schema: a category carried
// as a number is its level's index.
func (in *inputs) recordedFor(schema predictors.Schema, onOrder map[string]float64) {
	for _, src := range []struct {
		values map[string]float64
		o      origin
	}{{in.p.Inputs, fromObservation}, {onOrder, fromOrder}} {
		for _, f := range schema {
			v, ok := src.values[f.Name]
			if !ok {
				continue
			}
			switch {
			case f.Type == predictors.Bool:
				in.flag(f.Name, v != 0, src.o)
			case f.Type == predictors.Category && v >= 0 && int(v) < len(f.Levels) && v == float64(int(v)):
				in.cat(f.Name, f.Levels[int(v)], src.o)
			default:
				in.num(f.Name, &v, src.o)
			}
		}
	}
}

// provenance lists, for a card, where each input of the predictor came
// from and which were set to the development cohort's default.
func (c *call) provenance(def predictors.Definition, in *inputs, imputed, missing []string) string {
	var lines []string
	for _, f := range def.Schema {
		name := c.tr(f.Description.EN, f.Description.ZH)
		o, ok := in.from[f.Name]
		switch {
		case ok:
			lines = append(lines, fmt.Sprintf("- %s: %s", name, c.tr(o.en, o.zh)))
		case slices.Contains(missing, f.Name):
			lines = append(lines, fmt.Sprintf("- %s: %s", name, c.tr("not recorded: left missing, taken where the imported model learned to send it", "未记录：保持缺失，按导入模型学到的方向处理")))
		case slices.Contains(imputed, f.Name):
			lines = append(lines, fmt.Sprintf("- %s: %s", name, c.tr("not recorded: the development cohort's default (imputed)", "未记录：按开发队列默认值（插补）")))
		}
	}
	return c.tr("Where the inputs came from:", "输入来源：") + "\n\n" + strings.Join(lines, "\n")
}
