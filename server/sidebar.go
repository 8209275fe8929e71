package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/yuin/goldmark"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/answer"
	"github.com/orthocds/orthocds/cdshooks"
	"github.com/orthocds/orthocds/handouts"
	"github.com/orthocds/orthocds/patient"
)

// Viewer runs every decision service on one patient's FHIR bundle, for
// the sidebar page; *cdshooks.Hooks is one.
type Viewer interface {
	View(ctx context.Context, bundle json.RawMessage, base, lang string) (*cdshooks.PatientView, error)
}

// SMARTConfig is what the sidebar page needs for a SMART App Launch: the
// client ID registered with the EHR and the scopes it asks for.
type SMARTConfig struct {
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

// DefaultSMARTScope reads what the services use, for the launched patient.
const DefaultSMARTScope = "launch openid fhirUser patient/Patient.rs patient/Observation.rs patient/Condition.rs " +
	"patient/MedicationRequest.rs patient/ServiceRequest.rs"

type sidebarCard struct {
	cdshooks.ServiceCard
	DetailHTML string `json:"detail_html"`
	// Handout is the query for the card's patient handout
	// (GET /v1/handouts/{topic}), when there is one for what it cites.
	Handout *handoutQuery `json:"handout,omitempty"`
}

// handoutQuery asks for a card's handout; it holds no identifier.
type handoutQuery struct {
	Topic       string   `json:"topic"`
	Entries     []string `json:"entries"`
	Predictor   string   `json:"predictor,omitempty"`
	Probability *float64 `json:"probability,omitempty"`
}

// handoutFor returns the handout query of a card whose sources a handout
// covers, or nil.
func (s *Server) handoutFor(c cdshooks.Card) *handoutQuery {
	ext, _ := c.Extension[cdshooks.HandoutExtension].(map[string]any)
	if s.cfg.Handouts == nil || ext == nil {
		return nil
	}
	q := &handoutQuery{}
	q.Topic, _ = ext["topic"].(string)
	q.Entries, _ = ext["entries"].([]string)
	if id, ok := ext["predictor"].(string); ok {
		p, _ := ext["probability"].(float64)
		q.Predictor, q.Probability = id, &p
	}
	if _, err := s.cfg.Handouts.Build(handouts.Request{Topic: q.Topic, Lang: "en", Entries: q.Entries,
		Predictor: q.Predictor, Probability: q.Probability}); err != nil {
		return nil
	}
	return q
}

type sidebarView struct {
	Patient    patient.Record  `json:"patient"`
	Ask        *answer.Patient `json:"ask"` // what "ask about this patient" sends: structured, no identifiers
	Cards      []sidebarCard   `json:"cards"`
	Disclaimer string          `json:"disclaimer"`
}

var md = goldmark.New() // raw HTML in Markdown is dropped; dangerous link schemes are not rendered

func (s *Server) patientCards(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Bundle json.RawMessage `json:"bundle"`
		Lang   string          `json:"lang"`
	}
	if err := decode(w, r, cdshooks.MaxBundleBytes, &in); err != nil {
		return err
	}
	if len(in.Bundle) == 0 {
		return orthocds.Invalid("/bundle", "is required: a FHIR Bundle of the patient's resources")
	}
	v, err := s.cfg.Viewer.View(r.Context(), in.Bundle, s.baseURL(r), in.Lang)
	if err != nil {
		return err
	}
	out := sidebarView{Patient: v.Patient, Ask: askPatient(v.Patient), Cards: make([]sidebarCard, len(v.Cards)), Disclaimer: orthocds.Disclaimer}
	for i, c := range v.Cards {
		var b bytes.Buffer
		if err := md.Convert([]byte(c.Detail), &b); err != nil {
			return err
		}
		out.Cards[i] = sidebarCard{ServiceCard: c, DetailHTML: b.String(), Handout: s.handoutFor(c.Card)}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// askPatient is the structured, identifier-free patient data a question
// about this patient carries to the answer service.
func askPatient(p patient.Record) *answer.Patient {
	a := &answer.Patient{AgeYears: p.AgeYears, Sex: p.Sex, WeightKg: p.WeightKg}
	if t := p.LowestTScore(); t != nil {
		v := t.Value
		a.TScore = &v
	}
	for _, f := range p.Fractures {
		a.FragilityFracture = a.FragilityFracture || f.Fragility
	}
	return a
}

func (s *Server) listSyntheticPatients(w http.ResponseWriter, r *http.Request) error {
	ps, err := cdshooks.SyntheticPatients()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"patients": ps,
		"note": "SYNTHETIC patients invented by the OrthoCDS project for tests and demonstration; none is a real person."})
	return nil
}

func (s *Server) getSyntheticPatient(w http.ResponseWriter, r *http.Request) error {
	ps, err := cdshooks.SyntheticPatients()
	if err != nil {
		return err
	}
	id := chi.URLParam(r, "id")
	for _, p := range ps {
		if p.ID == id {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Write(p.Bundle)
			return nil
		}
	}
	return orthocds.Errorf(orthocds.ENOTFOUND, "no synthetic patient %q", id)
}

func (s *Server) smartConfig(w http.ResponseWriter, r *http.Request) error {
	c := s.cfg.SMART
	if c.Scope == "" {
		c.Scope = DefaultSMARTScope
	}
	if c.ClientID == "" {
		c.ClientID = "orthocds"
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
