package predictors_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/orthocds/orthocds/predictors"
	"github.com/orthocds/orthocds/predictors/model"
	"github.com/orthocds/orthocds/predictors/shipped"
	"github.com/orthocds/orthocds/predictors/synth"
)

// rows draws n synthetic rows as the API receives them.
func rows(b *testing.B, id string, n int) []predictors.Row {
	def, _ := predictors.Get(id)
	c := synth.Generate(def, synth.Specs[id], n, 3, 1)
	out := make([]predictors.Row, n)
	for i, x := range c.X {
		r := predictors.Row{}
		for j, f := range def.Schema {
			switch f.Type {
			case predictors.Bool:
				r[f.Name] = json.RawMessage(strconv.FormatBool(x[j] == 1))
			case predictors.Category:
				r[f.Name], _ = json.Marshal(f.Levels[int(x[j])])
			default:
				r[f.Name] = json.RawMessage(strconv.FormatFloat(x[j], 'f', -1, 64))
			}
		}
		out[i] = r
	}
	return out
}

// BenchmarkPredictBatch scores batches of 10,000 rows with the shipped
// (stacking: logistic + trees) models through validation and scoring, with
// and without exact explanations, on one goroutine. rows/s is the figure the
// target (100,000 rows/s on one core) is read against.
func BenchmarkPredictBatch(b *testing.B) {
	arts, err := shipped.Artefacts()
	if err != nil {
		b.Fatal(err)
	}
	svc, err := predictors.NewService(arts)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range predictors.Definitions {
		batch := rows(b, d.ID, predictors.MaxRows)
		for _, explain := range []bool{false, true} {
			name := d.ID + "/scores"
			if explain {
				name = d.ID + "/scores+explanations"
			}
			b.Run(name, func(b *testing.B) {
				for range b.N {
					if _, err := svc.Predict(d.ID, batch, explain); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(batch)*b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

// BenchmarkModelScore scores encoded rows with each model kind alone.
func BenchmarkModelScore(b *testing.B) {
	arts, _ := shipped.Artefacts()
	a := arts[0]
	def, _ := predictors.Get(a.Predictor)
	c := synth.Generate(def, synth.Specs[a.Predictor], 10_000, 3, 1)
	for kind, m := range map[string]model.Scorer{"logistic": a.Stack.LR, "gbt": a.Stack.GBT, "stacking": a.Stack} {
		b.Run(kind, func(b *testing.B) {
			var sink float64
			for range b.N {
				for _, x := range c.X {
					sink += m.Logit(x)
				}
			}
			b.ReportMetric(float64(len(c.X)*b.N)/b.Elapsed().Seconds(), "rows/s")
			_ = sink
		})
	}
}
