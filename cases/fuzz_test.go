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
