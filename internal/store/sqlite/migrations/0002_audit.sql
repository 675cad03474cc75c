-- 0002_audit: the append-only, hash-chained audit log of privileged acts.
--
-- Ids are given by the application (last id + 1, inside the writing
-- transaction) because each entry's hash covers its id. The triggers refuse
-- updates and deletes so that no code path can rewrite history by mistake;
-- someone with write access to the file could still drop them, and the hash
-- chain is what makes such tampering visible ('parley audit verify').
CREATE TABLE audit_log (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	actor_id    INTEGER NOT NULL,
	action      TEXT    NOT NULL,
	target_type TEXT    NOT NULL,
	target_id   TEXT    NOT NULL,
	details     TEXT    NOT NULL DEFAULT '',
	prev_hash   BLOB,
	hash        BLOB    NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only');
END;
