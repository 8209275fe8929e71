package cdshooks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/valuesets"
)

// Procedure kinds the order services act on.
const (
	HipArthroplasty   = "hip-arthroplasty"
	KneeArthroplasty  = "knee-arthroplasty"
	Vertebroplasty    = "vertebroplasty"
	Kyphoplasty       = "kyphoplasty"
	CervicalAnterior  = "cervical-anterior"
	CervicalPosterior = "cervical-laminoplasty"
)

// order is one draft order of a procedure the services know.
type order struct {
	ref       string // ServiceRequest/123
	kind      string
	text      string
	bilateral bool
	// inputs are predictor inputs carried on the order (planned cement
	// volume, planned surgery time...) as extensions coded by input name.
	inputs map[string]float64
	// codings are the order's codes, which may offer a hospital's own
	// predictor.
	codings []valuesets.Coding
}

// procedureSets are the procedure value sets (package valuesets) of the
// order services, in the order they are tried: a kyphoplasty order is not
// also a vertebroplasty order.
var procedureSets = []struct{ kind, set string }{
	{Kyphoplasty, "proc-kyphoplasty"},
	{Vertebroplasty, "proc-vertebroplasty"},
	{CervicalPosterior, "proc-cervical-posterior"},
	{CervicalAnterior, "proc-cervical-anterior"},
	{KneeArthroplasty, "proc-knee-arthroplasty"},
	{HipArthroplasty, "proc-hip-arthroplasty"},
}

// procedureKind names an order's procedure from its codes (any system the
// value sets know) or, as the last resort, from its text and displays.
func procedureKind(sets *valuesets.Sets, codings []valuesets.Coding, text string) string {
	matches := sets.Match(valuesets.Procedure, codings, text)
	for _, by := range []string{valuesets.ByCode, valuesets.ByText} {
		for _, p := range procedureSets {
			if slices.ContainsFunc(matches, func(m valuesets.Match) bool { return m.Set.ID == p.set && m.By == by }) {
				return p.kind
			}
		}
	}
	return ""
}

// OrderInputExtension is the extension URL of a predictor input carried on
// a draft order; its valueDecimal (or valueInteger, valueBoolean) is the
// input and the extension's "id" names it, for example
// {"url": OrderInputExtension, "id": "cement_volume_ml", "valueDecimal": 3.5}.
const OrderInputExtension = "https://orthocds.org/fhir/StructureDefinition/predictor-input"

// readOrders reads the procedure orders of context.draftOrders; for
// order-select, only those named in context.selections.
func readOrders(req *Request, sets *valuesets.Sets) ([]order, error) {
	var bundle struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(req.Context["draftOrders"], &bundle); err != nil || bundle.ResourceType != "Bundle" {
		return nil, orthocds.Invalid("/context/draftOrders", "must be a FHIR Bundle")
	}
	var selections []string
	if raw, ok := req.Context["selections"]; ok {
		if err := json.Unmarshal(raw, &selections); err != nil {
			return nil, orthocds.Invalid("/context/selections", "must be an array of resource references")
		}
	}
	if req.Hook == "order-select" && len(selections) == 0 {
		return nil, orthocds.Invalid("/context/selections", "is required for order-select")
	}
	var out []order
	for i, e := range bundle.Entry {
		at := fmt.Sprintf("/context/draftOrders/entry/%d/resource", i)
		var r struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
			Code         *struct {
				Text   string `json:"text"`
				Coding []struct {
					System  string `json:"system"`
					Code    string `json:"code"`
					Display string `json:"display"`
				} `json:"coding"`
			} `json:"code"`
			BodySite []struct {
				Text string `json:"text"`
			} `json:"bodySite"`
			Extension []struct {
				URL          string   `json:"url"`
				ID           string   `json:"id"`
				ValueDecimal *float64 `json:"valueDecimal"`
				ValueInteger *float64 `json:"valueInteger"`
				ValueBoolean *bool    `json:"valueBoolean"`
			} `json:"extension"`
		}
		if err := json.Unmarshal(e.Resource, &r); err != nil {
			return nil, orthocds.Invalid(at, "is not a valid FHIR resource")
		}
		if r.ResourceType != "ServiceRequest" || r.Code == nil {
			continue // medication and other orders are not procedures
		}
		ref := "ServiceRequest/" + r.ID
		if len(selections) > 0 && !slices.Contains(selections, ref) {
			continue
		}
		words := []string{r.Code.Text}
		var codings []valuesets.Coding
		for _, c := range r.Code.Coding {
			words = append(words, c.Display)
			codings = append(codings, valuesets.Coding{System: c.System, Code: c.Code, Display: c.Display})
		}
		text := strings.ToLower(strings.Join(words, " "))
		o := order{ref: ref, text: strings.TrimSpace(strings.Join(words, " ")), codings: codings}
		o.kind = procedureKind(sets, codings, r.Code.Text)
		if o.kind == "" && len(codings) == 0 {
			continue // neither a procedure we know nor coded for a hospital predictor
		}
		for _, b := range r.BodySite {
			if t := strings.ToLower(b.Text); strings.Contains(t, "bilateral") || strings.Contains(t, "双侧") {
				o.bilateral = true
			}
		}
		o.bilateral = o.bilateral || strings.Contains(text, "bilateral") || strings.Contains(text, "双侧")
		for j, x := range r.Extension {
			if x.URL != OrderInputExtension {
				continue
			}
			if x.ID == "" {
				return nil, orthocds.Invalid(fmt.Sprintf("%s/extension/%d/id", at, j), "names the predictor input")
			}
			if o.inputs == nil {
				o.inputs = map[string]float64{}
			}
			switch {
			case x.ValueDecimal != nil:
				o.inputs[x.ID] = *x.ValueDecimal
			case x.ValueInteger != nil:
				o.inputs[x.ID] = *x.ValueInteger
			case x.ValueBoolean != nil:
				o.inputs[x.ID] = b2f(*x.ValueBoolean)
			default:
				return nil, orthocds.Invalid(fmt.Sprintf("%s/extension/%d", at, j), "needs valueDecimal, valueInteger or valueBoolean")
			}
		}
		out = append(out, o)
	}
	return out, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
