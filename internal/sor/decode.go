package sor

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"parley"
)

// DecodeStatement decodes one statement from JSON as strictly as the API
// layer of Parley decodes requests: one object, no unknown fields, no
// trailing data, every field of the right JSON type. Its errors are EInvalid
// *parley.Error values naming the field. It does not validate the values:
// call Validate (or Check) on the result. The local test server (sortest)
// decodes what a client sends with it.
func DecodeStatement(data []byte) (*Statement, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Statement
	if err := dec.Decode(&s); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, parley.Errorf(parley.EInvalid, "a statement must be exactly one JSON object, with nothing after it")
	}
	return &s, nil
}

// decodeError turns an encoding/json error into a *parley.Error naming the
// field, without Go type names.
func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return parley.Errorf(parley.EInvalid, "a statement must be a JSON object; the input ends early")
	case errors.As(err, &syntax):
		return parley.Errorf(parley.EInvalid, "a statement must be valid JSON; it is not, at byte %d", syntax.Offset)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return parley.Errorf(parley.EInvalid, "a statement must be a JSON object, not %s", typeErr.Value)
		}
		want := "a string"
		if k := typeErr.Type.Kind().String(); k == "slice" {
			want = "a list of strings"
		}
		return parley.FieldError(typeErr.Field, "%s must be %s, not %s", typeErr.Field, want, typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return parley.FieldError(name, "%q is not a field of a statement", name)
	}
	return parley.Errorf(parley.EInvalid, "a statement could not be decoded: %v", err)
}
