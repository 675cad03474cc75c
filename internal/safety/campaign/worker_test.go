package campaign_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"parley"
	"parley/internal/safety/campaign"
	"parley/internal/store/sqlite"
)

// TestWorkerRebuildRecordsWhatTheLiveDetectorWould: at start the worker
// replays the stored posts of the window, records the campaign they form,
// leaves out the chats Admit refuses (as the live path does), and a second
// start records nothing new.
func TestWorkerRebuildRecordsWhatTheLiveDetectorWould(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

	var accounts []*parley.User
	for i := range 4 {
		u := &parley.User{Username: fmt.Sprintf("spammer%d", i), Role: parley.RoleMember, CreatedAt: now.Add(-time.Hour)}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, u)
	}
	admitted := &parley.Chat{Kind: parley.ChatGroup, Title: "Big group", OwnerID: accounts[0].ID, CreatedAt: now.Add(-time.Hour)}
	refused := &parley.Chat{Kind: parley.ChatGroup, Title: "Small group", OwnerID: accounts[0].ID, CreatedAt: now.Add(-time.Hour)}
	for _, c := range []*parley.Chat{admitted, refused} {
		if err := db.CreateChat(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
		for _, u := range accounts[1:] {
			if err := db.AddMember(ctx, &parley.Member{ChatID: c.ID, UserID: u.ID, Role: parley.MemberRegular, JoinedAt: now.Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	text := "Congratulations! You have won a free phone, claim it today at the link in my profile before it is gone %d"
	post := func(c *parley.Chat, u *parley.User, i int) {
		t.Helper()
		m := &parley.Message{ChatID: c.ID, SenderID: u.ID, Text: fmt.Sprintf(text, i), CreatedAt: now.Add(-time.Duration(30-i) * time.Minute)}
		if _, err := db.InsertMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// Three accounts post the same offer in the admitted group; the fourth
	// posts it only in the refused one, where three accounts post it too.
	for i, u := range accounts[:3] {
		post(admitted, u, i)
	}
	for i, u := range accounts[1:] {
		post(refused, u, 10+i)
	}

	start := func() {
		t.Helper()
		det, err := campaign.New(campaign.Config{})
		if err != nil {
			t.Fatal(err)
		}
		w := &campaign.Worker{Detector: det, Store: db, Admit: func(chatID int64) bool { return chatID == admitted.ID }}
		if err := w.Rebuild(ctx, now); err != nil {
			t.Fatal(err)
		}
		if w.Seen() != 3 {
			t.Fatalf("the rebuild observed %d posts, want the 3 of the admitted group", w.Seen())
		}
	}
	check := func(when string) {
		t.Helper()
		open, err := db.ListCampaigns(ctx, campaign.StatusOpen, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != 1 || open[0].Posts != 3 || open[0].Accounts != 3 {
			t.Fatalf("%s: campaigns = %+v, want one of 3 posts by 3 accounts", when, open)
		}
		members, err := db.ListCampaignMembers(ctx, open[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			if m.ChatID != admitted.ID {
				t.Fatalf("%s: a member from chat %d, which Admit refuses", when, m.ChatID)
			}
		}
	}
	start()
	check("after the first start")
	start()
	check("after a second start")
}
