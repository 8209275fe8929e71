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
	"github.com/orthocds/orthocds/valuesets"
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
	// Labs are the laboratory and body measurements read by value set
	// (obs-bmi, obs-egfr, obs-calcium in mg/dL, obs-vitamind in ng/mL,
	// obs-ddimer in mg/L FEU): the latest of each.
	Labs map[string]float64 `json:"labs,omitempty"`
	// Facts are the value sets the record's conditions and drugs fell in,
	// and how: by a code, or by words as the last resort.
	Facts map[string]Fact `json:"facts,omitempty"`
	// Uninterpreted are the codes of conditions, drugs and observations
	// that no value set knows: shown, never silently dropped.
	Uninterpreted []Code `json:"uninterpreted,omitempty"`
}

// Fact is a value set a record fell in.
type Fact struct {
	By     string `json:"by"` // code or text
	Active bool   `json:"active"`
	// Code is the system|code that reached it, for a code match.
	Code string `json:"code,omitempty"`
}

// Code is a coding the reader saw.
type Code struct {
	Resource string `json:"resource"` // Condition, Medication, Observation
	System   string `json:"system"`
	Code     string `json:"code"`
	Display  string `json:"display,omitempty"`
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

// DrugClass returns the class of a drug name by the medication value sets'
// words, or "".
func DrugClass(name string) string {
	sets, err := valuesets.Shipped()
	if err != nil {
		return ""
	}
	for _, m := range sets.Match(valuesets.Medication, nil, name) {
		return m.Set.Class
	}
	return ""
}

var fragilityWords = []string{"fragility", "osteoporotic", "low-trauma", "low trauma", "insufficiency", "脆性", "骨质疏松性", "低能量"}

// Reader collects resources into a Record. Now fixes "today" for ages and
// recency; Sets are the value sets that codes are read by (nil: the shipped
// ones).
type Reader struct {
	Now  time.Time
	Sets *valuesets.Sets
	rec  Record
}

func (r *Reader) sets() *valuesets.Sets {
	if r.Sets == nil {
		s, err := valuesets.Shipped()
		if err != nil {
			panic(err) // embedded data, tested
		}
		r.Sets = s
	}
	return r.Sets
}

// note records the value sets a resource fell in and the codes none knew.
func (r *Reader) note(resource, kind string, codings []valuesets.Coding, matches []valuesets.Match, active bool) {
	if r.rec.Facts == nil {
		r.rec.Facts = map[string]Fact{}
	}
	for _, m := range matches {
		f := Fact{By: m.By, Active: active}
		if m.Code != nil {
			f.Code = valuesets.SystemURI(m.Code.System) + "|" + m.Code.Code
		}
		old, seen := r.rec.Facts[m.Set.ID]
		switch {
		case !seen, old.By == valuesets.ByText && f.By == valuesets.ByCode:
			f.Active = f.Active || old.Active
			r.rec.Facts[m.Set.ID] = f
		default:
			old.Active = old.Active || active
			r.rec.Facts[m.Set.ID] = old
		}
	}
	for _, c := range codings {
		if c.System == "" || c.Code == "" || c.System == InputSystem || len(r.sets().Code(kind, c)) > 0 {
			continue
		}
		code := Code{Resource: resource, System: c.System, Code: c.Code, Display: c.Display}
		if !slices.Contains(r.rec.Uninterpreted, code) {
			r.rec.Uninterpreted = append(r.rec.Uninterpreted, code)
		}
	}
}

// Has reports whether the record holds a fact (a value set id): a current
// condition or drug, or, for history facts (fractures, prior VTE, falls),
// any record of it.
func (rec Record) Has(fact string) bool {
	f, ok := rec.Facts[fact]
	return ok && (f.Active || historyFacts[fact] || strings.HasPrefix(fact, "fracture-"))
}

// historyFacts count whatever their clinical status: a resolved DVT is a
// prior VTE.
var historyFacts = map[string]bool{"vte-history": true, "falls": true}

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

// codingsOf returns a CodeableConcept's codings for value-set matching.
func codingsOf(cc *fhir.CodeableConcept) []valuesets.Coding {
	if cc == nil {
		return nil
	}
	var out []valuesets.Coding
	for _, c := range cc.Coding {
		var v valuesets.Coding
		if c.System != nil {
			v.System = *c.System
		}
		if c.Code != nil {
			v.Code = *c.Code
		}
		if c.Display != nil {
			v.Display = *c.Display
		}
		out = append(out, v)
	}
	return out
}

func ccText(cc *fhir.CodeableConcept) string {
	if cc == nil || cc.Text == nil {
		return ""
	}
	return *cc.Text
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
	_, text := codes(&o.Code)
	codings := codingsOf(&o.Code)
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
				// A unit we cannot convert from leaves the value unread,
				// shown with the codes not interpreted; the rest of the
				// record still counts.
				for _, c := range codings {
					code := Code{Resource: "Observation", System: c.System, Code: c.Code, Display: "unit " + unit + " not read"}
					if !slices.Contains(r.rec.Uninterpreted, code) {
						r.rec.Uninterpreted = append(r.rec.Uninterpreted, code)
					}
				}
				return 0, false, nil
			}
			v *= f
		}
		if math.IsNaN(v) || v < lo || v > hi {
			// The value itself is left out: it is patient data.
			return 0, false, orthocds.Invalid(at+"/valueQuantity/value", "is outside %g to %g", lo, hi)
		}
		return v, true, nil
	}
	// By code first; words only when no code reached a value set (the
	// unit check still guards the value).
	var matches []valuesets.Match
	for _, c := range codings {
		matches = append(matches, r.sets().Code(valuesets.Observation, c)...)
	}
	if len(matches) == 0 {
		matches = r.sets().Match(valuesets.Observation, codings, text)
	}
	r.note("Observation", valuesets.Observation, codings, matches, true)
	for _, m := range matches {
		spec, ok := measures[m.Set.ID]
		if !ok {
			continue
		}
		v, ok, err := value(spec.lo, spec.hi, spec.units)
		if err != nil || !ok {
			return err
		}
		switch m.Set.ID {
		case "obs-weight":
			r.rec.WeightKg = &v
		case "obs-height":
			r.rec.HeightCm = &v
		case "obs-tscore":
			site := text
			if m.Code != nil {
				site = m.Code.Site
			}
			r.rec.TScores = append(r.rec.TScores, TScore{Site: site, Value: v, Date: date})
		default:
			if r.rec.Labs == nil {
				r.rec.Labs = map[string]float64{}
			}
			r.rec.Labs[m.Set.ID] = v
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
	return nil
}

// measure is how an observation value set's values are read: the range a
// human body allows and the units accepted, as factors to the unit stored.
type measure struct {
	lo, hi float64
	units  map[string]float64 // nil: no unit is checked
}

// measures are the observation value sets read. Unit factors are exact
// conversions (pounds, inches) or the molar masses of calcium (40.08 g/mol:
// 1 mmol/L = 4.008 mg/dL) and 25-hydroxyvitamin D (400.6 g/mol: 1 nmol/L =
// 0.4006 ng/mL); D-dimer is read in FEU only (1 ug/mL = 1 mg/L).
var measures = map[string]measure{
	"obs-weight":   {20, 300, map[string]float64{"kg": 1, "[lb_av]": 0.45359237, "g": 0.001}},
	"obs-height":   {50, 250, map[string]float64{"cm": 1, "m": 100, "[in_i]": 2.54}},
	"obs-tscore":   {-10, 10, nil},
	"obs-bmi":      {10, 80, map[string]float64{"kg/m2": 1, "kg/m^2": 1}},
	"obs-egfr":     {0, 200, map[string]float64{"mL/min/{1.73_m2}": 1, "mL/min/1.73m2": 1, "mL/min": 1}},
	"obs-calcium":  {2, 20, map[string]float64{"mg/dL": 1, "mmol/L": 4.008}},
	"obs-vitamind": {1, 250, map[string]float64{"ng/mL": 1, "nmol/L": 0.4006}},
	"obs-ddimer":   {0, 100, map[string]float64{"mg/L{FEU}": 1, "mg/L": 1, "ug/mL{FEU}": 1, "ug/mL": 1, "ng/mL{FEU}": 0.001, "ng/mL": 0.001}},
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
		// By its code, whatever system the EHR put beside it (some send
		// none).
		active = slices.ContainsFunc(c.ClinicalStatus.Coding, func(cd fhir.Coding) bool {
			return cd.Code != nil && slices.Contains([]string{"active", "recurrence", "relapse"}, *cd.Code)
		})
	}
	codings := codingsOf(c.Code)
	matches := r.sets().Match(valuesets.Condition, codings, ccText(c.Code))
	r.note("Condition", valuesets.Condition, codings, matches, active)
	if f, ok := r.fracture(matches, text, onset); ok {
		r.rec.Fractures = append(r.rec.Fractures, f)
		return nil
	}
	if text == "" && len(matches) > 0 {
		text = titled(matches[0].Set) // a condition sent as codes alone
	}
	r.rec.Conditions = append(r.rec.Conditions, Condition{Text: text, Codes: list, Active: active, Onset: onset})
	return nil
}

// titled names a value set in both languages, for a resource that came
// with codes and no text.
func titled(vs *valuesets.ValueSet) string { return vs.Title.ZH + " / " + vs.Title.EN }

// fracture reads a condition as a fracture: by a fracture value set (its
// site; fragility when the code says osteoporotic), or, as the last
// resort, by the word fracture or 骨折 in its text.
func (r *Reader) fracture(matches []valuesets.Match, text string, onset time.Time) (Fracture, bool) {
	f := Fracture{Site: "other", Onset: onset, Text: text}
	found := false
	for _, m := range matches {
		if m.Set.Site != "" && (f.Site == "other" || m.By == valuesets.ByCode) {
			f.Site, found = m.Set.Site, true
		}
		if m.Set.Fragility {
			f.Fragility, found = true, true
		}
	}
	low := strings.ToLower(text)
	if !found && !strings.Contains(low, "fracture") && !strings.Contains(low, "骨折") {
		return f, false
	}
	if containsAny(low, fragilityWords) {
		f.Fragility = true
	}
	if f.Text == "" {
		for _, m := range matches {
			if f.Text == "" || m.Set.Site != "" {
				f.Text = titled(m.Set)
			}
		}
	}
	return f, true
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
	codings := codingsOf(m.MedicationCodeableConcept)
	matches := r.sets().Match(valuesets.Medication, codings, ccText(m.MedicationCodeableConcept))
	med := Medication{Name: name, Status: m.Status}
	r.note("Medication", valuesets.Medication, codings, matches, med.activeStatus())
	var set *valuesets.ValueSet
	for _, x := range matches {
		if set == nil || x.By == valuesets.ByCode {
			set = x.Set
		}
	}
	if set == nil {
		return nil
	}
	med.Class = set.Class
	if med.Name == "" {
		med.Name = titled(set)
	}
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
func (m Medication) Active() bool { return m.activeStatus() }

func (m Medication) activeStatus() bool {
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
