-- The model registry: named models, their numbered versions (each from a
-- run's or a logged model's artifacts), stages, tags and aliases.

CREATE TABLE registered_models (
    name              TEXT PRIMARY KEY,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    description       TEXT
);

CREATE TABLE registered_model_tags (
    name  TEXT NOT NULL REFERENCES registered_models (name),
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, key)
) WITHOUT ROWID;

CREATE TABLE registered_model_aliases (
    name    TEXT NOT NULL REFERENCES registered_models (name),
    alias   TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (name, alias)
) WITHOUT ROWID;

-- Deleted versions stay with current_stage 'Deleted_Internal' and their
-- details cleared, so that a version number is never given out twice.
CREATE TABLE model_versions (
    name              TEXT NOT NULL REFERENCES registered_models (name),
    version           INTEGER NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    description       TEXT,
    user_id           TEXT,
    current_stage     TEXT NOT NULL DEFAULT 'None',
    source            TEXT,
    -- Where the files are: the source resolved (a logged model's artifact location).
    storage_location  TEXT,
    run_id            TEXT,
    run_link          TEXT,
    status            TEXT NOT NULL DEFAULT 'READY',
    status_message    TEXT,
    model_id          TEXT,
    PRIMARY KEY (name, version)
);
CREATE INDEX model_versions_by_run ON model_versions (run_id);
CREATE INDEX model_versions_by_model ON model_versions (model_id);

CREATE TABLE model_version_tags (
    name    TEXT NOT NULL,
    version INTEGER NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (name, version, key)
) WITHOUT ROWID;
