package web_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"parley"
	"parley/internal/auth"
	"parley/internal/messaging"
)

// Right-to-left text that members write in TestMemberTextIsIsolated: each
// is unique, so that every place a page shows it can be found.
const (
	rtlName    = "אבגדה"      // a display name
	rtlGroup   = "וזחטי"      // a group's title
	rtlDesc    = "כלמנס"      // the group's description
	rtlText    = "עפצקר"      // a message
	rtlChannel = "مرحبا"      // a channel's title
	rtlAbout   = "شكرا جزيلا" // the channel's description
)

// attrRE finds the name of the attribute whose value is being read.
var attrRE = regexp.MustCompile(`([a-zA-Z-]+)="[^"]*$`)

// checkIsolated fails the test unless every place the page shows marker
// isolates it from the text around it: directly inside a <bdi> or an
// element with dir="auto" that holds nothing else, or between the isolates
// FSI and PDI where no element can stand (the title, an option, alt text),
// or in a form field's value or a data attribute, which nobody reads as
// part of a sentence, or in a block of code (the evidence kept, as JSON),
// which is its own paragraph, left to right. It returns how many times the
// marker was shown.
func checkIsolated(t *testing.T, what string, p *page, marker string) int {
	t.Helper()
	body := p.Body
	n := 0
	for at := strings.Index(body, marker); at >= 0; {
		n++
		before, after := body[:at], body[at+len(marker):]
		lt, gt := strings.LastIndex(before, "<"), strings.LastIndex(before, ">")
		fsi := strings.HasSuffix(before, "\u2068") && strings.HasPrefix(after, "\u2069")
		switch {
		case fsi:
		case lt > gt: // inside a tag: an attribute's value
			m := attrRE.FindStringSubmatch(before[lt:])
			if m == nil || (m[1] != "value" && !strings.HasPrefix(m[1], "data-")) {
				t.Errorf("%s: %q in an attribute without FSI/PDI: %s", what, marker, before[lt:])
			}
		default:
			tag := before[lt : gt+1]
			if strings.HasPrefix(tag, "<pre") && strings.Contains(tag, ` dir="ltr"`) {
				break
			}
			isolating := strings.HasPrefix(tag, "<bdi") || strings.Contains(tag, ` dir="auto"`) || strings.HasPrefix(tag, "<textarea")
			alone := strings.TrimSpace(before[gt+1:]) == "" && strings.HasPrefix(strings.TrimLeft(after, " \n"), "<")
			if !isolating || !alone {
				end := min(len(after), 40)
				t.Errorf("%s: %q is not isolated: …%s%s%s…", what, marker, before[max(0, len(before)-80):], marker, after[:end])
			}
		}
		next := strings.Index(after, marker)
		if next < 0 {
			break
		}
		at += len(marker) + next
	}
	return n
}

// TestMemberTextIsIsolated renders the pages that show what members write,
// with right-to-left names, titles and messages, and checks that each is
// isolated wherever it is shown, so that it cannot reorder the page's own
// words (see checkIsolated). The text is written with a right-to-left
// override and control characters in it, which the services drop.
func TestMemberTextIsIsolated(t *testing.T) {
	s := startServer(t)
	alice, bob := newBrowser(t, s), newBrowser(t, s)
	alice.post("/signup", url.Values{"username": {"alice"}, "password": {"correct horse battery"}, "display_name": {"\u202e" + rtlName + "\x00"}}).
		wantRedirect(t, "sign up", "/chats")
	bob.signUp("bob")
	setKey(t, s, "alice")
	setKey(t, s, "bob")

	group := alice.post("/groups", url.Values{"title": {rtlGroup + "\x1b"}, "description": {rtlDesc}}).wantRedirect(t, "group", "/chats/")
	created := alice.post(group+"/invites", url.Values{"expires_in": {"0"}}).wantRedirect(t, "invite", group+"/invites?created=")
	token, _ := url.QueryUnescape(strings.TrimPrefix(created, group+"/invites?created="))
	bob.post("/join/"+token, nil).wantRedirect(t, "join", group)
	var png bytes.Buffer
	if err := pngEncode(&png); err != nil {
		t.Fatal(err)
	}
	alice.postMultipart(group+"/messages", map[string]string{"text": rtlText}, "image", "a.png", png.Bytes()).wantRedirect(t, "post", group+"#m-1")
	bob.postMultipart(group+"/messages", map[string]string{"text": "a reply", "reply_to_seq": "1"}, "", "", nil).wantRedirect(t, "reply", group+"#m-2")
	channel := alice.post("/channels", url.Values{"handle": {"rtl_news"}, "title": {rtlChannel}, "description": {rtlAbout}}).wantRedirect(t, "channel", "/chats/")
	alice.post(group+"/messages/1/forward", url.Values{"to": {strings.TrimPrefix(channel, "/chats/")}}).wantRedirect(t, "forward", channel)
	direct := bob.post("/direct", url.Values{"username": {"alice"}}).wantRedirect(t, "direct", "/chats/")
	bob.postMultipart(direct+"/messages", map[string]string{"text": "hello"}, "", "", nil).wantRedirect(t, "direct post", direct)
	secret := bob.post("/secret", url.Values{"username": {"alice"}}).wantRedirect(t, "secret", "/chats/")

	shown := map[string]int{}
	check := func(b *browser, path string, markers ...string) {
		t.Helper()
		p := b.get(path).wantStatus(t, path, http.StatusOK)
		for _, m := range markers {
			if n := checkIsolated(t, path, p, m); n == 0 {
				t.Errorf("%s does not show %q", path, m)
			} else {
				shown[m] += n
			}
		}
		for _, bad := range []string{"\u202e", "\x00", "\x1b"} {
			if strings.Contains(p.Body, bad) {
				t.Errorf("%s shows %q, which the services drop", path, bad)
			}
		}
	}
	for _, c := range []struct {
		b       *browser
		path    string
		markers []string
	}{
		{bob, "/chats", []string{rtlName, rtlGroup}},
		{alice, "/chats", []string{rtlGroup, rtlChannel}},
		{bob, group, []string{rtlName, rtlGroup, rtlDesc, rtlText}},
		{bob, group + "?reply=1", []string{rtlName, rtlText}},
		{bob, group + "/messages/1/forward", []string{rtlName, rtlGroup, rtlText}},
		{alice, group + "/invites", []string{rtlGroup}},
		{newBrowserSignedUp(t, s, "carol"), "/join/" + token, []string{rtlGroup, rtlDesc}},
		{bob, channel, []string{rtlChannel, rtlAbout, rtlGroup, rtlText}},
		{bob, "/channels?q=rtl", []string{rtlChannel, rtlAbout}},
		{bob, direct, []string{rtlName}},
		{bob, secret, []string{rtlName}},
		{bob, "/users/alice", []string{rtlName}},
	} {
		check(c.b, c.path, c.markers...)
	}

	// The moderation pages, and the statement the author reads, once a
	// moderator removed the message.
	mod := staffBrowser(t, s, "moddy", parley.RoleModerator)
	var groupID int64
	fmt.Sscanf(group, "/chats/%d", &groupID)
	action := mod.post("/moderation/actions", scamRemoval(groupID)).wantRedirect(t, "remove", "/moderation/actions/")
	check(mod, action, rtlGroup, rtlText, rtlName)
	check(mod, "/moderation/actions", rtlGroup)
	check(alice, fmt.Sprintf("/statements/%d", actionID(t, action)), rtlGroup)
	t.Logf("right-to-left strings checked where shown: %v", shown)
}

// newBrowserSignedUp is a fresh browser with a new account.
func newBrowserSignedUp(t *testing.T, s *server, username string) *browser {
	b := newBrowser(t, s)
	b.signUp(username)
	return b
}

// pngEncode writes a small PNG.
func pngEncode(buf *bytes.Buffer) error {
	img := image.NewGray(image.Rect(0, 0, 32, 24))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	return png.Encode(buf, img)
}

// TestBrowserLiveMessagesAreIsolated checks what the page's script builds
// for messages that arrive live, as the server's templates do: the sender
// and a quoted reply or forwarded chat's title in <bdi>, the text in an
// element with dir="auto", and on the chat list the sender and the text of
// the preview each in a <bdi>.
func TestBrowserLiveMessagesAreIsolated(t *testing.T) {
	s := startServer(t)
	ctx := t.Context()
	alice, err := s.Auth.CreateUser(ctx, auth.SignUpInput{Username: "alice", Password: "correct horse battery", DisplayName: rtlName}, parley.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	b := newChrome(t, "bob", s)
	b.signUp("bob")
	bob, err := s.Auth.Store.FindUserByUsername(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	group, err := s.Messaging.CreateChat(ctx, alice, messaging.CreateChatInput{Kind: parley.ChatGroup, Title: "Both ways"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := s.Messaging.CreateInvite(ctx, alice, group.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Messaging.JoinByInvite(ctx, bob, inv.Token); err != nil {
		t.Fatal(err)
	}
	other, err := s.Messaging.CreateChat(ctx, alice, messaging.CreateChatInput{Kind: parley.ChatChannel, Handle: "rtl_source", Title: rtlChannel})
	if err != nil {
		t.Fatal(err)
	}
	post := func(chatID int64, in messaging.PostInput) {
		t.Helper()
		if _, err := s.Messaging.PostMessage(ctx, alice, chatID, in); err != nil {
			t.Fatal(err)
		}
	}
	post(other.ID, messaging.PostInput{Text: "source"})
	post(group.ID, messaging.PostInput{Text: "first"})

	path := fmt.Sprintf("/chats/%d", group.ID)
	b.do("open the group", chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS(`body[data-live="open"]`)))
	post(group.ID, messaging.PostInput{Text: rtlText, ReplyToSeq: 1})
	post(group.ID, messaging.PostInput{ForwardFrom: &messaging.MsgRef{ChatID: other.ID, Seq: 1}})
	b.waitJS("live reply and forward, isolated", `(() => {
		const reply = document.querySelector("#m-2"), fwd = document.querySelector("#m-3");
		if (!reply || !fwd) return false;
		const sender = reply.querySelector(".msg-sender"), text = reply.querySelector(".msg-text");
		const quote = reply.querySelector(".msg-reply a bdi"), from = fwd.querySelector(".msg-forward a bdi");
		return sender.tagName === "BDI" && sender.textContent === arguments[0] &&
			text.dir === "auto" && text.textContent === arguments[1] &&
			!!quote && quote.textContent === "first" &&
			!!from && from.textContent === arguments[2];
	})()`, rtlName, rtlText, rtlChannel)

	b.do("open the chat list", chromedp.Navigate(b.base+"/chats"), chromedp.WaitReady(chromedp.CSS(`body[data-live="open"]`)))
	post(group.ID, messaging.PostInput{Text: rtlText + " again"})
	b.waitJS("live preview, isolated", `(() => {
		const p = document.querySelector('[data-chat-id="' + arguments[0] + '"] .chat-preview');
		if (!p || !p.textContent.includes("again")) return false;
		const parts = [...p.children];
		return parts.length === 2 && parts.every(e => e.tagName === "BDI") &&
			parts[0].textContent === arguments[1] && parts[1].textContent === arguments[2] + " again";
	})()`, fmt.Sprint(group.ID), rtlName, rtlText)
	b.noScriptErrors()
}
