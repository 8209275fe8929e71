package cdshooks

import (
	"context"
	"strings"

	"github.com/orthocds/orthocds/predictors"
)

// HospitalID is the service that offers a hospital's own predictors, for
// the draft orders whose codes their definition files name.
const HospitalID = "orthocds-hospital-predictors"

// hospitalPredictors are the registered hospital predictors that name
// order codes.
func hospitalPredictors() []predictors.Definition {
	var out []predictors.Definition
	for _, d := range predictors.All() {
		if d.Hospital && len(d.OrderCodes) > 0 {
			out = append(out, d)
		}
	}
	return out
}

func hospitalService() *service {
	var names []string
	for _, d := range hospitalPredictors() {
		names = append(names, d.Title.EN)
	}
	return &service{
		info: ServiceInfo{Hook: "order-select", ID: HospitalID, Title: "OrthoCDS hospital predictors / 本院预测模型",
			Description: "For a draft order whose code a hospital's own predictor names: that predictor's estimate with its explanation (" +
				strings.Join(names, "; ") + ").",
			Prefetch: orderPrefetch},
		cards: hospitalCards,
	}
}

// sameSystem compares code system URIs as EHRs write them.
func sameSystem(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
}

func hospitalCards(_ context.Context, c *call) ([]Card, error) {
	var cards []Card
	for _, o := range c.orders {
		for _, d := range hospitalPredictors() {
			hit := false
			for _, oc := range d.OrderCodes {
				for _, cd := range o.codings {
					hit = hit || (sameSystem(cd.System, oc.System) && strings.TrimSpace(cd.Code) == oc.Code)
				}
			}
			if !hit {
				continue
			}
			in := newInputs(c.patient)
			in.recordedFor(d.Schema, o.inputs)
			in.only(d.Schema.Names()) // age and sex only when the predictor takes them
			card, ok := c.predictorCard(d.Title.EN, d.ID, in)
			if !ok {
				continue
			}
			card.Source.Label = "OrthoCDS: " + c.tr("the hospital's own predictor", "本院自有预测模型") + " (" + d.Owner + ")"
			cards = append(cards, card)
		}
	}
	return cards, nil
}
