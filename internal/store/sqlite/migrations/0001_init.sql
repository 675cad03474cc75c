-- 0001_init: accounts, sessions, chats, members, invites, messages, their
-- update log, views, media and the outbox.
--
-- Every time is an INTEGER of unix microseconds in UTC. Case-insensitive
-- uniqueness (usernames, channel handles) is kept in *_key columns that hold
-- the value lower-cased by the application, because SQLite's NOCASE folds only
-- ASCII and handles and names may not be ASCII.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	username      TEXT    NOT NULL,
	username_key  TEXT    NOT NULL UNIQUE,
	display_name  TEXT    NOT NULL DEFAULT '',
	country       TEXT    NOT NULL DEFAULT '',
	role          TEXT    NOT NULL,
	public_key    TEXT    NOT NULL DEFAULT '',
	password_hash TEXT    NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
	id         INTEGER PRIMARY KEY,
	token_hash BLOB    NOT NULL UNIQUE,
	user_id    INTEGER NOT NULL REFERENCES users (id),
	kind       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- pair_lo and pair_hi are the two accounts of a direct or secret chat, the
-- smaller id first, so that a pair is the same whichever account opened the
-- chat; the partial unique index makes direct chats unique per pair while
-- secret chats between the same two accounts may be many.
CREATE TABLE chats (
	id           INTEGER PRIMARY KEY,
	kind         TEXT    NOT NULL CHECK (kind IN ('channel', 'group', 'direct', 'secret')),
	handle       TEXT,
	handle_key   TEXT    UNIQUE,
	title        TEXT    NOT NULL DEFAULT '',
	title_key    TEXT    NOT NULL DEFAULT '',
	description  TEXT    NOT NULL DEFAULT '',
	owner_id     INTEGER NOT NULL REFERENCES users (id),
	pair_lo      INTEGER,
	pair_hi      INTEGER,
	member_count INTEGER NOT NULL DEFAULT 0,
	member_limit INTEGER NOT NULL DEFAULT 0,
	last_seq     INTEGER NOT NULL DEFAULT 0,
	pts          INTEGER NOT NULL DEFAULT 0,
	active_at    INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	CHECK (handle IS NULL OR kind = 'channel')
);
CREATE UNIQUE INDEX chats_direct_pair ON chats (pair_lo, pair_hi) WHERE kind = 'direct';
CREATE INDEX chats_channel_size ON chats (member_count DESC, id) WHERE kind = 'channel';

CREATE TABLE members (
	chat_id   INTEGER NOT NULL REFERENCES chats (id),
	user_id   INTEGER NOT NULL REFERENCES users (id),
	role      TEXT    NOT NULL,
	joined_at INTEGER NOT NULL,
	PRIMARY KEY (chat_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user_id ON members (user_id);

CREATE TABLE invites (
	token      TEXT    PRIMARY KEY,
	chat_id    INTEGER NOT NULL REFERENCES chats (id),
	created_by INTEGER NOT NULL REFERENCES users (id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	revoked_at INTEGER,
	uses       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX invites_chat_id ON invites (chat_id);

-- A forwarded message keeps its origin in the forward_* columns; they are
-- NULL for a message written here.
CREATE TABLE messages (
	id                 INTEGER PRIMARY KEY,
	chat_id            INTEGER NOT NULL REFERENCES chats (id),
	seq                INTEGER NOT NULL,
	sender_id          INTEGER NOT NULL REFERENCES users (id),
	text               TEXT    NOT NULL DEFAULT '',
	media_id           TEXT    NOT NULL DEFAULT '',
	reply_to_seq       INTEGER NOT NULL DEFAULT 0,
	forward_chat_id    INTEGER,
	forward_seq        INTEGER,
	forward_sender_id  INTEGER,
	forward_chat_title TEXT,
	ciphertext         TEXT    NOT NULL DEFAULT '',
	nonce              TEXT    NOT NULL DEFAULT '',
	views              INTEGER NOT NULL DEFAULT 0,
	created_at         INTEGER NOT NULL,
	edited_at          INTEGER,
	deleted_at         INTEGER,
	UNIQUE (chat_id, seq)
);
CREATE INDEX messages_sender_id ON messages (sender_id);

-- updates is each chat's history of changes, numbered by pts, which a
-- reconnecting client reads to catch up. message is a JSON snapshot of the
-- message right after the change, without the sender's name, which is joined
-- from users when read so that a renamed account shows its current name.
CREATE TABLE updates (
	chat_id   INTEGER NOT NULL REFERENCES chats (id),
	pts       INTEGER NOT NULL,
	kind      TEXT    NOT NULL,
	seq       INTEGER NOT NULL,
	sender_id INTEGER NOT NULL,
	message   TEXT    NOT NULL,
	at        INTEGER NOT NULL,
	PRIMARY KEY (chat_id, pts)
) WITHOUT ROWID;
CREATE INDEX updates_message ON updates (chat_id, seq);

CREATE TABLE message_views (
	chat_id INTEGER NOT NULL,
	seq     INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	PRIMARY KEY (chat_id, seq, user_id)
) WITHOUT ROWID;

CREATE TABLE media (
	id          TEXT    PRIMARY KEY,
	mime        TEXT    NOT NULL,
	size        INTEGER NOT NULL,
	width       INTEGER NOT NULL DEFAULT 0,
	height      INTEGER NOT NULL DEFAULT 0,
	thumb_id    TEXT    NOT NULL DEFAULT '',
	uploader_id INTEGER NOT NULL REFERENCES users (id),
	created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- AUTOINCREMENT keeps an id from ever being reused after its row is deleted:
-- the id is the de-duplication id on the event stream, and a reused id would
-- make the stream drop a new event as a duplicate of an old one.
CREATE TABLE outbox (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	subject    TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	payload    BLOB    NOT NULL,
	created_at INTEGER NOT NULL
);
