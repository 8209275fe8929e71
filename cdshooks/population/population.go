// Package population generates a SYNTHETIC population of FHIR R4 patients,
// seeded and reproducible, coded the way real EHRs code them: Synthea's
// SNOMED CT, LOINC and RxNorm; US ICD-10-CM; a Chinese hospital's ICD-10
// (WHO categories under its own system URI) with Chinese display names and
// ATC drug codes; a UK-style mix of SNOMED CT and ATC. Every patient
// carries what it should be read as (its facts) and what the services
// should say (bone density category, fracture risk tier, which services
// give cards), so that a test can score the reading per fact. Every code
// used is a real code of its system; the patients are invented.
package population

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// Styles of coding.
const (
	Synthea  = "synthea"   // SNOMED CT, LOINC, RxNorm; English displays
	USICD10  = "us-icd10"  // ICD-10-CM, LOINC, RxNorm
	CNICD10  = "cn-icd10"  // ICD-10 under a hospital URI, Chinese displays, ATC
	UKSNOMED = "uk-snomed" // SNOMED CT and ATC
)

// Styles are all coding styles, in generation order.
var Styles = []string{Synthea, USICD10, CNICD10, UKSNOMED}

// CNICD10System is the system URI the Chinese-style patients' diagnoses
// use: a hospital's own URI for its edition of ICD-10, as such EHRs send.
const CNICD10System = "https://fhir.hospital.example.cn/CodeSystem/icd-10-clinical"

const (
	snomed = "http://snomed.info/sct"
	loinc  = "http://loinc.org"
	rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
	atc    = "http://www.whocc.no/atc"
	icd10c = "http://hl7.org/fhir/sid/icd-10-cm"
	cpt    = "http://www.ama-assn.org/go/cpt"
	icd9cm = "http://hl7.org/fhir/sid/icd-9-cm"
)

// Facts are the value sets (package valuesets) scored per patient.
var Facts = []string{"osteoporosis", "fracture-osteoporotic", "fracture-hip", "fracture-vertebra", "fracture-forearm",
	"fracture-humerus", "fracture-pelvis", "vte-history", "hypertension", "cancer", "ckd", "falls",
	"drug-bisphosphonate", "drug-denosumab", "drug-anabolic", "drug-serm", "drug-glucocorticoid", "drug-anticoagulant", "drug-antiplatelet",
	"obs-tscore", "obs-weight", "obs-egfr"}

// code is one coding a style uses for a fact.
type code struct{ system, code, display string }

// codes are, per style and fact, the codings a patient with the fact gets.
// A style lacking a fact codes no patient with it.
var codes = map[string]map[string][]code{
	Synthea: {
		"osteoporosis":          {{snomed, "64859006", "Osteoporosis (disorder)"}},
		"fracture-osteoporotic": {{snomed, "443165006", "Pathological fracture due to osteoporosis (disorder)"}},
		"fracture-hip":          {{snomed, "359817006", "Closed fracture of hip (disorder)"}, {snomed, "5913000", "Fracture of neck of femur (disorder)"}},
		"fracture-forearm":      {{snomed, "65966004", "Fracture of forearm (disorder)"}},
		"vte-history":           {{snomed, "128053003", "Deep venous thrombosis (disorder)"}, {snomed, "59282003", "Pulmonary embolism (disorder)"}},
		"hypertension":          {{snomed, "59621000", "Essential hypertension (disorder)"}},
		"cancer":                {{snomed, "109989006", "Multiple myeloma (disorder)"}},
		"ckd":                   {{snomed, "431857002", "Chronic kidney disease stage 4 (disorder)"}},
		"drug-bisphosphonate":   {{rxnorm, "904420", "Alendronic acid 10 MG [Fosamax]"}},
		"drug-glucocorticoid":   {{rxnorm, "8640", "prednisone"}},
		"drug-anticoagulant":    {{rxnorm, "1114195", "rivaroxaban"}},
		"drug-antiplatelet":     {{rxnorm, "1191", "aspirin"}},
		"obs-tscore":            {{loinc, "38265-5", "DXA [T-score] Bone density"}},
		"obs-weight":            {{loinc, "29463-7", "Body weight"}},
		"obs-egfr":              {{loinc, "33914-3", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by Creatinine-based formula (MDRD)"}},
	},
	USICD10: {
		"osteoporosis":          {{icd10c, "M81.0", "Age-related osteoporosis without current pathological fracture"}},
		"fracture-osteoporotic": {{icd10c, "M80.08XA", "Age-related osteoporosis with current pathological fracture, vertebra(e), initial encounter for fracture"}},
		"fracture-hip":          {{icd10c, "S72.001A", "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture"}},
		"fracture-vertebra":     {{icd10c, "S32.010A", "Wedge compression fracture of first lumbar vertebra, initial encounter for closed fracture"}},
		"fracture-forearm":      {{icd10c, "S52.501A", "Unspecified fracture of the lower end of right radius, initial encounter for closed fracture"}},
		"fracture-humerus":      {{icd10c, "S42.201A", "Unspecified fracture of upper end of right humerus, initial encounter for closed fracture"}},
		"fracture-pelvis":       {{icd10c, "S32.501A", "Unspecified fracture of right pubis, initial encounter for closed fracture"}},
		"vte-history":           {{icd10c, "Z86.718", "Personal history of other venous thrombosis and embolism"}, {icd10c, "I26.99", "Other pulmonary embolism without acute cor pulmonale"}},
		"hypertension":          {{icd10c, "I10", "Essential (primary) hypertension"}},
		"cancer":                {{icd10c, "C90.00", "Multiple myeloma not having achieved remission"}},
		"ckd":                   {{icd10c, "N18.4", "Chronic kidney disease, stage 4 (severe)"}},
		"falls":                 {{icd10c, "Z91.81", "History of falling"}},
		"drug-bisphosphonate":   {{rxnorm, "904420", "Alendronic acid 10 MG [Fosamax]"}},
		"drug-glucocorticoid":   {{rxnorm, "8638", "prednisolone"}},
		"drug-anticoagulant":    {{rxnorm, "1364430", "apixaban"}, {rxnorm, "11289", "warfarin"}},
		"drug-antiplatelet":     {{rxnorm, "32968", "clopidogrel"}},
		"obs-tscore":            {{loinc, "38267-1", "DXA Lumbar spine [T-score] Bone density"}},
		"obs-weight":            {{loinc, "29463-7", "Body weight"}},
		"obs-egfr":              {{loinc, "62238-1", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI)"}},
	},
	CNICD10: {
		"osteoporosis":          {{CNICD10System, "M81.0", "绝经后骨质疏松"}},
		"fracture-osteoporotic": {{CNICD10System, "M80.0", "绝经后骨质疏松伴病理性骨折"}},
		"fracture-hip":          {{CNICD10System, "S72.0", "股骨颈骨折"}},
		"fracture-vertebra":     {{CNICD10System, "S32.0", "腰椎骨折"}, {CNICD10System, "S22.0", "胸椎骨折"}},
		"fracture-forearm":      {{CNICD10System, "S52.5", "桡骨下端骨折"}},
		"fracture-humerus":      {{CNICD10System, "S42.2", "肱骨上端骨折"}},
		"fracture-pelvis":       {{CNICD10System, "S32.5", "耻骨骨折"}},
		"vte-history":           {{CNICD10System, "I80.2", "下肢深静脉血栓形成"}, {CNICD10System, "I26.9", "肺栓塞"}},
		"hypertension":          {{CNICD10System, "I10", "原发性高血压"}},
		"cancer":                {{CNICD10System, "C90.0", "多发性骨髓瘤"}},
		"ckd":                   {{CNICD10System, "N18.4", "慢性肾脏病4期"}},
		"falls":                 {{CNICD10System, "W19", "跌倒"}},
		"drug-bisphosphonate":   {{atc, "M05BA04", "阿仑膦酸钠片"}, {atc, "M05BA08", "唑来膦酸注射液"}},
		"drug-denosumab":        {{atc, "M05BX04", "地舒单抗注射液"}},
		"drug-anabolic":         {{atc, "H05AA02", "特立帕肽注射液"}},
		"drug-serm":             {{atc, "G03XC01", "盐酸雷洛昔芬片"}},
		"drug-glucocorticoid":   {{atc, "H02AB07", "泼尼松片"}},
		"drug-anticoagulant":    {{atc, "B01AF01", "利伐沙班片"}, {atc, "B01AB05", "依诺肝素钠注射液"}},
		"drug-antiplatelet":     {{atc, "B01AC06", "阿司匹林肠溶片"}},
		"obs-tscore":            {{loinc, "38264-8", "髋部T值"}},
		"obs-weight":            {{loinc, "29463-7", "体重"}},
		"obs-egfr":              {{loinc, "98979-8", "估算肾小球滤过率"}},
	},
	UKSNOMED: {
		"osteoporosis":          {{snomed, "64859006", "Osteoporosis (disorder)"}},
		"fracture-osteoporotic": {{snomed, "443165006", "Pathological fracture due to osteoporosis (disorder)"}},
		"fracture-hip":          {{snomed, "5913000", "Fracture of neck of femur (disorder)"}},
		"fracture-forearm":      {{snomed, "65966004", "Fracture of forearm (disorder)"}},
		"vte-history":           {{snomed, "128053003", "Deep venous thrombosis (disorder)"}},
		"hypertension":          {{snomed, "38341003", "Hypertensive disorder, systemic arterial (disorder)"}},
		"cancer":                {{snomed, "363346000", "Malignant neoplastic disease (disorder)"}},
		"ckd":                   {{snomed, "709044004", "Chronic kidney disease (disorder)"}},
		"drug-bisphosphonate":   {{atc, "M05BA07", "Risedronic acid"}},
		"drug-denosumab":        {{atc, "M05BX04", "Denosumab"}},
		"drug-anabolic":         {{atc, "H05AA02", "Teriparatide"}},
		"drug-serm":             {{atc, "G03XC01", "Raloxifene"}},
		"drug-glucocorticoid":   {{atc, "H02AB06", "Prednisolone"}},
		"drug-anticoagulant":    {{atc, "B01AB05", "Enoxaparin"}},
		"drug-antiplatelet":     {{atc, "B01AC04", "Clopidogrel"}},
		"obs-tscore":            {{loinc, "38263-0", "DXA Femur [T-score] Bone density"}},
		"obs-weight":            {{loinc, "29463-7", "Body weight"}},
	},
}

// distractors are codings that mean none of the facts: a test of
// specificity (a traumatic tibia fracture, a coccyx fracture, diabetes,
// metformin, HbA1c).
var distractors = map[string][]code{
	"condition": {
		{snomed, "44054006", "Diabetes mellitus type 2 (disorder)"},
		{icd10c, "E11.9", "Type 2 diabetes mellitus without complications"},
		{CNICD10System, "E11.9", "2型糖尿病"},
		{icd10c, "S82.201A", "Unspecified fracture of shaft of right tibia, initial encounter for closed fracture"},
		{CNICD10System, "S32.2", "尾骨骨折"},
	},
	"medication":  {{atc, "A10BA02", "Metformin"}},
	"observation": {{loinc, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"}},
}

// orders are the draft orders of the order services, per kind, in the
// systems EHRs order procedures in.
var orders = map[string][]code{
	"hip":            {{cpt, "27130", "Total hip arthroplasty"}, {snomed, "52734007", "Total replacement of hip"}, {icd9cm, "81.51", "全髋关节置换术"}},
	"knee":           {{cpt, "27447", "Total knee arthroplasty"}, {snomed, "609588000", "Total knee replacement"}, {icd9cm, "81.54", "全膝关节置换术"}},
	"vertebroplasty": {{cpt, "22511", "Percutaneous vertebroplasty, lumbosacral"}, {icd9cm, "81.65", "经皮椎体成形术"}},
	"kyphoplasty":    {{cpt, "22514", "Percutaneous vertebral augmentation, lumbar"}, {icd9cm, "81.66", "经皮椎体后凸成形术"}},
	"laminoplasty":   {{cpt, "63050", "Laminoplasty, cervical"}},
	"acdf":           {{cpt, "22551", "Anterior cervical discectomy and fusion"}, {icd9cm, "81.02", "颈椎前路融合术"}},
}

// orderServices are the services each order kind should fire.
var orderServices = map[string]string{
	"hip": "orthocds-vte-arthroplasty", "knee": "orthocds-vte-arthroplasty",
	"vertebroplasty": "orthocds-cement-leakage", "kyphoplasty": "orthocds-cement-leakage",
	"laminoplasty": "orthocds-axial-pain", "acdf": "orthocds-axial-pain",
}

// Patient is one SYNTHETIC patient in three codings of the same record:
// codes with display text, codes alone, and text alone.
type Patient struct {
	ID    string
	Style string
	// Coded has codes and displays; CodesOnly the same with every display
	// and text removed; TextOnly with every code removed and the display
	// kept as text.
	Coded, CodesOnly, TextOnly json.RawMessage
	Expect                     Expect
}

// Expect is what the services should read and say.
type Expect struct {
	Facts map[string]bool // every fact in Facts, true when present
	// Category of the lowest T-score: normal, low-bone-mass, osteoporosis,
	// severe-osteoporosis, or "" without a T-score.
	Category string
	Tier     string   // very-high, high or ""
	Services []string // the order services that should give cards
}

// Generate returns n SYNTHETIC patients from seed, their ages and fracture
// dates relative to now.
func Generate(seed uint64, n int, now time.Time) []Patient {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	out := make([]Patient, n)
	for i := range out {
		out[i] = generate(rng, fmt.Sprintf("pop-%03d", i+1), Styles[i%len(Styles)], now)
	}
	return out
}

type resource map[string]any

func generate(rng *rand.Rand, id, style string, now time.Time) Patient {
	p := Patient{ID: id, Style: style, Expect: Expect{Facts: map[string]bool{}}}
	for _, f := range Facts {
		p.Expect.Facts[f] = false
	}
	sex := "female"
	if rng.Float64() < 0.25 {
		sex = "male"
	}
	born := now.AddDate(-(50 + rng.IntN(40)), -rng.IntN(12), -rng.IntN(28))
	entries := []resource{{"resourceType": "Patient", "id": id, "gender": sex, "birthDate": born.Format("2006-01-02"),
		"meta": map[string]any{"tag": []any{map[string]any{"system": "https://orthocds.org/fhir/CodeSystem/data-origin", "code": "synthetic", "display": "SYNTHETIC"}}}}}
	table := codes[style]
	pick := func(fact string) (code, bool) {
		cs := table[fact]
		if len(cs) == 0 {
			return code{}, false
		}
		return cs[rng.IntN(len(cs))], true
	}
	cc := func(c code) map[string]any {
		return map[string]any{"coding": []any{map[string]any{"system": c.system, "code": c.code, "display": c.display}}, "text": c.display}
	}
	var fragility, fragilityRecent, spine int
	for _, fact := range []string{"osteoporosis", "fracture-osteoporotic", "fracture-hip", "fracture-vertebra", "fracture-forearm",
		"fracture-humerus", "fracture-pelvis", "vte-history", "hypertension", "cancer", "ckd", "falls"} {
		if rng.Float64() >= 0.3 {
			continue
		}
		c, ok := pick(fact)
		if !ok {
			continue
		}
		p.Expect.Facts[fact] = true
		if fact == "fracture-osteoporotic" {
			// An osteoporotic fracture is osteoporosis; ICD-10-CM M80.08
			// also names the site: a vertebra.
			p.Expect.Facts["osteoporosis"] = true
			if style == USICD10 {
				p.Expect.Facts["fracture-vertebra"] = true
				spine++
			}
		}
		r := resource{"resourceType": "Condition", "id": fmt.Sprintf("%s-c%d", id, len(entries)), "code": cc(c),
			"clinicalStatus": map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}}},
			"subject":        map[string]any{"reference": "Patient/" + id}}
		if fact == "fracture-osteoporotic" {
			fragility++
			months := 1 + rng.IntN(60)
			if months < 24 {
				fragilityRecent++
			}
			r["onsetDateTime"] = now.AddDate(0, -months, 0).Format("2006-01-02")
		}
		entries = append(entries, r)
	}
	for _, fact := range []string{"drug-bisphosphonate", "drug-denosumab", "drug-anabolic", "drug-serm", "drug-glucocorticoid", "drug-anticoagulant", "drug-antiplatelet"} {
		if rng.Float64() >= 0.25 {
			continue
		}
		c, ok := pick(fact)
		if !ok {
			continue
		}
		p.Expect.Facts[fact] = true
		entries = append(entries, resource{"resourceType": "MedicationRequest", "id": fmt.Sprintf("%s-m%d", id, len(entries)),
			"status": "active", "intent": "order", "medicationCodeableConcept": cc(c), "subject": map[string]any{"reference": "Patient/" + id},
			"authoredOn": now.AddDate(0, -rng.IntN(24), 0).Format("2006-01-02")})
	}
	obs := func(c code, value float64, unit string) resource {
		return resource{"resourceType": "Observation", "id": fmt.Sprintf("%s-o%d", id, len(entries)), "status": "final", "code": cc(c),
			"subject":           map[string]any{"reference": "Patient/" + id},
			"effectiveDateTime": now.AddDate(0, -rng.IntN(12), 0).Format("2006-01-02"),
			"valueQuantity":     map[string]any{"value": value, "unit": unit, "code": unit, "system": "http://unitsofmeasure.org"}}
	}
	var tscore *float64
	if c, ok := pick("obs-tscore"); ok && rng.Float64() < 0.7 {
		v := float64(int(-(rng.Float64()*4.0)*10)) / 10 // 0.0 to -3.9, one decimal
		tscore = &v
		p.Expect.Facts["obs-tscore"] = true
		entries = append(entries, obs(c, v, "{T-score}"))
	}
	if c, ok := pick("obs-weight"); ok && rng.Float64() < 0.7 {
		p.Expect.Facts["obs-weight"] = true
		entries = append(entries, obs(c, float64(40+rng.IntN(50)), "kg"))
	}
	if c, ok := pick("obs-egfr"); ok && rng.Float64() < 0.4 {
		p.Expect.Facts["obs-egfr"] = true
		entries = append(entries, obs(c, float64(15+rng.IntN(90)), "mL/min/{1.73_m2}"))
	}
	// Distractors: codings that mean none of the facts.
	for range rng.IntN(3) {
		d := distractors["condition"][rng.IntN(len(distractors["condition"]))]
		entries = append(entries, resource{"resourceType": "Condition", "id": fmt.Sprintf("%s-c%d", id, len(entries)), "code": cc(d),
			"subject": map[string]any{"reference": "Patient/" + id}})
	}
	if rng.Float64() < 0.3 {
		entries = append(entries, resource{"resourceType": "MedicationRequest", "id": fmt.Sprintf("%s-m%d", id, len(entries)),
			"status": "active", "intent": "order", "medicationCodeableConcept": cc(distractors["medication"][0]),
			"subject": map[string]any{"reference": "Patient/" + id}})
	}
	if rng.Float64() < 0.3 {
		entries = append(entries, obs(distractors["observation"][0], 7.1, "%"))
	}
	// A draft order for a third of the patients.
	if rng.Float64() < 0.35 {
		kinds := []string{"hip", "knee", "vertebroplasty", "kyphoplasty", "laminoplasty", "acdf"}
		kind := kinds[rng.IntN(len(kinds))]
		c := orders[kind][rng.IntN(len(orders[kind]))]
		entries = append(entries, resource{"resourceType": "ServiceRequest", "id": id + "-order", "status": "draft", "intent": "proposal",
			"code": cc(c), "subject": map[string]any{"reference": "Patient/" + id}})
		p.Expect.Services = []string{orderServices[kind]}
	}
	p.Expect.Category, p.Expect.Tier = expected(tscore, fragility, fragilityRecent, spine)
	p.Coded = bundle(entries)
	p.CodesOnly = bundle(strip(entries, false))
	p.TextOnly = bundle(strip(entries, true))
	return p
}

// expected applies the WHO 1994 categories (T-score -2.5 or lower is
// osteoporosis, severe with a fragility fracture; between -1.0 and -2.5 low
// bone mass) and the tiers the osteoporosis service states (very high: a
// diagnosis and a fragility fracture in the past 24 months, more than one,
// or a T-score below -3.0; high: a diagnosis, which a T-score of -2.5 or
// lower makes, or a fragility fracture of the hip or spine). The tier is
// stated on the T-score card, so a patient without a T-score has none.
func expected(t *float64, fragility, recent, hipOrSpine int) (category, tier string) {
	if t == nil {
		return "", ""
	}
	switch v := *t; {
	case v <= -2.5 && fragility > 0:
		category = "severe-osteoporosis"
	case v <= -2.5:
		category = "osteoporosis"
	case v < -1.0:
		category = "low-bone-mass"
	default:
		category = "normal"
	}
	if *t <= -2.5 || hipOrSpine > 0 {
		tier = "high"
		if recent > 0 || fragility > 1 || *t < -3.0 {
			tier = "very-high"
		}
	}
	return category, tier
}

func bundle(entries []resource) json.RawMessage {
	var es []any
	for _, e := range entries {
		es = append(es, map[string]any{"resource": e})
	}
	b, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "collection", "entry": es})
	if err != nil {
		panic(err) // maps of strings and numbers
	}
	return b
}

// strip returns copies of the resources with every code removed (textOnly)
// or every display and text removed.
func strip(entries []resource, textOnly bool) []resource {
	out := make([]resource, len(entries))
	for i, e := range entries {
		c := resource{}
		for k, v := range e {
			c[k] = v
		}
		for _, key := range []string{"code", "medicationCodeableConcept"} {
			cc, ok := e[key].(map[string]any)
			if !ok {
				continue
			}
			coding := cc["coding"].([]any)[0].(map[string]any)
			if textOnly {
				c[key] = map[string]any{"text": coding["display"]}
			} else {
				c[key] = map[string]any{"coding": []any{map[string]any{"system": coding["system"], "code": coding["code"]}}}
			}
		}
		out[i] = c
	}
	return out
}
