package web

import (
	"net/http"

	"parley"
)

// chatFormPage is the data of the forms that create a chat.
type chatFormPage struct {
	page
	Form *form
}

// channelNew shows the form to create a public channel.
func (s *Server) channelNew(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	f := newForm()
	for _, n := range []string{"handle", "title", "description"} {
		f.Values[n] = ""
	}
	s.render(w, r, http.StatusOK, "channel_new", &chatFormPage{page: page{Title: "New channel", Section: "new"}, Form: f})
	return nil
}
