-- 0004_moderation: what enforcement does to messages, media, chats and
-- accounts, the actions themselves with their statements of reasons,
-- evidence kept after removal, legal holds, the decisions of the inline
-- screen and the review cases it opens.
--
-- An item's moderation is kept with the item, as JSON (parley.Moderation):
-- every read of the item needs it, and it is small and usually empty. The
-- status columns repeat the part that reads filter on (removed, held,
-- banned, suspended) so that those filters use plain comparisons.

ALTER TABLE messages ADD COLUMN status TEXT NOT NULL DEFAULT '';     -- '', 'held', 'removed'
ALTER TABLE messages ADD COLUMN moderation TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_media ON messages (media_id) WHERE media_id != '';

ALTER TABLE chats ADD COLUMN status TEXT NOT NULL DEFAULT '';        -- '', 'banned'
ALTER TABLE chats ADD COLUMN moderation TEXT NOT NULL DEFAULT '';

ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT '';        -- '', 'suspended', 'terminated'
ALTER TABLE users ADD COLUMN suspended_until INTEGER;
ALTER TABLE users ADD COLUMN strikes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN moderation TEXT NOT NULL DEFAULT '';

-- The hashes of each image, computed at upload, so that an entry added to a
-- hash bank later finds every stored copy.
ALTER TABLE media ADD COLUMN status TEXT NOT NULL DEFAULT '';        -- '', 'blocked', 'removed'
ALTER TABLE media ADD COLUMN moderation TEXT NOT NULL DEFAULT '';
ALTER TABLE media ADD COLUMN pdq TEXT NOT NULL DEFAULT '';
ALTER TABLE media ADD COLUMN pdq_quality INTEGER NOT NULL DEFAULT 0;
ALTER TABLE media ADD COLUMN md5 TEXT NOT NULL DEFAULT '';

-- One row per enforcement decision. statement is the statement of reasons
-- (internal/sor) as shown to the affected account and exported to the
-- Transparency Database under puid; decision is what the enforcement
-- service was asked to do; prior holds what the action changed, as it was,
-- so that a restore puts back exactly that.
CREATE TABLE enforcement_actions (
	id               INTEGER PRIMARY KEY,
	kind             TEXT    NOT NULL,
	target_type      TEXT    NOT NULL,  -- 'message', 'media', 'chat', 'user'
	target_id        TEXT    NOT NULL,  -- "chatID:seq" for a message
	affected_user_id INTEGER NOT NULL,  -- the account the statement is for (0: none)
	parent_id        INTEGER,           -- the action this one is part of (every copy of a media item)
	decision         TEXT    NOT NULL,
	statement        TEXT    NOT NULL,
	puid             TEXT    NOT NULL UNIQUE,
	prior            TEXT    NOT NULL DEFAULT '',
	actor_id         INTEGER NOT NULL,  -- 0 for the automated screen
	automated        INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	reversed_at      INTEGER,
	reversed_by      INTEGER,
	reversal_reason  TEXT
);
CREATE INDEX enforcement_actions_target ON enforcement_actions (target_type, target_id);
CREATE INDEX enforcement_actions_affected ON enforcement_actions (affected_user_id, id);
CREATE INDEX enforcement_actions_created ON enforcement_actions (created_at, id);
CREATE INDEX enforcement_actions_parent ON enforcement_actions (parent_id) WHERE parent_id IS NOT NULL;

-- Evidence: what a removal took from view, kept after it is gone for users
-- (six months by default, Regulation (EU) 2021/784 Article 6) and for as long
-- as a legal hold covers it.
CREATE TABLE evidence (
	id          INTEGER PRIMARY KEY,
	action_id   INTEGER NOT NULL REFERENCES enforcement_actions (id),
	target_type TEXT    NOT NULL,
	target_id   TEXT    NOT NULL,
	content     TEXT    NOT NULL,  -- JSON: the message or media as it was
	kept_until  INTEGER NOT NULL,
	created_at  INTEGER NOT NULL
);
CREATE INDEX evidence_target ON evidence (target_type, target_id);
CREATE INDEX evidence_kept_until ON evidence (kept_until);

CREATE TABLE legal_holds (
	id          INTEGER PRIMARY KEY,
	target_type TEXT    NOT NULL,  -- 'message', 'media', 'chat', 'user'
	target_id   TEXT    NOT NULL,
	reason      TEXT    NOT NULL,
	created_by  INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	released_at INTEGER,
	released_by INTEGER
);
CREATE INDEX legal_holds_target ON legal_holds (target_type, target_id) WHERE released_at IS NULL;

-- Review cases: items a person must look at (a post held by a rule, an
-- upload stopped by a hash bank), newest concerns first by priority.
CREATE TABLE review_cases (
	id          INTEGER PRIMARY KEY,
	kind        TEXT    NOT NULL,  -- 'held_post', 'blocked_upload', 'campaign'
	target_type TEXT    NOT NULL,
	target_id   TEXT    NOT NULL,
	user_id     INTEGER NOT NULL,  -- the author or uploader
	priority    INTEGER NOT NULL,
	details     TEXT    NOT NULL,  -- JSON: what matched
	status      TEXT    NOT NULL DEFAULT 'open',  -- 'open', 'decided'
	decision    TEXT    NOT NULL DEFAULT '',
	decided_by  INTEGER,
	decided_at  INTEGER,
	action_id   INTEGER,
	created_at  INTEGER NOT NULL
);
CREATE INDEX review_cases_open ON review_cases (status, priority DESC, id);
CREATE INDEX review_cases_decided ON review_cases (status, decided_at DESC, id DESC);
CREATE INDEX review_cases_target ON review_cases (target_type, target_id);

-- Screening decisions: every rule or bank that matched a post or an upload,
-- enforced or in shadow mode, with the exact rule version, so that a
-- decision can always be traced to what made it and a shadow rule's record
-- can be read before it is enabled.
CREATE TABLE screening_matches (
	id          INTEGER PRIMARY KEY,
	at          INTEGER NOT NULL,
	target_type TEXT    NOT NULL,  -- 'message', 'media', 'post' (refused, not stored)
	target_id   TEXT    NOT NULL,
	user_id     INTEGER NOT NULL,
	chat_id     INTEGER NOT NULL,
	source      TEXT    NOT NULL,  -- 'rule' or 'bank'
	source_id   TEXT    NOT NULL,
	version     INTEGER NOT NULL,
	action      TEXT    NOT NULL,
	mode        TEXT    NOT NULL,  -- 'enforce' or 'shadow'
	detail      TEXT    NOT NULL,  -- what matched: the pattern, the entry, the distance
	content     TEXT    NOT NULL DEFAULT ''  -- a refused post's text, kept as evidence
);
CREATE INDEX screening_matches_source ON screening_matches (source, source_id, id);
CREATE INDEX screening_matches_at ON screening_matches (at);
