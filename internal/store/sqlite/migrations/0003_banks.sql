-- 0003_banks: hash banks, their entries and the change log every matcher
-- follows (internal/safety/banks).
--
-- name_key holds the bank name lower-cased by the application, for
-- case-insensitive uniqueness. keywords is a JSON array of KEYWORD_* values.
-- entries counts the entries the bank holds now, kept in the transaction of
-- every add and remove so that listing banks does not count a million rows.
CREATE TABLE banks (
	id          INTEGER PRIMARY KEY,
	name        TEXT    NOT NULL,
	name_key    TEXT    NOT NULL UNIQUE,
	description TEXT    NOT NULL DEFAULT '',
	kind        TEXT    NOT NULL CHECK (kind IN ('block', 'allow')),
	category    TEXT    NOT NULL DEFAULT '',
	keywords    TEXT    NOT NULL DEFAULT '[]',
	action      TEXT    NOT NULL DEFAULT '',
	label       TEXT    NOT NULL DEFAULT '',
	enabled     INTEGER NOT NULL,
	entries     INTEGER NOT NULL DEFAULT 0,
	created_by  INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);

-- An entry is never deleted: removing it sets removed_at, so that the
-- change log can always show what was removed. The partial unique index
-- makes a value unique among the entries a bank holds now (the duplicate
-- check of imports), and lets a removed value be added again later as a new
-- entry. tags are separated by spaces (a tag holds none).
CREATE TABLE bank_entries (
	id          INTEGER PRIMARY KEY,
	bank_id     INTEGER NOT NULL REFERENCES banks (id),
	type        TEXT    NOT NULL CHECK (type IN ('pdq', 'md5', 'sha256', 'url', 'domain')),
	value       TEXT    NOT NULL,
	quality     INTEGER NOT NULL DEFAULT 0,
	source      TEXT    NOT NULL,
	external_id TEXT    NOT NULL DEFAULT '',
	tags        TEXT    NOT NULL DEFAULT '',
	note        TEXT    NOT NULL DEFAULT '',
	added_by    INTEGER NOT NULL,
	added_at    INTEGER NOT NULL,
	removed_by  INTEGER,
	removed_at  INTEGER
);
CREATE UNIQUE INDEX bank_entries_held ON bank_entries (bank_id, type, value) WHERE removed_at IS NULL;
CREATE INDEX bank_entries_by_bank ON bank_entries (bank_id, id) WHERE removed_at IS NULL;

-- The change log: every add and remove of an entry and every change to a
-- bank, in one sequence across all banks. AUTOINCREMENT, because a matcher
-- remembers the last id it applied and an id must never be given twice.
-- Like the audit log it is append-only; matchers rebuild from it.
CREATE TABLE bank_changes (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	bank_id  INTEGER NOT NULL REFERENCES banks (id),
	op       TEXT    NOT NULL CHECK (op IN ('add', 'remove', 'bank')),
	entry_id INTEGER REFERENCES bank_entries (id),
	at       INTEGER NOT NULL
);

CREATE TRIGGER bank_changes_no_update BEFORE UPDATE ON bank_changes
BEGIN
	SELECT RAISE(ABORT, 'the bank change log is append-only');
END;

CREATE TRIGGER bank_changes_no_delete BEFORE DELETE ON bank_changes
BEGIN
	SELECT RAISE(ABORT, 'the bank change log is append-only');
END;
