-- 0009_action_strike: each enforcement action records whether it counted a
-- strike against the account it affects, so that restoring it takes back
-- exactly what it gave (one decision counts at most one strike against each
-- account; a restore used to recompute this from the kind). Until now every
-- action of a striking kind counted one, children of an image's removal
-- included.
ALTER TABLE enforcement_actions ADD COLUMN strike INTEGER NOT NULL DEFAULT 0;
UPDATE enforcement_actions SET strike = 1
	WHERE kind IN ('remove_message', 'remove_media', 'block_upload', 'ban_chat') AND affected_user_id != 0;
