// Package parley holds the domain types shared by every part of the server:
// accounts, chats, messages, media, events and the one error type. It imports
// no other package of the project; services and adapters import it.
package parley

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Each maps to one HTTP status in the http layer, so a caller
// never has to guess how a failure will be shown to a user.
const (
	EInvalid      = "invalid"      // the request is malformed or a field is wrong
	ENotFound     = "not_found"    // the thing does not exist or is not visible to the caller
	EConflict     = "conflict"     // the thing already exists or the state forbids the change
	EUnauthorized = "unauthorized" // not signed in, or the session expired
	EForbidden    = "forbidden"    // signed in, but the role does not allow it
	ETooLarge     = "too_large"    // a body, image or list exceeds its limit
	ERateLimited  = "rate_limited" // too many attempts; try again later
	EUnavailable  = "unavailable"  // the service is shutting down or a dependency is down
	EWithheld     = "withheld"     // removed, banned or withheld in the viewer's country; the message says why
	EInternal     = "internal"     // a bug or an unexpected failure; details are logged, not shown
)

// Error is the application error. Message is safe to show to a user; Field,
// when set, names the request field that is wrong.
type Error struct {
	Code    string
	Message string
	Field   string
	// RetryAfter, when positive, is how long to wait before trying again
	// (ERateLimited, EUnavailable): the HTTP layer sends it as Retry-After.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("parley: %s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("parley: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// RateLimited returns an ERateLimited error whose message ends with how
// long to wait, in whole seconds rounded up, and whose RetryAfter says the
// same to the HTTP layer (the Retry-After header).
func RateLimited(wait time.Duration, format string, args ...any) *Error {
	secs := int64((wait + time.Second - 1) / time.Second)
	return &Error{Code: ERateLimited, RetryAfter: wait,
		Message: fmt.Sprintf(format, args...) + fmt.Sprintf("; try again in %d seconds", max(secs, 1))}
}

// FieldError returns an EInvalid error that names the offending field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error wrapped in err, EInternal for any
// other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the user-facing message of err. Errors that are not an
// *Error are internal, and their text is never shown.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorField returns the field named by err, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorRetryAfter returns the RetryAfter of the *Error wrapped in err, or 0.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
