// Package patient reads a patient's FHIR R4 resources (Patient,
// Observation, Condition, MedicationRequest, ServiceRequest) into the
// facts the decision services use: age, sex, weight, BMD T-scores,
// fragility fractures, glucocorticoids, bone drugs and the inputs of the
// risk predictors. A Record holds no identifier (no name, no record
// number, no address, no birth date: only the age), so it can be put in a
// prompt or a log as it is.
//
// Values outside what a human body allows (a weight of 900 kg, a T-score of
// -14) are errors naming the resource and field, never silently used.
package patient

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/orthocds/orthocds"
)

// Code systems.
const (
	LOINC  = "http://loinc.org"
	SNOMED = "http://snomed.info/sct"
	// InputSystem codes an Observation holding a predictor input by the
	// input's name (for example "cement_volume_ml"), for values FHIR has
	// no standard code for.
	InputSystem = "https://orthocds.org/fhir/CodeSystem/predictor-input"
)

// LOINC codes read.
const (
	loincWeight = "29463-7" // Body weight
	loincHeight = "8302-2"  // Body height
)

// tScoreSites are the LOINC DXA T-score codes read, by site.
var tScoreSites = map[string]string{
	"38267-1":  "lumbar spine",
	"38263-0":  "femur",
	"38264-8":  "hip",
	"104938-6": "spine",
}

// Record is what the services know about a patient.
type Record struct {
	Sex      string   `json:"sex,omitempty"` // female, male or "" when not recorded
	AgeYears *float64 `json:"age_years,omitempty"`
	WeightKg *float64 `json:"weight_kg,omitempty"`
	HeightCm *float64 `json:"height_cm,omitempty"`
	TScores  []TScore `json:"t_scores,omitempty"`
	// Fractures are the fractures on the problem list.
	Fractures []Fracture `json:"fractures,omitempty"`
	// Conditions are the other conditions, as coded text.
	Conditions []Condition `json:"conditions,omitempty"`
	// Medications are the bone-relevant drugs, any status.
	Medications []Medication `json:"medications,omitempty"`
	// Inputs are predictor inputs recorded as Observations coded in
	// InputSystem, by input name.
	Inputs map[string]float64 `json:"inputs,omitempty"`
}

// TScore is one DXA T-score.
type TScore struct {
	Site  string    `json:"site"`
	Value float64   `json:"value"`
	Date  time.Time `json:"date,omitzero"`
}

// Fracture is a fracture on the problem list.
type Fracture struct {
	Site      string    `json:"site"` // hip, vertebra, forearm, humerus, pelvis, other
	Fragility bool      `json:"fragility"`
	Onset     time.Time `json:"onset,omitzero"`
	Text      string    `json:"text"`
}

// Condition is a coded condition.
type Condition struct {
	Text   string    `json:"text"`
	Codes  []string  `json:"codes,omitempty"` // system|code
	Active bool      `json:"active"`
	Onset  time.Time `json:"onset,omitzero"`
}

// Medication is a bone-relevant drug order.
type Medication struct {
	Class  string    `json:"class"` // see drugClasses
	Name   string    `json:"name"`
	Status string    `json:"status"` // the MedicationRequest status
	Date   time.Time `json:"date,omitzero"`
}

// Drug classes.
const (
	Denosumab      = "denosumab"
	Bisphosphonate = "bisphosphonate"
	Anabolic       = "anabolic"
	SERM           = "serm"
	Glucocorticoid = "glucocorticoid"
	Anticoagulant  = "anticoagulant"
	Antiplatelet   = "antiplatelet"
)

// drugClasses match drug names, English and Chinese, by class.
var drugClasses = []struct {
	class string
	names []string
}{
	{Denosumab, []string{"denosumab", "prolia", "地舒单抗", "狄诺塞麦"}},
	{Bisphosphonate, []string{"alendron", "risedron", "zoledron", "ibandron", "阿仑膦酸", "利塞膦酸", "唑来膦酸", "伊班膦酸"}},
	{Anabolic, []string{"teriparatide", "abaloparatide", "romosozumab", "特立帕肽", "阿巴洛肽", "罗莫佐单抗"}},
	{SERM, []string{"raloxifene", "bazedoxifene", "雷洛昔芬", "巴多昔芬"}},
	{Glucocorticoid, []string{"prednison", "prednisolon", "methylprednisolon", "dexamethason", "hydrocortison", "泼尼松", "泼尼松龙", "甲泼尼龙", "地塞米松", "氢化可的松"}},
	{Anticoagulant, []string{"enoxaparin", "heparin", "rivaroxaban", "apixaban", "dabigatran", "warfarin", "fondaparinux", "依诺肝素", "肝素", "利伐沙班", "阿哌沙班", "达比加群", "华法林", "磺达肝癸钠"}},
	{Antiplatelet, []string{"aspirin", "clopidogrel", "阿司匹林", "氯吡格雷"}},
}

// DrugClass returns the class of a drug name, or "".
func DrugClass(name string) string {
	n := strings.ToLower(name)
	for _, c := range drugClasses {
		for _, k := range c.names {
			if strings.Contains(n, k) {
				return c.class
			}
		}
	}
	return ""
}

// fractureSites match fracture text, English and Chinese, by site.
var fractureSites = []struct {
	site  string
	words []string
}{
	{"hip", []string{"hip", "femoral neck", "intertrochanteric", "proximal femur", "髋", "股骨颈", "股骨转子", "股骨近端"}},
	{"vertebra", []string{"vertebra", "spine", "spinal", "compression fracture", "椎体", "脊柱", "压缩骨折"}},
	{"forearm", []string{"wrist", "radius", "forearm", "colles", "桡骨", "腕", "前臂"}},
	{"humerus", []string{"humerus", "肱骨"}},
	{"pelvis", []string{"pelvis", "pelvic", "骨盆"}},
}

var fragilityWords = []string{"fragility", "osteoporotic", "low-trauma", "low trauma", "insufficiency", "脆性", "骨质疏松性", "低能量"}

// Reader collects resources into a Record. Now fixes "today" for ages and
// recency.
type Reader struct {
	Now time.Time
	rec Record
}

// Record returns what was read.
func (r *Reader) Record() Record { return r.rec }

// Add reads one resource or a Bundle of them; where is the JSON pointer of
// the resource in the request, used in errors (for example
// "/prefetch/observations").
func (r *Reader) Add(where string, raw json.RawMessage) error {
	// One pass reads the type and, for a Bundle, its entries.
	var head struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return orthocds.Invalid(where, "is not a FHIR resource")
	}
	var err error
	switch head.ResourceType {
	case "Bundle":
		for i, e := range head.Entry {
			if len(e.Resource) == 0 {
				continue
			}
			if err := r.Add(fmt.Sprintf("%s/entry/%d/resource", where, i), e.Resource); err != nil {
				return err
			}
		}
		return nil
	case "Patient":
		err = r.patient(where, raw)
	case "Observation":
		err = r.observation(where, raw)
	case "Condition":
		err = r.condition(where, raw)
	case "MedicationRequest", "MedicationStatement":
		err = r.medication(where, raw)
	case "OperationOutcome", "ServiceRequest", "Procedure", "Encounter", "Practitioner", "PractitionerRole":
		// Read elsewhere (orders) or not needed.
	case "":
		return orthocds.Invalid(where, "has no resourceType")
	}
	return err
}

func short(err error) string {
	s := err.Error()
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

func (r *Reader) patient(at string, raw json.RawMessage) error {
	var p fhir.Patient
	if err := json.Unmarshal(raw, &p); err != nil {
		return orthocds.Invalid(at, "is not a valid Patient: %v", short(err))
	}
	if p.Gender != nil {
		switch g := p.Gender.Code(); g {
		case "female", "male":
			r.rec.Sex = g
		}
	}
	if p.BirthDate != nil {
		born, err := parseDate(*p.BirthDate)
		if err != nil {
			return orthocds.Invalid(at+"/birthDate", "is not a FHIR date")
		}
		age := years(born, r.now())
		if age < 0 || age > 120 {
			return orthocds.Invalid(at+"/birthDate", "gives an age outside 0 to 120 years")
		}
		r.rec.AgeYears = &age
	}
	return nil
}

func (r *Reader) now() time.Time {
	if r.Now.IsZero() {
		return time.Now()
	}
	return r.Now
}

// years is the age in completed years, as clinical scores use it.
func years(from, to time.Time) float64 {
	y := to.Year() - from.Year()
	if to.Month() < from.Month() || to.Month() == from.Month() && to.Day() < from.Day() {
		y--
	}
	return float64(y)
}

// parseDate reads a FHIR date or dateTime (year, year-month, date or full
// timestamp).
func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a FHIR date: %q", s)
}

func codes(cc *fhir.CodeableConcept) (list []string, text string) {
	if cc == nil {
		return nil, ""
	}
	var words []string
	if cc.Text != nil {
		words = append(words, *cc.Text)
	}
	for _, c := range cc.Coding {
		if c.System != nil && c.Code != nil {
			list = append(list, *c.System+"|"+*c.Code)
		}
		if c.Display != nil {
			words = append(words, *c.Display)
		}
	}
	return list, strings.Join(words, "; ")
}

func hasCode(list []string, system, code string) bool {
	return slices.Contains(list, system+"|"+code)
}

func (r *Reader) observation(at string, raw json.RawMessage) error {
	var o fhir.Observation
	if err := json.Unmarshal(raw, &o); err != nil {
		return orthocds.Invalid(at, "is not a valid Observation: %v", short(err))
	}
	switch o.Status.Code() {
	case "entered-in-error", "cancelled":
		return nil
	}
	list, text := codes(&o.Code)
	var date time.Time
	if o.EffectiveDateTime != nil {
		date, _ = parseDate(*o.EffectiveDateTime)
	}
	value := func(lo, hi float64, units map[string]float64) (float64, bool, error) {
		q := o.ValueQuantity
		if q == nil || q.Value == nil {
			return 0, false, nil
		}
		v, err := q.Value.Float64()
		if err != nil {
			return 0, false, orthocds.Invalid(at+"/valueQuantity/value", "is not a number")
		}
		if units != nil {
			unit := ""
			if q.Code != nil {
				unit = *q.Code
			} else if q.Unit != nil {
				unit = *q.Unit
			}
			f, ok := units[unit]
			if !ok {
				return 0, false, orthocds.Invalid(at+"/valueQuantity/unit", "unit %q is not one of the units read", unit)
			}
			v *= f
		}
		if math.IsNaN(v) || v < lo || v > hi {
			// The value itself is left out: it is patient data.
			return 0, false, orthocds.Invalid(at+"/valueQuantity/value", "is outside %g to %g", lo, hi)
		}
		return v, true, nil
	}
	switch {
	case hasCode(list, LOINC, loincWeight):
		v, ok, err := value(20, 300, map[string]float64{"kg": 1, "[lb_av]": 0.45359237, "g": 0.001})
		if err != nil {
			return err
		}
		if ok {
			r.rec.WeightKg = &v
		}
	case hasCode(list, LOINC, loincHeight):
		v, ok, err := value(50, 250, map[string]float64{"cm": 1, "m": 100, "[in_i]": 2.54})
		if err != nil {
			return err
		}
		if ok {
			r.rec.HeightCm = &v
		}
	default:
		site := ""
		for code, s := range tScoreSites {
			if hasCode(list, LOINC, code) {
				site = s
			}
		}
		if site == "" && strings.Contains(strings.ToLower(text), "t-score") {
			site = text
		}
		if site != "" {
			v, ok, err := value(-10, 10, nil)
			if err != nil {
				return err
			}
			if ok {
				r.rec.TScores = append(r.rec.TScores, TScore{Site: site, Value: v, Date: date})
			}
			return nil
		}
		for _, c := range o.Code.Coding {
			if c.System != nil && *c.System == InputSystem && c.Code != nil {
				v, ok, err := value(-1e6, 1e6, nil)
				if err == nil && !ok && o.ValueBoolean != nil {
					v, ok = b2f(*o.ValueBoolean), true
				}
				if err == nil && !ok && o.ValueInteger != nil {
					v, ok = float64(*o.ValueInteger), true
				}
				if err != nil {
					return err
				}
				if ok {
					if r.rec.Inputs == nil {
						r.rec.Inputs = map[string]float64{}
					}
					r.rec.Inputs[*c.Code] = v
				}
			}
		}
	}
	return nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (r *Reader) condition(at string, raw json.RawMessage) error {
	var c fhir.Condition
	if err := json.Unmarshal(raw, &c); err != nil {
		return orthocds.Invalid(at, "is not a valid Condition: %v", short(err))
	}
	if c.VerificationStatus != nil {
		if list, _ := codes(c.VerificationStatus); slices.ContainsFunc(list, func(s string) bool {
			return strings.HasSuffix(s, "|refuted") || strings.HasSuffix(s, "|entered-in-error")
		}) {
			return nil
		}
	}
	list, text := codes(c.Code)
	if text == "" && len(list) == 0 {
		return orthocds.Invalid(at+"/code", "a Condition needs a code or text")
	}
	var onset time.Time
	if c.OnsetDateTime != nil {
		var err error
		if onset, err = parseDate(*c.OnsetDateTime); err != nil {
			return orthocds.Invalid(at+"/onsetDateTime", "is not a FHIR dateTime")
		}
		if onset.After(r.now().Add(24 * time.Hour)) {
			return orthocds.Invalid(at+"/onsetDateTime", "is in the future")
		}
	}
	active := true
	if c.ClinicalStatus != nil {
		cs, _ := codes(c.ClinicalStatus)
		active = slices.ContainsFunc(cs, func(s string) bool {
			return strings.HasSuffix(s, "|active") || strings.HasSuffix(s, "|recurrence") || strings.HasSuffix(s, "|relapse")
		})
	}
	low := strings.ToLower(text)
	if strings.Contains(low, "fracture") || strings.Contains(low, "骨折") {
		f := Fracture{Site: "other", Onset: onset, Text: text}
		for _, s := range fractureSites {
			if containsAny(low, s.words) {
				f.Site = s.site
				break
			}
		}
		f.Fragility = containsAny(low, fragilityWords)
		r.rec.Fractures = append(r.rec.Fractures, f)
		return nil
	}
	r.rec.Conditions = append(r.rec.Conditions, Condition{Text: text, Codes: list, Active: active, Onset: onset})
	return nil
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func (r *Reader) medication(at string, raw json.RawMessage) error {
	// MedicationRequest and MedicationStatement share the fields read.
	var m struct {
		Status                    string                `json:"status"`
		MedicationCodeableConcept *fhir.CodeableConcept `json:"medicationCodeableConcept"`
		AuthoredOn                *string               `json:"authoredOn"`
		EffectiveDateTime         *string               `json:"effectiveDateTime"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return orthocds.Invalid(at, "is not a valid medication resource: %v", short(err))
	}
	_, name := codes(m.MedicationCodeableConcept)
	class := DrugClass(name)
	if class == "" {
		return nil
	}
	med := Medication{Class: class, Name: name, Status: m.Status}
	for _, d := range []*string{m.AuthoredOn, m.EffectiveDateTime} {
		if d != nil {
			t, err := parseDate(*d)
			if err != nil {
				return orthocds.Invalid(at+"/authoredOn", "is not a FHIR dateTime")
			}
			med.Date = t
		}
	}
	r.rec.Medications = append(r.rec.Medications, med)
	return nil
}

// LowestTScore returns the lowest T-score, or nil.
func (rec Record) LowestTScore() *TScore {
	var low *TScore
	for i, t := range rec.TScores {
		if low == nil || t.Value < low.Value {
			low = &rec.TScores[i]
		}
	}
	return low
}

// BMI is weight over height squared, or nil.
func (rec Record) BMI() *float64 {
	if rec.WeightKg == nil || rec.HeightCm == nil {
		return nil
	}
	m := *rec.HeightCm / 100
	v := math.Round(*rec.WeightKg/(m*m)*10) / 10
	return &v
}

// Active reports whether a drug order counts as current.
func (m Medication) Active() bool {
	return m.Status == "active" || m.Status == "on-hold" || m.Status == "intended"
}

// OnClass reports whether an order of class is current.
func (rec Record) OnClass(class string) bool {
	return slices.ContainsFunc(rec.Medications, func(m Medication) bool { return m.Class == class && m.Active() })
}

// HasCondition reports whether an active condition's text contains any of
// words (lower case).
func (rec Record) HasCondition(words ...string) bool {
	return slices.ContainsFunc(rec.Conditions, func(c Condition) bool {
		return c.Active && containsAny(strings.ToLower(c.Text), words)
	})
}
