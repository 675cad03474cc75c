package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"

	"parley"
	"parley/internal/auth"
	"parley/internal/messaging"
	"parley/internal/pdq"
	"parley/internal/safety/banks"
	"parley/internal/safety/enforce"
	"parley/internal/safety/rules"
	"parley/internal/sor"
)

// DemoAccount is an account of the demo world with its password.
type DemoAccount struct {
	Username string
	Role     parley.Role
	Password string
}

var demoAccounts = []struct {
	username, name, country string
	role                    parley.Role
}{
	{"admin", "Ada Admin", "EE", parley.RoleAdmin},
	{"moderator", "Moe Moderator", "IE", parley.RoleModerator},
	{"legal", "Lena Legal", "BE", parley.RoleLegalOfficer},
	{"alice", "Alice", "DE", parley.RoleMember},
	{"bob", "Bob", "FR", parley.RoleMember},
	{"carol", "Carol", "ES", parley.RoleMember},
}

// SeedDemo fills an empty server with a demo world: an account for each
// role, public channels with posts and images, a group and a direct chat. On
// a server already seeded it only gives the demo accounts new passwords.
// It returns the accounts with their passwords, to print.
func SeedDemo(ctx context.Context, a *App) ([]DemoAccount, error) {
	var out []DemoAccount
	users := map[string]*parley.User{}
	seeded := false
	for _, d := range demoAccounts {
		pw := randomPassword()
		u, err := a.Auth.Store.FindUserByUsername(ctx, d.username)
		switch parley.ErrorCode(err) {
		case "":
			seeded = true
			hash, err := a.Auth.Hasher.Hash(ctx, pw)
			if err != nil {
				return nil, err
			}
			if err := a.Auth.Store.SetPasswordHash(ctx, u.ID, hash); err != nil {
				return nil, err
			}
		case parley.ENotFound:
			u, err = a.Auth.CreateUser(ctx, auth.SignUpInput{Username: d.username, Password: pw, DisplayName: d.name, Country: d.country}, d.role)
			if err != nil {
				return nil, err
			}
		default:
			return nil, err
		}
		users[d.username] = u
		out = append(out, DemoAccount{Username: d.username, Role: d.role, Password: pw})
	}
	if seeded {
		return out, nil
	}
	if err := seedChats(ctx, a.Messaging, users); err != nil {
		return nil, err
	}
	return out, seedSafety(ctx, a, users)
}

// seedSafety shows the trust & safety side in the demo world: a hash bank
// that stops an image at upload, a domain bank and a text rule that act on
// posts (one removal with a statement of reasons, one post held for
// review), a rule watching in shadow mode, a channel post withheld in one
// country on a legal officer's order, and a small spam campaign by three
// accounts for the moderator to remove in bulk.
func seedSafety(ctx context.Context, a *App, u map[string]*parley.User) error {
	alice, bob, carol, mod, legal := u["alice"], u["bob"], u["carol"], u["moderator"], u["legal"]
	staff := banks.UserActor(mod)

	scam, err := demoImage(7)
	if err != nil {
		return err
	}
	hash, _, err := pdq.HashBytes(scam)
	if err != nil {
		return err
	}
	imgBank, err := a.Banks.CreateBank(ctx, staff, banks.Bank{Name: "demo-known-scam-images", Kind: banks.KindBlock,
		Description: "Images from known fake-giveaway scams (demo data).", Category: string(sor.CategoryScamsAndFraud),
		Action: banks.ActionBlockUpload, Enabled: true})
	if err != nil {
		return err
	}
	if _, _, err := a.Banks.AddEntry(ctx, staff, imgBank.ID, banks.Entry{Type: banks.TypePDQ, Value: hash.String(), Source: "demo"}); err != nil {
		return err
	}
	linkBank, err := a.Banks.CreateBank(ctx, staff, banks.Bank{Name: "demo-phishing-domains", Kind: banks.KindBlock,
		Description: "Phishing domains reported by users (demo data).", Category: string(sor.CategoryScamsAndFraud),
		Keywords: []string{string(sor.KeywordPhishing)}, Action: banks.ActionRemove, Enabled: true})
	if err != nil {
		return err
	}
	if _, _, err := a.Banks.AddEntry(ctx, staff, linkBank.ID, banks.Entry{Type: banks.TypeDomain, Value: "paypa1-login.example", Source: "demo"}); err != nil {
		return err
	}
	if _, err := a.Matcher.Refresh(ctx); err != nil {
		return err
	}
	for _, r := range []rules.Rule{
		{ID: "demo-crypto-giveaway", Name: "Crypto giveaway scams", Keywords: []string{"crypto giveaway", "double your bitcoin"},
			Action: rules.ActionHold, Mode: rules.ModeEnforce, Category: string(sor.CategoryScamsAndFraud)},
		{ID: "demo-limited-offer", Name: "Pushy sales (watching)", Regexps: []string{`(?i)\blimited (time )?offer\b`},
			Action: rules.ActionLabel, Mode: rules.ModeShadow, Label: "Advertising"},
	} {
		if _, err := a.Rules.Create(ctx, mod, r); err != nil {
			return err
		}
		if _, err := a.Rules.SetEnabled(ctx, mod, r.ID, true); err != nil {
			return err
		}
	}

	chats, err := a.Messaging.ListChats(ctx, alice)
	if err != nil {
		return err
	}
	var club, photos *parley.Chat
	for _, c := range chats {
		switch c.Title {
		case "Book Club":
			club = &c.Chat
		case "City Photos":
			photos = &c.Chat
		}
	}
	if club == nil || photos == nil {
		return fmt.Errorf("demo: the seeded chats are missing")
	}
	// Stopped at upload: the account gets a strike, a moderator a case.
	if _, err := a.Messaging.UploadImage(ctx, carol, scam); parley.ErrorField(err) != "file" {
		return fmt.Errorf("demo: the banned image was not stopped: %v", err)
	}
	post := func(who *parley.User, chat *parley.Chat, text string) error {
		_, err := a.Messaging.PostMessage(ctx, who, chat.ID, messaging.PostInput{Text: text})
		return err
	}
	for _, p := range []struct {
		who  *parley.User
		text string
	}{
		{carol, "Your account is locked, log in at https://paypa1-login.example/verify"},     // removed, with a statement
		{bob, "Huge crypto giveaway this weekend, send 1 BTC and double your bitcoin"},       // held for review
		{alice, "Limited offer: the second-hand bookshop on Main Street has a sale"},         // shadow match only
		{alice, "Reminder: bring the short story you liked best to the next meeting please"}, // nothing
	} {
		if err := post(p.who, club, p.text); err != nil {
			return err
		}
	}
	// A campaign: the same pitch from three accounts, found from the event
	// stream a moment later.
	for i, who := range []*parley.User{alice, bob, carol} {
		text := "Congratulations you were selected to receive a free gift card worth five hundred euros claim it today on our official page before the offer ends"
		if i == 1 {
			text = "congratulations!! you were selected to receive a FREE gift card worth 500 euros, claim it today on our official page before the offer ends"
		}
		if err := post(who, club, text); err != nil {
			return err
		}
	}
	// Withheld in one country on an order, with its statement for alice.
	_, err = a.Enforce.Apply(ctx, legal, enforce.Request{Kind: enforce.WithholdMessage,
		Target: enforce.Target{Type: enforce.TargetMessage, ChatID: photos.ID, Seq: 2}, Countries: []string{DemoCountry},
		Grounds: enforce.Grounds{Ground: sor.GroundIllegalContent, LegalGround: "Article L.335-2 of the French Intellectual Property Code (demo)",
			Category: sor.CategoryIntellectualPropertyInfringements, Keywords: []sor.Keyword{sor.KeywordCopyrightInfringement},
			Source: sor.SourceTypeOtherNotification, Notifier: "A French court (demo)", Automation: sor.NotAutomated},
		Note: "demo: a court order applying in France only"})
	return err
}

func seedChats(ctx context.Context, m *messaging.Service, u map[string]*parley.User) error {
	alice, bob, carol, admin := u["alice"], u["bob"], u["carol"], u["admin"]
	post := func(who *parley.User, chat *parley.Chat, in messaging.PostInput) error {
		_, err := m.PostMessage(ctx, who, chat.ID, in)
		return err
	}
	image := func(who *parley.User, data []byte) (string, error) {
		med, err := m.UploadImage(ctx, who, data)
		if err != nil {
			return "", err
		}
		return med.ID, nil
	}

	news, err := m.CreateChat(ctx, admin, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "parley_news",
		Title: "Parley News", Description: "Announcements from the Parley team."})
	if err != nil {
		return err
	}
	photos, err := m.CreateChat(ctx, alice, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "city_photos",
		Title: "City Photos", Description: "Skylines and sunsets, one picture a day."})
	if err != nil {
		return err
	}
	for _, sub := range []*parley.User{alice, bob, carol} {
		if err := m.Subscribe(ctx, sub, news.ID); err != nil {
			return err
		}
	}
	for _, sub := range []*parley.User{bob, carol, admin} {
		if err := m.Subscribe(ctx, sub, photos.ID); err != nil {
			return err
		}
	}
	for _, text := range []string{
		"Welcome to Parley: channels, groups, direct chats and end-to-end encrypted secret chats.",
		"Tip: open a secret chat from someone's chat page; the keys are made in your browser and never leave it.",
		"Every enforcement decision comes with a statement of reasons. Transparency reports are on the way.",
	} {
		if err := post(admin, news, messaging.PostInput{Text: text}); err != nil {
			return err
		}
	}
	for i, caption := range []string{"Dawn over the harbour", "Blue hour", "Evening glow"} {
		data, err := demoImage(i)
		if err != nil {
			return err
		}
		id, err := image(alice, data)
		if err != nil {
			return err
		}
		if err := post(alice, photos, messaging.PostInput{Text: caption, MediaID: id}); err != nil {
			return err
		}
	}

	club, err := m.CreateChat(ctx, alice, messaging.CreateChatInput{Kind: parley.ChatGroup, Title: "Book Club",
		Description: "This month: short stories."})
	if err != nil {
		return err
	}
	inv, err := m.CreateInvite(ctx, alice, club.ID, 0)
	if err != nil {
		return err
	}
	for _, who := range []*parley.User{bob, carol} {
		if _, err := m.JoinByInvite(ctx, who, inv.Token); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		who  *parley.User
		text string
	}{{alice, "Welcome to the book club! What are you reading?"}, {bob, "Borges, Labyrinths."}, {carol, "Chekhov. Perfect for the train."}} {
		if err := post(p.who, club, messaging.PostInput{Text: p.text}); err != nil {
			return err
		}
	}
	if err := post(bob, club, messaging.PostInput{ForwardFrom: &messaging.MsgRef{ChatID: photos.ID, Seq: 1}}); err != nil {
		return err
	}

	dm, err := m.CreateChat(ctx, alice, messaging.CreateChatInput{Kind: parley.ChatDirect, PeerID: bob.ID})
	if err != nil {
		return err
	}
	if err := post(alice, dm, messaging.PostInput{Text: "Hi Bob! Coffee tomorrow?"}); err != nil {
		return err
	}
	return post(bob, dm, messaging.PostInput{Text: "Sure, 10 o'clock at the usual place.", ReplyToSeq: 1})
}

// demoImage draws a small sky-and-skyline picture, different for each n,
// as PNG or JPEG, so the demo needs no image files.
func demoImage(n int) ([]byte, error) {
	const w, h = 640, 400
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	tops := []color.RGBA{{255, 183, 120, 255}, {40, 60, 140, 255}, {250, 110, 80, 255}}
	bottoms := []color.RGBA{{255, 236, 200, 255}, {120, 160, 220, 255}, {90, 40, 110, 255}}
	top, bottom := tops[n%3], bottoms[n%3]
	for y := 0; y < h; y++ {
		t := float64(y) / h
		c := color.RGBA{lerp(top.R, bottom.R, t), lerp(top.G, bottom.G, t), lerp(top.B, bottom.B, t), 255}
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	for x := 0; x < w; x++ {
		height := 80 + int(60*math.Abs(math.Sin(float64(x/37+n*7))))
		for y := h - height; y < h; y++ {
			img.SetRGBA(x, y, color.RGBA{20, 20, 30, 255})
		}
	}
	var buf bytes.Buffer
	var err error
	if n%2 == 0 {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	} else {
		err = png.Encode(&buf, img)
	}
	return buf.Bytes(), err
}

func lerp(a, b uint8, t float64) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*t) }

// randomPassword returns 16 random characters that are easy to type.
func randomPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// DemoCountry is where the demo places the browsers on the machine it runs
// on: the country its seeded withholding order names.
const DemoCountry = "FR"

// WriteDemoCountryRanges writes, in dataDir, an address ranges file (the
// format of -country-ranges) that places the loopback addresses in
// DemoCountry, and returns its path and the country. The demo uses it when
// no trusted source of viewers' countries is configured, so that its
// withheld post is withheld for whoever explores it.
func WriteDemoCountryRanges(dataDir string) (path, country string, err error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", "", err
	}
	path = filepath.Join(dataDir, "demo-country-ranges.csv")
	data := "# Written by parley demo: this machine's loopback addresses are in " + DemoCountry + ".\n" +
		"127.0.0.0/8," + DemoCountry + "\n::1/128," + DemoCountry + "\n"
	if err := os.WriteFile(path, []byte(data), 0o640); err != nil {
		return "", "", err
	}
	return path, DemoCountry, nil
}
