// Package banks holds hash banks, as in Meta's Hasher-Matcher-Actioner:
// named lists of known content, each entry a PDQ hash, an MD5 or SHA-256
// of a file, a URL or a domain, with where it came from. Uploads and posts
// are matched against every enabled bank before anyone can see them.
//
// A bank is a block bank (its entries are harmful; a match asks for the
// bank's Action) or an allow bank (its entries are known false positives; a
// match suppresses the block matches on the same content, and the
// suppression is reported, not hidden).
//
// Every add and remove of an entry, and every change to a bank, gets the
// next id of one change log. Each scanner process keeps a Matcher in
// memory, built once from the store and then brought up to date by reading
// the change log after the last id it applied; the outbox event
// "bank.changed" tells re-screening workers which change ids are new.
//
// The package is the domain: types, validation, the CSV formats of
// ThreatExchange and HMA, the Matcher and the Service with its role checks.
// Storage adapters implement Store (internal/store/sqlite) and must pass
// the conformance suite in internal/store/storetest.
package banks

import (
	"context"
	"encoding/json"
	"iter"
	"strconv"
	"time"

	"parley"
)

// Kind says what a bank's entries are.
type Kind string

// The kinds of bank.
const (
	KindBlock Kind = "block" // harmful content: a match asks for the bank's Action
	KindAllow Kind = "allow" // known false positives: a match suppresses block matches
)

// Action is what a block bank asks for when content matches it.
type Action string

// The actions, from the strongest to the weakest. A match result's Decision
// is the strongest action among the block matches that were not suppressed.
const (
	ActionBlockUpload Action = "block_upload" // refuse the upload or post: it is never stored as visible
	ActionRemove      Action = "remove"       // store it and remove it at once, with a statement of reasons
	ActionReview      Action = "review"       // keep it invisible until a moderator decides
	ActionLabel       Action = "label"        // show it with the bank's Label
	ActionNone        Action = ""             // no block match (and the action of allow banks)
)

// Rank orders actions: a larger rank is a stronger action.
func (a Action) Rank() int {
	switch a {
	case ActionBlockUpload:
		return 4
	case ActionRemove:
		return 3
	case ActionReview:
		return 2
	case ActionLabel:
		return 1
	}
	return 0
}

// Bank is a named list of entries.
type Bank struct {
	ID int64 `json:"id"`
	// Name is unique without regard to case, and is how staff and the
	// command line name a bank ("ncmec-csam", "known-memes").
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Kind        Kind   `json:"kind"`
	// Category is the DSA statement category given for actions taken on a
	// match (one of the STATEMENT_CATEGORY_* values); required for block
	// banks, optional for allow banks.
	Category string `json:"category,omitempty"`
	// Keywords are the DSA category specification (KEYWORD_* values).
	Keywords []string `json:"keywords,omitempty"`
	// Action and Label are what a match asks for; allow banks have neither.
	Action  Action `json:"action,omitempty"`
	Label   string `json:"label,omitempty"` // required when Action is label
	Enabled bool   `json:"enabled"`         // a disabled bank never matches
	// Entries is the number of entries in the bank now.
	Entries   int64     `json:"entries"`
	CreatedBy int64     `json:"created_by"` // 0 for the system (the command line)
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// EntryType says what an entry's value is.
type EntryType string

// The entry types.
const (
	TypePDQ    EntryType = "pdq"    // a PDQ perceptual hash, 64 hex digits; matches at distance ≤ 31
	TypeMD5    EntryType = "md5"    // the MD5 of a file's bytes, 32 hex digits; matches exactly
	TypeSHA256 EntryType = "sha256" // the SHA-256 of a file's bytes, 64 hex digits; matches exactly
	TypeURL    EntryType = "url"    // a link, matched by host and path prefix like rules.Rule.URLs
	TypeDomain EntryType = "domain" // a domain and its subdomains, like rules.Rule.Domains
)

// EntryTypes lists the entry types, in the order they are documented.
var EntryTypes = []EntryType{TypePDQ, TypeMD5, TypeSHA256, TypeURL, TypeDomain}

// Entry is one item of a bank, with its provenance.
type Entry struct {
	ID     int64     `json:"id"`
	BankID int64     `json:"bank_id"`
	Type   EntryType `json:"type"`
	// Value is canonical (see ParseValue): lower-case hex for hashes, the
	// rules engine's canonical text for URLs and domains. A bank holds a
	// value at most once.
	Value string `json:"value"`
	// Quality is the PDQ quality (50..100) when the source gave it, 0 when
	// it is not known. Hashes of quality 49 or less are refused.
	Quality int `json:"quality,omitempty"`
	// Source says where the entry comes from: "NCMEC", "ThreatExchange
	// privacy group 123", "moderator".
	Source string `json:"source"`
	// ExternalID is the entry's id at the source (a ThreatExchange
	// descriptor id, an NCMEC hash id), when it has one.
	ExternalID string    `json:"external_id,omitempty"`
	Tags       []string  `json:"tags,omitempty"` // the source's labels, such as ThreatExchange tags
	Note       string    `json:"note,omitempty"`
	AddedBy    int64     `json:"added_by"` // 0 for the system
	AddedAt    time.Time `json:"added_at"`
}

// ChangeOp is the kind of a change in the change log.
type ChangeOp string

// The change operations.
const (
	OpAdd    ChangeOp = "add"    // an entry was added
	OpRemove ChangeOp = "remove" // an entry was removed
	OpBank   ChangeOp = "bank"   // the bank was created or changed (enabled, disabled, edited)
)

// Change is one entry of the change log. Ids increase with every change,
// across all banks, and are never reused.
type Change struct {
	ID     int64     `json:"id"`
	BankID int64     `json:"bank_id"`
	Op     ChangeOp  `json:"op"`
	At     time.Time `json:"at"`
	// Entry is the entry added or removed; nil for OpBank.
	Entry *Entry `json:"entry,omitempty"`
}

// Audit actions of banks.
const (
	AuditBankCreated     = "bank.created"
	AuditBankUpdated     = "bank.updated"
	AuditBankEnabled     = "bank.enabled"
	AuditBankDisabled    = "bank.disabled"
	AuditEntryAdded      = "bank.entry_added"
	AuditEntryRemoved    = "bank.entry_removed"
	AuditEntriesImported = "bank.entries_imported"
	AuditBankExported    = "bank.exported"
)

// EventBankChanged is the outbox event kind written with every change to a
// bank, on subject BankSubject(id), with a ChangedEvent payload.
const EventBankChanged = "bank.changed"

// BankSubject is the event subject of a bank.
func BankSubject(bankID int64) string { return "bank." + strconv.FormatInt(bankID, 10) }

// ChangedEvent is the payload of bank.changed: the change ids
// FirstChange..LastChange (inclusive) are new, so a re-screening worker
// reads them with Store.ListBankChanges and screens existing content
// against what was added.
type ChangedEvent struct {
	BankID      int64  `json:"bank_id"`
	FirstChange int64  `json:"first_change"`
	LastChange  int64  `json:"last_change"`
	Added       int64  `json:"added,omitempty"`
	Removed     int64  `json:"removed,omitempty"`
	Action      string `json:"action"` // the audit action of the act, e.g. bank.entries_imported
}

// Actor is who performs an act on banks: an account, or the system acting
// for a command (the command line has no account; it is trusted because
// it runs with access to the data directory).
type Actor struct {
	UserID int64       // 0 for the system
	Role   parley.Role // the account's role; empty for the system
	// Via names what acted for the system, e.g. "parley banks import";
	// it is recorded in the audit entry.
	Via string
	// OSUser is the operating-system user that ran the command, when
	// known; recorded in the audit entry.
	OSUser string
}

// UserActor is the actor for a signed-in account.
func UserActor(u *parley.User) Actor { return Actor{UserID: u.ID, Role: u.Role} }

// SystemActor is the actor for a command run by an operator.
func SystemActor(via, osUser string) Actor { return Actor{Via: via, OSUser: osUser} }

// IsSystem reports whether a is the system.
func (a Actor) IsSystem() bool { return a.UserID == 0 }

// Act is a privileged act on a bank: who, when, which audit action, and
// the details the service knows before the store runs it. The store
// records it with Audit in the same transaction as the change, adding what
// only the transaction knows (ids, counts, change ids).
type Act struct {
	Actor   Actor
	At      time.Time
	Action  string         // one of the Audit* actions
	Details map[string]any // encoded into the audit entry's details, with the Outcome
}

// Outcome is what a change to a bank did.
type Outcome struct {
	EntryID     int64 // the entry added or removed, for single-entry acts
	Added       int64 // entries added
	Duplicates  int64 // entries given that the bank already held, ignored
	Removed     int64 // entries removed
	FirstChange int64 // the first change id written, 0 if none
	LastChange  int64 // the last change id written, 0 if none
}

// Audit returns the audit entry of the act on bank bankID with its
// outcome. Adapters call it inside the transaction, so that every adapter
// records the same details.
func (a Act) Audit(bankID int64, o Outcome) *parley.AuditEntry {
	d := map[string]any{}
	for k, v := range a.Details {
		d[k] = v
	}
	if a.Actor.Via != "" {
		d["via"] = a.Actor.Via
	}
	if a.Actor.OSUser != "" {
		d["os_user"] = a.Actor.OSUser
	}
	if o.EntryID != 0 {
		d["entry_id"] = o.EntryID
	}
	if o.Added != 0 || o.Duplicates != 0 || a.Action == AuditEntriesImported {
		d["added"] = o.Added
		d["duplicates"] = o.Duplicates
	}
	if o.Removed != 0 {
		d["removed"] = o.Removed
	}
	if o.LastChange != 0 {
		d["first_change"] = o.FirstChange
		d["last_change"] = o.LastChange
	}
	details, err := json.Marshal(d)
	if err != nil {
		// Details hold strings, numbers and string lists only.
		details = []byte(`{"error":"details could not be encoded"}`)
	}
	return &parley.AuditEntry{
		At:         a.At,
		ActorID:    a.Actor.UserID,
		Action:     a.Action,
		TargetType: "bank",
		TargetID:   strconv.FormatInt(bankID, 10),
		Details:    string(details),
	}
}

// Event returns the outbox event payload of the act on bank bankID, and
// false when the act changed nothing (such as an import of entries the
// bank already held), in which case no event is written.
func (a Act) Event(bankID int64, o Outcome) (ChangedEvent, bool) {
	if o.LastChange == 0 {
		return ChangedEvent{}, false
	}
	return ChangedEvent{BankID: bankID, FirstChange: o.FirstChange, LastChange: o.LastChange,
		Added: o.Added, Removed: o.Removed, Action: a.Action}, true
}

// Import is a bank import under way. Its entries are written a batch at a
// time, each batch a short transaction of its own, so that a list of
// millions never holds the store's writer for long; none of them is
// visible to any reader (FindBankEntry, ListBankEntries, ListBankChanges,
// the bank's entry count) until PublishBankImport makes them all visible at
// once. An import that is never published, because its process died or it
// failed, is aborted and its entries deleted (Service.CleanImports).
type Import struct {
	ID     int64 `json:"id"`
	BankID int64 `json:"bank_id"`
	// Owner names the process writing the import: "host:pid".
	Owner string `json:"owner"`
	// AddedBy and StartedAt become every entry's AddedBy and AddedAt.
	AddedBy   int64     `json:"added_by"`
	StartedAt time.Time `json:"started_at"`
	// Total is the number of entries to write (the good lines of the file);
	// Written counts those written so far, duplicates included, and Added
	// those new to the bank.
	Total   int64 `json:"total"`
	Written int64 `json:"written"`
	Added   int64 `json:"added"`
	// WrittenAt is when the last batch was written (StartedAt before the
	// first): an import that has not moved for long has lost its process.
	WrittenAt time.Time `json:"written_at"`
	// Aborted is set once the import was given up; its entries are being
	// deleted and it can no longer be written or published.
	Aborted bool `json:"aborted"`
}

// Store is what banks need from storage. Every method that changes a bank
// records the Act in the audit log (Act.Audit), appends to the change log
// and, when something changed, writes the bank.changed outbox event
// (Act.Event), all in the transaction of the change.
//
// Readers never see part of an import: entries written by an import that
// is not published are invisible to every read below, and a bank's
// change log gains the whole import in one step.
type Store interface {
	// CreateBank inserts b, setting b.ID, b.CreatedAt and b.UpdatedAt
	// (from act.At) and b.Entries (0), and writes one OpBank change.
	// EConflict if the name is taken in any letter case.
	CreateBank(ctx context.Context, b *Bank, act Act) error
	// UpdateBank saves b's Description, Category, Keywords, Action, Label
	// and Enabled, sets b.UpdatedAt from act.At and writes one OpBank
	// change. The name, kind and creator never change. ENotFound if there
	// is no such bank.
	UpdateBank(ctx context.Context, b *Bank, act Act) (Outcome, error)
	// FindBankByID returns ENotFound if there is no such bank.
	FindBankByID(ctx context.Context, id int64) (*Bank, error)
	// FindBankByName matches without regard to case; ENotFound if none.
	FindBankByName(ctx context.Context, name string) (*Bank, error)
	// ListBanks returns every bank, by id.
	ListBanks(ctx context.Context) ([]*Bank, error)

	// AddBankEntries adds the entries of the sequence to bank bankID, all
	// in one transaction: if the sequence yields an error, or any insert
	// fails, nothing is added and that error is returned. It is for the
	// few entries of one act (a moderator's entry); imports go through
	// BeginBankImport, which does not hold the writer. An entry whose
	// type and value the bank already holds (or that came earlier in the
	// sequence) is a duplicate, ignored and counted. Each added entry is
	// added by act.Actor at act.At and gets one OpAdd change, in the order
	// of the sequence; the change ids of one call are consecutive. The
	// sequence may reuse the entry it yields, so the store copies what it
	// needs and sets nothing in it; when exactly one entry is added,
	// Outcome.EntryID is its id. ENotFound if there is no such bank;
	// EConflict if an import under way into the bank has written one of
	// the values (it becomes the bank's when the import is published).
	AddBankEntries(ctx context.Context, bankID int64, entries iter.Seq2[*Entry, error], act Act) (Outcome, error)
	// RemoveBankEntry removes entry entryID from bank bankID and writes one
	// OpRemove change. ENotFound if the bank holds no such entry (any more,
	// or not yet: an entry of an import under way).
	RemoveBankEntry(ctx context.Context, bankID, entryID int64, act Act) (Outcome, error)
	// FindBankEntry returns the entry of the bank with that type and
	// canonical value; ENotFound if none.
	FindBankEntry(ctx context.Context, bankID int64, typ EntryType, value string) (*Entry, error)
	// ListBankEntries returns the entries of a bank with id > afterID, by
	// id, at most limit (at most 10,000; zero or less means 10,000).
	ListBankEntries(ctx context.Context, bankID, afterID int64, limit int) ([]*Entry, error)

	// BeginBankImport records a new import into bank imp.BankID by
	// imp.AddedBy at imp.StartedAt, of imp.Total entries, written by
	// imp.Owner, and sets imp.ID (never given again) and imp.WrittenAt.
	// ENotFound if there is no such bank; EConflict if the bank has an
	// import not yet published or forgotten, aborted ones included (one at
	// a time per bank: the entries an import has written count as held
	// when the next looks for duplicates, until they are deleted).
	BeginBankImport(ctx context.Context, imp *Import) error
	// WriteBankImport writes a batch of entries of import importID in one
	// transaction, as AddBankEntries would (a value the bank holds, or
	// that the import wrote before, is a duplicate), but invisibly, and
	// records the progress (Written, Added, WrittenAt = at). It returns
	// how many of the batch were added and how many were duplicates. The
	// store copies what it needs of the entries. ENotFound if the import
	// is not under way (published, aborted or forgotten).
	WriteBankImport(ctx context.Context, importID int64, entries []*Entry, at time.Time) (added, duplicates int64, err error)
	// PublishBankImport makes every entry import importID wrote visible, in
	// one transaction whose work does not grow with the entries: they get
	// one OpAdd change each with consecutive ids, in the order written, the
	// bank's entry count grows by them, and the act is recorded with
	// Outcome{Added, Duplicates, FirstChange, LastChange} (EntryID when one
	// entry was added) in the audit log and the bank.changed event (none
	// when nothing was added). The import is then forgotten. ENotFound if
	// the import is not under way.
	PublishBankImport(ctx context.Context, importID int64, act Act) (Outcome, error)
	// ListBankImports returns every import not yet published or forgotten,
	// aborted ones included, by id.
	ListBankImports(ctx context.Context) ([]*Import, error)
	// AbortBankImport gives import importID up: it can no longer be written
	// or published, its entries stay invisible, and up to limit of them
	// (at most 10,000; zero or less means 10,000) are deleted in one
	// transaction. It returns done once every entry is deleted and the
	// import forgotten; call it until then. ENotFound if there is no such
	// import (forgotten, or published).
	AbortBankImport(ctx context.Context, importID int64, limit int) (done bool, err error)

	// ListBankChanges returns the changes with id > afterID, by id, at most
	// limit (at most 10,000; zero or less means 10,000), each add and
	// remove with its entry.
	ListBankChanges(ctx context.Context, afterID int64, limit int) ([]*Change, error)
	// LastBankChange returns the id of the newest change, 0 if none.
	LastBankChange(ctx context.Context) (int64, error)

	// AppendAudit records an act that changes no bank (an export).
	AppendAudit(ctx context.Context, e *parley.AuditEntry) error
}

// MaxListLimit bounds ListBankEntries and ListBankChanges.
const MaxListLimit = 10_000
