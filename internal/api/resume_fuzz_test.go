package api

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"parley"
)

// FuzzParseResume checks the live endpoint's resume parser on any query
// value: it never panics, refuses with a *parley.Error, and what it accepts
// is a bounded list of positive chat ids with non-negative pts that reads
// back the same when written out again.
func FuzzParseResume(f *testing.F) {
	for _, s := range []string{"", "1:0", "12:40,15:3", "1:2,1:3", "0:1", "-1:1", "1:", "1:2:3", "x", ",", "9223372036854775807:1", "1:2," + strings.Repeat("3:4,", 5)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseResume(s)
		if err != nil {
			var pe *parley.Error
			if !errors.As(err, &pe) || (pe.Code != parley.EInvalid && pe.Code != parley.ETooLarge) || pe.Message == "" {
				t.Fatalf("parseResume(%q) = %#v; want an invalid or too_large *parley.Error", s, err)
			}
			return
		}
		if len(got) > maxResumeChats {
			t.Fatalf("parseResume(%q) accepted %d chats", s, len(got))
		}
		var parts []string
		for chat, pts := range got {
			if chat <= 0 || pts < 0 {
				t.Fatalf("parseResume(%q) = %v: chat %d pts %d", s, got, chat, pts)
			}
			parts = append(parts, fmt.Sprintf("%d:%d", chat, pts))
		}
		again, err := parseResume(strings.Join(parts, ","))
		if err != nil || len(again) != len(got) {
			t.Fatalf("parseResume(%q) = %v, but its own rendering reads back as %v, %v", s, got, again, err)
		}
		for k, v := range got {
			if again[k] != v {
				t.Fatalf("parseResume(%q) = %v; rendering reads back as %v", s, got, again)
			}
		}
	})
}
