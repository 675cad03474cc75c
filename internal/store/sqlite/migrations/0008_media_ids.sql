-- 0008_media_ids: a media item's id is random, not the SHA-256 of its bytes,
-- and each upload is its own item (the same bytes uploaded twice are two
-- items, each with its uploader and time). The hashes the banks match stay
-- with the item: sha256 joins md5 and pdq.
--
-- Items stored before keep their id, which is the SHA-256 of their bytes
-- and the name of their file on disk; their sha256 is that id. Messages,
-- updates, actions, evidence, holds, cases and the audit log name them by
-- it, so nothing else changes. Such an id reveals nothing to someone who
-- may not see the image: /media answers 404 alike for an item that does
-- not exist and for one the viewer may not see.
ALTER TABLE media ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';
UPDATE media SET sha256 = id;

-- Re-screening looks items up by the SHA-256 a bank entry names; an upload
-- of bytes that were blocked or removed before is refused, which looks for
-- an item with the same SHA-256 and a status (within the index).
CREATE INDEX media_sha256 ON media (sha256, status) WHERE sha256 != '';

-- A staff member's view of an image no message shows them is audited at
-- most once an hour: the check reads the entries about that item.
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, at);
