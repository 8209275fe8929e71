package predictors

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/predictors/model"
)

// A hospital's definition file is validated at load, naming the field; a
// valid one registers, and XGBoost's model of it (made by XGBoost 1.7.4,
// testdata/hospital/make_hospital_fixture.py) imports and scores as
// XGBoost did.
func TestHospitalDefinition(t *testing.T) {
	good, err := os.ReadFile("testdata/hospital/hu-cement-leakage.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDefinition("hu-cement-leakage.yaml", good)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "hu-cement-leakage" || len(d.Schema) != 5 || !d.Hospital || d.Schema[4].Levels[1] != "thoracic" || len(d.OrderCodes) != 1 {
		t.Errorf("definition %+v", d)
	}
	for _, tc := range []struct {
		name, from, to, field string
	}{
		{"bad id", "id: hu-cement-leakage", "id: HU Cement", "/id"},
		{"shipped id", "id: hu-cement-leakage", "id: cement-leakage", "/id"},
		{"no owner", `owner: "SYNTHETIC test hospital, spine registry team"`, "", "/owner"},
		{"title in one language", `zh: "基于CT值的骨水泥渗漏（合成登记模型）"`, `zh: ""`, "/title"},
		{"unknown type", "name: vertebral_hu, type: number", "name: vertebral_hu, type: decimal", "/features/1/type"},
		{"number without unit", "type: number, unit: HU,", "type: number,", "/features/1/unit"},
		{"min above max", "min: -50, max: 400", "min: 500, max: 400", "/features/1/max"},
		{"optional without default", "required: false, default: 4,", "required: false,", "/features/2/default"},
		{"default out of range", "default: 4,", "default: 40,", "/features/2/default"},
		{"one level", "levels: [lumbar, thoracic]", "levels: [lumbar]", "/features/4/levels"},
		{"no sources", `sources: ["SYNTHETIC: made up for the tests"]}
  - {name: level`, `sources: []}
  - {name: level`, "/features/3/sources"},
		{"unknown key", "owner:", "ownr:", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := strings.Replace(string(good), tc.from, tc.to, 1)
			if b == string(good) {
				t.Fatalf("%q not in the file", tc.from)
			}
			_, err := ParseDefinition("x.yaml", []byte(b))
			var e *orthocds.Error
			if err == nil || orthocds.ErrorCode(err) != orthocds.EINVALID {
				t.Fatalf("accepted: %v", err)
			}
			if asErr(err, &e); !strings.HasPrefix(e.Field, "x.yaml"+tc.field) {
				t.Errorf("field %q (%s), want x.yaml%s", e.Field, e.Message, tc.field)
			}
		})
	}

	if err := Register(d); err != nil {
		t.Fatal(err)
	}
	if got, ok := Get("hu-cement-leakage"); !ok || got.Title.EN != d.Title.EN {
		t.Fatal("registered predictor not found")
	}
	b, _ := os.ReadFile("testdata/hospital/hu-xgboost.json")
	e, err := model.ParseXGBoost(b, d.Schema.Names())
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open("testdata/hospital/hu-valid.csv")
	data, _, err := ReadCSVMissing(d, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("testdata/hospital/hu-xgboost-expected.txt")
	for i, l := range strings.Fields(string(want)) {
		var p float64
		if _, err := fmt.Sscan(l, &p); err != nil {
			t.Fatal(err)
		}
		if got := e.Predict(data.X[i]); math.Abs(got-p) > 1e-6 {
			t.Fatalf("row %d: %.9f, XGBoost %.9f", i, got, p)
		}
	}
}

func asErr(err error, e **orthocds.Error) bool { return errors.As(err, e) }
