-- 0006_campaigns: campaigns of near-duplicate posts by several accounts,
-- found by the campaign detector (internal/safety/campaign), and their
-- members, for moderators to act on in bulk.
--
-- A campaign's id is the detector's: the message id of its earliest member,
-- so that a detector rebuilt after a restart names the same campaigns.
CREATE TABLE campaigns (
	id            INTEGER PRIMARY KEY,
	status        TEXT    NOT NULL DEFAULT 'open',  -- 'open', 'removed', 'dismissed', 'absorbed'
	absorbed_into INTEGER,
	sample        TEXT    NOT NULL,  -- the text of its earliest member
	posts         INTEGER NOT NULL DEFAULT 0,
	accounts      INTEGER NOT NULL DEFAULT 0,
	first_at      INTEGER NOT NULL,
	last_at       INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	decided_by    INTEGER,
	decided_at    INTEGER
);
CREATE INDEX campaigns_status ON campaigns (status, last_at DESC);

CREATE TABLE campaign_members (
	campaign_id INTEGER NOT NULL,
	message_id  INTEGER NOT NULL,
	chat_id     INTEGER NOT NULL,
	account_id  INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	PRIMARY KEY (campaign_id, message_id)
) WITHOUT ROWID;

-- campaign_accounts lists each campaign's distinct accounts, so that the
-- count grows by one only for an account not seen in it before.
CREATE TABLE campaign_accounts (
	campaign_id INTEGER NOT NULL,
	account_id  INTEGER NOT NULL,
	PRIMARY KEY (campaign_id, account_id)
) WITHOUT ROWID;
