-- Summaries of metric histories at several resolutions (crates/store/src/sql/tiles.rs):
-- per run, metric, level (a tile covers 2^level steps) and tile, the lowest and
-- highest finite point and the number of points.
CREATE TABLE metric_tiles (
    run_id    BIGINT NOT NULL,
    key_id    BIGINT NOT NULL,
    level     BIGINT NOT NULL,
    tile      BIGINT NOT NULL,
    min_step  BIGINT,
    min_ts    BIGINT,
    min_value DOUBLE PRECISION,
    max_step  BIGINT,
    max_ts    BIGINT,
    max_value DOUBLE PRECISION,
    count     BIGINT NOT NULL,
    PRIMARY KEY (run_id, key_id, level, tile)
);
