-- Tiles are kept up to a watermark (crates/store/src/sql/tiles.rs): they hold
-- exactly a metric's points with step < tiled_below; the points at or past it
-- (at most the last 256-step tile's) are read raw beside them. A point logged
-- on its own then writes no tile page: one WAL frame fewer per commit.
-- NULL: not known (stored before tiles existed); the start-up backfill makes
-- such a metric's tiles again.
ALTER TABLE latest_metrics ADD COLUMN tiled_below INTEGER;
UPDATE latest_metrics SET tiled_below = CASE WHEN step < 9223372036854775807 THEN step + 1 ELSE step END
WHERE count = coalesce((SELECT sum(t.count) FROM metric_tiles t JOIN metric_keys k ON k.id = t.key_id
                        WHERE t.run_id = latest_metrics.run_id AND k.key = latest_metrics.key AND t.level = 20), 0);

-- Run searches find a run's metric by its primary key (run_id, key); this
-- index was never read, and every logged point moved its entry.
DROP INDEX latest_metrics_by_key;
