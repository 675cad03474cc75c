-- 0008_staged_imports: bank imports written in short transactions and
-- made visible by one, and checkpoints of the audit log's verification.
--
-- A bank import writes its entries in batches, each a transaction of its
-- own, so that a list of millions never holds SQLite's one writer for long.
-- Until the import is published its entries are invisible: they carry the
-- import's id (import_id), and a reader hides every entry whose import is
-- still listed in bank_imports. Publishing deletes that row, so every entry
-- of the import becomes visible in the same instant. An entry added any
-- other way has import_id 0. The staged entries are in the unique index of
-- held values, which is how an import finds duplicates; that is also why a
-- bank has at most one import under way.
ALTER TABLE bank_entries ADD COLUMN import_id INTEGER NOT NULL DEFAULT 0;

-- Imports under way ('writing') or given up and being deleted ('aborted').
-- AUTOINCREMENT: an id names the entries of a published import forever, so
-- it must never be given again. owner is the host and process writing it;
-- written_at moves with every batch, so an import whose process died can be
-- told from one that is slow. added_by and started_at become every entry's
-- added_by and added_at.
CREATE TABLE bank_imports (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	bank_id    INTEGER NOT NULL REFERENCES banks (id),
	owner      TEXT    NOT NULL,
	added_by   INTEGER NOT NULL,
	state      TEXT    NOT NULL CHECK (state IN ('writing', 'aborted')),
	total      INTEGER NOT NULL,
	written    INTEGER NOT NULL DEFAULT 0,
	added      INTEGER NOT NULL DEFAULT 0,
	started_at INTEGER NOT NULL,
	written_at INTEGER NOT NULL
);
-- One import per bank at a time, until an aborted one's entries are all
-- deleted: they are in the index of held values as long as they exist, and
-- the next import would take their values for duplicates.
CREATE UNIQUE INDEX bank_imports_one_per_bank ON bank_imports (bank_id);

-- The runs of entry ids an import added, one per batch: the rows a batch
-- inserts have consecutive ids (one writer, nothing deleted in between),
-- so a run is its first id and its length. Publishing turns each run into
-- one row of the change log.
CREATE TABLE bank_import_runs (
	import_id   INTEGER NOT NULL REFERENCES bank_imports (id),
	first_entry INTEGER NOT NULL,
	entries     INTEGER NOT NULL CHECK (entries > 0),
	PRIMARY KEY (import_id, first_entry)
) WITHOUT ROWID;

-- A row of the change log may stand for a run of changes: span changes
-- with the ids id .. id+span-1, adding the entries entry_id ..
-- entry_id+span-1 in that order. A published import writes one row per
-- run instead of one per entry, so publishing takes milliseconds whatever
-- the size of the import, and ListBankChanges still gives one change per
-- entry. The ids a span covers are never given to another row: the next
-- row's id is the end of the last span plus one.
ALTER TABLE bank_changes ADD COLUMN span INTEGER NOT NULL DEFAULT 1 CHECK (span >= 1);

-- Checkpoints of the audit log's verification: the chain was verified from
-- entry 1 up to entry_id, whose hash was hash. Verifying the log again may
-- start after the newest checkpoint instead of at entry 1, once it has
-- checked that the entry still has that hash; 'parley audit verify' always
-- walks the whole log and checks every checkpoint on the way.
CREATE TABLE audit_checkpoints (
	entry_id    INTEGER PRIMARY KEY,
	hash        BLOB    NOT NULL,
	verified_at INTEGER NOT NULL
);
