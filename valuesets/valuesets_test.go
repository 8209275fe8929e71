package valuesets

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/orthocds/orthocds"
)

func shippedFS(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	names, _ := fs.Glob(Embedded(), "*.yaml")
	for _, n := range names {
		b, err := fs.ReadFile(Embedded(), n)
		if err != nil {
			t.Fatal(err)
		}
		m[n] = &fstest.MapFile{Data: b}
	}
	return m
}

// The shipped value sets load; every code names a source in sources.yaml
// (a value set without one is refused, naming the field), and faults are
// refused naming the file and field.
func TestLoadRefusesFaults(t *testing.T) {
	if _, err := Load(shippedFS(t)); err != nil {
		t.Fatalf("shipped value sets: %v", err)
	}
	const good = "id: x\nkind: condition\ntitle: {en: X, zh: 叉}\ncodes:\n  - {system: snomed, code: \"64859006\", display: Osteoporosis (disorder), source: snomed-ct}\n"
	cases := []struct{ name, body, want string }{
		{"code without a source", strings.Replace(good, ", source: snomed-ct", "", 1), "x.yaml/codes/0/source"},
		{"unknown source", strings.Replace(good, "snomed-ct}", "my-memory}", 1), "x.yaml/codes/0/source"},
		{"unknown system", strings.Replace(good, "system: snomed", "system: readv2", 1), "x.yaml/codes/0/system"},
		{"no display", strings.Replace(good, "display: Osteoporosis (disorder), ", "", 1), "x.yaml/codes/0/display"},
		{"prefix on SNOMED", strings.Replace(good, "code: \"64859006\",", "code: \"64859006\", prefix: true,", 1), "x.yaml/codes/0/prefix"},
		{"no codes", "id: x\nkind: condition\ntitle: {en: X, zh: 叉}\ntext: {en: [x]}\n", "x.yaml/codes"},
		{"id not the file name", strings.Replace(good, "id: x", "id: y", 1), "x.yaml/id"},
		{"unknown member", good + "colour: red\n", "x.yaml"},
		{"medication without class", strings.Replace(good, "kind: condition", "kind: medication", 1), "x.yaml/class"},
	}
	for _, tc := range cases {
		fsys := shippedFS(t)
		fsys["x.yaml"] = &fstest.MapFile{Data: []byte(tc.body)}
		_, err := Load(fsys)
		if orthocds.ErrorCode(err) != orthocds.EINVALID || !strings.Contains(fmt.Sprint(err), tc.want) {
			t.Errorf("%s: %v, want an invalid error naming %s", tc.name, err, tc.want)
		}
	}
}

// Codes are matched in the systems EHRs send them in: exact SNOMED, LOINC,
// RxNorm and CPT codes; ICD and ATC codes by category (with or without the
// dot, in WHO, ICD-10-CM and national-edition URIs); words only where no
// code reached the fact, and reported as a text match.
func TestMatch(t *testing.T) {
	s, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		kind   string
		coding Coding
		text   string
		want   string // value set id, "" for none
		by     string
	}{
		{Condition, Coding{"http://snomed.info/sct", "443165006", ""}, "", "fracture-osteoporotic", ByCode},
		{Condition, Coding{"http://hl7.org/fhir/sid/icd-10", "M81.0", ""}, "", "osteoporosis", ByCode},
		{Condition, Coding{"http://hl7.org/fhir/sid/icd-10-cm", "M8000XA", ""}, "", "fracture-osteoporotic", ByCode},
		{Condition, Coding{"https://hospital.example.cn/fhir/CodeSystem/icd10-clinical-2", "S72.001", "股骨颈骨折"}, "", "fracture-hip", ByCode},
		{Condition, Coding{"http://hl7.org/fhir/sid/icd-10", "S32.0", ""}, "", "fracture-vertebra", ByCode},
		{Condition, Coding{"http://hl7.org/fhir/sid/icd-10", "S32.2", ""}, "", "", ""}, // coccyx: neither vertebra nor pelvis here
		{Condition, Coding{"http://hl7.org/fhir/sid/icd-10", "C90.0", ""}, "", "cancer", ByCode},
		{Condition, Coding{"http://hl7.org/fhir/sid/icd-10-cm", "Z86.718", ""}, "", "vte-history", ByCode},
		{Condition, Coding{"http://example.org/local", "123", "Essential hypertension"}, "", "hypertension", ByText},
		{Condition, Coding{}, "高血压病3级", "hypertension", ByText},
		{Condition, Coding{}, "pitfall", "", ""},
		{Medication, Coding{"http://www.whocc.no/atc", "M05BA08", ""}, "", "drug-bisphosphonate", ByCode},
		{Medication, Coding{"http://www.nlm.nih.gov/research/umls/rxnorm", "1114195", ""}, "", "drug-anticoagulant", ByCode},
		{Medication, Coding{}, "唑来膦酸注射液 5mg", "drug-bisphosphonate", ByText},
		{Observation, Coding{"http://loinc.org", "38265-5", ""}, "", "obs-tscore", ByCode},
		{Procedure, Coding{"http://www.ama-assn.org/go/cpt", "22513", ""}, "", "proc-kyphoplasty", ByCode},
		{Procedure, Coding{"http://hl7.org/fhir/sid/icd-9-cm", "81.5400", ""}, "", "proc-knee-arthroplasty", ByCode},
		{Procedure, Coding{"http://www.cms.gov/Medicare/Coding/ICD10", "0SR90J9", ""}, "", "proc-hip-arthroplasty", ByCode},
	}
	for _, tc := range cases {
		var codings []Coding
		if tc.coding != (Coding{}) {
			codings = []Coding{tc.coding}
		}
		got := s.Match(tc.kind, codings, tc.text)
		switch {
		case tc.want == "" && len(got) != 0:
			t.Errorf("%+v %q: matched %s, want nothing", tc.coding, tc.text, got[0].Set.ID)
		case tc.want != "" && (len(got) == 0 || got[0].Set.ID != tc.want || got[0].By != tc.by):
			t.Errorf("%+v %q: %v, want %s by %s", tc.coding, tc.text, got, tc.want, tc.by)
		}
	}
}
