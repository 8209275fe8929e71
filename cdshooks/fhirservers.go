package cdshooks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/orthocds/orthocds"
)

// ErrFHIRServerNotAllowed is wrapped by the error refusing a request whose
// fhirServer is not on the caller's allow-list.
var ErrFHIRServerNotAllowed = errors.New("fhirServer not on the allow-list")

// FHIRServersSetting names where the allow-lists of FHIR servers are
// configured, for error messages.
const FHIRServersSetting = "ORTHOCDS_FHIR_SERVERS, or fhirServers of the client in ORTHOCDS_CDS_CLIENTS"

// ParseFHIRServers checks a list of FHIR base URLs and returns them in
// canonical form (see canonicalFHIRBase). field names the setting in
// errors, each URL as field/i.
func ParseFHIRServers(field string, urls []string) ([]string, error) {
	out := make([]string, 0, len(urls))
	for i, u := range urls {
		c, ok := canonicalFHIRBase(strings.TrimSpace(u))
		if !ok {
			return nil, orthocds.Invalid(fmt.Sprintf("%s/%d", field, i),
				"must be the base URL of a FHIR server: http or https, a host, no user, query or fragment")
		}
		out = append(out, c)
	}
	return out, nil
}

// canonicalFHIRBase returns a FHIR base URL in the form allow-lists are
// compared in: scheme and host in lower case, the scheme's default port
// dropped, no trailing slash. A URL with user information, a query or a
// fragment is no base URL (and user information is how
// "https://allowed@elsewhere" tricks a naive prefix check).
func canonicalFHIRBase(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return "", false
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host = net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	return scheme + "://" + host + path, true
}

// fhirSource decides where a request's missing prefetch may be read from:
// its fhirServer when that is on the caller's allow-list or the global
// one. With no allow-list at all nothing is ever fetched (""); a
// fhirServer off a list that exists is refused before any connection, in
// words that say nothing about the server named.
func (h *Hooks) fhirSource(req *Request, callerList []string) (string, error) {
	if req.FHIRServer == "" || len(h.fhirServers)+len(callerList) == 0 {
		return "", nil
	}
	c, ok := canonicalFHIRBase(req.FHIRServer)
	if ok && (slices.Contains(h.fhirServers, c) || slices.ContainsFunc(callerList, func(u string) bool {
		cu, ok := canonicalFHIRBase(u)
		return ok && cu == c
	})) {
		return req.FHIRServer, nil
	}
	return "", &orthocds.Error{Code: orthocds.EFORBIDDEN, Field: "/fhirServer", Err: ErrFHIRServerNotAllowed,
		Message: "fhirServer is not on this client's allow-list of FHIR servers; OrthoCDS reads only from the servers configured in " + FHIRServersSetting}
}

// sameOriginRedirects refuses a redirect to another scheme, host or port:
// the allow-list names servers, and a redirect must not lead elsewhere.
func sameOriginRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if !sameOrigin(via[0].URL.String(), req.URL.String()) {
		return errors.New("a redirect to another server")
	}
	return nil
}
