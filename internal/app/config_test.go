package app_test

import (
	"testing"

	"parley/internal/app"
)

func TestUserContactIsAnEmailOrWebAddress(t *testing.T) {
	for contact, ok := range map[string]bool{
		"":                            true,
		"appeals@parley.example":      true,
		"https://parley.example/help": true,
		"http://parley.example":       true,
		"appeals at parley":           false,
		"javascript:alert(1)":         false,
		`"x"@parley.example`:          false,
		"a@b@c":                       false,
	} {
		cfg := app.DefaultConfig()
		cfg.UserContact = contact
		if err := cfg.Validate(); (err == nil) != ok {
			t.Errorf("-user-contact %q: Validate() = %v, want ok %v", contact, err, ok)
		}
	}
}
