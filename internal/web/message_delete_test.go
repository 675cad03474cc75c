package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDirectChatEachDeletesOnlyTheirOwn checks both directions in a direct
// chat: the page offers Delete only on one's own messages (and tells the
// live script so), and a delete form posted anyway is refused, whoever
// opened the chat. In a group its owner still deletes members' messages.
func TestDirectChatEachDeletesOnlyTheirOwn(t *testing.T) {
	s := startServer(t)
	opener, peer := newBrowser(t, s), newBrowser(t, s)
	opener.signUp("opener")
	peer.signUp("peer")
	chat := opener.post("/direct", url.Values{"username": {"peer"}}).wantRedirect(t, "direct", "/chats/")
	opener.postMultipart(chat+"/messages", map[string]string{"text": "from the opener"}, "", "", nil).wantRedirect(t, "opener posts", chat+"#m-1")
	peer.postMultipart(chat+"/messages", map[string]string{"text": "from the peer"}, "", "", nil).wantRedirect(t, "peer posts", chat+"#m-2")

	for _, c := range []struct {
		who         *browser
		name        string
		own, others string
	}{{opener, "opener", "1", "2"}, {peer, "peer", "2", "1"}} {
		p := c.who.get(chat).wantStatus(t, c.name+"'s chat page", http.StatusOK)
		p.contains(t, c.name+"'s chat page", `data-can-delete-others="false"`, `action="`+chat+`/messages/`+c.own+`/delete"`)
		p.lacks(t, c.name+"'s chat page", `action="`+chat+`/messages/`+c.others+`/delete"`)
		c.who.post(chat+"/messages/"+c.others+"/delete", nil).wantStatus(t, c.name+" deleting the other's message", http.StatusForbidden).
			contains(t, "refusal", "each deletes only their own messages")
	}
	for _, c := range []struct {
		who  *browser
		text string
	}{{opener, "from the peer"}, {peer, "from the opener"}} {
		c.who.get(chat).contains(t, "both messages kept", c.text)
	}
	opener.post(chat+"/messages/1/delete", nil).wantRedirect(t, "opener deletes their own", chat)
	peer.post(chat+"/messages/2/delete", nil).wantRedirect(t, "peer deletes their own", chat)

	// Positive control: a group's owner moderates its members.
	group := opener.post("/groups", url.Values{"title": {"Club"}}).wantRedirect(t, "group", "/chats/")
	created := opener.post(group+"/invites", url.Values{"expires_in": {"0"}}).wantRedirect(t, "invite", group+"/invites?created=")
	token, _ := url.QueryUnescape(strings.TrimPrefix(created, group+"/invites?created="))
	peer.post("/join/"+token, nil).wantRedirect(t, "join", group)
	peer.postMultipart(group+"/messages", map[string]string{"text": "member's words"}, "", "", nil).wantRedirect(t, "member posts", group+"#m-1")
	opener.get(group).contains(t, "owner's group page", `data-can-delete-others="true"`, `action="`+group+`/messages/1/delete"`)
	opener.post(group+"/messages/1/delete", nil).wantRedirect(t, "owner deletes a member's message", group)
}
