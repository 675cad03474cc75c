package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"parley"
)

// TestDirectChatDeleteBothDirections deletes through the API in a direct
// chat: neither person may delete the other's messages, whoever opened the
// chat, and each may delete their own.
func TestDirectChatDeleteBothDirections(t *testing.T) {
	s := start(t)
	opener, peer := s.signUp(t, "opener"), s.signUp(t, "peer")
	chat := opener.createChat(t, map[string]any{"kind": "direct", "peer_id": peer.user.ID})
	byOpener := opener.post(t, chat.ID, "from the opener")
	byPeer := peer.post(t, chat.ID, "from the peer")
	path := func(m *parley.Message) string { return fmt.Sprintf("/api/v1/chats/%d/messages/%d", chat.ID, m.Seq) }

	opener.wantError(t, "DELETE", path(byPeer), nil, http.StatusForbidden, parley.EForbidden, "")
	peer.wantError(t, "DELETE", path(byOpener), nil, http.StatusForbidden, parley.EForbidden, "")
	if n := len(peer.history(t, chat.ID)); n != 2 {
		t.Fatalf("after the refused deletions the chat has %d messages, want 2", n)
	}
	opener.mustJSON(t, "DELETE", path(byOpener), nil, http.StatusNoContent, nil)
	peer.mustJSON(t, "DELETE", path(byPeer), nil, http.StatusNoContent, nil)
	if n := len(opener.history(t, chat.ID)); n != 0 {
		t.Fatalf("after each deleted their own the chat has %d messages, want 0", n)
	}
}
