package scores

import (
	"fmt"
	"sort"

	"github.com/orthocds/orthocds"
)

// CapriniItem is one risk factor of the Caprini 2005 model.
type CapriniItem struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Points int    `json:"points"`
}

// CapriniItems is the full item list of Caprini JA, Dis Mon 2005;51:70-78,
// except the age bands, which are scored from age_years.
var CapriniItems = []CapriniItem{
	{"stroke-1m", "Stroke within 1 month", 5},
	{"elective-lower-extremity-arthroplasty", "Elective major lower-extremity arthroplasty", 5},
	{"hip-pelvis-leg-fracture-1m", "Hip, pelvis or leg fracture within 1 month", 5},
	{"acute-spinal-cord-injury-1m", "Acute spinal cord injury within 1 month", 5},
	{"history-of-vte", "History of DVT/PE", 3},
	{"family-history-vte", "Family history of VTE", 3},
	{"factor-v-leiden", "Factor V Leiden", 3},
	{"prothrombin-20210a", "Prothrombin 20210A", 3},
	{"lupus-anticoagulant", "Lupus anticoagulant", 3},
	{"anticardiolipin-antibodies", "Anticardiolipin antibodies", 3},
	{"raised-homocysteine", "Raised serum homocysteine", 3},
	{"heparin-induced-thrombocytopenia", "Heparin-induced thrombocytopenia", 3},
	{"other-thrombophilia", "Other congenital or acquired thrombophilia", 3},
	{"arthroscopic-surgery", "Arthroscopic surgery", 2},
	{"laparoscopic-surgery-over-45min", "Laparoscopic surgery over 45 minutes", 2},
	{"major-open-surgery-over-45min", "Major open surgery over 45 minutes", 2},
	{"malignancy", "Malignancy", 2},
	{"plaster-cast-1m", "Plaster cast within 1 month", 2},
	{"bed-over-72h", "Confined to bed over 72 hours", 2},
	{"central-venous-access", "Central venous access", 2},
	{"bmi-over-25", "BMI over 25", 1},
	{"minor-surgery", "Minor surgery", 1},
	{"swollen-legs", "Swollen legs", 1},
	{"varicose-veins", "Varicose veins", 1},
	{"pregnancy-or-postpartum", "Pregnancy or postpartum", 1},
	{"oral-contraceptives-or-hrt", "Oral contraceptives or hormone replacement", 1},
	{"stillbirth-or-recurrent-abortion", "Unexplained stillbirth or recurrent spontaneous abortion", 1},
	{"sepsis-1m", "Sepsis within 1 month", 1},
	{"serious-lung-disease-1m", "Serious lung disease within 1 month", 1},
	{"abnormal-pulmonary-function", "Abnormal pulmonary function / COPD", 1},
	{"acute-myocardial-infarction", "Acute myocardial infarction", 1},
	{"congestive-heart-failure-1m", "Congestive heart failure within 1 month", 1},
	{"medical-patient-bed-rest", "Medical patient at bed rest", 1},
	{"inflammatory-bowel-disease", "Inflammatory bowel disease", 1},
	{"major-surgery-1m", "Major surgery within 1 month", 1},
}

var capriniByID = func() map[string]CapriniItem {
	m := map[string]CapriniItem{}
	for _, it := range CapriniItems {
		m[it.ID] = it
	}
	return m
}()

// CapriniInput is the calculator's input: age and the IDs of the items
// present.
type CapriniInput struct {
	AgeYears *float64 `json:"age_years"`
	Items    []string `json:"items"`
}

// Caprini scores the Caprini 2005 model and its band.
func Caprini(in CapriniInput) (Result, error) {
	var bad []orthocds.FieldError
	if in.AgeYears == nil || *in.AgeYears < 0 || *in.AgeYears > 120 {
		bad = append(bad, orthocds.FieldError{Field: "/age_years", Detail: "is required, between 0 and 120"})
	}
	seen := map[string]bool{}
	var items []Contributor
	for i, id := range in.Items {
		it, ok := capriniByID[id]
		switch {
		case !ok:
			bad = append(bad, orthocds.FieldError{Field: fmt.Sprintf("/items/%d", i),
				Detail: fmt.Sprintf("unknown Caprini item %q", id)})
		case seen[id]:
			bad = append(bad, orthocds.FieldError{Field: fmt.Sprintf("/items/%d", i), Detail: "listed twice"})
		default:
			seen[id] = true
			items = append(items, Contributor{ID: it.ID, Label: it.Label, Points: it.Points})
		}
	}
	if err := fieldErrors(bad); err != nil {
		return Result{}, err
	}
	switch age := *in.AgeYears; {
	case age >= 75:
		items = append(items, Contributor{"age-75-plus", "Age 75 or over", 3})
	case age >= 61:
		items = append(items, Contributor{"age-61-74", "Age 61-74", 2})
	case age >= 41:
		items = append(items, Contributor{"age-41-60", "Age 41-60", 1})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Points > items[j].Points })
	total := 0
	for _, it := range items {
		total += it.Points
	}
	r := Result{Calculator: "caprini", Value: num(float64(total)), Items: items,
		Sources: []string{"caprini-2005-bands"}}
	switch {
	case total <= 1:
		r.Category = "low"
		r.Summary = Bilingual{fmt.Sprintf("Caprini %d: low risk.", total), fmt.Sprintf("Caprini评分%d分：低危。", total)}
	case total == 2:
		r.Category = "moderate"
		r.Summary = Bilingual{"Caprini 2: moderate risk.", "Caprini评分2分：中危。"}
	case total <= 4:
		r.Category = "high"
		r.Summary = Bilingual{fmt.Sprintf("Caprini %d: high risk.", total), fmt.Sprintf("Caprini评分%d分：高危。", total)}
	default:
		r.Category = "highest"
		r.Summary = Bilingual{fmt.Sprintf("Caprini %d: highest risk.", total), fmt.Sprintf("Caprini评分%d分：极高危。", total)}
	}
	return r, nil
}
