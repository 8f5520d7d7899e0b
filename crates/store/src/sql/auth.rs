//! Users, roles, grants and tokens in SQL both databases take. SQLite's
//! foreign keys are off (see `connect_options`), so deletes remove their
//! dependent rows themselves.

use super::db::{already, Db, Row};
use super::SqlStore;
use crate::auth::{AccessToken, AuthStore, Role, RoleAssignment, RolePermission, User};
use async_trait::async_trait;
use tracking::{Error, Result};

const USER: &str = "id, username, password_hash, is_admin, creation_time, failed_logins, last_failed_login";
const ROLE: &str = "id, workspace, name, description";
const GRANT: &str = "id, role_id, resource_type, resource_pattern, permission";
const TOKEN: &str = "id, user_id, name, kind, creation_time, expiry_time, revoked";

fn to_user(r: &Row) -> User {
    User {
        id: r.int(0),
        username: r.text(1),
        password_hash: r.text(2),
        is_admin: r.int(3) != 0,
        creation_time: r.int(4),
        failed_logins: r.int(5),
        last_failed_login: r.int(6),
    }
}

fn to_role(r: &Row) -> Role {
    Role { id: r.int(0), workspace: r.text(1), name: r.text(2), description: r.opt_text(3) }
}

fn to_grant(r: &Row) -> RolePermission {
    RolePermission {
        id: r.int(0),
        role_id: r.int(1),
        resource_type: r.text(2),
        resource_pattern: r.text(3),
        permission: r.text(4),
    }
}

fn to_token(r: &Row) -> AccessToken {
    AccessToken {
        id: r.int(0),
        user_id: r.int(1),
        name: r.text(2),
        kind: r.text(3),
        creation_time: r.int(4),
        expiry_time: r.opt_int(5),
        revoked: r.int(6) != 0,
    }
}

fn inserted<T>(row: Option<T>) -> Result<T> {
    row.ok_or_else(|| Error::internal("an insert returned no row"))
}

fn delete_role_rows(db: &mut Db, role_id: i64) -> Result<()> {
    db.execute("DELETE FROM role_permissions WHERE role_id = ?", &[role_id.into()])?;
    db.execute("DELETE FROM user_roles WHERE role_id = ?", &[role_id.into()])?;
    db.execute("DELETE FROM roles WHERE id = ?", &[role_id.into()])?;
    Ok(())
}

#[async_trait]
impl AuthStore for SqlStore {
    async fn insert_user(&self, username: &str, password_hash: &str, is_admin: bool) -> Result<User> {
        let (name, hash, now) = (username.to_string(), password_hash.to_string(), crate::now_millis());
        self.writer
            .write(move |db| {
                let row = db
                    .row(
                        &format!(
                            "INSERT INTO users (username, password_hash, is_admin, creation_time) VALUES (?, ?, ?, ?) \
                             RETURNING {USER}"
                        ),
                        &[(&name).into(), (&hash).into(), is_admin.into(), now.into()],
                        to_user,
                    )
                    .map_err(already(|| Error::already_exists(format!("User '{name}' already exists."))))?;
                inserted(row)
            })
            .await
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        let name = username.to_string();
        self.readers
            .read(move |db| db.row(&format!("SELECT {USER} FROM users WHERE username = ?"), &[(&name).into()], to_user))
            .await
    }

    async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        self.readers
            .read(move |db| db.row(&format!("SELECT {USER} FROM users WHERE id = ?"), &[id.into()], to_user))
            .await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.readers.read(move |db| db.rows(&format!("SELECT {USER} FROM users ORDER BY username"), &[], to_user)).await
    }

    async fn count_users(&self) -> Result<i64> {
        self.readers.read(move |db| Ok(db.row("SELECT count(*) FROM users", &[], |r| r.int(0))?.unwrap_or(0))).await
    }

    async fn set_user_password(&self, id: i64, password_hash: &str) -> Result<()> {
        let hash = password_hash.to_string();
        self.writer
            .write(move |db| {
                db.execute(
                    "UPDATE users SET password_hash = ?, failed_logins = 0 WHERE id = ?",
                    &[(&hash).into(), id.into()],
                )?;
                // A new password ends the sessions the old one opened.
                db.execute(
                    "UPDATE access_tokens SET revoked = 1 WHERE user_id = ? AND kind = 'session'",
                    &[id.into()],
                )?;
                Ok(())
            })
            .await
    }

    async fn set_user_admin(&self, id: i64, is_admin: bool) -> Result<()> {
        self.writer
            .write(move |db| {
                db.execute("UPDATE users SET is_admin = ? WHERE id = ?", &[is_admin.into(), id.into()]).map(|_| ())
            })
            .await
    }

    async fn delete_user(&self, id: i64) -> Result<()> {
        self.writer
            .write(move |db| {
                let own = crate::auth::personal_role_name(id);
                let role = db.row(
                    "SELECT id FROM roles WHERE workspace = ? AND name = ?",
                    &[tracking::permissions::DEFAULT_WORKSPACE.into(), (&own).into()],
                    |r| r.int(0),
                )?;
                if let Some(role) = role {
                    delete_role_rows(db, role)?;
                }
                db.execute("DELETE FROM user_roles WHERE user_id = ?", &[id.into()])?;
                db.execute("DELETE FROM access_tokens WHERE user_id = ?", &[id.into()])?;
                db.execute("DELETE FROM users WHERE id = ?", &[id.into()])?;
                Ok(())
            })
            .await
    }

    async fn note_login(&self, id: i64, failed_at: Option<i64>) -> Result<()> {
        self.writer
            .write(move |db| {
                match failed_at {
                    Some(at) => db.execute(
                        "UPDATE users SET failed_logins = failed_logins + 1, last_failed_login = ? WHERE id = ?",
                        &[at.into(), id.into()],
                    )?,
                    None => db.execute(
                        "UPDATE users SET failed_logins = 0 WHERE id = ? AND failed_logins <> 0",
                        &[id.into()],
                    )?,
                };
                Ok(())
            })
            .await
    }

    async fn insert_role(&self, workspace: &str, name: &str, description: Option<&str>) -> Result<Role> {
        let (ws, name, desc) = (workspace.to_string(), name.to_string(), description.map(str::to_string));
        self.writer
            .write(move |db| {
                let row = db
                    .row(
                        &format!("INSERT INTO roles (workspace, name, description) VALUES (?, ?, ?) RETURNING {ROLE}"),
                        &[(&ws).into(), (&name).into(), (&desc).into()],
                        to_role,
                    )
                    .map_err(already(|| {
                        Error::already_exists(format!("Role '{name}' already exists in workspace '{ws}'."))
                    }))?;
                inserted(row)
            })
            .await
    }

    async fn role(&self, id: i64) -> Result<Option<Role>> {
        self.readers
            .read(move |db| db.row(&format!("SELECT {ROLE} FROM roles WHERE id = ?"), &[id.into()], to_role))
            .await
    }

    async fn role_by_name(&self, workspace: &str, name: &str) -> Result<Option<Role>> {
        let (ws, name) = (workspace.to_string(), name.to_string());
        self.readers
            .read(move |db| {
                db.row(
                    &format!("SELECT {ROLE} FROM roles WHERE workspace = ? AND name = ?"),
                    &[(&ws).into(), (&name).into()],
                    to_role,
                )
            })
            .await
    }

    async fn list_roles(&self, workspace: Option<&str>) -> Result<Vec<Role>> {
        let ws = workspace.map(str::to_string);
        self.readers
            .read(move |db| match &ws {
                Some(ws) => db.rows(
                    &format!("SELECT {ROLE} FROM roles WHERE workspace = ? ORDER BY name"),
                    &[ws.into()],
                    to_role,
                ),
                None => db.rows(&format!("SELECT {ROLE} FROM roles ORDER BY workspace, name"), &[], to_role),
            })
            .await
    }

    async fn update_role(&self, id: i64, name: Option<&str>, description: Option<&str>) -> Result<()> {
        let (name, desc) = (name.map(str::to_string), description.map(str::to_string));
        self.writer
            .write(move |db| {
                if let Some(n) = &name {
                    db.execute("UPDATE roles SET name = ? WHERE id = ?", &[n.into(), id.into()]).map_err(already(
                        || Error::already_exists(format!("Role '{n}' already exists in this workspace.")),
                    ))?;
                }
                if let Some(d) = &desc {
                    db.execute("UPDATE roles SET description = ? WHERE id = ?", &[d.into(), id.into()])?;
                }
                Ok(())
            })
            .await
    }

    async fn delete_role(&self, id: i64) -> Result<()> {
        self.writer.write(move |db| delete_role_rows(db, id)).await
    }

    async fn insert_role_permission(
        &self,
        role_id: i64,
        resource_type: &str,
        pattern: &str,
        permission: &str,
    ) -> Result<RolePermission> {
        let (t, p, perm) = (resource_type.to_string(), pattern.to_string(), permission.to_string());
        self.writer
            .write(move |db| {
                let row = db
                    .row(
                        &format!(
                            "INSERT INTO role_permissions (role_id, resource_type, resource_pattern, permission) \
                             VALUES (?, ?, ?, ?) RETURNING {GRANT}"
                        ),
                        &[role_id.into(), (&t).into(), (&p).into(), (&perm).into()],
                        to_grant,
                    )
                    .map_err(already(|| {
                        Error::already_exists(format!(
                            "Role {role_id} already has a permission on resource_type='{t}', resource_pattern='{p}'."
                        ))
                    }))?;
                inserted(row)
            })
            .await
    }

    async fn put_role_permission(
        &self,
        role_id: i64,
        resource_type: &str,
        pattern: &str,
        permission: &str,
    ) -> Result<RolePermission> {
        let (t, p, perm) = (resource_type.to_string(), pattern.to_string(), permission.to_string());
        self.writer
            .write(move |db| {
                let row = db.row(
                    &format!(
                        "INSERT INTO role_permissions (role_id, resource_type, resource_pattern, permission) \
                         VALUES (?, ?, ?, ?) ON CONFLICT (role_id, resource_type, resource_pattern) \
                         DO UPDATE SET permission = excluded.permission RETURNING {GRANT}"
                    ),
                    &[role_id.into(), (&t).into(), (&p).into(), (&perm).into()],
                    to_grant,
                )?;
                inserted(row)
            })
            .await
    }

    async fn role_permission(&self, id: i64) -> Result<Option<RolePermission>> {
        self.readers
            .read(move |db| {
                db.row(&format!("SELECT {GRANT} FROM role_permissions WHERE id = ?"), &[id.into()], to_grant)
            })
            .await
    }

    async fn set_role_permission(&self, id: i64, permission: &str) -> Result<()> {
        let perm = permission.to_string();
        self.writer
            .write(move |db| {
                db.execute("UPDATE role_permissions SET permission = ? WHERE id = ?", &[(&perm).into(), id.into()])
                    .map(|_| ())
            })
            .await
    }

    async fn delete_role_permission(&self, id: i64) -> Result<()> {
        self.writer
            .write(move |db| db.execute("DELETE FROM role_permissions WHERE id = ?", &[id.into()]).map(|_| ()))
            .await
    }

    async fn delete_role_permission_on(&self, role_id: i64, resource_type: &str, pattern: &str) -> Result<bool> {
        let (t, p) = (resource_type.to_string(), pattern.to_string());
        self.writer
            .write(move |db| {
                let n = db.execute(
                    "DELETE FROM role_permissions WHERE role_id = ? AND resource_type = ? AND resource_pattern = ?",
                    &[role_id.into(), (&t).into(), (&p).into()],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn role_permissions(&self, role_id: i64) -> Result<Vec<RolePermission>> {
        self.readers
            .read(move |db| {
                db.rows(
                    &format!("SELECT {GRANT} FROM role_permissions WHERE role_id = ? ORDER BY id"),
                    &[role_id.into()],
                    to_grant,
                )
            })
            .await
    }

    async fn delete_grants_on(&self, resource_type: &str, pattern: &str) -> Result<()> {
        let (t, p) = (resource_type.to_string(), pattern.to_string());
        self.writer
            .write(move |db| {
                db.execute(
                    "DELETE FROM role_permissions WHERE resource_type = ? AND resource_pattern = ?",
                    &[(&t).into(), (&p).into()],
                )
                .map(|_| ())
            })
            .await
    }

    async fn rename_grants_on(&self, resource_type: &str, pattern: &str, new_pattern: &str) -> Result<()> {
        let (t, p, n) = (resource_type.to_string(), pattern.to_string(), new_pattern.to_string());
        self.writer
            .write(move |db| {
                // A grant already on the new name (from a model deleted
                // under it) gives way to the renamed one.
                db.execute(
                    "DELETE FROM role_permissions WHERE resource_type = ? AND resource_pattern = ? AND role_id IN \
                     (SELECT role_id FROM role_permissions WHERE resource_type = ? AND resource_pattern = ?)",
                    &[(&t).into(), (&n).into(), (&t).into(), (&p).into()],
                )?;
                db.execute(
                    "UPDATE role_permissions SET resource_pattern = ? WHERE resource_type = ? AND resource_pattern = ?",
                    &[(&n).into(), (&t).into(), (&p).into()],
                )
                .map(|_| ())
            })
            .await
    }

    async fn assign_role(&self, user_id: i64, role_id: i64) -> Result<RoleAssignment> {
        self.writer
            .write(move |db| {
                let row = db
                    .row(
                        "INSERT INTO user_roles (user_id, role_id) VALUES (?, ?) RETURNING id, user_id, role_id",
                        &[user_id.into(), role_id.into()],
                        |r| RoleAssignment { id: r.int(0), user_id: r.int(1), role_id: r.int(2) },
                    )
                    .map_err(already(|| Error::already_exists(format!("The user already has role {role_id}."))))?;
                inserted(row)
            })
            .await
    }

    async fn unassign_role(&self, user_id: i64, role_id: i64) -> Result<bool> {
        self.writer
            .write(move |db| {
                Ok(db.execute(
                    "DELETE FROM user_roles WHERE user_id = ? AND role_id = ?",
                    &[user_id.into(), role_id.into()],
                )? > 0)
            })
            .await
    }

    async fn user_roles(&self, user_id: i64) -> Result<Vec<Role>> {
        self.readers
            .read(move |db| {
                db.rows(
                    "SELECT r.id, r.workspace, r.name, r.description FROM roles r \
                     JOIN user_roles u ON u.role_id = r.id WHERE u.user_id = ? ORDER BY r.workspace, r.name",
                    &[user_id.into()],
                    to_role,
                )
            })
            .await
    }

    async fn role_users(&self, role_id: i64) -> Result<Vec<RoleAssignment>> {
        self.readers
            .read(move |db| {
                db.rows(
                    "SELECT id, user_id, role_id FROM user_roles WHERE role_id = ? ORDER BY id",
                    &[role_id.into()],
                    |r| RoleAssignment { id: r.int(0), user_id: r.int(1), role_id: r.int(2) },
                )
            })
            .await
    }

    async fn user_grants(&self, user_id: i64, workspace: &str) -> Result<Vec<(String, String, String)>> {
        let ws = workspace.to_string();
        self.readers
            .read(move |db| {
                db.rows(
                    "SELECT p.resource_type, p.resource_pattern, p.permission FROM role_permissions p \
                     JOIN user_roles u ON u.role_id = p.role_id JOIN roles r ON r.id = p.role_id \
                     WHERE u.user_id = ? AND r.workspace = ?",
                    &[user_id.into(), (&ws).into()],
                    |r| (r.text(0), r.text(1), r.text(2)),
                )
            })
            .await
    }

    async fn insert_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        kind: &str,
        expiry_time: Option<i64>,
    ) -> Result<AccessToken> {
        let (name, hash, kind, now) = (name.to_string(), token_hash.to_string(), kind.to_string(), crate::now_millis());
        self.writer
            .write(move |db| {
                let row = db.row(
                    &format!(
                        "INSERT INTO access_tokens (user_id, name, token_hash, kind, creation_time, expiry_time) \
                         VALUES (?, ?, ?, ?, ?, ?) RETURNING {TOKEN}"
                    ),
                    &[user_id.into(), (&name).into(), (&hash).into(), (&kind).into(), now.into(), expiry_time.into()],
                    to_token,
                )?;
                inserted(row)
            })
            .await
    }

    async fn token_by_hash(&self, token_hash: &str, now: i64) -> Result<Option<(AccessToken, User)>> {
        let hash = token_hash.to_string();
        self.readers
            .read(move |db| {
                let token = db.row(
                    &format!(
                        "SELECT {TOKEN} FROM access_tokens WHERE token_hash = ? AND revoked = 0 \
                         AND (expiry_time IS NULL OR expiry_time > ?)"
                    ),
                    &[(&hash).into(), now.into()],
                    to_token,
                )?;
                let Some(token) = token else { return Ok(None) };
                let user =
                    db.row(&format!("SELECT {USER} FROM users WHERE id = ?"), &[token.user_id.into()], to_user)?;
                Ok(user.map(|u| (token, u)))
            })
            .await
    }

    async fn list_tokens(&self, user_id: i64, kind: &str) -> Result<Vec<AccessToken>> {
        let kind = kind.to_string();
        self.readers
            .read(move |db| {
                db.rows(
                    &format!("SELECT {TOKEN} FROM access_tokens WHERE user_id = ? AND kind = ? ORDER BY id DESC"),
                    &[user_id.into(), (&kind).into()],
                    to_token,
                )
            })
            .await
    }

    async fn revoke_token(&self, user_id: i64, token_id: i64) -> Result<bool> {
        self.writer
            .write(move |db| {
                Ok(db.execute(
                    "UPDATE access_tokens SET revoked = 1 WHERE id = ? AND user_id = ? AND revoked = 0",
                    &[token_id.into(), user_id.into()],
                )? > 0)
            })
            .await
    }

    async fn revoke_token_by_hash(&self, token_hash: &str) -> Result<()> {
        let hash = token_hash.to_string();
        self.writer
            .write(move |db| {
                db.execute("UPDATE access_tokens SET revoked = 1 WHERE token_hash = ?", &[(&hash).into()]).map(|_| ())
            })
            .await
    }
}
