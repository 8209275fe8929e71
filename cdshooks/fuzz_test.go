package cdshooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/orthocds/orthocds"
	"github.com/orthocds/orthocds/cdshooks"
)

// noNetwork fails every request, and fails the test for one to a host
// off the allow-list.
type noNetwork struct{ t atomic.Pointer[testing.T] }

func (n *noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != allowedFHIRHost {
		n.t.Load().Errorf("a request to %q, which is not on the allow-list", r.URL.Host)
	}
	return nil, errors.New("no network in fuzzing")
}

const allowedFHIRHost = "fhir.hospital.example"

// FuzzCall: any request body to any service is answered or refused with
// an error of a user-facing kind (never internal), never panics, and
// never makes a request to a FHIR server off the allow-list.
func FuzzCall(f *testing.F) {
	h := hooks(f, nil)
	network := &noNetwork{}
	fuzzing := cdshooks.New(cdshooks.Config{Guidelines: corpus, Predictors: preds,
		FHIRServers: []string{"https://" + allowedFHIRHost + "/r4"},
		FHIR:        cdshooks.NewFHIRClient(&http.Client{Transport: network})})
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
	f.Add(cdshooks.OsteoporosisID, []byte(`{"hook":"patient-view","hookInstance":"x","context":{"patientId":"1"},"fhirServer":"https://`+allowedFHIRHost+`/r4/"}`))
	f.Add(cdshooks.OsteoporosisID, []byte(`{"hook":"patient-view","hookInstance":"x","context":{"patientId":"1"},"fhirServer":"https://`+allowedFHIRHost+`@127.0.0.1/r4"}`))
	f.Fuzz(func(t *testing.T, id string, body []byte) {
		network.t.Store(t)
		req, err := cdshooks.DecodeRequest(bytes.NewReader(body))
		if err != nil {
			return
		}
		_, err = fuzzing.Call(context.Background(), id, req, cdshooks.Invocation{Base: "https://cds.example.org", Lang: "en"})
		if err != nil && orthocds.ErrorCode(err) == orthocds.EINTERNAL {
			t.Fatalf("internal error for a client's request: %v", err)
		}
	})
}
