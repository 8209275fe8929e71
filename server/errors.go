package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/orthocds/orthocds"
)

// statusOf maps error kinds to HTTP status codes. It is the only place
// that does.
func statusOf(code string) int {
	switch code {
	case orthocds.EINVALID:
		return http.StatusUnprocessableEntity
	case orthocds.EMALFORMED:
		return http.StatusBadRequest
	case orthocds.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case orthocds.ENOTFOUND:
		return http.StatusNotFound
	case orthocds.ECONFLICT:
		return http.StatusConflict
	case orthocds.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case orthocds.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case orthocds.EFORBIDDEN:
		return http.StatusForbidden
	case orthocds.EPRECONDITION:
		return http.StatusPreconditionFailed
	case orthocds.ERATELIMITED:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem details document. Field and Errors are
// extension members naming the input at fault as JSON pointers.
type Problem struct {
	Type      string                `json:"type"`
	Title     string                `json:"title"`
	Status    int                   `json:"status"`
	Detail    string                `json:"detail"`
	Instance  string                `json:"instance,omitempty"`
	Field     string                `json:"field,omitempty"`
	Errors    []orthocds.FieldError `json:"errors,omitempty"`
	RequestID string                `json:"request_id,omitempty"`
}

// writeError writes err as problem JSON. Internal causes are logged with
// the request ID and never shown; messages of *orthocds.Error carry no
// patient text by construction.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := orthocds.ErrorCode(err)
	status := statusOf(code)
	p := Problem{Type: "https://orthocds.org/problems/" + code, Title: http.StatusText(status), Status: status,
		Detail: orthocds.ErrorMessage(err), Instance: r.URL.Path, RequestID: middleware.GetReqID(r.Context())}
	var oe *orthocds.Error
	if errors.As(err, &oe) {
		p.Field, p.Errors = oe.Field, oe.FieldErrors
	}
	if status >= 500 {
		s.log.Error("request failed", "request_id", p.RequestID, "route", routePattern(r), "kind", code, "cause", safeCause(err))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

// decode reads a JSON body into v: bounded in size, unknown fields refused,
// one value only. Errors name the offending field.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return orthocds.Errorf(orthocds.EMALFORMED, "the body holds more than one JSON value")
	}
	return nil
}

func decodeError(err error, limit int64) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		big *http.MaxBytesError
	)
	switch {
	case errors.As(err, &big):
		return &orthocds.Error{Code: orthocds.ETOOLARGE, Message: fmt.Sprintf("the body is over %d bytes", limit)}
	case errors.As(err, &syn):
		return &orthocds.Error{Code: orthocds.EMALFORMED, Message: fmt.Sprintf("malformed JSON at byte %d", syn.Offset)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &orthocds.Error{Code: orthocds.EMALFORMED, Message: "the body is empty or cut short"}
	case errors.As(err, &typ):
		field := "/" + strings.ReplaceAll(typ.Field, ".", "/")
		return &orthocds.Error{Code: orthocds.EINVALID, Field: field, Message: fmt.Sprintf("must be a %s", typ.Type)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for unknown fields.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &orthocds.Error{Code: orthocds.EINVALID, Field: name, Message: fmt.Sprintf("unknown field %q", name)}
	}
	return &orthocds.Error{Code: orthocds.EMALFORMED, Message: "the body is not valid JSON"}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// safeCause describes an error for the log without its free text, which
// may quote request values (a database error can echo a question): the
// types in the chain, SQLSTATE codes, and the messages of *orthocds.Error,
// which carry no patient text by construction.
func safeCause(err error) string {
	var parts []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch v := e.(type) {
		case *orthocds.Error:
			parts = append(parts, "orthocds: "+v.Message)
		case interface{ SQLState() string }:
			parts = append(parts, fmt.Sprintf("%T SQLSTATE %s", e, v.SQLState()))
		default:
			parts = append(parts, fmt.Sprintf("%T", e))
		}
	}
	return strings.Join(parts, " <- ")
}
