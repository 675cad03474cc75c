package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"

	"parley"
	"parley/internal/api"
	"parley/internal/messaging"
)

// messagePost posts a message from the chat page's form: text, an optional
// image (uploaded first, as its own media item) and an optional reply.
// On a validation error the chat page comes back with the message next to
// the field and the text kept. Secret chats never post here: their text is
// encrypted in the browser and sent to the API as ciphertext.
func (s *Server) messagePost(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	chatID, err := pathID(r, "chatID")
	if err != nil {
		return err
	}
	limit := s.Messaging.Limits.MaxBytes
	r.Body = http.MaxBytesReader(w, r.Body, limit+64<<10)
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return s.messageFormFailed(w, r, u, chatID, newForm(), 0, parley.FieldError("image", "the image is larger than %d MB", limit>>20))
		}
		return parley.Errorf(parley.EInvalid, "the form could not be read; please try again")
	}
	f := formFrom(r, "text", "image")
	reply, _ := strconv.ParseInt(r.PostFormValue("reply_to_seq"), 10, 64)

	in := messaging.PostInput{Text: f.Get("text"), ReplyToSeq: reply}
	if file, _, err := r.FormFile("image"); err == nil {
		mediaID, err := s.uploadImage(r, u, file)
		file.Close()
		if err != nil {
			return s.messageFormFailed(w, r, u, chatID, f, reply, err)
		}
		in.MediaID = mediaID
	}
	up, err := s.Messaging.PostMessage(r.Context(), u, chatID, in)
	if err != nil {
		return s.messageFormFailed(w, r, u, chatID, f, reply, err)
	}
	return seeOther(w, r, fmt.Sprintf("/chats/%d#m-%d", chatID, up.Message.Seq))
}

// uploadImage stores the uploaded image and returns its id. Any problem with
// it is reported on the form's image field.
func (s *Server) uploadImage(r *http.Request, u *parley.User, file multipart.File) (string, error) {
	data, err := io.ReadAll(io.LimitReader(file, s.Messaging.Limits.MaxBytes+1))
	if err != nil {
		return "", err
	}
	if len(data) == 0 {
		return "", parley.FieldError("image", "the chosen file is empty (0 bytes): choose the image itself")
	}
	m, err := s.Messaging.UploadImage(r.Context(), u, data)
	if err != nil {
		var busy *parley.Error
		if errors.As(err, &busy) && (busy.Code == parley.EUnavailable || busy.Code == parley.ERateLimited) {
			// Busy, or too many uploads: shown on the form with its status
			// and Retry-After, the text kept, like any other refusal.
			e := *busy
			e.Field = "image"
			return "", &e
		}
		if formError(err) {
			return "", parley.FieldError("image", "%s", parley.ErrorMessage(err))
		}
		return "", err
	}
	return m.ID, nil
}

// messageFormFailed re-renders the chat page with the post form's error, or
// shows the error page when the chat itself cannot be shown.
func (s *Server) messageFormFailed(w http.ResponseWriter, r *http.Request, u *parley.User, chatID int64, f *form, reply int64, err error) error {
	if !formError(err) && parley.ErrorField(err) != "image" {
		return err
	}
	p, perr := s.loadChatPage(r.Context(), u, chatID, 0, reply)
	if perr != nil {
		return perr
	}
	if p.Secret || !p.CanPost {
		return err // there is no form on the page to show it next to
	}
	if _, ok := f.Values["image"]; !ok {
		f.Values["image"] = ""
	}
	if _, ok := f.Values["text"]; !ok {
		f.Values["text"] = ""
	}
	f.fail(err, map[string]string{"media_id": "image", "file": "image", "reply_to_seq": "text"})
	if f.Errors["image"] != "" {
		f.Errors["image"] += " Choose the image again."
	}
	p.Form = f
	api.SetRetryAfter(w, err)
	s.render(w, r, api.StatusOf(err), "chat_show", p)
	return nil
}
