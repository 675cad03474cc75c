package api

import (
	"errors"
	"io"
	"mime"
	"net/http"

	"parley"
)

// maxUploadBody leaves room for multipart framing around the largest image.
func (s *Server) maxUploadBody() int64 { return s.Messaging.Limits.MaxBytes + 64<<10 }

// handleUpload takes one image, either as the raw body (Content-Type
// image/...) or as the "file" part of a multipart form.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.maxUploadBody())
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var data []byte
	var err error
	switch {
	case ct == "multipart/form-data":
		data, err = readMultipartFile(r)
	case ct == "" || ct == "application/octet-stream" || len(ct) > 6 && ct[:6] == "image/":
		data, err = io.ReadAll(r.Body)
	default:
		return parley.Errorf(parley.EInvalid, "send the image as the request body or as the file field of a multipart form")
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return parley.Errorf(parley.ETooLarge, "image is larger than %d bytes", s.Messaging.Limits.MaxBytes)
		}
		return err
	}
	if len(data) == 0 {
		return parley.FieldError("file", "the upload is empty: send the image as the request body or as the file field of a multipart form")
	}
	m, err := s.Messaging.UploadImage(r.Context(), CurrentUser(r.Context()), data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func readMultipartFile(r *http.Request) ([]byte, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, parley.Errorf(parley.EInvalid, "malformed multipart form: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, parley.FieldError("file", "the form has no file field")
		} else if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, err
			}
			return nil, parley.Errorf(parley.EInvalid, "malformed multipart form: %v", err)
		}
		if part.FormName() == "file" {
			return io.ReadAll(part)
		}
	}
}

// handleMedia serves a stored image, or its thumbnail with ?thumb=1, to a
// viewer the messaging service says may see it (Service.OpenMedia): 404,
// alike for an image that does not exist and one the viewer may not see;
// 451 with the reason for a removed image the viewer would otherwise see.
func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request) {
	m, err := s.Messaging.OpenMedia(r.Context(), CurrentUser(r.Context()), r.PathValue("id"))
	if err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	id, ctype := m.ID, m.Mime
	if t := r.URL.Query().Get("thumb"); t == "1" || t == "true" {
		id, ctype = m.ThumbID, "image/jpeg"
	}
	f, err := s.Messaging.Blobs.Open(id)
	if err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", ctype)
	// The bytes of a file never change, but who may see them can change at
	// any moment (a removal, a withholding, leaving a chat): browsers keep
	// the image and ask again each time, and the access check runs before
	// the cheap 304, so that a change takes effect at once.
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("ETag", `"`+id+`"`)
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	http.ServeContent(w, r, "", m.CreatedAt, f)
}
