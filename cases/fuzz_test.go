package cases

import (
	"os"
	"testing"
	"testing/fstest"

	"github.com/orthocds/orthocds/guidelines"
)

// FuzzLoad: any case file is loaded or refused with an error, never a
// crash; a loaded case can be played and graded.
func FuzzLoad(f *testing.F) {
	corpus, err := guidelines.Load(guidelines.Embedded())
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"op-untreated.yaml", "dcm-opll-kline.yaml"} {
		b, err := os.ReadFile("data/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := Load(fstest.MapFS{"case.yaml": {Data: b}}, corpus)
		if err != nil {
			return
		}
		for i := range cs {
			d := NewDrill(&cs[i], "zh")
			d.Ask("骨折 pain fracture")
			d.Order("dxa x-ray 血")
			d.Submit("osteoporosis", "alendronate", noConcepts{})
		}
	})
}

type noConcepts struct{}

func (noConcepts) DomainConcepts(string) []string { return nil }

// FuzzSubmit: any diagnosis and plan a student types, in either language
// and any bytes, is graded without a crash, to a score in [0, 1].
func FuzzSubmit(f *testing.F) {
	cs, scope := load(f)
	for _, s := range [][2]string{
		{"Osteoporosis on denosumab", "Do not just stop, give zoledronic acid, alendronate or risedronate - then check CTX."},
		{"骨质疏松\n使用地舒单抗", "唑来膦酸、阿仑膦酸都不需要；直接停。"},
		{"\xff骨", "no\xe4, a\n不"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, diagnosis, plan string) {
		if len(diagnosis) > 4000 || len(plan) > 4000 {
			return // the drill service refuses longer answers (drills.MaxAnswer)
		}
		for i := range cs {
			if g := NewDrill(&cs[i], "zh").Submit(diagnosis, plan, scope); g.Score < 0 || g.Score > 1 {
				t.Fatalf("%s: score %v", cs[i].ID, g.Score)
			}
		}
	})
}
