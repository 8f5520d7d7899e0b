-- MLflow 3 logged models: a model with its own id and artifacts, usually
-- produced by a run, with params, tags and metrics of its own; and the
-- links from runs to the models they used (inputs) and produced (outputs).

CREATE TABLE logged_models (
    model_id                  TEXT PRIMARY KEY,
    experiment_id             INTEGER NOT NULL REFERENCES experiments (experiment_id),
    name                      TEXT NOT NULL,
    artifact_location         TEXT NOT NULL,
    creation_timestamp_ms     INTEGER NOT NULL,
    last_updated_timestamp_ms INTEGER NOT NULL,
    -- LoggedModelStatus as its protobuf number.
    status                    INTEGER NOT NULL,
    lifecycle_stage           TEXT NOT NULL DEFAULT 'active',
    model_type                TEXT,
    source_run_id             TEXT,
    status_message            TEXT
);
CREATE INDEX logged_models_by_experiment ON logged_models (experiment_id, creation_timestamp_ms);
CREATE INDEX logged_models_by_run ON logged_models (source_run_id);

CREATE TABLE logged_model_params (
    model_id TEXT NOT NULL REFERENCES logged_models (model_id),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
) WITHOUT ROWID;

CREATE TABLE logged_model_tags (
    model_id TEXT NOT NULL REFERENCES logged_models (model_id),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
) WITHOUT ROWID;

-- Metrics logged with a model_id (they are also run metrics when a run logged them).
CREATE TABLE logged_model_metrics (
    model_id       TEXT NOT NULL REFERENCES logged_models (model_id),
    key            TEXT NOT NULL,
    step           INTEGER NOT NULL,
    timestamp      INTEGER NOT NULL,
    -- The IEEE-754 bits of the value, so NaN and the infinities survive.
    bits           INTEGER NOT NULL,
    -- The value for comparisons and sorting; NULL for NaN.
    value          REAL,
    run_id         TEXT NOT NULL DEFAULT '',
    dataset_name   TEXT NOT NULL DEFAULT '',
    dataset_digest TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (model_id, key, step, timestamp, run_id, dataset_name, dataset_digest)
) WITHOUT ROWID;

-- `runs.id` is the run's internal id, as in the other run tables.
CREATE TABLE run_model_outputs (
    run_id   INTEGER NOT NULL REFERENCES runs (id),
    model_id TEXT NOT NULL REFERENCES logged_models (model_id),
    step     INTEGER NOT NULL,
    PRIMARY KEY (run_id, model_id)
) WITHOUT ROWID;

CREATE TABLE run_model_inputs (
    run_id   INTEGER NOT NULL REFERENCES runs (id),
    model_id TEXT NOT NULL REFERENCES logged_models (model_id),
    PRIMARY KEY (run_id, model_id)
) WITHOUT ROWID;
