// Package orthocds holds the domain vocabulary shared by every OrthoCDS
// package: error kinds and the caller's identity. It imports nothing of the
// project, so any package may depend on it.
package orthocds

import (
	"context"
	"errors"
	"fmt"
)

// Error kinds. The HTTP adapter maps each to one status code, in one place.
const (
	EINVALID      = "invalid"      // the caller sent a value that is wrong (422)
	EMALFORMED    = "malformed"    // the request cannot be parsed at all (400)
	ETOOLARGE     = "too_large"    // the request body is over its bound (413)
	ENOTFOUND     = "not_found"    // the named thing does not exist (404)
	ECONFLICT     = "conflict"     // the request clashes with stored state (409)
	EUNAVAILABLE  = "unavailable"  // a dependency is down; retry later (503)
	EUNAUTHORIZED = "unauthorized" // no valid credentials (401)
	EFORBIDDEN    = "forbidden"    // valid credentials, wrong role (403)
	EPRECONDITION = "precondition" // the data a decision needs is missing and cannot be fetched (412)
	ERATELIMITED  = "rate_limited" // the caller exceeded its request rate (429)
	EINTERNAL     = "internal"     // a bug or an unexpected failure (500)
)

// Error is an error a user may see. Message is safe to show; it never holds
// patient text. Field, when set, is a JSON pointer or a file field that is at
// fault. FieldErrors lists several faults found at once.
type Error struct {
	Code        string
	Message     string
	Field       string
	FieldErrors []FieldError
	Err         error // the internal cause; logged by ID, never shown
}

// FieldError names one bad input field and what is wrong with it.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports a bad value in one field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Unavailable wraps a dependency failure.
func Unavailable(err error, format string, args ...any) *Error {
	return &Error{Code: EUNAVAILABLE, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the kind of err, EINTERNAL for errors that are not *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Role is what a caller may do. Endpoints declare the roles they admit.
type Role string

// The roles of OrthoCDS users.
const (
	RoleClinician Role = "clinician"
	RoleStudent   Role = "student"
	// RoleInstructor sees the drill attempts of a class; no patient data.
	RoleInstructor Role = "instructor"
	RoleEvaluator  Role = "evaluator"
	RoleAdmin      Role = "admin"
	// RoleCDSClient is an EHR calling CDS services with a trusted
	// client's JWT; no API key or token carries it.
	RoleCDSClient Role = "cds-client"
)

// Principal is the authenticated caller.
type Principal struct {
	ID   string // a key ID or subject; never a patient identifier
	Role Role
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller of ctx, and false when there is none.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Disclaimer is carried by every answer given to a clinician.
const Disclaimer = "OrthoCDS supports, and does not replace, clinical judgement. " +
	"Check each recommendation against its source and the patient. / " +
	"本系统用于辅助而非取代临床判断，请对照原始指南与患者具体情况核实每条建议。"
