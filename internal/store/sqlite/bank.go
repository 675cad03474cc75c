package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"iter"
	"strconv"
	"strings"

	"parley"
	"parley/internal/safety/banks"
)

var _ banks.Store = (*DB)(nil)

// bankKey is the form in which bank names are compared.
func bankKey(name string) string { return strings.ToLower(name) }

const bankColumns = `id, name, description, kind, category, keywords, action, label, enabled, entries, created_by, created_at, updated_at`

func scanBank(row interface{ Scan(...any) error }) (*banks.Bank, error) {
	var b banks.Bank
	var kind, action, keywords string
	var created, updated int64
	if err := row.Scan(&b.ID, &b.Name, &b.Description, &kind, &b.Category, &keywords, &action, &b.Label,
		&b.Enabled, &b.Entries, &b.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	b.Kind, b.Action = banks.Kind(kind), banks.Action(action)
	b.CreatedAt, b.UpdatedAt = fromMicro(created), fromMicro(updated)
	if err := json.Unmarshal([]byte(keywords), &b.Keywords); err != nil {
		return nil, err
	}
	if len(b.Keywords) == 0 {
		b.Keywords = nil
	}
	return &b, nil
}

func encodeKeywords(k []string) string {
	if len(k) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(k)
	return string(b)
}

// insertBankChange appends one change and returns its id.
func insertBankChange(ctx context.Context, tx *sql.Tx, bankID int64, op banks.ChangeOp, entryID sql.NullInt64, act banks.Act) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO bank_changes (bank_id, op, entry_id, at) VALUES (?, ?, ?, ?)`,
		bankID, string(op), entryID, toMicro(nowOr(act.At)))
	if err != nil {
		return 0, internal("append bank change", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, internal("append bank change", err)
	}
	return id, nil
}

// commitBankAct writes the audit entry and, when something changed, the
// bank.changed event of an act, and commits its transaction.
func (db *DB) commitBankAct(ctx context.Context, tx *sql.Tx, bankID int64, act banks.Act, o banks.Outcome) error {
	a := act.Audit(bankID, o)
	a.At = nowOr(a.At)
	if err := appendAudit(ctx, tx, a); err != nil {
		return err
	}
	ev, changed := act.Event(bankID, o)
	if changed {
		if err := insertEvent(ctx, tx, banks.BankSubject(bankID), banks.EventBankChanged, ev); err != nil {
			return err
		}
	}
	return db.commit(tx, changed)
}

// CreateBank inserts b with one change, its audit entry and event; EConflict
// if the name is taken in any letter case.
func (db *DB) CreateBank(ctx context.Context, b *banks.Bank, act banks.Act) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := nowOr(act.At)
	var id int64
	err = tx.QueryRowContext(ctx, `
		INSERT INTO banks (name, name_key, description, kind, category, keywords, action, label, enabled, entries, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
		RETURNING id`,
		b.Name, bankKey(b.Name), b.Description, string(b.Kind), b.Category, encodeKeywords(b.Keywords), string(b.Action), b.Label,
		b.Enabled, b.CreatedBy, toMicro(now), toMicro(now)).Scan(&id)
	if isUnique(err) {
		return parley.Errorf(parley.EConflict, "a bank named %s exists", b.Name)
	} else if err != nil {
		return internal("create bank", err)
	}
	change, err := insertBankChange(ctx, tx, id, banks.OpBank, sql.NullInt64{}, act)
	if err != nil {
		return err
	}
	if err := db.commitBankAct(ctx, tx, id, act, banks.Outcome{FirstChange: change, LastChange: change}); err != nil {
		return err
	}
	b.ID, b.Entries, b.CreatedAt, b.UpdatedAt = id, 0, now, now
	return nil
}

// UpdateBank saves the fields of b that may change, with one change, its
// audit entry and event; ENotFound if there is no such bank.
func (db *DB) UpdateBank(ctx context.Context, b *banks.Bank, act banks.Act) (banks.Outcome, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return banks.Outcome{}, err
	}
	defer tx.Rollback()
	now := nowOr(act.At)
	res, err := tx.ExecContext(ctx, `
		UPDATE banks SET description = ?, category = ?, keywords = ?, action = ?, label = ?, enabled = ?, updated_at = ?
		WHERE id = ?`,
		b.Description, b.Category, encodeKeywords(b.Keywords), string(b.Action), b.Label, b.Enabled, toMicro(now), b.ID)
	if err != nil {
		return banks.Outcome{}, internal("update bank", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return banks.Outcome{}, internal("update bank", err)
	} else if n == 0 {
		return banks.Outcome{}, parley.Errorf(parley.ENotFound, "bank %d not found", b.ID)
	}
	change, err := insertBankChange(ctx, tx, b.ID, banks.OpBank, sql.NullInt64{}, act)
	if err != nil {
		return banks.Outcome{}, err
	}
	o := banks.Outcome{FirstChange: change, LastChange: change}
	if err := db.commitBankAct(ctx, tx, b.ID, act, o); err != nil {
		return banks.Outcome{}, err
	}
	b.UpdatedAt = now
	return o, nil
}

// FindBankByID returns ENotFound if there is no such bank.
func (db *DB) FindBankByID(ctx context.Context, id int64) (*banks.Bank, error) {
	b, err := scanBank(db.reads.QueryRowContext(ctx, `SELECT `+bankColumns+` FROM banks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "bank %d not found", id)
	} else if err != nil {
		return nil, internal("find bank", err)
	}
	return b, nil
}

// FindBankByName matches without regard to case; ENotFound if none.
func (db *DB) FindBankByName(ctx context.Context, name string) (*banks.Bank, error) {
	b, err := scanBank(db.reads.QueryRowContext(ctx, `SELECT `+bankColumns+` FROM banks WHERE name_key = ?`, bankKey(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "bank %s not found", name)
	} else if err != nil {
		return nil, internal("find bank", err)
	}
	return b, nil
}

// ListBanks returns every bank, by id.
func (db *DB) ListBanks(ctx context.Context) ([]*banks.Bank, error) {
	rows, err := db.reads.QueryContext(ctx, `SELECT `+bankColumns+` FROM banks ORDER BY id`)
	if err != nil {
		return nil, internal("list banks", err)
	}
	defer rows.Close()
	out := []*banks.Bank{}
	for rows.Next() {
		b, err := scanBank(rows)
		if err != nil {
			return nil, internal("list banks", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list banks", err)
	}
	return out, nil
}

// bankExists returns ENotFound unless the bank exists.
func bankExists(ctx context.Context, q queryer, id int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM banks WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENotFound, "bank %d not found", id)
	} else if err != nil {
		return internal("find bank", err)
	}
	return nil
}

// insertChunk is how many entries one INSERT statement adds. Binding and
// stepping one statement per entry cost about as much as the insert itself;
// a hundred rows per statement (1,000 parameters, far below SQLite's limit)
// share that cost.
const insertChunk = 100

// sqlInsertEntries returns the INSERT of n entries, which skips entries
// the bank holds already.
func sqlInsertEntries(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO bank_entries (bank_id, type, value, quality, source, external_id, tags, note, added_by, added_at) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	}
	b.WriteString(` ON CONFLICT DO NOTHING`)
	return b.String()
}

var sqlInsertEntryChunk = sqlInsertEntries(insertChunk)

// AddBankEntries adds the entries in one transaction, a hundred per
// statement, skipping values the bank holds already; then it writes the
// change log of everything added with one INSERT ... SELECT (the new rows
// are exactly those above the largest id before, since this connection is
// the only writer), so the change ids follow the entries' order and are
// consecutive.
func (db *DB) AddBankEntries(ctx context.Context, bankID int64, entries iter.Seq2[*banks.Entry, error], act banks.Act) (banks.Outcome, error) {
	var o banks.Outcome
	// A large import inserts into the unique index in random order; with
	// SQLite's default 2 MiB page cache most inserts would first spill
	// dirty pages to the WAL. A larger cache for this transaction makes a
	// million-entry import much faster; the cache only grows as pages are
	// used, and is set back when the transaction is over (after the
	// rollback or commit deferred below, which frees the one writer
	// connection).
	restoreCache := ""
	defer func() {
		if restoreCache != "" {
			db.writer.ExecContext(context.WithoutCancel(ctx), restoreCache)
		}
	}()
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return o, err
	}
	defer tx.Rollback()
	if err := bankExists(ctx, tx, bankID); err != nil {
		return o, err
	}
	var cacheSize int64
	if err := tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cacheSize); err != nil {
		return o, internal("add bank entries", err)
	}
	if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = -262144`); err != nil {
		return o, internal("add bank entries", err)
	}
	restoreCache = `PRAGMA cache_size = ` + strconv.FormatInt(cacheSize, 10)
	var before int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM bank_entries`).Scan(&before); err != nil {
		return o, internal("add bank entries", err)
	}
	full, err := tx.PrepareContext(ctx, sqlInsertEntryChunk)
	if err != nil {
		return o, internal("add bank entries", err)
	}
	defer full.Close()
	atMicro := toMicro(nowOr(act.At))
	args := make([]any, 0, 10*insertChunk)
	rows := 0
	var lastID int64
	flush := func() error {
		if rows == 0 {
			return nil
		}
		var res sql.Result
		var err error
		if rows == insertChunk {
			res, err = full.ExecContext(ctx, args...)
		} else {
			res, err = tx.ExecContext(ctx, sqlInsertEntries(rows), args...)
		}
		if err != nil {
			return internal("add bank entries", err)
		}
		added, err := res.RowsAffected()
		if err != nil {
			return internal("add bank entries", err)
		}
		if added > 0 {
			if lastID, err = res.LastInsertId(); err != nil {
				return internal("add bank entries", err)
			}
		}
		o.Added += added
		o.Duplicates += int64(rows) - added
		args, rows = args[:0], 0
		return ctx.Err()
	}
	for e, err := range entries {
		if err != nil {
			return banks.Outcome{}, err
		}
		args = append(args, bankID, string(e.Type), e.Value, e.Quality, e.Source, e.ExternalID,
			strings.Join(e.Tags, " "), e.Note, act.Actor.UserID, atMicro)
		if rows++; rows == insertChunk {
			if err := flush(); err != nil {
				return banks.Outcome{}, err
			}
		}
	}
	if err := flush(); err != nil {
		return banks.Outcome{}, err
	}
	if o.Added == 1 {
		o.EntryID = lastID // the one entry added: a single-entry act names it
	}
	if o.Added > 0 {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO bank_changes (bank_id, op, entry_id, at)
			SELECT ?, 'add', id, ? FROM bank_entries WHERE id > ? ORDER BY id`, bankID, atMicro, before)
		if err != nil {
			return banks.Outcome{}, internal("append bank changes", err)
		}
		last, err := res.LastInsertId()
		if err != nil {
			return banks.Outcome{}, internal("append bank changes", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != o.Added {
			return banks.Outcome{}, internal("append bank changes", errors.Join(err, errors.New("change count differs from entries added")))
		}
		o.FirstChange, o.LastChange = last-o.Added+1, last
		if _, err := tx.ExecContext(ctx, `UPDATE banks SET entries = entries + ? WHERE id = ?`, o.Added, bankID); err != nil {
			return banks.Outcome{}, internal("count bank entries", err)
		}
	}
	if err := db.commitBankAct(ctx, tx, bankID, act, o); err != nil {
		return banks.Outcome{}, err
	}
	return o, nil
}

// RemoveBankEntry marks an entry removed, with one change, its audit entry
// and event; ENotFound if the bank holds no such entry.
func (db *DB) RemoveBankEntry(ctx context.Context, bankID, entryID int64, act banks.Act) (banks.Outcome, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return banks.Outcome{}, err
	}
	defer tx.Rollback()
	at := toMicro(nowOr(act.At))
	res, err := tx.ExecContext(ctx, `
		UPDATE bank_entries SET removed_at = ?, removed_by = ?
		WHERE id = ? AND bank_id = ? AND removed_at IS NULL`, at, act.Actor.UserID, entryID, bankID)
	if err != nil {
		return banks.Outcome{}, internal("remove bank entry", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return banks.Outcome{}, internal("remove bank entry", err)
	} else if n == 0 {
		if err := bankExists(ctx, tx, bankID); err != nil {
			return banks.Outcome{}, err
		}
		return banks.Outcome{}, parley.Errorf(parley.ENotFound, "bank %d holds no entry %d", bankID, entryID)
	}
	change, err := insertBankChange(ctx, tx, bankID, banks.OpRemove, sql.NullInt64{Int64: entryID, Valid: true}, act)
	if err != nil {
		return banks.Outcome{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE banks SET entries = entries - 1 WHERE id = ?`, bankID); err != nil {
		return banks.Outcome{}, internal("count bank entries", err)
	}
	o := banks.Outcome{EntryID: entryID, Removed: 1, FirstChange: change, LastChange: change}
	if err := db.commitBankAct(ctx, tx, bankID, act, o); err != nil {
		return banks.Outcome{}, err
	}
	return o, nil
}

// splitTags reads the stored tags; none is nil, as the entry was given.
func splitTags(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

const entryColumns = `id, bank_id, type, value, quality, source, external_id, tags, note, added_by, added_at`

func scanEntry(row interface{ Scan(...any) error }) (*banks.Entry, error) {
	var e banks.Entry
	var typ, tags string
	var added int64
	if err := row.Scan(&e.ID, &e.BankID, &typ, &e.Value, &e.Quality, &e.Source, &e.ExternalID, &tags, &e.Note, &e.AddedBy, &added); err != nil {
		return nil, err
	}
	e.Type, e.AddedAt, e.Tags = banks.EntryType(typ), fromMicro(added), splitTags(tags)
	return &e, nil
}

// FindBankEntry returns the entry the bank holds with that type and value;
// ENotFound if none.
func (db *DB) FindBankEntry(ctx context.Context, bankID int64, typ banks.EntryType, value string) (*banks.Entry, error) {
	e, err := scanEntry(db.reads.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM bank_entries
		WHERE bank_id = ? AND type = ? AND value = ? AND removed_at IS NULL`, bankID, string(typ), value))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, parley.Errorf(parley.ENotFound, "bank %d holds no %s %s", bankID, typ, value)
	} else if err != nil {
		return nil, internal("find bank entry", err)
	}
	return e, nil
}

// ListBankEntries returns the entries a bank holds with id > afterID, by
// id, at most limit (at most 10,000).
func (db *DB) ListBankEntries(ctx context.Context, bankID, afterID int64, limit int) ([]*banks.Entry, error) {
	rows, err := db.reads.QueryContext(ctx, `SELECT `+entryColumns+` FROM bank_entries
		WHERE bank_id = ? AND id > ? AND removed_at IS NULL ORDER BY id LIMIT ?`,
		bankID, afterID, pageLimit(limit, banks.MaxListLimit))
	if err != nil {
		return nil, internal("list bank entries", err)
	}
	defer rows.Close()
	out := []*banks.Entry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, internal("list bank entries", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list bank entries", err)
	}
	return out, nil
}

// ListBankChanges returns the changes with id > afterID, by id, at most
// limit (at most 10,000), each add and remove with its entry (a removed
// entry keeps its row, so it is always there).
func (db *DB) ListBankChanges(ctx context.Context, afterID int64, limit int) ([]*banks.Change, error) {
	rows, err := db.reads.QueryContext(ctx, `
		SELECT c.id, c.bank_id, c.op, c.at,
			e.id, e.bank_id, e.type, e.value, e.quality, e.source, e.external_id, e.tags, e.note, e.added_by, e.added_at
		FROM bank_changes c LEFT JOIN bank_entries e ON e.id = c.entry_id
		WHERE c.id > ? ORDER BY c.id LIMIT ?`, afterID, pageLimit(limit, banks.MaxListLimit))
	if err != nil {
		return nil, internal("list bank changes", err)
	}
	defer rows.Close()
	out := []*banks.Change{}
	for rows.Next() {
		var c banks.Change
		var op string
		var at int64
		var (
			id, bank, quality, addedBy, added        sql.NullInt64
			typ, value, source, external, tags, note sql.NullString
		)
		if err := rows.Scan(&c.ID, &c.BankID, &op, &at, &id, &bank, &typ, &value, &quality, &source, &external, &tags, &note, &addedBy, &added); err != nil {
			return nil, internal("list bank changes", err)
		}
		c.Op, c.At = banks.ChangeOp(op), fromMicro(at)
		if id.Valid {
			c.Entry = &banks.Entry{ID: id.Int64, BankID: bank.Int64, Type: banks.EntryType(typ.String), Value: value.String,
				Quality: int(quality.Int64), Source: source.String, ExternalID: external.String, Tags: splitTags(tags.String),
				Note: note.String, AddedBy: addedBy.Int64, AddedAt: fromMicro(added.Int64)}
		}
		out = append(out, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list bank changes", err)
	}
	return out, nil
}

// LastBankChange returns the id of the newest change, 0 if none.
func (db *DB) LastBankChange(ctx context.Context) (int64, error) {
	var id int64
	if err := db.reads.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM bank_changes`).Scan(&id); err != nil {
		return 0, internal("last bank change", err)
	}
	return id, nil
}
