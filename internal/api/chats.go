package api

import (
	"net/http"
	"time"

	"parley"
	"parley/internal/messaging"
)

// createChatRequest is messaging.CreateChatInput, with the peer also
// nameable by username.
type createChatRequest struct {
	messaging.CreateChatInput
	Peer string `json:"peer"`
}

func (s *Server) handleCreateChat(w http.ResponseWriter, r *http.Request) error {
	var in createChatRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Peer != "" && in.PeerID == 0 {
		peer, err := s.Auth.Store.FindUserByUsername(r.Context(), in.Peer)
		if parley.ErrorCode(err) == parley.ENotFound {
			return parley.FieldError("peer", "no account named %q", in.Peer)
		} else if err != nil {
			return err
		}
		in.PeerID = peer.ID
	}
	chat, err := s.Messaging.CreateChat(r.Context(), CurrentUser(r.Context()), in.CreateChatInput)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, chat)
	return nil
}

func (s *Server) handleListChats(w http.ResponseWriter, r *http.Request) error {
	chats, err := s.Messaging.ListChats(r.Context(), CurrentUser(r.Context()))
	if err != nil {
		return err
	}
	if chats == nil {
		chats = []*parley.ChatSummary{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"chats": chats})
	return nil
}

// chatResponse is a chat with the caller's membership (absent when the
// caller reads a public channel without subscribing).
type chatResponse struct {
	*parley.Chat
	Membership *parley.Member `json:"membership,omitempty"`
}

func (s *Server) handleGetChat(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "chatID")
	if err != nil {
		return err
	}
	chat, m, err := s.Messaging.GetChat(r.Context(), CurrentUser(r.Context()), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, chatResponse{Chat: chat, Membership: m})
	return nil
}

func (s *Server) handleGetChannel(w http.ResponseWriter, r *http.Request) error {
	chat, err := s.Messaging.FindChannel(r.Context(), CurrentUser(r.Context()), r.PathValue("handle"))
	if err != nil {
		return err
	}
	_, m, err := s.Messaging.GetChat(r.Context(), CurrentUser(r.Context()), chat.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, chatResponse{Chat: chat, Membership: m})
	return nil
}

func (s *Server) handleSearchChannels(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 50)
	if err != nil {
		return err
	}
	chats, err := s.Messaging.SearchChannels(r.Context(), CurrentUser(r.Context()), r.URL.Query().Get("q"), int(limit))
	if err != nil {
		return err
	}
	if chats == nil {
		chats = []*parley.Chat{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": chats})
	return nil
}

func (s *Server) handleSubscribe(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "chatID")
	if err != nil {
		return err
	}
	if err := s.Messaging.Subscribe(r.Context(), CurrentUser(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleLeave(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "chatID")
	if err != nil {
		return err
	}
	if err := s.Messaging.Leave(r.Context(), CurrentUser(r.Context()), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleSetMemberRole(w http.ResponseWriter, r *http.Request) error {
	chatID, err := pathInt(r, "chatID")
	if err != nil {
		return err
	}
	userID, err := pathInt(r, "userID")
	if err != nil {
		return err
	}
	var in struct {
		Role parley.MemberRole `json:"role"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.Messaging.SetMemberRole(r.Context(), CurrentUser(r.Context()), chatID, userID, in.Role); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleCreateInvite(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "chatID")
	if err != nil {
		return err
	}
	var in struct {
		ExpiresInSeconds int64 `json:"expires_in_seconds"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.ExpiresInSeconds < 0 || in.ExpiresInSeconds > int64(messaging.MaxInviteTTL/time.Second) {
		return parley.FieldError("expires_in_seconds", "expires_in_seconds must be between 0 (never) and %d", int64(messaging.MaxInviteTTL/time.Second))
	}
	inv, err := s.Messaging.CreateInvite(r.Context(), CurrentUser(r.Context()), id, time.Duration(in.ExpiresInSeconds)*time.Second)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inv)
	return nil
}

func (s *Server) handleListInvites(w http.ResponseWriter, r *http.Request) error {
	id, err := pathInt(r, "chatID")
	if err != nil {
		return err
	}
	invites, err := s.Messaging.ListInvites(r.Context(), CurrentUser(r.Context()), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"invites": invites})
	return nil
}

func (s *Server) handleRevokeInvite(w http.ResponseWriter, r *http.Request) error {
	if err := s.Messaging.RevokeInvite(r.Context(), CurrentUser(r.Context()), r.PathValue("token")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleJoinInvite(w http.ResponseWriter, r *http.Request) error {
	chat, err := s.Messaging.JoinByInvite(r.Context(), CurrentUser(r.Context()), r.PathValue("token"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, chat)
	return nil
}
