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

	"parley"
	"parley/internal/auth"
	"parley/internal/messaging"
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
		case parley.ENOTFOUND:
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
	return out, seedChats(ctx, a.Messaging, users)
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
