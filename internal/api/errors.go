package api

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"parley"
)

// statusOf maps application error codes to HTTP status codes. It is the
// only place where that mapping lives; the web pages use it too.
var statusOf = map[string]int{
	parley.EInvalid:      http.StatusBadRequest,
	parley.ENotFound:     http.StatusNotFound,
	parley.EConflict:     http.StatusConflict,
	parley.EUnauthorized: http.StatusUnauthorized,
	parley.EForbidden:    http.StatusForbidden,
	parley.ETooLarge:     http.StatusRequestEntityTooLarge,
	parley.ERateLimited:  http.StatusTooManyRequests,
	parley.EUnavailable:  http.StatusServiceUnavailable,
	parley.EWithheld:     http.StatusUnavailableForLegalReasons,
	parley.EInternal:     http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for err.
func StatusOf(err error) int {
	if s, ok := statusOf[parley.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the one error body of the JSON API.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: a stable code, a message for people and,
// when one field is at fault, its name.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// WriteError writes err as the API's error body. Internal errors are logged
// with their details and shown only as "internal error".
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := parley.ErrorCode(err)
	if code == parley.EInternal {
		log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	SetRetryAfter(w, err)
	writeJSON(w, StatusOf(err), ErrorBody{Error: ErrorDetail{Code: code, Message: parley.ErrorMessage(err), Field: parley.ErrorField(err)}})
}

// SetRetryAfter sets the Retry-After header, in whole seconds rounded up,
// when err says how long to wait before trying again.
func SetRetryAfter(w http.ResponseWriter, err error) {
	if d := parley.ErrorRetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// MaxJSONBody bounds every JSON request body. The largest legitimate body is
// a secret message: 64 KiB of ciphertext, base64-encoded.
const MaxJSONBody = 128 << 10

// decodeJSON reads one JSON object into v, refusing unknown fields, trailing
// data and bodies over MaxJSONBody, with a message that says what is wrong.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return parley.Errorf(parley.EInvalid, "send a JSON body with Content-Type application/json")
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxJSONBody)
	return DecodeJSONBytes(r.Body, v)
}

// DecodeJSONBytes decodes exactly one JSON value from rd into v. It is the
// request decoder of the API, exported for its fuzz test.
func DecodeJSONBytes(rd io.Reader, v any) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return parley.Errorf(parley.ETooLarge, "request body is larger than %d bytes", tooBig.Limit)
		case errors.Is(err, io.EOF):
			return parley.Errorf(parley.EInvalid, "request body is empty; send a JSON object")
		case errors.As(err, &syntax):
			return parley.Errorf(parley.EInvalid, "request body is not valid JSON (at byte %d)", syntax.Offset)
		case errors.As(err, &typeErr):
			field := jsonFieldPath(reflect.TypeOf(v), typeErr.Field)
			if field == "" {
				return parley.Errorf(parley.EInvalid, "request body must be a JSON object")
			}
			return parley.FieldError(field, "field %s must be %s", field, jsonTypeName(typeErr.Type))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return parley.FieldError(name, "unknown field %q", name)
		default:
			return parley.Errorf(parley.EInvalid, "request body is not valid JSON: %v", err)
		}
	}
	if dec.More() {
		return parley.Errorf(parley.EInvalid, "request body must hold one JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		// A body whose object fits under the limit but whose trailing
		// bytes do not is too large, not malformed.
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return parley.Errorf(parley.ETooLarge, "request body is larger than %d bytes", tooBig.Limit)
		}
		return parley.Errorf(parley.EInvalid, "request body must hold one JSON object")
	}
	return nil
}

// jsonFieldPath turns the Go path of a decoding error into the path of JSON
// keys the client sent. encoding/json names embedded structs in the path
// ("CreateChatInput.member_limit"), though their fields sit at the top level
// of the JSON object, and a client must not be told about Go types.
func jsonFieldPath(t reflect.Type, goPath string) string {
	if goPath == "" {
		return ""
	}
	var out []string
	for _, part := range strings.Split(goPath, ".") {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			out, t = append(out, part), nil
			continue
		}
		if f, ok := t.FieldByName(part); ok && f.Anonymous && f.Tag.Get("json") == "" {
			t = f.Type // an embedded struct: not a key in the JSON
			continue
		}
		next := reflect.Type(nil)
		for _, f := range reflect.VisibleFields(t) {
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == part {
				next = f.Type
				break
			}
		}
		out, t = append(out, part), next
	}
	return strings.Join(out, ".")
}

// jsonTypeName names the JSON type that decodes into t.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	default:
		return "a JSON object"
	}
}
