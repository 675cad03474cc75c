package messaging_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"

	"parley"
	"parley/internal/messaging"
)

// TestTwoPersonChatsHaveNoModerator checks that in a direct or secret chat
// neither person moderates the other, whoever opened it: each deletes only
// their own messages, either may leave, and there are no roles to hand out.
// (The one who opens a chat is stored as its owner; before, that let the
// opener delete the other's messages and not the reverse.)
func TestTwoPersonChatsHaveNoModerator(t *testing.T) {
	ctx := context.Background()
	ct := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xA7}, 40))
	nonce := base64.StdEncoding.EncodeToString([]byte("twelve bytes"))
	for _, kind := range []parley.ChatKind{parley.ChatDirect, parley.ChatSecret} {
		t.Run(string(kind), func(t *testing.T) {
			f := setup(t)
			opener, peer := f.user(t, "opener"), f.user(t, "peer")
			f.withKey(t, opener)
			f.withKey(t, peer)
			c := f.chat(t, opener, messaging.CreateChatInput{Kind: kind, PeerID: peer.ID})
			post := func(u *parley.User) int64 {
				t.Helper()
				in := messaging.PostInput{Text: "words of " + u.Username}
				if kind == parley.ChatSecret {
					in = messaging.PostInput{Ciphertext: ct, Nonce: nonce}
				}
				up, err := f.svc.PostMessage(ctx, u, c.ID, in)
				if err != nil {
					t.Fatal(err)
				}
				return up.Message.Seq
			}
			byOpener, byPeer := post(opener), post(peer)

			for _, try := range []struct {
				who  *parley.User
				seq  int64
				what string
			}{{opener, byPeer, "the opener deleting the peer's message"}, {peer, byOpener, "the peer deleting the opener's message"}} {
				_, err := f.svc.DeleteMessage(ctx, try.who, c.ID, try.seq)
				wantErr(t, try.what, err, parley.EForbidden, "")
			}
			// Both messages are still there for both, and each may delete
			// their own.
			for _, u := range []*parley.User{opener, peer} {
				if h, err := f.svc.History(ctx, u, c.ID, 0, 10); err != nil || len(h) != 2 {
					t.Fatalf("%s's history after the refused deletions = %v, %v; want both messages", u.Username, seqs(h), err)
				}
			}
			for _, own := range []struct {
				who *parley.User
				seq int64
			}{{opener, byOpener}, {peer, byPeer}} {
				if _, err := f.svc.DeleteMessage(ctx, own.who, c.ID, own.seq); err != nil {
					t.Fatalf("%s deleting their own message: %v", own.who.Username, err)
				}
			}

			err := f.svc.SetMemberRole(ctx, opener, c.ID, peer.ID, parley.MemberAdmin)
			wantErr(t, "handing out a role", err, parley.EConflict, "")
			if err := f.svc.Leave(ctx, opener, c.ID); err != nil {
				t.Fatalf("the opener leaving: %v", err)
			}
			if err := f.svc.Leave(ctx, peer, c.ID); err != nil {
				t.Fatalf("the peer leaving: %v", err)
			}
		})
	}
}

// TestModeratesOthers is the rule the chat page shows its Delete buttons by.
func TestModeratesOthers(t *testing.T) {
	for _, c := range []struct {
		kind parley.ChatKind
		role parley.MemberRole
		want bool
	}{
		{parley.ChatGroup, parley.MemberOwner, true},
		{parley.ChatGroup, parley.MemberAdmin, true},
		{parley.ChatGroup, parley.MemberRegular, false},
		{parley.ChatChannel, parley.MemberOwner, true},
		{parley.ChatChannel, parley.MemberSubscriber, false},
		{parley.ChatDirect, parley.MemberOwner, false},
		{parley.ChatDirect, parley.MemberRegular, false},
		{parley.ChatSecret, parley.MemberOwner, false},
	} {
		if got := messaging.ModeratesOthers(c.kind, c.role); got != c.want {
			t.Errorf("ModeratesOthers(%s, %s) = %v, want %v", c.kind, c.role, got, c.want)
		}
	}
}
