-- mltrack tracking schema (SQLite). Ids MLflow exposes are kept as MLflow
-- spells them (experiment ids are integers, run ids 32-hex uuids); metric
-- rows refer to runs by an integer rowid so the biggest table stays small.

CREATE TABLE experiments (
    experiment_id     INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL UNIQUE,
    artifact_location TEXT    NOT NULL,
    lifecycle_stage   TEXT    NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
    creation_time     INTEGER NOT NULL,
    last_update_time  INTEGER NOT NULL
);

CREATE TABLE experiment_tags (
    experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
    key           TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;

CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    run_uuid        TEXT    NOT NULL UNIQUE,
    experiment_id   INTEGER NOT NULL REFERENCES experiments (experiment_id),
    name            TEXT    NOT NULL DEFAULT '',
    user_id         TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL DEFAULT 'RUNNING',
    start_time      INTEGER NOT NULL,
    end_time        INTEGER,
    deleted_time    INTEGER,
    lifecycle_stage TEXT    NOT NULL DEFAULT 'active' CHECK (lifecycle_stage IN ('active', 'deleted')),
    artifact_uri    TEXT    NOT NULL
);
-- The runs table of an experiment, newest first (MLflow's default order).
CREATE INDEX runs_by_experiment ON runs (experiment_id, lifecycle_stage, start_time DESC);

CREATE TABLE params (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    key    TEXT    NOT NULL,
    value  TEXT    NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX params_by_key ON params (key, value);

CREATE TABLE tags (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    key    TEXT    NOT NULL,
    value  TEXT    NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX tags_by_key ON tags (key, value);

-- Metric names, numbered: history rows carry the number, not the text, so
-- the largest table holds only integers (smaller rows, faster compares).
CREATE TABLE metric_keys (
    id  INTEGER PRIMARY KEY,
    key TEXT    NOT NULL UNIQUE
);

-- Every logged point. The value is kept as the bit pattern of the IEEE
-- double (f64::to_bits as a signed integer): exact, NaN and infinities
-- included. A point identical in all fields is stored once, as in MLflow.
CREATE TABLE metrics (
    run_id    INTEGER NOT NULL REFERENCES runs (id),
    key_id    INTEGER NOT NULL REFERENCES metric_keys (id),
    step      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    bits      INTEGER NOT NULL,
    PRIMARY KEY (run_id, key_id, step, timestamp, bits)
) WITHOUT ROWID;

-- One row per run and metric, kept at ingest: the latest point by MLflow's
-- rule (highest step, then timestamp, then value; NaN counts as 0) plus min,
-- max, count and last step, so that run lists and searches never read the
-- history. `value` (NaN stored as 0 with is_nan = 1) serves comparisons and
-- sorting; `bits` is the exact value returned to clients.
CREATE TABLE latest_metrics (
    run_id    INTEGER NOT NULL REFERENCES runs (id),
    key       TEXT    NOT NULL,
    value     REAL    NOT NULL,
    is_nan    INTEGER NOT NULL,
    bits      INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    step      INTEGER NOT NULL,
    min_value REAL,
    max_value REAL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX latest_metrics_by_key ON latest_metrics (key, value);

CREATE TABLE datasets (
    id            INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id),
    name          TEXT    NOT NULL,
    digest        TEXT    NOT NULL,
    source_type   TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    schema        TEXT,
    profile       TEXT,
    UNIQUE (experiment_id, name, digest)
);

CREATE TABLE run_inputs (
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    dataset_id INTEGER NOT NULL REFERENCES datasets (id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (run_id, dataset_id)
) WITHOUT ROWID;
CREATE INDEX run_inputs_by_dataset ON run_inputs (dataset_id);

CREATE TABLE input_tags (
    run_id     INTEGER NOT NULL,
    dataset_id INTEGER NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    PRIMARY KEY (run_id, dataset_id, key),
    FOREIGN KEY (run_id, dataset_id) REFERENCES run_inputs (run_id, dataset_id)
) WITHOUT ROWID;
