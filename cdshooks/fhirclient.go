package cdshooks

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/orthocds/orthocds"
)

// FHIRClient reads from a CDS client's FHIR server the prefetch data the
// client did not send, with the bearer token the client lent.
type FHIRClient struct {
	HTTP *http.Client
	// MaxPages bounds how many pages of a search are followed.
	MaxPages int
	// MaxBytes bounds one response.
	MaxBytes int64
}

// NewFHIRClient returns a client; hc nil uses a 5 s timeout per request.
// Redirects are followed only to the same scheme, host and port (a
// redirect must not lead past the allow-list of FHIR servers).
func NewFHIRClient(hc *http.Client) *FHIRClient {
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	c := *hc
	c.CheckRedirect = sameOriginRedirects
	hc = &c
	return &FHIRClient{HTTP: hc, MaxPages: 10, MaxBytes: 8 << 20}
}

// Get runs a prefetch query (a read or a search, relative to base) and
// returns the resources: the one read, or every entry of every page of
// the search.
func (f *FHIRClient) Get(ctx context.Context, base, query string, auth *FHIRAuthorization) ([]json.RawMessage, error) {
	next := strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(query, "/")
	var out []json.RawMessage
	for page := 0; next != "" && page < f.MaxPages; page++ {
		body, err := f.get(ctx, next, auth)
		if err != nil {
			return nil, err
		}
		var head struct {
			ResourceType string `json:"resourceType"`
			Link         []struct {
				Relation string `json:"relation"`
				URL      string `json:"url"`
			} `json:"link"`
			Entry []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(body, &head); err != nil {
			return nil, orthocds.Errorf(orthocds.EUNAVAILABLE, "the FHIR server answered something that is not JSON")
		}
		if head.ResourceType != "Bundle" {
			return append(out, body), nil
		}
		for _, e := range head.Entry {
			if len(e.Resource) > 0 {
				out = append(out, e.Resource)
			}
		}
		next = ""
		for _, l := range head.Link {
			if l.Relation == "next" {
				next = l.URL
			}
		}
		if next != "" && !sameOrigin(base, next) {
			return nil, orthocds.Errorf(orthocds.EUNAVAILABLE, "the FHIR server's next page is on another server")
		}
	}
	return out, nil
}

func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == ub.Scheme && ua.Host == ub.Host
}

func (f *FHIRClient) get(ctx context.Context, u string, auth *FHIRAuthorization) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, orthocds.Errorf(orthocds.EINVALID, "cannot build the FHIR request")
	}
	req.Header.Set("Accept", "application/fhir+json")
	if auth != nil {
		req.Header.Set("Authorization", "Bearer "+auth.AccessToken)
	}
	resp, err := f.HTTP.Do(req)
	if err != nil {
		return nil, orthocds.Unavailable(err, "the FHIR server is not reachable")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.MaxBytes+1))
	if err != nil {
		return nil, orthocds.Unavailable(err, "reading from the FHIR server failed")
	}
	if int64(len(body)) > f.MaxBytes {
		return nil, orthocds.Errorf(orthocds.EUNAVAILABLE, "the FHIR server's answer is over %d bytes", f.MaxBytes)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, orthocds.Errorf(orthocds.EUNAVAILABLE, "the FHIR server refused access (%s)", resp.Status)
	case resp.StatusCode >= 300:
		return nil, orthocds.Errorf(orthocds.EUNAVAILABLE, "the FHIR server answered %s", resp.Status)
	}
	return body, nil
}
