package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"parley"
	"parley/internal/api"
	"parley/internal/auth"
	"parley/internal/messaging"
)

// requestTypes are the request bodies the API decodes, each made fresh.
var requestTypes = []func() any{
	func() any { return new(messaging.PostInput) },
	func() any { return new(messaging.CreateChatInput) },
	func() any { return new(auth.SignUpInput) },
	func() any { return new(auth.ProfileInput) },
	func() any {
		return new(struct {
			Seqs []int64 `json:"seqs"`
		})
	},
}

// FuzzDecodeJSON feeds any bytes to the API's request decoder: it never
// panics, every refusal is an invalid *parley.Error with a message, and
// whatever it accepts survives encoding and decoding again unchanged.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"text":"hi"}`, `{"text":"hi","reply_to_seq":3,"forward_from":{"chat_id":1,"seq":2}}`,
		`{"kind":"channel","handle":"news","title":"News","member_limit":5,"peer_id":2}`,
		`{"username":"alice","password":"0123456789","display_name":"A","country":"DE"}`,
		`{"display_name":null,"public_key":"{}"}`, `{"seqs":[1,2,3]}`,
		``, `{`, `[]`, `null`, `"x"`, `{"text":1}`, `{"colour":1}`, `{"a":1}{"b":2}`, `{} x`,
		`{"forward_from":{"chat_id":"1"}}`, `{"reply_to_seq":1e400}`, "{\"text\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, newV := range requestTypes {
			v := newV()
			err := api.DecodeJSONBytes(bytes.NewReader(data), v)
			if err != nil {
				var pe *parley.Error
				if !errors.As(err, &pe) || pe.Code != parley.EInvalid || pe.Message == "" {
					t.Fatalf("DecodeJSONBytes(%q) into %T = %#v; want an invalid *parley.Error", data, v, err)
				}
				continue
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%T decoded from %q does not encode: %v", v, data, err)
			}
			w := newV()
			if err := api.DecodeJSONBytes(bytes.NewReader(again), w); err != nil {
				t.Fatalf("%T decoded from %q, encoded as %s, is refused: %v", v, data, again, err)
			}
			if !reflect.DeepEqual(v, w) {
				t.Fatalf("%T decoded from %q is %+v; encoded and decoded again it is %+v", v, data, v, w)
			}
		}
	})
}
