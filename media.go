package parley

import "time"

// Media is a stored image. Its ID is random (64 lower-case hex digits), so
// that it says nothing about the bytes: each upload is its own item, even
// of bytes uploaded before, and only someone who may see the image is
// served it (see messaging.Service.OpenMedia). Items stored before ids were
// random keep their old id, which is the SHA-256 of their bytes.
type Media struct {
	ID     string `json:"id"`
	Mime   string `json:"mime"`
	Size   int64  `json:"size"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// ThumbID names the file of the JPEG thumbnail, random like ID. Clients
	// fetch the thumbnail as /media/{ID}?thumb=1.
	ThumbID    string    `json:"thumb_id"`
	UploaderID int64     `json:"uploader_id"`
	CreatedAt  time.Time `json:"created_at"`
	// Status is "", MediaBlocked or MediaRemoved.
	Status     string      `json:"status,omitempty"`
	Moderation *Moderation `json:"moderation,omitempty"`
	// The hashes taken at upload, so that hash banks added later find every
	// stored copy: SHA-256 and MD5 of the bytes (hex) and PDQ (hex, with
	// its quality 0-100). They are never shown to members: whoever holds a
	// copy of an image could otherwise learn that it was uploaded.
	SHA256     string `json:"-"`
	MD5        string `json:"-"`
	PDQ        string `json:"-"`
	PDQQuality int    `json:"-"`
}
