-- 0005_rules: stored text screening rules, with every version kept, and the
-- record of re-screening runs.
--
-- A rule is edited by adding a version; versions are never changed or
-- deleted, so that every screening match (screening_matches.version) can be
-- traced to the exact text of the rule that made it.
CREATE TABLE rule_versions (
	rule_id    TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	definition TEXT    NOT NULL,  -- JSON of rules.Rule
	created_by INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (rule_id, version)
) WITHOUT ROWID;

CREATE TRIGGER rule_versions_no_update BEFORE UPDATE ON rule_versions
BEGIN
	SELECT RAISE(ABORT, 'rule versions are never changed; add a version');
END;

-- rules holds each rule's current version and whether it is enabled.
CREATE TABLE rules (
	rule_id    TEXT    PRIMARY KEY,
	version    INTEGER NOT NULL,
	enabled    INTEGER NOT NULL DEFAULT 0,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- rescans records each re-screening of stored content, so that a worker
-- that sees the same event again (at-least-once delivery) does not repeat a
-- finished run, and an interrupted run resumes after the last item it did.
CREATE TABLE rescans (
	id          INTEGER PRIMARY KEY,
	source      TEXT    NOT NULL,  -- 'rule' or 'bank'
	source_id   TEXT    NOT NULL,
	version     INTEGER NOT NULL,  -- the rule version, or the bank change id
	status      TEXT    NOT NULL DEFAULT 'running',  -- 'running', 'done'
	cursor      INTEGER NOT NULL DEFAULT 0,
	scanned     INTEGER NOT NULL DEFAULT 0,
	matched     INTEGER NOT NULL DEFAULT 0,
	actions     INTEGER NOT NULL DEFAULT 0,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER,
	UNIQUE (source, source_id, version)
);

CREATE INDEX media_md5 ON media (md5) WHERE md5 != '';

-- rescan_cursors keeps how far re-screening has read an append-only log
-- (the bank change log): a restarted worker goes on from there, whatever
-- events it missed while it was down.
CREATE TABLE rescan_cursors (
	name  TEXT    PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;
