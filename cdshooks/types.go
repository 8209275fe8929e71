package cdshooks

import "encoding/json"

// The JSON shapes of the CDS Hooks specification (cds-hooks.hl7.org, the
// text kept in shared/reference). Optional members are omitted, never null
// or empty, as the specification requires.

// ServiceInfo is one entry of the discovery response.
type ServiceInfo struct {
	Hook              string            `json:"hook"`
	Title             string            `json:"title,omitempty"`
	Description       string            `json:"description"`
	ID                string            `json:"id"`
	Prefetch          map[string]string `json:"prefetch,omitempty"`
	UsageRequirements string            `json:"usageRequirements,omitempty"`
}

// Discovery is the response of GET /cds-services.
type Discovery struct {
	Services []ServiceInfo `json:"services"`
}

// Request is a hook call.
type Request struct {
	Hook              string                     `json:"hook"`
	HookInstance      string                     `json:"hookInstance"`
	FHIRServer        string                     `json:"fhirServer,omitempty"`
	FHIRAuthorization *FHIRAuthorization         `json:"fhirAuthorization,omitempty"`
	Context           map[string]json.RawMessage `json:"context"`
	Prefetch          map[string]json.RawMessage `json:"prefetch,omitempty"`
	Extension         json.RawMessage            `json:"extension,omitempty"`
}

// FHIRAuthorization is the bearer token a client lends for its FHIR server.
type FHIRAuthorization struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	Subject     string `json:"subject"`
	Patient     string `json:"patient,omitempty"`
}

// Response is a service's answer.
type Response struct {
	Cards         []Card   `json:"cards"`
	SystemActions []Action `json:"systemActions,omitempty"`
}

// Card is one piece of guidance.
type Card struct {
	UUID              string       `json:"uuid,omitempty"`
	Summary           string       `json:"summary"`
	Detail            string       `json:"detail,omitempty"`
	Indicator         string       `json:"indicator"` // info, warning, critical
	Source            Source       `json:"source"`
	Suggestions       []Suggestion `json:"suggestions,omitempty"`
	SelectionBehavior string       `json:"selectionBehavior,omitempty"`
	OverrideReasons   []Coding     `json:"overrideReasons,omitempty"`
	Links             []Link       `json:"links,omitempty"`
	// Extension carries, under "org.orthocds.hospital-passage", the
	// hospital document a card quotes (file, page, chunk), so that the
	// sidebar can put the hospital's documents first when asked about it.
	Extension map[string]any `json:"extension,omitempty"`

	// topic is what the card is about, independent of the patient (the
	// title and section of the first guideline entry it cites): the query
	// for the hospital's own documents.
	topic string
	// entries are the guideline entries the card cites, for the audit trail.
	entries []string
}

// Indicators.
const (
	Info     = "info"
	Warning  = "warning"
	Critical = "critical"
)

// Source is where a card's guidance comes from.
type Source struct {
	Label string  `json:"label"`
	URL   string  `json:"url,omitempty"`
	Icon  string  `json:"icon,omitempty"`
	Topic *Coding `json:"topic,omitempty"`
}

// Suggestion is a set of actions the user may accept.
type Suggestion struct {
	Label         string   `json:"label"`
	UUID          string   `json:"uuid,omitempty"`
	IsRecommended bool     `json:"isRecommended,omitempty"`
	Actions       []Action `json:"actions,omitempty"`
}

// Action is a FHIR create, update or delete.
type Action struct {
	Type        string         `json:"type"`
	Description string         `json:"description"`
	Resource    map[string]any `json:"resource,omitempty"`
	ResourceID  string         `json:"resourceId,omitempty"`
}

// Link opens a page or a SMART app.
type Link struct {
	Label      string `json:"label"`
	URL        string `json:"url"`
	Type       string `json:"type"` // absolute or smart
	AppContext string `json:"appContext,omitempty"`
}

// Coding is the specification's trimmed FHIR Coding.
type Coding struct {
	Code    string `json:"code"`
	System  string `json:"system"`
	Display string `json:"display,omitempty"`
}

// FeedbackRequest is the body of POST /cds-services/{id}/feedback.
type FeedbackRequest struct {
	Feedback []Feedback `json:"feedback"`
}

// Feedback is what the user did with one card.
type Feedback struct {
	Card                string               `json:"card"`
	Outcome             string               `json:"outcome"` // accepted or overridden
	AcceptedSuggestions []AcceptedSuggestion `json:"acceptedSuggestions,omitempty"`
	OverrideReason      *OverrideReason      `json:"overrideReason,omitempty"`
	OutcomeTimestamp    string               `json:"outcomeTimestamp"`
}

// AcceptedSuggestion names an accepted suggestion by its uuid.
type AcceptedSuggestion struct {
	ID string `json:"id"`
}

// OverrideReason is why a card was overridden.
type OverrideReason struct {
	Reason      *Coding `json:"reason,omitempty"`
	UserComment string  `json:"userComment,omitempty"`
}
