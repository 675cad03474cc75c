package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

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

// nextBankChange returns the id the next change gets: one past the end of
// the newest row's span, and past every id AUTOINCREMENT ever gave. Rows
// are written with explicit ids, since a span's later ids have no row of
// their own; only the writer's transaction asks, so no two rows get one.
func nextBankChange(ctx context.Context, tx *sql.Tx) (int64, error) {
	var next int64
	err := tx.QueryRowContext(ctx, `SELECT max(
		coalesce((SELECT id + span FROM bank_changes ORDER BY id DESC LIMIT 1), 1),
		coalesce((SELECT seq + 1 FROM sqlite_sequence WHERE name = 'bank_changes'), 1))`).Scan(&next)
	if err != nil {
		return 0, internal("next bank change", err)
	}
	return next, nil
}

// insertBankChange appends one change, or the span of changes adding the
// entries entryID .. entryID+span-1, and returns the first id.
func insertBankChange(ctx context.Context, tx *sql.Tx, bankID int64, op banks.ChangeOp, entryID sql.NullInt64, span int64, at time.Time) (int64, error) {
	id, err := nextBankChange(ctx, tx)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bank_changes (id, bank_id, op, entry_id, span, at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, bankID, string(op), entryID, span, toMicro(nowOr(at))); err != nil {
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
	change, err := insertBankChange(ctx, tx, id, banks.OpBank, sql.NullInt64{}, 1, act.At)
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
	change, err := insertBankChange(ctx, tx, b.ID, banks.OpBank, sql.NullInt64{}, 1, act.At)
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
// a hundred rows per statement (1,100 parameters, far below SQLite's limit)
// share that cost.
const insertChunk = 100

// sqlInsertEntries returns the INSERT of n entries, which skips entries
// the bank holds already (and those an import under way has written).
func sqlInsertEntries(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO bank_entries (bank_id, type, value, quality, source, external_id, tags, note, added_by, added_at, import_id) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	}
	b.WriteString(` ON CONFLICT DO NOTHING`)
	return b.String()
}

var sqlInsertEntryChunk = sqlInsertEntries(insertChunk)

// entryVisible is the condition on a bank_entries row e that it may be
// read: it was not written by an import that is still under way (or
// aborted). Imports under way are few, so the subquery is a short list.
const entryVisible = `(e.import_id = 0 OR e.import_id NOT IN (SELECT id FROM bank_imports))`

// entryInserter adds entries to a bank inside one write transaction, a
// hundred per statement, skipping values the bank holds, and keeps the run
// of ids it added. The rows one transaction inserts have consecutive ids:
// SQLite gives a new row the largest id plus one, this connection is the
// only writer, and nothing is deleted in between. A change-log span and an
// import's run rely on that, so it is checked, not assumed.
type entryInserter struct {
	ctx      context.Context
	tx       *sql.Tx
	full     *sql.Stmt
	bankID   int64
	importID int64
	addedBy  int64
	at       int64
	args     []any
	rows     int
	// added and duplicates count the entries; the ids added are
	// before+1 .. last.
	added, duplicates int64
	before, last      int64
}

func newEntryInserter(ctx context.Context, tx *sql.Tx, bankID, importID, addedBy int64, at time.Time) (*entryInserter, error) {
	w := &entryInserter{ctx: ctx, tx: tx, bankID: bankID, importID: importID, addedBy: addedBy, at: toMicro(nowOr(at)),
		args: make([]any, 0, 11*insertChunk)}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM bank_entries`).Scan(&w.before); err != nil {
		return nil, internal("add bank entries", err)
	}
	w.last = w.before
	var err error
	if w.full, err = tx.PrepareContext(ctx, sqlInsertEntryChunk); err != nil {
		return nil, internal("add bank entries", err)
	}
	return w, nil
}

// add queues one entry, inserting a full chunk.
func (w *entryInserter) add(e *banks.Entry) error {
	w.args = append(w.args, w.bankID, string(e.Type), e.Value, e.Quality, e.Source, e.ExternalID,
		strings.Join(e.Tags, " "), e.Note, w.addedBy, w.at, w.importID)
	if w.rows++; w.rows == insertChunk {
		return w.flush()
	}
	return nil
}

// flush inserts the queued entries.
func (w *entryInserter) flush() error {
	if w.rows == 0 {
		return nil
	}
	var res sql.Result
	var err error
	if w.rows == insertChunk {
		res, err = w.full.ExecContext(w.ctx, w.args...)
	} else {
		res, err = w.tx.ExecContext(w.ctx, sqlInsertEntries(w.rows), w.args...)
	}
	if err != nil {
		return internal("add bank entries", err)
	}
	added, err := res.RowsAffected()
	if err != nil {
		return internal("add bank entries", err)
	}
	if added > 0 {
		last, err := res.LastInsertId()
		if err != nil {
			return internal("add bank entries", err)
		}
		if last != w.last+added {
			return internal("add bank entries", fmt.Errorf("the rows added have ids up to %d, want %d: not consecutive", last, w.last+added))
		}
		w.last = last
	}
	w.added += added
	w.duplicates += int64(w.rows) - added
	w.args, w.rows = w.args[:0], 0
	return w.ctx.Err()
}

func (w *entryInserter) close() { w.full.Close() }

// firstAdded is the id of the first entry added (meaningful when added > 0).
func (w *entryInserter) firstAdded() int64 { return w.before + 1 }

// pendingImports returns the imports into the bank that are under way or
// aborted, by id, with whether each is aborted.
func pendingImports(ctx context.Context, q queryer, bankID int64) (map[int64]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, state FROM bank_imports WHERE bank_id = ?`, bankID)
	if err != nil {
		return nil, internal("find bank imports", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		var state string
		if err := rows.Scan(&id, &state); err != nil {
			return nil, internal("find bank imports", err)
		}
		out[id] = state == importAborted
	}
	return out, rows.Err()
}

// The states of a row of bank_imports.
const (
	importWriting = "writing"
	importAborted = "aborted"
)

// clearStagedValue makes way for a value that an import of the bank has
// written but not published: EConflict while that import is under way; an
// aborted import's row is marked removed (it leaves the index of held
// values; deleting it would let a row of this transaction reuse its id),
// and its import deletes it later.
func clearStagedValue(ctx context.Context, tx *sql.Tx, bankID int64, pending map[int64]bool, e *banks.Entry, at int64) error {
	var id, imp int64
	err := tx.QueryRowContext(ctx, `SELECT id, import_id FROM bank_entries
		WHERE bank_id = ? AND type = ? AND value = ? AND removed_at IS NULL`, bankID, string(e.Type), e.Value).Scan(&id, &imp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return internal("add bank entries", err)
	}
	aborted, staged := pending[imp]
	switch {
	case !staged:
		return nil // held: a duplicate
	case !aborted:
		return parley.Errorf(parley.EConflict, "an import into this bank under way (import %d) holds %s %s; it becomes the bank's when the import ends", imp, e.Type, e.Value)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE bank_entries SET removed_at = ? WHERE id = ?`, at, id); err != nil {
		return internal("add bank entries", err)
	}
	return nil
}

// AddBankEntries adds the entries in one transaction, a hundred per
// statement, skipping values the bank holds already; the entries added
// have consecutive ids, so the change log gains one row, a span of one
// change per entry.
func (db *DB) AddBankEntries(ctx context.Context, bankID int64, entries iter.Seq2[*banks.Entry, error], act banks.Act) (banks.Outcome, error) {
	var o banks.Outcome
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return o, err
	}
	defer tx.Rollback()
	if err := bankExists(ctx, tx, bankID); err != nil {
		return o, err
	}
	// Values an import has written but not published are in the index of
	// held values; the few entries of an act are looked at one by one
	// while the bank has such an import.
	pending, err := pendingImports(ctx, tx, bankID)
	if err != nil {
		return o, err
	}
	w, err := newEntryInserter(ctx, tx, bankID, 0, act.Actor.UserID, act.At)
	if err != nil {
		return o, err
	}
	defer w.close()
	for e, err := range entries {
		if err != nil {
			return o, err
		}
		if len(pending) > 0 {
			if err := w.flush(); err != nil {
				return o, err
			}
			if err := clearStagedValue(ctx, tx, bankID, pending, e, w.at); err != nil {
				return o, err
			}
		}
		if err := w.add(e); err != nil {
			return o, err
		}
	}
	if err := w.flush(); err != nil {
		return o, err
	}
	o.Added, o.Duplicates = w.added, w.duplicates
	if o.Added == 1 {
		o.EntryID = w.firstAdded() // the one entry added: a single-entry act names it
	}
	if o.Added > 0 {
		first, err := insertBankChange(ctx, tx, bankID, banks.OpAdd, sql.NullInt64{Int64: w.firstAdded(), Valid: true}, o.Added, act.At)
		if err != nil {
			return banks.Outcome{}, err
		}
		o.FirstChange, o.LastChange = first, first+o.Added-1
		if _, err := tx.ExecContext(ctx, `UPDATE banks SET entries = entries + ? WHERE id = ?`, o.Added, bankID); err != nil {
			return banks.Outcome{}, internal("count bank entries", err)
		}
	}
	if err := db.commitBankAct(ctx, tx, bankID, act, o); err != nil {
		return banks.Outcome{}, err
	}
	return o, nil
}

const importColumns = `id, bank_id, owner, added_by, state, total, written, added, started_at, written_at`

func scanImport(row interface{ Scan(...any) error }) (*banks.Import, error) {
	var imp banks.Import
	var state string
	var started, written int64
	if err := row.Scan(&imp.ID, &imp.BankID, &imp.Owner, &imp.AddedBy, &state, &imp.Total, &imp.Written, &imp.Added, &started, &written); err != nil {
		return nil, err
	}
	imp.Aborted, imp.StartedAt, imp.WrittenAt = state == importAborted, fromMicro(started), fromMicro(written)
	return &imp, nil
}

// BeginBankImport records a new import; EConflict if the bank has one
// under way.
func (db *DB) BeginBankImport(ctx context.Context, imp *banks.Import) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := bankExists(ctx, tx, imp.BankID); err != nil {
		return err
	}
	started := nowOr(imp.StartedAt)
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO bank_imports (bank_id, owner, added_by, state, total, started_at, written_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		imp.BankID, imp.Owner, imp.AddedBy, importWriting, imp.Total, toMicro(started), toMicro(started)).Scan(&id)
	if isUnique(err) {
		var other *banks.Import
		other, err = scanImport(tx.QueryRowContext(ctx, `SELECT `+importColumns+` FROM bank_imports WHERE bank_id = ?`, imp.BankID))
		if err == nil && other.Aborted {
			return parley.Errorf(parley.EConflict, "bank %d has an import that was given up (import %d) whose entries are being deleted; try again shortly", imp.BankID, other.ID)
		} else if err == nil {
			return parley.Errorf(parley.EConflict, "bank %d has an import under way (import %d by %s, %d of %d entries written); one import into a bank at a time",
				imp.BankID, other.ID, other.Owner, other.Written, other.Total)
		}
	}
	if err != nil {
		return internal("begin bank import", err)
	}
	if err := db.commit(tx, false); err != nil {
		return err
	}
	imp.ID, imp.StartedAt, imp.WrittenAt, imp.Written, imp.Added, imp.Aborted = id, started, started, 0, 0, false
	return nil
}

// writingImport returns the bank, adder and start of an import under way;
// ENotFound if it is not.
func writingImport(ctx context.Context, tx *sql.Tx, importID int64) (bankID, addedBy int64, started time.Time, err error) {
	var at int64
	err = tx.QueryRowContext(ctx, `SELECT bank_id, added_by, started_at FROM bank_imports WHERE id = ? AND state = ?`,
		importID, importWriting).Scan(&bankID, &addedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, time.Time{}, parley.Errorf(parley.ENotFound, "bank import %d is not under way (it was published or given up)", importID)
	} else if err != nil {
		return 0, 0, time.Time{}, internal("find bank import", err)
	}
	return bankID, addedBy, fromMicro(at), nil
}

// WriteBankImport writes one batch of an import, invisibly, in one
// transaction, and records the run of ids it added.
func (db *DB) WriteBankImport(ctx context.Context, importID int64, entries []*banks.Entry, at time.Time) (added, duplicates int64, err error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	bankID, addedBy, started, err := writingImport(ctx, tx, importID)
	if err != nil {
		return 0, 0, err
	}
	w, err := newEntryInserter(ctx, tx, bankID, importID, addedBy, started)
	if err != nil {
		return 0, 0, err
	}
	defer w.close()
	for _, e := range entries {
		if err := w.add(e); err != nil {
			return 0, 0, err
		}
	}
	if err := w.flush(); err != nil {
		return 0, 0, err
	}
	if w.added > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO bank_import_runs (import_id, first_entry, entries) VALUES (?, ?, ?)`,
			importID, w.firstAdded(), w.added); err != nil {
			return 0, 0, internal("write bank import", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE bank_imports SET written = written + ?, added = added + ?, written_at = ? WHERE id = ?`,
		int64(len(entries)), w.added, toMicro(nowOr(at)), importID); err != nil {
		return 0, 0, internal("write bank import", err)
	}
	if err := db.commit(tx, false); err != nil {
		return 0, 0, err
	}
	return w.added, w.duplicates, nil
}

// importRun is a run of consecutive entry ids an import added.
type importRun struct{ first, n int64 }

// importRuns returns the runs of an import, by first id, with adjacent
// runs joined (a run that starts where the last ended: no other write
// added an entry between two batches), so that publishing an import
// written with nothing else going on writes a single change-log row.
func importRuns(ctx context.Context, q queryer, importID int64) ([]importRun, error) {
	rows, err := q.QueryContext(ctx, `SELECT first_entry, entries FROM bank_import_runs WHERE import_id = ? ORDER BY first_entry`, importID)
	if err != nil {
		return nil, internal("read bank import", err)
	}
	defer rows.Close()
	var runs []importRun
	for rows.Next() {
		var r importRun
		if err := rows.Scan(&r.first, &r.n); err != nil {
			return nil, internal("read bank import", err)
		}
		if k := len(runs) - 1; k >= 0 && runs[k].first+runs[k].n == r.first {
			runs[k].n += r.n
			continue
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("read bank import", err)
	}
	return runs, nil
}

// PublishBankImport makes an import's entries visible: one change-log row
// per run of ids (a span of one change per entry), the bank's count, the
// audit entry and the event, and the import is forgotten, which is what
// makes its entries visible. Its work grows with the runs, not the entries.
func (db *DB) PublishBankImport(ctx context.Context, importID int64, act banks.Act) (banks.Outcome, error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return banks.Outcome{}, err
	}
	defer tx.Rollback()
	bankID, _, _, err := writingImport(ctx, tx, importID)
	if err != nil {
		return banks.Outcome{}, err
	}
	var o banks.Outcome
	var written int64
	if err := tx.QueryRowContext(ctx, `SELECT written, added FROM bank_imports WHERE id = ?`, importID).Scan(&written, &o.Added); err != nil {
		return banks.Outcome{}, internal("publish bank import", err)
	}
	o.Duplicates = written - o.Added
	runs, err := importRuns(ctx, tx, importID)
	if err != nil {
		return banks.Outcome{}, err
	}
	var spanned int64
	for _, r := range runs {
		first, err := insertBankChange(ctx, tx, bankID, banks.OpAdd, sql.NullInt64{Int64: r.first, Valid: true}, r.n, act.At)
		if err != nil {
			return banks.Outcome{}, err
		}
		if o.FirstChange == 0 {
			o.FirstChange = first
		}
		o.LastChange = first + r.n - 1
		spanned += r.n
	}
	if spanned != o.Added {
		return banks.Outcome{}, internal("publish bank import", fmt.Errorf("import %d added %d entries but its runs hold %d", importID, o.Added, spanned))
	}
	if o.Added == 1 {
		o.EntryID = runs[0].first
	}
	for _, q := range []string{`DELETE FROM bank_import_runs WHERE import_id = ?`, `DELETE FROM bank_imports WHERE id = ?`} {
		if _, err := tx.ExecContext(ctx, q, importID); err != nil {
			return banks.Outcome{}, internal("publish bank import", err)
		}
	}
	if o.Added > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE banks SET entries = entries + ? WHERE id = ?`, o.Added, bankID); err != nil {
			return banks.Outcome{}, internal("count bank entries", err)
		}
	}
	if err := db.commitBankAct(ctx, tx, bankID, act, o); err != nil {
		return banks.Outcome{}, err
	}
	return o, nil
}

// ListBankImports returns the imports not published, by id.
func (db *DB) ListBankImports(ctx context.Context) ([]*banks.Import, error) {
	rows, err := db.reads.QueryContext(ctx, `SELECT `+importColumns+` FROM bank_imports ORDER BY id`)
	if err != nil {
		return nil, internal("list bank imports", err)
	}
	defer rows.Close()
	out := []*banks.Import{}
	for rows.Next() {
		imp, err := scanImport(rows)
		if err != nil {
			return nil, internal("list bank imports", err)
		}
		out = append(out, imp)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list bank imports", err)
	}
	return out, nil
}

// AbortBankImport marks an import aborted and deletes up to limit of its
// entries, run by run, in one transaction; done once none is left and the
// import is forgotten.
func (db *DB) AbortBankImport(ctx context.Context, importID int64, limit int) (bool, error) {
	limit = pageLimit(limit, banks.MaxListLimit)
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE bank_imports SET state = ? WHERE id = ?`, importAborted, importID)
	if err != nil {
		return false, internal("abort bank import", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, internal("abort bank import", err)
	} else if n == 0 {
		return false, parley.Errorf(parley.ENotFound, "there is no bank import %d (it was published or given up)", importID)
	}
	rows, err := tx.QueryContext(ctx, `SELECT first_entry, entries FROM bank_import_runs WHERE import_id = ? ORDER BY first_entry`, importID)
	if err != nil {
		return false, internal("abort bank import", err)
	}
	var runs []importRun
	left := int64(limit)
	for rows.Next() && left > 0 {
		var r importRun
		if err := rows.Scan(&r.first, &r.n); err != nil {
			rows.Close()
			return false, internal("abort bank import", err)
		}
		runs = append(runs, r)
		left -= r.n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, internal("abort bank import", err)
	}
	left = int64(limit)
	for _, r := range runs {
		n := min(r.n, left)
		// import_id = ?: only this import's rows, whatever the runs say.
		if _, err := tx.ExecContext(ctx, `DELETE FROM bank_entries WHERE id BETWEEN ? AND ? AND import_id = ?`, r.first, r.first+n-1, importID); err != nil {
			return false, internal("abort bank import", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM bank_import_runs WHERE import_id = ? AND first_entry = ?`, importID, r.first); err != nil {
			return false, internal("abort bank import", err)
		}
		if n < r.n {
			if _, err := tx.ExecContext(ctx, `INSERT INTO bank_import_runs (import_id, first_entry, entries) VALUES (?, ?, ?)`,
				importID, r.first+n, r.n-n); err != nil {
				return false, internal("abort bank import", err)
			}
		}
		left -= n
	}
	done := left > 0 // the runs read ended before the limit: none is left
	if done {
		if _, err := tx.ExecContext(ctx, `DELETE FROM bank_imports WHERE id = ?`, importID); err != nil {
			return false, internal("abort bank import", err)
		}
	}
	if err := db.commit(tx, false); err != nil {
		return false, err
	}
	return done, nil
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
		UPDATE bank_entries AS e SET removed_at = ?, removed_by = ?
		WHERE id = ? AND bank_id = ? AND removed_at IS NULL AND `+entryVisible, at, act.Actor.UserID, entryID, bankID)
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
	change, err := insertBankChange(ctx, tx, bankID, banks.OpRemove, sql.NullInt64{Int64: entryID, Valid: true}, 1, act.At)
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
	e, err := scanEntry(db.reads.QueryRowContext(ctx, `SELECT `+entryColumns+` FROM bank_entries AS e
		WHERE bank_id = ? AND type = ? AND value = ? AND removed_at IS NULL AND `+entryVisible, bankID, string(typ), value))
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
	rows, err := db.reads.QueryContext(ctx, `SELECT `+entryColumns+` FROM bank_entries AS e
		WHERE bank_id = ? AND id > ? AND removed_at IS NULL AND `+entryVisible+` ORDER BY id LIMIT ?`,
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
// entry keeps its row, so it is always there). A row that is a span is
// given as one change per entry; the page may start inside one.
func (db *DB) ListBankChanges(ctx context.Context, afterID int64, limit int) ([]*banks.Change, error) {
	limit = pageLimit(limit, banks.MaxListLimit)
	// Change afterID+1 is in the last row whose id is at most afterID+1 (a
	// span's later ids have no row); every row yields a change at least,
	// so limit rows after that one are enough.
	rows, err := db.reads.QueryContext(ctx, `
		SELECT c.id, c.bank_id, c.op, c.at, c.span, c.entry_id,
			e.id, e.bank_id, e.type, e.value, e.quality, e.source, e.external_id, e.tags, e.note, e.added_by, e.added_at
		FROM bank_changes c LEFT JOIN bank_entries e ON e.id = c.entry_id AND c.span = 1
		WHERE c.id >= coalesce((SELECT max(id) FROM bank_changes WHERE id <= ?), 0) ORDER BY c.id LIMIT ?`, afterID+1, limit+1)
	if err != nil {
		return nil, internal("list bank changes", err)
	}
	// A row is a change, or a span expanded below once rows is closed.
	type spanRow struct {
		bank, id, n, from, entry, at int64
		op                           banks.ChangeOp
	}
	type row struct {
		change *banks.Change
		span   *spanRow
	}
	var listed []row
	for rows.Next() {
		var c banks.Change
		var op string
		var at, n int64
		var entryID sql.NullInt64
		var (
			id, bank, quality, addedBy, added        sql.NullInt64
			typ, value, source, external, tags, note sql.NullString
		)
		if err := rows.Scan(&c.ID, &c.BankID, &op, &at, &n, &entryID, &id, &bank, &typ, &value, &quality, &source, &external, &tags, &note, &addedBy, &added); err != nil {
			rows.Close()
			return nil, internal("list bank changes", err)
		}
		if c.ID+n-1 <= afterID {
			continue // the row before the page
		}
		if n > 1 {
			listed = append(listed, row{span: &spanRow{bank: c.BankID, id: c.ID, n: n, from: max(c.ID, afterID+1), entry: entryID.Int64, at: at, op: banks.ChangeOp(op)}})
			continue
		}
		c.Op, c.At = banks.ChangeOp(op), fromMicro(at)
		if id.Valid {
			c.Entry = &banks.Entry{ID: id.Int64, BankID: bank.Int64, Type: banks.EntryType(typ.String), Value: value.String,
				Quality: int(quality.Int64), Source: source.String, ExternalID: external.String, Tags: splitTags(tags.String),
				Note: note.String, AddedBy: addedBy.Int64, AddedAt: fromMicro(added.Int64)}
		}
		listed = append(listed, row{change: &c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, internal("list bank changes", err)
	}
	out := []*banks.Change{}
	for _, r := range listed {
		if len(out) >= limit {
			break
		}
		if r.change != nil {
			out = append(out, r.change)
			continue
		}
		sp := r.span
		// Changes sp.from .. of the span add entries sp.entry+(from-id) ..
		n := min(sp.id+sp.n-sp.from, int64(limit-len(out)))
		first := sp.entry + (sp.from - sp.id)
		es, err := db.entriesBetween(ctx, first, first+n-1)
		if err != nil {
			return nil, err
		}
		if int64(len(es)) != n {
			return nil, internal("list bank changes", fmt.Errorf("change %d spans entries %d..%d but %d of them are stored", sp.id, first, first+n-1, len(es)))
		}
		for i, e := range es {
			out = append(out, &banks.Change{ID: sp.from + int64(i), BankID: sp.bank, Op: sp.op, At: fromMicro(sp.at), Entry: e})
		}
	}
	return out, nil
}

// entriesBetween returns the entries with ids first..last, by id.
func (db *DB) entriesBetween(ctx context.Context, first, last int64) ([]*banks.Entry, error) {
	rows, err := db.reads.QueryContext(ctx, `SELECT `+entryColumns+` FROM bank_entries WHERE id BETWEEN ? AND ? ORDER BY id`, first, last)
	if err != nil {
		return nil, internal("list bank changes", err)
	}
	defer rows.Close()
	var out []*banks.Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, internal("list bank changes", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list bank changes", err)
	}
	return out, nil
}

// LastBankChange returns the id of the newest change, 0 if none: the end
// of the newest row's span.
func (db *DB) LastBankChange(ctx context.Context) (int64, error) {
	var id int64
	if err := db.reads.QueryRowContext(ctx, `SELECT coalesce((SELECT id + span - 1 FROM bank_changes ORDER BY id DESC LIMIT 1), 0)`).Scan(&id); err != nil {
		return 0, internal("last bank change", err)
	}
	return id, nil
}
