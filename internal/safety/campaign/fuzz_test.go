package campaign

import (
	"slices"
	"testing"
	"time"
)

// FuzzObserve observes arbitrary texts at arbitrary times into a detector
// that already holds a forming campaign, each text three times from three
// accounts, with a small window and post cap so that eviction runs. It
// checks that nothing panics, that the detector's tables stay consistent,
// and that every Result keeps its promises: the post is in the campaign it
// is told of, a campaign forms with enough accounts, and what joined
// includes the post.
func FuzzObserve(f *testing.F) {
	f.Add(spamText, "", int64(0), int64(60), uint8(3))
	f.Add("", "\xff\xfe", int64(-1<<62), int64(1<<62), uint8(0))
	f.Add("ok", "ok", int64(5), int64(5), uint8(1))
	f.Add("東京 大阪 京都 札幌 福岡 神戸 横浜 名古屋 広島 仙台", "สวัสดีครับ ยินดีต้อนรับ ทุกคน ที่นี่ เว็บไซต์ ของเรา", int64(10), int64(-10), uint8(2))
	f.Add("Cоngrаtulаtiоns Yоu hаvе bееn sеlесtеd tо rесеivе а frее bitсоin аirdrор wоrth", spamText+" 🎁🎁", int64(3600), int64(7200), uint8(7))
	f.Fuzz(func(t *testing.T, a, b string, atA, atB int64, cap uint8) {
		d := newDetector(t, Config{Window: time.Hour, MaxPosts: 2 + int(cap%16), MinAccounts: 3})
		id := int64(0)
		observe := func(text string, acct int64, at time.Time) {
			id++
			p := Post{ID: id, AccountID: acct, ChatID: acct % 3, Text: text, At: at}
			r := d.Observe(p)
			if r.Campaign != 0 {
				if !slices.Contains(postIDs(r.Joined), p.ID) {
					t.Fatalf("post %d told campaign %d but not among those joined: %+v", p.ID, r.Campaign, r)
				}
				if got := d.CampaignOf(p.ID); got != r.Campaign {
					t.Fatalf("post %d told campaign %d, CampaignOf says %d", p.ID, r.Campaign, got)
				}
				if slices.Contains(r.Absorbed, r.Campaign) {
					t.Fatalf("campaign %d absorbed itself", r.Campaign)
				}
			} else if len(r.Joined) > 0 || r.Formed || len(r.Absorbed) > 0 {
				t.Fatalf("no campaign but %+v", r)
			}
			if r.Formed {
				accounts := map[int64]bool{}
				for _, m := range r.Joined {
					accounts[m.AccountID] = true
				}
				if len(accounts) < 3 {
					t.Fatalf("campaign formed with %d accounts: %+v", len(accounts), r)
				}
			}
			if again := d.Observe(p); again.Campaign != d.CampaignOf(p.ID) || again.Formed || len(again.Joined) > 0 {
				t.Fatalf("post %d observed twice: %+v", p.ID, again)
			}
			d.mu.Lock()
			err := d.invariantError()
			d.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
		}
		observe(spamText, 100, t0)
		observe(spamText, 101, t0.Add(time.Second))
		ta, tb := t0.Add(time.Duration(atA)), t0.Add(time.Duration(atB))
		for acct := range int64(3) {
			observe(a, acct, ta)
			observe(b, acct+1, tb)
			observe(a+" "+b, acct+2, ta)
		}
	})
}
