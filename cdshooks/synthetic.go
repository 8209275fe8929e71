package cdshooks

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/audit"
	"github.com/orthocds/orthocds/patient"
)

// The synthetic patients are FHIR R4 bundles invented by the project for
// tests and for the standalone sidebar demo. Every resource carries the
// meta tag "synthetic"; none describes a real person.
//
//go:embed patients/*.json
var patientFiles embed.FS

// SyntheticPatient is one bundled synthetic patient.
type SyntheticPatient struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Lang     string          `json:"lang"`
	Services []string        `json:"services"` // which services it exercises
	Bundle   json.RawMessage `json:"-"`
}

// SyntheticPatients returns the bundled synthetic patients.
func SyntheticPatients() ([]SyntheticPatient, error) {
	b, err := patientFiles.ReadFile("patients/index.json")
	if err != nil {
		return nil, err
	}
	var ps []SyntheticPatient
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, err
	}
	for i := range ps {
		if ps[i].Bundle, err = patientFiles.ReadFile("patients/" + ps[i].ID + ".json"); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// Resources returns the bundle's resources by type.
func (p SyntheticPatient) Resources() (map[string][]json.RawMessage, error) {
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(p.Bundle, &b); err != nil {
		return nil, err
	}
	out := map[string][]json.RawMessage{}
	for _, e := range b.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(e.Resource, &head); err != nil {
			return nil, err
		}
		out[head.ResourceType] = append(out[head.ResourceType], e.Resource)
	}
	return out, nil
}

// SearchSet wraps resources as a FHIR searchset Bundle.
func SearchSet(rs []json.RawMessage) json.RawMessage {
	entries := make([]map[string]json.RawMessage, len(rs))
	for i, r := range rs {
		entries[i] = map[string]json.RawMessage{"resource": r}
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "searchset", "total": len(rs), "entry": entries})
	return b
}

// Request builds the hook request an EHR would send for the patient: the
// context (with the draft orders for order hooks) and, when prefetch is
// true, every prefetch key of the service filled from the bundle.
func (p SyntheticPatient) Request(h *Hooks, serviceID, hook string, prefetch bool) (*Request, error) {
	rs, err := p.Resources()
	if err != nil {
		return nil, err
	}
	return h.requestFor(rs, p.ID, serviceID, hook, prefetch)
}

// ResourcesOf splits a FHIR Bundle into its resources by type.
func ResourcesOf(bundle json.RawMessage) (map[string][]json.RawMessage, error) {
	return SyntheticPatient{Bundle: bundle}.Resources()
}

// requestFor builds a hook request from a patient's resources.
func (h *Hooks) requestFor(rs map[string][]json.RawMessage, patientID, serviceID, hook string, prefetch bool) (*Request, error) {
	svc, _ := h.find(serviceID, hook)
	if svc == nil {
		return nil, fmt.Errorf("no service %s for %s", serviceID, hook)
	}
	ctx := map[string]any{"userId": "Practitioner/synthetic-clinician", "patientId": patientID}
	if hook != "patient-view" {
		var sel []string
		for _, r := range rs["ServiceRequest"] {
			var sr struct {
				ID string `json:"id"`
			}
			json.Unmarshal(r, &sr)
			sel = append(sel, "ServiceRequest/"+sr.ID)
		}
		ctx["draftOrders"] = SearchSet(rs["ServiceRequest"])
		if hook == "order-select" {
			ctx["selections"] = sel
		}
	}
	cb, _ := json.Marshal(ctx)
	req := &Request{Hook: hook, HookInstance: "page-" + newUUID()}
	if err := json.Unmarshal(cb, &req.Context); err != nil {
		return nil, err
	}
	if prefetch {
		req.Prefetch = map[string]json.RawMessage{}
		for key, tmpl := range svc.info.Prefetch {
			typ, _, _ := strings.Cut(strings.SplitN(tmpl, "/", 2)[0], "?")
			switch {
			case strings.HasPrefix(tmpl, "Patient/"):
				req.Prefetch[key] = rs["Patient"][0]
			case len(rs[typ]) == 0:
				req.Prefetch[key] = json.RawMessage("null")
			default:
				req.Prefetch[key] = SearchSet(rs[typ])
			}
		}
	}
	return req, nil
}

// ServiceCard is a card with the service that gave it.
type ServiceCard struct {
	Service string `json:"service"`
	Card
}

// PatientView is what the sidebar page shows for a patient: the facts read
// (no identifiers) and every service's cards.
type PatientView struct {
	Patient patient.Record `json:"patient"`
	Cards   []ServiceCard  `json:"cards"`
}

// MaxBundleBytes bounds a bundle sent by the sidebar page.
const MaxBundleBytes = 8 << 20

// View runs every service on a patient's FHIR bundle, as the sidebar page
// needs: the patient-view services, and the order services on the
// bundle's draft ServiceRequests. The bundle must hold the Patient.
func (h *Hooks) View(ctx context.Context, bundle json.RawMessage, base, lang string) (*PatientView, error) {
	rs, err := ResourcesOf(bundle)
	if err != nil {
		return nil, orthocds.Invalid("/bundle", "must be a FHIR Bundle of the patient's resources")
	}
	if len(rs["Patient"]) != 1 {
		return nil, orthocds.Invalid("/bundle", "must hold exactly one Patient")
	}
	var pt struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(rs["Patient"][0], &pt); pt.ID == "" {
		pt.ID = "unknown"
	}
	v := &PatientView{Cards: []ServiceCard{}}
	rd := patient.Reader{Now: h.cfg.Now(), Sets: h.cfg.ValueSets}
	if err := rd.Add("/bundle", bundle); err != nil {
		return nil, err
	}
	v.Patient = rd.Record()
	done := map[string]bool{}
	var used []string
	for _, s := range h.services {
		if done[s.info.ID] || (s.info.Hook != "patient-view" && len(rs["ServiceRequest"]) == 0) {
			continue
		}
		hook := s.info.Hook
		if hook != "patient-view" {
			hook = "order-select"
		}
		if svc, _ := h.find(s.info.ID, hook); svc == nil {
			continue
		}
		done[s.info.ID] = true
		req, err := h.requestFor(rs, pt.ID, s.info.ID, hook, true)
		if err != nil {
			return nil, err
		}
		resp, c, err := h.call(ctx, s.info.ID, req, Invocation{Base: base, Lang: lang})
		if err != nil {
			return nil, err
		}
		for _, card := range resp.Cards {
			v.Cards = append(v.Cards, ServiceCard{Service: s.info.ID, Card: card})
		}
		if c.predictor != "" {
			used = append(used, c.predictor+"@"+c.predictorVersion)
		}
	}
	// One audit row for the whole view.
	if h.cfg.Audit != nil {
		e := audit.Event{Kind: audit.KindView, InputHash: audit.HashInput(bundle), CorpusVersion: h.cfg.CorpusVersion,
			Outcome: fmt.Sprintf("%d cards", len(v.Cards)), Predictor: strings.Join(used, " ")}
		if p, ok := orthocds.PrincipalFrom(ctx); ok {
			e.Principal, e.Role = p.ID, string(p.Role)
		}
		for _, sc := range v.Cards {
			for _, id := range sc.entries {
				if !slices.Contains(e.Entries, id) {
					e.Entries = append(e.Entries, id)
				}
			}
		}
		if err := h.cfg.Audit.Append(ctx, e); err != nil {
			return nil, err
		}
	}
	return v, nil
}
