package sor

import (
	"strings"
	"testing"

	"parley"
)

func TestMakePUID(t *testing.T) {
	puid, err := MakePUID("parleyeu", 42)
	if err != nil || puid != "parleyeu-sor-42" {
		t.Fatalf("MakePUID = %q, %v", puid, err)
	}
	// The longest puid MakePUID can make is still a valid puid.
	long, err := MakePUID(strings.Repeat("n", 64), 1<<63-1)
	if err != nil {
		t.Fatal(err)
	}
	var c checker
	checkPUID(&c, "puid", long)
	if len(c.problems) > 0 || len(long) > MaxPUIDLength {
		t.Errorf("%q: %v", long, c.problems)
	}
	for _, tt := range []struct {
		namespace string
		id        int64
		field     string
	}{
		{"", 1, "namespace"},
		{"parley-eu", 1, "namespace"}, // a '-' would make the split ambiguous
		{"parley.eu", 1, "namespace"},
		{"parléy", 1, "namespace"},
		{strings.Repeat("n", 65), 1, "namespace"},
		{"parleyeu", 0, "action_id"},
		{"parleyeu", -5, "action_id"},
	} {
		if _, err := MakePUID(tt.namespace, tt.id); parley.ErrorField(err) != tt.field {
			t.Errorf("MakePUID(%q, %d): %v, want a problem with %s", tt.namespace, tt.id, err, tt.field)
		}
	}
}

// TestPUIDRoundTrip checks that ParsePUID inverts MakePUID and refuses every
// other spelling, so that one action has exactly one puid.
func TestPUIDRoundTrip(t *testing.T) {
	for _, id := range []int64{1, 9, 10, 42, 1 << 40, 1<<63 - 1} {
		puid, _ := MakePUID("parley_eu1", id)
		got, ok := ParsePUID("parley_eu1", puid)
		if !ok || got != id {
			t.Errorf("ParsePUID(%q) = %d, %v; want %d", puid, got, ok, id)
		}
	}
	for _, puid := range []string{
		"parley_eu1-sor-042", "parley_eu1-sor-+42", "parley_eu1-sor-", "parley_eu1-sor-0", "parley_eu1-sor-4a",
		"parley_eu1-sor-99999999999999999999", "other-sor-42", "parley_eu1-42", "parley_eu1-sor--42",
	} {
		if id, ok := ParsePUID("parley_eu1", puid); ok {
			t.Errorf("ParsePUID(%q) = %d, true; want false", puid, id)
		}
	}
}
