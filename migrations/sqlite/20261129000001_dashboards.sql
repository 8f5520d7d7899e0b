-- Team dashboards. The spec (runs it selects, panels, notes, colours) is
-- JSON checked by `tracking::dashboards` before it is stored; the database
-- keeps it whole with the bookkeeping an update checks: `version` grows by
-- one on each update, and an update naming an older version is refused.
CREATE TABLE dashboards (
    dashboard_id     TEXT    NOT NULL PRIMARY KEY,
    name             TEXT    NOT NULL,
    spec             TEXT    NOT NULL,
    version          INTEGER NOT NULL,
    created_by       TEXT    NOT NULL DEFAULT '',
    creation_time    INTEGER NOT NULL,
    last_updated_by  TEXT    NOT NULL DEFAULT '',
    last_update_time INTEGER NOT NULL
);
CREATE INDEX dashboards_by_name ON dashboards (name);
-- Which experiments each dashboard shows, for "dashboards of experiment 3".
CREATE TABLE dashboard_experiments (
    dashboard_id  TEXT    NOT NULL REFERENCES dashboards (dashboard_id) ON DELETE CASCADE,
    experiment_id INTEGER NOT NULL,
    PRIMARY KEY (experiment_id, dashboard_id)
) WITHOUT ROWID;
