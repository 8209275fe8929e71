package cdshooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/cdshooks"
)

type noNetwork struct{}

func (noNetwork) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no network in fuzzing")
}

// FuzzCall: any request body to any service is answered or refused with
// an error of a user-facing kind (never internal), and never panics.
func FuzzCall(f *testing.F) {
	h := hooks(f, nil)
	fuzzing := cdshooks.New(cdshooks.Config{Guidelines: corpus, Predictors: preds,
		FHIR: cdshooks.NewFHIRClient(&http.Client{Transport: noNetwork{}})})
	ps, _ := cdshooks.SyntheticPatients()
	for _, p := range ps {
		for _, s := range p.Services {
			sv := serviceFor[s]
			req, _ := p.Request(h, sv[0], sv[1], true)
			b, _ := json.Marshal(req)
			f.Add(sv[0], b)
		}
	}
	f.Add(cdshooks.OsteoporosisID, []byte(`{"hook":"patient-view","hookInstance":"x","context":{"patientId":"1"},"fhirServer":"https://fhir.example.org"}`))
	f.Fuzz(func(t *testing.T, id string, body []byte) {
		req, err := cdshooks.DecodeRequest(bytes.NewReader(body))
		if err != nil {
			return
		}
		_, err = fuzzing.Call(context.Background(), id, req, "https://cds.example.org", "en")
		if err != nil && orthocds.ErrorCode(err) == orthocds.EINTERNAL {
			t.Fatalf("internal error for a client's request: %v", err)
		}
	})
}
