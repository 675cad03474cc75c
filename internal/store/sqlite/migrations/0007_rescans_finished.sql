-- 0007_rescans_finished: a row of rescans is written only when a run has
-- finished, so its status was always 'done' and its cursor never moved.
-- An interrupted run is done again from the start; that is harmless, as the
-- enforcement service refuses to act twice on one item. The two columns go.
ALTER TABLE rescans DROP COLUMN status;
ALTER TABLE rescans DROP COLUMN cursor;
