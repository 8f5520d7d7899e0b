-- Summaries of metric histories at several resolutions (crates/store/src/sql/tiles.rs):
-- per run, metric, level (a tile covers 2^level steps) and tile, the lowest and
-- highest finite point and the number of points.
CREATE TABLE metric_tiles (
    run_id    INTEGER NOT NULL,
    key_id    INTEGER NOT NULL,
    level     INTEGER NOT NULL,
    tile      INTEGER NOT NULL,
    min_step  INTEGER,
    min_ts    INTEGER,
    min_value REAL,
    max_step  INTEGER,
    max_ts    INTEGER,
    max_value REAL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (run_id, key_id, level, tile)
) WITHOUT ROWID;
