-- Users and permissions (`mltrack server --app-name basic-auth`), in the
-- shape of MLflow's basic-auth app: users, roles with grants on resources,
-- and each user's own grants kept in a role of their own
-- (`__user_<id>__`), so one lookup resolves both. Passwords and tokens are
-- stored only as hashes.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    creation_time INTEGER NOT NULL,
    -- Failed logins in a row and when the last one was: logins are refused
    -- for a while after too many, on every replica alike.
    failed_logins     INTEGER NOT NULL DEFAULT 0,
    last_failed_login INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    workspace   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT,
    UNIQUE (workspace, name)
);

CREATE TABLE role_permissions (
    id               INTEGER PRIMARY KEY,
    role_id          INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    resource_type    TEXT    NOT NULL,
    resource_pattern TEXT    NOT NULL,
    permission       TEXT    NOT NULL,
    UNIQUE (role_id, resource_type, resource_pattern)
);
CREATE INDEX role_permissions_by_resource ON role_permissions (resource_type, resource_pattern);

CREATE TABLE user_roles (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    UNIQUE (user_id, role_id)
);

-- Personal API tokens (Bearer) and the UI's login sessions: a hash of the
-- secret, never the secret.
CREATE TABLE access_tokens (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    kind          TEXT    NOT NULL CHECK (kind IN ('token', 'session')),
    creation_time INTEGER NOT NULL,
    expiry_time   INTEGER,
    revoked       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX access_tokens_by_user ON access_tokens (user_id);
