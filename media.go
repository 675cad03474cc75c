package parley

import "time"

// Media is a stored image. Its ID is the SHA-256 of its bytes, so the same
// image uploaded twice is stored once.
type Media struct {
	ID         string    `json:"id"`
	Mime       string    `json:"mime"`
	Size       int64     `json:"size"`
	Width      int       `json:"width"`
	Height     int       `json:"height"`
	ThumbID    string    `json:"thumb_id"` // SHA-256 of the JPEG thumbnail
	UploaderID int64     `json:"uploader_id"`
	CreatedAt  time.Time `json:"created_at"`
	// Status is "", MediaBlocked or MediaRemoved.
	Status     string      `json:"status,omitempty"`
	Moderation *Moderation `json:"moderation,omitempty"`
	// The hashes taken at upload, so that hash banks added later find every
	// stored copy: PDQ (hex, with its quality 0-100) and MD5 (hex). The ID
	// is the SHA-256.
	PDQ        string `json:"-"`
	PDQQuality int    `json:"-"`
	MD5        string `json:"-"`
}
