package parley

import "time"

// AuditEntry is one privileged act in the append-only audit log. Each entry
// carries the hash of the one before it, so altering, removing or reordering
// any entry breaks the chain from that point on (see internal/audit).
type AuditEntry struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	ActorID    int64     `json:"actor_id"` // 0 for the system itself
	Action     string    `json:"action"`   // e.g. "user.role_changed"
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	Details    string    `json:"details,omitempty"` // JSON object
	PrevHash   []byte    `json:"prev_hash"`
	Hash       []byte    `json:"hash"`
}

// Audit actions recorded so far.
const (
	AuditUserRoleChanged = "user.role_changed"
	// AuditMediaViewed: a staff member was served an image that no message
	// shows them (recorded once per staff member, image and hour).
	AuditMediaViewed = "media.viewed"
)
