package parley_test

import (
	"context"
	"strings"
	"testing"

	"parley"
)

// The viewer's country comes from the request's context, where only the
// server's middleware puts what a trusted source said; the country of the
// account's profile, which its owner edits, is never used.
func TestViewerOfIgnoresTheProfileCountry(t *testing.T) {
	u := &parley.User{ID: 7, Country: "FR"}
	if v := parley.ViewerOf(context.Background(), u); v.UserID != 7 || v.Country != "" {
		t.Fatalf("ViewerOf with no trusted country = %+v; want user 7 of unknown country", v)
	}
	if v := parley.ViewerOf(parley.WithCountry(context.Background(), "DE"), u); v.UserID != 7 || v.Country != "DE" {
		t.Fatalf("ViewerOf placed in DE = %+v; want user 7 in DE", v)
	}
	if v := parley.ViewerOf(parley.WithCountry(context.Background(), "DE"), nil); v.UserID != 0 || v.Country != "DE" {
		t.Fatalf("ViewerOf of a reader not signed in = %+v", v)
	}
}

func TestWithheldInCoversUnknownOnlyWhenAsked(t *testing.T) {
	plain := parley.Withholding{ActionID: 1, Countries: []string{"DE"}, Reason: "a court order"}
	unknown := parley.Withholding{ActionID: 2, Countries: []string{"AT"}, AlsoUnknown: true, Reason: "another order"}
	for _, c := range []struct {
		name    string
		mod     *parley.Moderation
		country string
		want    int64 // the action of the withholding found; 0 for none
	}{
		{"nil moderation", nil, "", 0},
		{"in the country", &parley.Moderation{Withheld: []parley.Withholding{plain}}, "DE", 1},
		{"elsewhere", &parley.Moderation{Withheld: []parley.Withholding{plain}}, "FR", 0},
		{"unknown, not asked", &parley.Moderation{Withheld: []parley.Withholding{plain}}, "", 0},
		{"unknown, asked", &parley.Moderation{Withheld: []parley.Withholding{plain, unknown}}, "", 2},
		{"elsewhere, unknown asked", &parley.Moderation{Withheld: []parley.Withholding{plain, unknown}}, "FR", 0},
		{"in the second order's country", &parley.Moderation{Withheld: []parley.Withholding{plain, unknown}}, "AT", 2},
	} {
		got := c.mod.WithheldIn(c.country)
		var id int64
		if got != nil {
			id = got.ActionID
		}
		if id != c.want {
			t.Errorf("%s: WithheldIn(%q) = action %d; want %d", c.name, c.country, id, c.want)
		}
	}
}

// A viewer whose country is unknown is told the item is not available
// "where you are", never "in your country ()"; a message or chat withheld
// without AlsoUnknown is shown to such a viewer.
func TestNoticeForUnknownCountryNamesNone(t *testing.T) {
	mod := &parley.Moderation{Withheld: []parley.Withholding{{ActionID: 3, Countries: []string{"DE"}, AlsoUnknown: true, Reason: "Illegal or harmful speech"}}}
	m := &parley.Message{ChatID: 1, Seq: 1, SenderID: 2, Text: "a report", Moderation: mod}
	got := parley.ViewMessage(m, nil, parley.Viewer{UserID: 9})
	want := "This message is not available where you are because it violated local law: Illegal or harmful speech."
	if got.Text != "" || got.Notice == nil || got.Notice.Kind != parley.NoticeWithheld || got.Notice.Text != want {
		t.Fatalf("unknown viewer sees %+v, notice %+v; want %q", got, got.Notice, want)
	}
	if got := parley.ViewMessage(m, nil, parley.Viewer{UserID: 9, Country: "DE"}); got.Notice == nil || !strings.Contains(got.Notice.Text, "in your country (DE)") {
		t.Fatalf("viewer in DE is told %+v", got.Notice)
	}
	c := &parley.Chat{ID: 1, Kind: parley.ChatChannel, OwnerID: 2, Moderation: mod}
	if !c.Hidden(parley.Viewer{UserID: 9}) {
		t.Fatal("a channel withheld also where the country is unknown is not hidden from a viewer of unknown country")
	}
	if n := parley.ViewChat(c, parley.Viewer{UserID: 9}).Notice; n == nil || !strings.Contains(n.Text, "This channel is not available where you are") {
		t.Fatalf("channel notice for an unknown viewer = %+v", n)
	}

	mod.Withheld[0].AlsoUnknown = false
	if got := parley.ViewMessage(m, nil, parley.Viewer{UserID: 9}); got.Text != "a report" || got.Notice != nil {
		t.Fatalf("without AlsoUnknown an unknown viewer sees %+v, notice %+v; want the message", got, got.Notice)
	}
	if c.Hidden(parley.Viewer{UserID: 9}) {
		t.Fatal("a channel withheld only in DE is hidden from a viewer of unknown country")
	}
}
