//! Users, roles, grants and access tokens: what `--app-name basic-auth`
//! keeps. The rules (names, the per-user role, how grants resolve) live
//! here once; a backend implements the narrow [`AuthStore`] (rows in, rows
//! out). Passwords arrive here already hashed, and tokens as hashes.

use async_trait::async_trait;
use std::sync::Arc;
use tracking::permissions::{
    Capability, Grant, Permission, Resolver, Visible, DEFAULT_WORKSPACE, EXPERIMENT, REGISTERED_MODEL,
};
use tracking::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub creation_time: i64,
    /// Failed logins in a row, and the time of the last one.
    pub failed_logins: i64,
    pub last_failed_login: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: i64,
    pub workspace: String,
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePermission {
    pub id: i64,
    pub role_id: i64,
    pub resource_type: String,
    pub resource_pattern: String,
    pub permission: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub id: i64,
    pub user_id: i64,
    pub role_id: i64,
}

/// A personal API token or a UI login session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// `token` (Bearer) or `session` (the UI's cookie).
    pub kind: String,
    pub creation_time: i64,
    pub expiry_time: Option<i64>,
    pub revoked: bool,
}

/// Who is asking, as the server's guard leaves it on each request, for
/// the REST handlers and the UI's server functions to narrow what they show.
#[derive(Clone)]
pub struct Viewer {
    pub user: User,
    /// Their grants; `None` for admins, who may do everything.
    pub resolver: Option<Arc<Resolver>>,
}

impl Viewer {
    /// The experiments a search may show (`None`: all).
    pub fn visible_experiments(&self) -> Option<Visible> {
        self.resolver.as_ref().map(|r| r.readable(EXPERIMENT))
    }

    /// The registered models a search may show (`None`: all).
    pub fn visible_models(&self) -> Option<Visible> {
        self.resolver.as_ref().map(|r| {
            if r.tier_denied("registered_model_version") {
                Visible::Only(Vec::new())
            } else {
                r.readable(REGISTERED_MODEL)
            }
        })
    }

    /// Of `ids`, the experiments whose runs this user may read.
    pub fn readable_experiment_ids(&self, ids: Vec<String>, tier: &str) -> Vec<String> {
        match &self.resolver {
            None => ids,
            Some(r) if r.tier_denied(tier) => Vec::new(),
            Some(r) => ids.into_iter().filter(|id| r.on(EXPERIMENT, id).allows(Capability::Read)).collect(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.resolver.is_none()
    }

    /// The user's effective permission on a resource.
    pub fn permission(&self, resource_type: &str, id: &str) -> Permission {
        self.resolver.as_ref().map_or(Permission::Manage, |r| r.on(resource_type, id))
    }
}

/// What a backend does with users and permissions.
#[async_trait]
pub trait AuthStore: Send + Sync {
    /// Fails with RESOURCE_ALREADY_EXISTS when the name is taken.
    async fn insert_user(&self, username: &str, password_hash: &str, is_admin: bool) -> Result<User>;
    async fn user_by_name(&self, username: &str) -> Result<Option<User>>;
    async fn user_by_id(&self, id: i64) -> Result<Option<User>>;
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn count_users(&self) -> Result<i64>;
    async fn set_user_password(&self, id: i64, password_hash: &str) -> Result<()>;
    async fn set_user_admin(&self, id: i64, is_admin: bool) -> Result<()>;
    /// Deletes the user with their own role, role assignments and tokens.
    async fn delete_user(&self, id: i64) -> Result<()>;
    /// Counts a failed login (`Some(now)`) or clears the count (`None`).
    async fn note_login(&self, id: i64, failed_at: Option<i64>) -> Result<()>;

    /// Fails with RESOURCE_ALREADY_EXISTS when the workspace has the name.
    async fn insert_role(&self, workspace: &str, name: &str, description: Option<&str>) -> Result<Role>;
    async fn role(&self, id: i64) -> Result<Option<Role>>;
    async fn role_by_name(&self, workspace: &str, name: &str) -> Result<Option<Role>>;
    /// Every role, or the roles of one workspace.
    async fn list_roles(&self, workspace: Option<&str>) -> Result<Vec<Role>>;
    async fn update_role(&self, id: i64, name: Option<&str>, description: Option<&str>) -> Result<()>;
    /// Deletes the role with its grants and assignments.
    async fn delete_role(&self, id: i64) -> Result<()>;

    /// Adds a grant; fails with RESOURCE_ALREADY_EXISTS when the role has
    /// one on the same type and pattern.
    async fn insert_role_permission(
        &self,
        role_id: i64,
        resource_type: &str,
        pattern: &str,
        permission: &str,
    ) -> Result<RolePermission>;
    /// Adds the grant or replaces the level of the one already there.
    async fn put_role_permission(
        &self,
        role_id: i64,
        resource_type: &str,
        pattern: &str,
        permission: &str,
    ) -> Result<RolePermission>;
    async fn role_permission(&self, id: i64) -> Result<Option<RolePermission>>;
    async fn set_role_permission(&self, id: i64, permission: &str) -> Result<()>;
    async fn delete_role_permission(&self, id: i64) -> Result<()>;
    /// Removes the role's grant on a type and pattern; whether there was one.
    async fn delete_role_permission_on(&self, role_id: i64, resource_type: &str, pattern: &str) -> Result<bool>;
    async fn role_permissions(&self, role_id: i64) -> Result<Vec<RolePermission>>;
    /// Removes every grant naming a resource (it was deleted).
    async fn delete_grants_on(&self, resource_type: &str, pattern: &str) -> Result<()>;
    /// Moves every grant naming a resource to its new name.
    async fn rename_grants_on(&self, resource_type: &str, pattern: &str, new_pattern: &str) -> Result<()>;

    /// Fails with RESOURCE_ALREADY_EXISTS when the user has the role.
    async fn assign_role(&self, user_id: i64, role_id: i64) -> Result<RoleAssignment>;
    /// Whether the user had the role.
    async fn unassign_role(&self, user_id: i64, role_id: i64) -> Result<bool>;
    async fn user_roles(&self, user_id: i64) -> Result<Vec<Role>>;
    async fn role_users(&self, role_id: i64) -> Result<Vec<RoleAssignment>>;
    /// Every grant that reaches the user through their roles in a
    /// workspace (their own role included): `(type, pattern, permission)`.
    async fn user_grants(&self, user_id: i64, workspace: &str) -> Result<Vec<(String, String, String)>>;

    async fn insert_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        kind: &str,
        expiry_time: Option<i64>,
    ) -> Result<AccessToken>;
    /// The live (unrevoked, unexpired at `now`) token with this hash and its user.
    async fn token_by_hash(&self, token_hash: &str, now: i64) -> Result<Option<(AccessToken, User)>>;
    /// A user's tokens of one kind, newest first.
    async fn list_tokens(&self, user_id: i64, kind: &str) -> Result<Vec<AccessToken>>;
    /// Revokes one of the user's tokens; whether there was such a token.
    async fn revoke_token(&self, user_id: i64, token_id: i64) -> Result<bool>;
    /// Revokes the live token with this hash (a logout).
    async fn revoke_token_by_hash(&self, token_hash: &str) -> Result<()>;
}

/// The role that holds one user's own grants (MLflow's name for it).
pub fn personal_role_name(user_id: i64) -> String {
    format!("__user_{user_id}__")
}

/// The user's own role, made when first needed.
pub async fn personal_role(store: &dyn AuthStore, user: &User) -> Result<Role> {
    let name = personal_role_name(user.id);
    if let Some(role) = store.role_by_name(DEFAULT_WORKSPACE, &name).await? {
        return Ok(role);
    }
    let role = match store.insert_role(DEFAULT_WORKSPACE, &name, None).await {
        Ok(role) => role,
        // Another request made it meanwhile.
        Err(e) if e.error_code == tracking::ErrorCode::ResourceAlreadyExists => store
            .role_by_name(DEFAULT_WORKSPACE, &name)
            .await?
            .ok_or_else(|| Error::internal("personal role vanished"))?,
        Err(e) => return Err(e),
    };
    match store.assign_role(user.id, role.id).await {
        Ok(_) => {}
        Err(e) if e.error_code == tracking::ErrorCode::ResourceAlreadyExists => {}
        Err(e) => return Err(e),
    }
    Ok(role)
}

/// Grants `permission` on a resource to the user, replacing a grant of
/// theirs already there.
pub async fn grant(
    store: &dyn AuthStore,
    user: &User,
    resource_type: &str,
    id: &str,
    permission: Permission,
) -> Result<()> {
    let role = personal_role(store, user).await?;
    store.put_role_permission(role.id, resource_type, id, permission.name()).await?;
    Ok(())
}

/// What the user may do, from all their grants over `default`. Admins
/// are not special here: callers let them through before asking.
pub async fn resolver(store: &dyn AuthStore, user: &User, default: Permission) -> Result<Resolver> {
    let rows = store.user_grants(user.id, DEFAULT_WORKSPACE).await?;
    let grants = rows
        .into_iter()
        .filter_map(|(resource_type, pattern, p)| {
            Permission::parse(&p).map(|permission| Grant { resource_type, pattern, permission })
        })
        .collect();
    Ok(Resolver::new(grants, default))
}

/// A username as requests may name one.
pub fn validate_username(username: &str) -> Result<()> {
    if username.is_empty() {
        return Err(Error::invalid("Username cannot be empty."));
    }
    if username.len() > 255 || username.chars().any(|c| c.is_control()) {
        return Err(Error::invalid("Username must be at most 255 characters with no control characters."));
    }
    if username.starts_with("__") {
        return Err(Error::invalid("Usernames starting with '__' are reserved."));
    }
    Ok(())
}

/// A new password, as MLflow 3.17 checks it: at least 12 characters.
pub fn validate_password(password: &str) -> Result<()> {
    if password.is_empty() {
        return Err(Error::invalid("Password cannot be empty."));
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::invalid(format!("Password must be at least {MIN_PASSWORD_CHARS} characters.")));
    }
    Ok(())
}

pub const MIN_PASSWORD_CHARS: usize = 12;

pub fn user_not_found(username: &str) -> Error {
    Error::not_found(format!("User with username={username} not found"))
}
