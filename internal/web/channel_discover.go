package web

import (
	"net/http"

	"parley"
)

// discoverPage is the data of the channel search page.
type discoverPage struct {
	page
	Query    string
	Channels []*parley.Chat
	Member   map[int64]bool // channels the user already belongs to
	Error    string
}

// channelDiscover finds public channels by handle or title (the largest
// first when no search text is given), each with a subscribe button.
func (s *Server) channelDiscover(w http.ResponseWriter, r *http.Request, u *parley.User) error {
	p := &discoverPage{page: page{Title: "Discover channels", Section: "discover"}, Query: r.URL.Query().Get("q"), Member: map[int64]bool{}}
	channels, err := s.Messaging.SearchChannels(r.Context(), u, p.Query, 50)
	if err != nil {
		if !formError(err) {
			return err
		}
		p.Error = parley.ErrorMessage(err)
		s.render(w, r, http.StatusBadRequest, "channel_discover", p)
		return nil
	}
	p.Channels = channels
	mine, err := s.Messaging.ListChats(r.Context(), u)
	if err != nil {
		return err
	}
	for _, c := range mine {
		p.Member[c.ID] = true
	}
	s.render(w, r, http.StatusOK, "channel_discover", p)
	return nil
}
