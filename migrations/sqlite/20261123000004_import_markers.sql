-- `mltrack import` records each object it has copied completely, with a
-- fingerprint of the source's state, so a second import skips what has not
-- changed and an interrupted one redoes only what it had not finished.
CREATE TABLE import_markers (
    source      TEXT    NOT NULL,
    object      TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (source, object)
) WITHOUT ROWID;
