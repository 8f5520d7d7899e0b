//! MLflow's user, permission and role endpoints (`mlflow/server/auth/`
//! `routes.py` and `__init__.py`, 3.17), as `mlflow.server.get_app_client
//! ("basic-auth")` calls them, and mltrack's personal API tokens.
//!
//! Who may call each is decided here (each request type needs only a signed-in user: the handler decides):
//! admins may do everything; a user manages themself; a workspace manager
//! (a `workspace` `*` MANAGE grant) manages users and roles.

use super::{secrets, Auth, Credential, Viewer};
use crate::api::extract::Mlflow;
use crate::api::extract::SignedIn;
use crate::api::listed::Listed;
use crate::api::{ApiError, ApiResult};
use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};
use store::auth::{self as rules, AccessToken, Role, RolePermission, User};
use tracking::permissions::{
    validate_grant, validate_resource_type, Capability, Permission, DEFAULT_WORKSPACE, WORKSPACE,
};
use tracking::validation::missing_value;
use tracking::{Error, ErrorCode};

/// The routes, under `/api/` and `/ajax-api/`.
pub fn router(auth: Auth) -> Listed<()> {
    listed().map(|r| r.with_state(auth))
}

/// The routes before they get their state (see [`router`]).
pub fn listed() -> Listed<Auth> {
    let v2 = Listed::new()
        .post("/users/create", create_user)
        .get("/users/get", get_user)
        .get("/users/current", current_user)
        .get("/users/list", list_users)
        .patch("/users/update-password", update_password)
        .patch("/users/update-admin", update_admin)
        .delete("/users/delete", delete_user);
    let v3 = Listed::new()
        .get("/users/current/permissions", current_permissions)
        .get("/users/permissions/list", list_user_permissions)
        .post("/users/permissions/grant", grant)
        .post("/users/permissions/revoke", revoke)
        .get("/users/permissions/get", get_permission)
        .get("/users/roles/list", list_user_roles)
        .post("/roles/create", create_role)
        .get("/roles/get", get_role)
        .get("/roles/list", list_roles)
        .patch("/roles/update", update_role)
        .delete("/roles/delete", delete_role)
        .post("/roles/permissions/add", add_role_permission)
        .delete("/roles/permissions/remove", remove_role_permission)
        .get("/roles/permissions/list", list_role_permissions)
        .patch("/roles/permissions/update", update_role_permission)
        .post("/roles/assign", assign_role)
        .delete("/roles/unassign", unassign_role)
        .get("/roles/users/list", list_role_users);
    let tokens = Listed::new()
        .post("/tokens/create", create_token)
        .get("/tokens/list", list_tokens)
        .post("/tokens/revoke", revoke_token);
    let mut router = Listed::new();
    for prefix in ["/api", "/ajax-api"] {
        router = router
            .nest(&format!("{prefix}/2.0/mlflow"), v2.clone())
            .nest(&format!("{prefix}/3.0/mlflow"), v3.clone())
            .nest(&format!("{prefix}/2.0/mltrack"), tokens.clone());
    }
    router
}

// Users, roles, grants and tokens are about the signed-in user or their
// own grants: each handler decides who may call it.
crate::api::extract::needs_only_a_signed_in_user!(
    AddRolePermission,
    Assignment,
    CreateRole,
    Credentials,
    ListRoles,
    NewToken,
    RoleId,
    RolePermissionId,
    TokenId,
    UpdateAdmin,
    UpdatePassword,
    UpdateRole,
    UserGrant,
    UserResource,
    Username
);

/// Replaces the store's "already exists" by MLflow's sentence for it.
fn exists_as(message: impl FnOnce() -> String) -> impl FnOnce(Error) -> ApiError {
    move |e| {
        if e.error_code == ErrorCode::ResourceAlreadyExists {
            ApiError(Error::already_exists(message()))
        } else {
            ApiError(e)
        }
    }
}

fn denied() -> ApiError {
    ApiError(Error::new(ErrorCode::PermissionDenied, super::PERMISSION_DENIED_MSG))
}

fn required(value: Option<String>, name: &str) -> Result<String, ApiError> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| ApiError(missing_value(name)))
}

/// An integer id that may arrive as a number or as text (query strings).
fn int_param(value: Option<Value>, name: &str) -> Result<i64, ApiError> {
    match value {
        None | Some(Value::Null) => Err(ApiError(missing_value(name))),
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64().unwrap_or_default()),
        Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => Ok(s.trim().parse().unwrap_or_default()),
        Some(other) => Err(ApiError(Error::invalid(format!("Parameter '{name}' must be an integer. Got: {other}")))),
    }
}

fn user_json(u: &User) -> Value {
    json!({ "id": u.id, "username": u.username, "is_admin": u.is_admin })
}

fn grant_json(p: &RolePermission) -> Value {
    json!({
        "id": p.id,
        "role_id": p.role_id,
        "resource_type": p.resource_type,
        "resource_pattern": p.resource_pattern,
        "permission": p.permission,
    })
}

async fn role_json(auth: &Auth, r: &Role) -> ApiResult<Value> {
    let grants = auth.store().role_permissions(r.id).await?;
    Ok(json!({
        "id": r.id,
        "name": r.name,
        "workspace": r.workspace,
        "description": r.description,
        "permissions": grants.iter().map(grant_json).collect::<Vec<_>>(),
    }))
}

async fn find_user(auth: &Auth, username: &str) -> ApiResult<User> {
    auth.store().user_by_name(username).await?.ok_or_else(|| ApiError(rules::user_not_found(username)))
}

/// Admins and workspace managers manage users and roles.
fn manages_workspace(viewer: &Viewer) -> bool {
    viewer.resolver.as_ref().is_none_or(|r| r.is_workspace_admin())
}

fn require_manager(viewer: &Viewer) -> ApiResult<()> {
    if manages_workspace(viewer) {
        Ok(())
    } else {
        Err(denied())
    }
}

fn require_admin(viewer: &Viewer) -> ApiResult<()> {
    if viewer.is_admin() {
        Ok(())
    } else {
        Err(denied())
    }
}

#[derive(Deserialize)]
struct Credentials {
    username: Option<String>,
    password: Option<String>,
}

/// `POST /api/2.0/mlflow/users/create`
async fn create_user(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<Credentials>,
) -> ApiResult<Json<Value>> {
    require_manager(&viewer)?;
    let username = required(req.username, "username")?;
    let password = required(req.password, "password")?;
    rules::validate_username(&username)?;
    rules::validate_password(&password)?;
    let hash = secrets::hash_password_async(&password).await?;
    let user = auth.store().insert_user(&username, &hash, false).await?;
    tracing::info!(by = %viewer.user.username, user = %username, "user created");
    Ok(Json(json!({ "user": user_json(&user) })))
}

#[derive(Deserialize)]
struct Username {
    username: Option<String>,
}

/// `GET /api/2.0/mlflow/users/get`
async fn get_user(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<Username>,
) -> ApiResult<Json<Value>> {
    let username = required(req.username, "username")?;
    if !viewer.is_admin() && viewer.user.username != username {
        return Err(denied());
    }
    let user = find_user(&auth, &username).await?;
    Ok(Json(json!({ "user": user_json(&user) })))
}

/// `GET /api/2.0/mlflow/users/current`
async fn current_user(_: SignedIn, Extension(viewer): Extension<Viewer>) -> Json<Value> {
    Json(json!({ "user": user_json(&viewer.user), "is_basic_auth": true }))
}

/// `GET /api/2.0/mlflow/users/list`: every user with the roles the caller
/// may see (all for admins and for their own row).
async fn list_users(
    _: SignedIn,
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
) -> ApiResult<Json<Value>> {
    let sees_all = manages_workspace(&viewer);
    let mut users = Vec::new();
    for u in auth.store().list_users().await? {
        let mut row = user_json(&u);
        let mut roles = Vec::new();
        if sees_all || u.id == viewer.user.id {
            for r in auth.store().user_roles(u.id).await? {
                roles.push(role_json(&auth, &r).await?);
            }
        }
        row["roles"] = Value::Array(roles);
        users.push(row);
    }
    Ok(Json(json!({ "users": users })))
}

#[derive(Deserialize)]
struct UpdatePassword {
    username: Option<String>,
    password: Option<String>,
    current_password: Option<String>,
}

/// `PATCH /api/2.0/mlflow/users/update-password`: your own (with the
/// current password) or, for admins, anyone's.
async fn update_password(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<UpdatePassword>,
) -> ApiResult<Json<Value>> {
    let username = required(req.username, "username")?;
    let password = required(req.password, "password")?;
    let own = viewer.user.username == username;
    if !own && !viewer.is_admin() {
        return Err(denied());
    }
    if own {
        let current = req
            .current_password
            .filter(|c| !c.is_empty())
            .ok_or_else(|| ApiError(Error::invalid("Current password is required when changing your own password.")))?;
        if auth.login(&username, &current, None).await.is_err() {
            return Err(ApiError(Error::invalid("Current password does not match.")));
        }
        if current == password {
            return Err(ApiError(Error::invalid("New password must differ from the current password.")));
        }
    }
    let user = find_user(&auth, &username).await?;
    rules::validate_password(&password)?;
    let hash = secrets::hash_password_async(&password).await?;
    auth.store().set_user_password(user.id, &hash).await?;
    // A new password ends what the old one made: tokens and sessions.
    revoke_all(&auth, user.id).await?;
    tracing::info!(by = %viewer.user.username, user = %username, "password changed");
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct UpdateAdmin {
    username: Option<String>,
    is_admin: Option<Value>,
}

/// `PATCH /api/2.0/mlflow/users/update-admin`
async fn update_admin(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<UpdateAdmin>,
) -> ApiResult<Json<Value>> {
    require_admin(&viewer)?;
    let username = required(req.username, "username")?;
    let is_admin = match req.is_admin {
        Some(Value::Bool(b)) => b,
        None | Some(Value::Null) => return Err(ApiError(missing_value("is_admin"))),
        Some(other) => {
            return Err(ApiError(Error::invalid(format!("Parameter 'is_admin' must be true or false. Got: {other}"))))
        }
    };
    let user = find_user(&auth, &username).await?;
    if user.is_admin && !is_admin && count_admins(&auth).await? <= 1 {
        return Err(ApiError(Error::invalid(format!(
            "'{username}' is the only admin; make another user admin first."
        ))));
    }
    auth.store().set_user_admin(user.id, is_admin).await?;
    tracing::info!(by = %viewer.user.username, user = %username, is_admin, "admin flag changed");
    Ok(Json(json!({})))
}

async fn count_admins(auth: &Auth) -> ApiResult<usize> {
    Ok(auth.store().list_users().await?.iter().filter(|u| u.is_admin).count())
}

/// `DELETE /api/2.0/mlflow/users/delete`
async fn delete_user(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<Username>,
) -> ApiResult<Json<Value>> {
    require_admin(&viewer)?;
    let username = required(req.username, "username")?;
    if username == viewer.user.username {
        return Err(ApiError(Error::new(
            ErrorCode::BadRequest,
            "Users cannot delete their own account. Ask another admin to delete this user instead.",
        )));
    }
    let user = find_user(&auth, &username).await?;
    auth.store().delete_user(user.id).await?;
    tracing::info!(by = %viewer.user.username, user = %username, "user deleted");
    Ok(Json(json!({})))
}

/// A user's grants, one row per grant of each role they have.
async fn permissions_of(auth: &Auth, user: &User) -> ApiResult<Value> {
    let mut rows = Vec::new();
    for role in auth.store().user_roles(user.id).await? {
        for p in auth.store().role_permissions(role.id).await? {
            rows.push(json!({
                "role_id": role.id,
                "role_name": role.name,
                "workspace": role.workspace,
                "resource_type": p.resource_type,
                "resource_pattern": p.resource_pattern,
                "permission": p.permission,
            }));
        }
    }
    Ok(json!({ "is_admin": user.is_admin, "permissions": rows }))
}

/// `GET /api/3.0/mlflow/users/current/permissions`
async fn current_permissions(
    _: SignedIn,
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
) -> ApiResult<Json<Value>> {
    Ok(Json(permissions_of(&auth, &viewer.user).await?))
}

/// `GET /api/3.0/mlflow/users/permissions/list`
async fn list_user_permissions(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<Username>,
) -> ApiResult<Json<Value>> {
    let username = required(req.username, "username")?;
    if viewer.user.username != username && !manages_workspace(&viewer) {
        return Err(denied());
    }
    let user = find_user(&auth, &username).await?;
    Ok(Json(permissions_of(&auth, &user).await?))
}

#[derive(Deserialize)]
struct UserGrant {
    username: Option<String>,
    resource_type: Option<String>,
    resource_id: Option<Value>,
    permission: Option<String>,
}

fn resource_id(value: Option<Value>) -> Result<String, ApiError> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(ApiError(missing_value("resource_id"))),
    }
}

/// The per-user endpoints take resources, not the workspace slot.
fn per_user_type(resource_type: &str) -> ApiResult<()> {
    validate_resource_type(resource_type)?;
    if resource_type == WORKSPACE {
        return Err(ApiError(Error::invalid(
            "resource_type 'workspace' is not supported by the per-user permission convenience APIs. Use \
             set_workspace_permission / delete_workspace_permission for workspace-wide grants.",
        )));
    }
    Ok(())
}

/// Who may grant or revoke on a resource: admins and workspace managers
/// on anything, others on what they MANAGE.
fn may_manage(viewer: &Viewer, resource_type: &str, id: &str) -> bool {
    match &viewer.resolver {
        None => true,
        Some(r) if id == "*" => r.is_workspace_admin(),
        Some(r) => r.on(resource_type, id).allows(Capability::Manage),
    }
}

/// `POST /api/3.0/mlflow/users/permissions/grant`
async fn grant(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<UserGrant>,
) -> ApiResult<Json<Value>> {
    let username = required(req.username, "username")?;
    let resource_type = required(req.resource_type, "resource_type")?;
    let id = resource_id(req.resource_id)?;
    let permission = Permission::parse_requested(&required(req.permission, "permission")?)?;
    per_user_type(&resource_type)?;
    if !may_manage(&viewer, &resource_type, &id) {
        return Err(denied());
    }
    let user = find_user(&auth, &username).await?;
    validate_grant(&resource_type, &id, permission)?;
    resource_exists(&auth, &resource_type, &id).await?;
    let role = rules::personal_role(auth.store().as_ref(), &user).await?;
    auth.store().insert_role_permission(role.id, &resource_type, &id, permission.name()).await.map_err(exists_as(
        || format!("Permission for user={username} on resource_type={resource_type}, resource_id={id} already exists."),
    ))?;
    tracing::info!(by = %viewer.user.username, user = %username, %resource_type, %id, permission = permission.name(), "granted");
    Ok(Json(json!({})))
}

/// A grant naming an experiment or registered model that does not exist
/// is refused (MLflow stores it, to apply to whatever gets that id later).
async fn resource_exists(auth: &Auth, resource_type: &str, id: &str) -> ApiResult<()> {
    if id == "*" {
        return Ok(());
    }
    match resource_type {
        tracking::permissions::EXPERIMENT => auth.store().get_experiment(id).await.map(|_| ()),
        tracking::permissions::REGISTERED_MODEL => auth.store().get_registered_model(id).await.map(|_| ()),
        _ => Ok(()),
    }
    .map_err(ApiError)
}

#[derive(Deserialize)]
struct UserResource {
    username: Option<String>,
    resource_type: Option<String>,
    resource_id: Option<Value>,
}

/// `POST /api/3.0/mlflow/users/permissions/revoke`
async fn revoke(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<UserResource>,
) -> ApiResult<Json<Value>> {
    let username = required(req.username, "username")?;
    let resource_type = required(req.resource_type, "resource_type")?;
    let id = resource_id(req.resource_id)?;
    per_user_type(&resource_type)?;
    if !may_manage(&viewer, &resource_type, &id) {
        return Err(denied());
    }
    let user = find_user(&auth, &username).await?;
    let role = auth.store().role_by_name(DEFAULT_WORKSPACE, &rules::personal_role_name(user.id)).await?;
    let removed = match role {
        Some(role) => auth.store().delete_role_permission_on(role.id, &resource_type, &id).await?,
        None => false,
    };
    if !removed {
        return Err(ApiError(Error::not_found(format!(
            "Permission for user={username} on resource_type={resource_type}, resource_id={id} not found."
        ))));
    }
    tracing::info!(by = %viewer.user.username, user = %username, %resource_type, %id, "revoked");
    Ok(Json(json!({})))
}

/// `GET /api/3.0/mlflow/users/permissions/get`: the user's effective
/// permission on a resource, resolved as requests are.
async fn get_permission(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<UserResource>,
) -> ApiResult<Json<Value>> {
    let username = required(req.username, "username")?;
    let resource_type = required(req.resource_type, "resource_type")?;
    let id = resource_id(req.resource_id)?;
    per_user_type(&resource_type)?;
    if viewer.user.username != username && !manages_workspace(&viewer) {
        return Err(denied());
    }
    let user = find_user(&auth, &username).await?;
    let resolver = rules::resolver(auth.store().as_ref(), &user, auth.default_permission()).await?;
    let permission = resolver.on(&resource_type, &id);
    Ok(Json(json!({ "allowed": permission.allows(Capability::Use), "permission": permission.name() })))
}

/// `GET /api/3.0/mlflow/users/roles/list`
async fn list_user_roles(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<Username>,
) -> ApiResult<Json<Value>> {
    let username = required(req.username, "username")?;
    if viewer.user.username != username && !manages_workspace(&viewer) {
        return Err(denied());
    }
    let user = find_user(&auth, &username).await?;
    let mut roles = Vec::new();
    for r in auth.store().user_roles(user.id).await? {
        roles.push(role_json(&auth, &r).await?);
    }
    Ok(Json(json!({ "roles": roles })))
}

/// mltrack has one workspace; a role elsewhere would never apply.
fn check_workspace(workspace: &str) -> ApiResult<()> {
    if workspace.trim().is_empty() {
        return Err(ApiError(Error::invalid("Workspace cannot be empty.")));
    }
    if workspace != DEFAULT_WORKSPACE {
        return Err(ApiError(Error::invalid(format!(
            "Workspace '{workspace}' does not exist: mltrack has one workspace, '{DEFAULT_WORKSPACE}'."
        ))));
    }
    Ok(())
}

fn check_role_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError(Error::invalid("Role name cannot be empty.")));
    }
    if name.starts_with("__user_") {
        return Err(ApiError(Error::invalid(format!(
            "Role name '{name}' uses the reserved '__user_' prefix, which is held for the per-user permission \
             representation. Choose a different name."
        ))));
    }
    Ok(())
}

#[derive(Deserialize)]
struct CreateRole {
    workspace: Option<String>,
    name: Option<String>,
    description: Option<Value>,
}

fn description(value: Option<Value>) -> ApiResult<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError(Error::invalid("Role description must be a string or null."))),
    }
}

/// `POST /api/3.0/mlflow/roles/create`
async fn create_role(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<CreateRole>,
) -> ApiResult<Json<Value>> {
    require_manager(&viewer)?;
    let workspace = req.workspace.ok_or_else(|| ApiError(missing_value("workspace")))?;
    let name = req.name.ok_or_else(|| ApiError(missing_value("name")))?;
    check_role_name(&name)?;
    check_workspace(&workspace)?;
    let description = description(req.description)?;
    let role = auth
        .store()
        .insert_role(&workspace, &name, description.as_deref())
        .await
        .map_err(exists_as(|| format!("Role (name={name}, workspace={workspace}) already exists.")))?;
    Ok(Json(json!({ "role": role_json(&auth, &role).await? })))
}

#[derive(Deserialize)]
struct RoleId {
    role_id: Option<Value>,
}

async fn find_role(auth: &Auth, id: i64) -> ApiResult<Role> {
    auth.store().role(id).await?.ok_or_else(|| ApiError(Error::not_found(format!("Role with id={id} not found"))))
}

/// Who may see a role and its grants: its managers and the users who
/// hold it. (Everyone who ever created something holds their personal
/// role: seeing every role would show every user's grants and DENYs.)
async fn may_view_role(auth: &Auth, viewer: &Viewer, role_id: i64) -> ApiResult<bool> {
    Ok(manages_workspace(viewer) || auth.store().user_roles(viewer.user.id).await?.iter().any(|r| r.id == role_id))
}

/// `GET /api/3.0/mlflow/roles/get`
async fn get_role(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<RoleId>,
) -> ApiResult<Json<Value>> {
    let id = int_param(req.role_id, "role_id")?;
    if !may_view_role(&auth, &viewer, id).await? {
        return Err(denied());
    }
    let role = find_role(&auth, id).await?;
    Ok(Json(json!({ "role": role_json(&auth, &role).await? })))
}

#[derive(Deserialize)]
struct ListRoles {
    workspace: Option<Value>,
}

/// `GET /api/3.0/mlflow/roles/list`: one workspace's roles, or (admins)
/// every role.
async fn list_roles(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<ListRoles>,
) -> ApiResult<Json<Value>> {
    let workspaces: Vec<String> = match req.workspace {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.into_iter().map(|v| v.as_str().unwrap_or("").to_string()).collect(),
        Some(Value::String(s)) => vec![s],
        Some(other) => vec![other.to_string()],
    };
    if workspaces.iter().any(|w| w.trim().is_empty()) {
        return Err(ApiError(Error::invalid("Parameter 'workspace' must be a non-empty string when provided.")));
    }
    if workspaces.is_empty() && !viewer.is_admin() {
        return Err(denied());
    }
    // Managers see every role; anyone else only the roles they hold.
    let held: Option<Vec<i64>> = if manages_workspace(&viewer) {
        None
    } else {
        Some(auth.store().user_roles(viewer.user.id).await?.iter().map(|r| r.id).collect())
    };
    let visible = |r: &store::auth::Role| held.as_ref().is_none_or(|ids| ids.contains(&r.id));
    let mut roles = Vec::new();
    if workspaces.is_empty() {
        for r in auth.store().list_roles(None).await?.iter().filter(|r| visible(r)) {
            roles.push(role_json(&auth, r).await?);
        }
    }
    for w in &workspaces {
        for r in auth.store().list_roles(Some(w)).await?.iter().filter(|r| visible(r)) {
            roles.push(role_json(&auth, r).await?);
        }
    }
    Ok(Json(json!({ "roles": roles })))
}

#[derive(Deserialize)]
struct UpdateRole {
    role_id: Option<Value>,
    name: Option<String>,
    description: Option<Value>,
}

/// `PATCH /api/3.0/mlflow/roles/update`
async fn update_role(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<UpdateRole>,
) -> ApiResult<Json<Value>> {
    let id = int_param(req.role_id, "role_id")?;
    require_manager(&viewer)?;
    if req.name.is_none() && req.description.is_none() {
        return Err(ApiError(Error::invalid(
            "At least one of 'name' or 'description' must be provided to update a role.",
        )));
    }
    if let Some(n) = &req.name {
        check_role_name(n)?;
    }
    let description = match req.description {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err(ApiError(Error::invalid("Role description must be a string."))),
    };
    let role = find_role(&auth, id).await?;
    auth.store().update_role(role.id, req.name.as_deref(), description.as_deref()).await?;
    let role = find_role(&auth, id).await?;
    Ok(Json(json!({ "role": role_json(&auth, &role).await? })))
}

/// `DELETE /api/3.0/mlflow/roles/delete`
async fn delete_role(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<RoleId>,
) -> ApiResult<Json<Value>> {
    let id = int_param(req.role_id, "role_id")?;
    require_manager(&viewer)?;
    let role = find_role(&auth, id).await?;
    auth.store().delete_role(role.id).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct AddRolePermission {
    role_id: Option<Value>,
    resource_type: Option<String>,
    resource_pattern: Option<String>,
    permission: Option<String>,
}

/// `POST /api/3.0/mlflow/roles/permissions/add`
async fn add_role_permission(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<AddRolePermission>,
) -> ApiResult<Json<Value>> {
    let id = int_param(req.role_id, "role_id")?;
    require_manager(&viewer)?;
    let resource_type = required(req.resource_type, "resource_type")?;
    let pattern = required(req.resource_pattern, "resource_pattern")?;
    let permission = Permission::parse_requested(&required(req.permission, "permission")?)?;
    validate_grant(&resource_type, &pattern, permission)?;
    let role = find_role(&auth, id).await?;
    let grant =
        auth.store().insert_role_permission(role.id, &resource_type, &pattern, permission.name()).await.map_err(
            exists_as(|| {
                format!(
                    "Role permission (role_id={id}, resource_type={resource_type}, resource_pattern={pattern}) \
                     already exists."
                )
            }),
        )?;
    Ok(Json(json!({ "role_permission": grant_json(&grant) })))
}

#[derive(Deserialize)]
struct RolePermissionId {
    role_permission_id: Option<Value>,
    permission: Option<String>,
}

async fn find_grant(auth: &Auth, id: i64) -> ApiResult<RolePermission> {
    auth.store()
        .role_permission(id)
        .await?
        .ok_or_else(|| ApiError(Error::not_found(format!("Role permission with id={id} not found"))))
}

/// `DELETE /api/3.0/mlflow/roles/permissions/remove`
async fn remove_role_permission(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<RolePermissionId>,
) -> ApiResult<Json<Value>> {
    let id = int_param(req.role_permission_id, "role_permission_id")?;
    require_manager(&viewer)?;
    find_grant(&auth, id).await?;
    auth.store().delete_role_permission(id).await?;
    Ok(Json(json!({})))
}

/// `PATCH /api/3.0/mlflow/roles/permissions/update`
async fn update_role_permission(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<RolePermissionId>,
) -> ApiResult<Json<Value>> {
    let id = int_param(req.role_permission_id, "role_permission_id")?;
    require_manager(&viewer)?;
    let permission = Permission::parse_requested(&required(req.permission, "permission")?)?;
    let grant = find_grant(&auth, id).await?;
    validate_grant(&grant.resource_type, &grant.resource_pattern, permission)?;
    auth.store().set_role_permission(id, permission.name()).await?;
    Ok(Json(json!({ "role_permission": grant_json(&find_grant(&auth, id).await?) })))
}

/// `GET /api/3.0/mlflow/roles/permissions/list`
async fn list_role_permissions(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<RoleId>,
) -> ApiResult<Json<Value>> {
    let id = int_param(req.role_id, "role_id")?;
    if !may_view_role(&auth, &viewer, id).await? {
        return Err(denied());
    }
    find_role(&auth, id).await?;
    let grants = auth.store().role_permissions(id).await?;
    Ok(Json(json!({ "role_permissions": grants.iter().map(grant_json).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
struct Assignment {
    username: Option<String>,
    role_id: Option<Value>,
}

/// `POST /api/3.0/mlflow/roles/assign`
async fn assign_role(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<Assignment>,
) -> ApiResult<Json<Value>> {
    let username = required(req.username, "username")?;
    let id = int_param(req.role_id, "role_id")?;
    require_manager(&viewer)?;
    let user = find_user(&auth, &username).await?;
    let role = find_role(&auth, id).await?;
    let a =
        auth.store().assign_role(user.id, role.id).await.map_err(exists_as(|| {
            format!("User role assignment (user_id={}, role_id={id}) already exists", user.id)
        }))?;
    Ok(Json(json!({ "assignment": { "id": a.id, "user_id": a.user_id, "role_id": a.role_id } })))
}

/// `DELETE /api/3.0/mlflow/roles/unassign`
async fn unassign_role(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<Assignment>,
) -> ApiResult<Json<Value>> {
    let username = required(req.username, "username")?;
    let id = int_param(req.role_id, "role_id")?;
    require_manager(&viewer)?;
    let user = find_user(&auth, &username).await?;
    if !auth.store().unassign_role(user.id, id).await? {
        return Err(ApiError(Error::not_found(format!(
            "User role assignment (user_id={}, role_id={id}) not found",
            user.id
        ))));
    }
    Ok(Json(json!({})))
}

/// `GET /api/3.0/mlflow/roles/users/list`
async fn list_role_users(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<RoleId>,
) -> ApiResult<Json<Value>> {
    let id = int_param(req.role_id, "role_id")?;
    require_manager(&viewer)?;
    find_role(&auth, id).await?;
    let rows = auth.store().role_users(id).await?;
    let rows: Vec<Value> =
        rows.iter().map(|a| json!({ "id": a.id, "user_id": a.user_id, "role_id": a.role_id })).collect();
    Ok(Json(json!({ "assignments": rows })))
}

fn token_json(t: &AccessToken) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "creation_time": t.creation_time,
        "expiry_time": t.expiry_time,
        "revoked": t.revoked,
    })
}

#[derive(Deserialize)]
struct NewToken {
    name: Option<String>,
    expires_in_days: Option<i64>,
}

/// `POST /api/2.0/mltrack/tokens/create`: a personal API token for the
/// caller, for `MLFLOW_TRACKING_TOKEN`. The token is in this answer only.
/// Revokes every token and session of a user.
async fn revoke_all(auth: &Auth, user_id: i64) -> ApiResult<()> {
    for kind in ["token", "session"] {
        for t in auth.store().list_tokens(user_id, kind).await? {
            if !t.revoked {
                auth.store().revoke_token(user_id, t.id).await?;
            }
        }
    }
    Ok(())
}

async fn create_token(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    crate::api::extract::RequestGate(gate): crate::api::extract::RequestGate,
    Mlflow(req): Mlflow<NewToken>,
) -> ApiResult<Json<Value>> {
    let name = required(req.name, "name")?;
    if name.len() > 200 {
        return Err(ApiError(Error::invalid("A token's name must be at most 200 characters.")));
    }
    let expiry = match req.expires_in_days {
        None => None,
        Some(d) if (1..=3650).contains(&d) => Some(store::now_millis().saturating_add(d * 86_400_000)),
        Some(d) => return Err(ApiError(Error::invalid(format!("expires_in_days must be from 1 to 3650; got {d}.")))),
    };
    // A token made with a token lives no longer than the one that made it.
    let expiry = match gate.credential() {
        Some(Credential::Token { kind, expiry_time: Some(parent), .. }) if kind == "token" => {
            Some(expiry.map_or(*parent, |e| e.min(*parent)))
        }
        _ => expiry,
    };
    let secret = secrets::new_secret("mlt_")?;
    let token =
        auth.store().insert_token(viewer.user.id, &name, &secrets::token_hash(&secret), "token", expiry).await?;
    tracing::info!(user = %viewer.user.username, token = token.id, "API token created");
    Ok(Json(json!({ "token": secret, "token_info": token_json(&token) })))
}

/// `GET /api/2.0/mltrack/tokens/list`: the caller's tokens (never their secrets).
async fn list_tokens(
    _: SignedIn,
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
) -> ApiResult<Json<Value>> {
    let tokens = auth.store().list_tokens(viewer.user.id, "token").await?;
    Ok(Json(json!({ "tokens": tokens.iter().map(token_json).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
struct TokenId {
    token_id: Option<Value>,
}

/// `POST /api/2.0/mltrack/tokens/revoke`: one of the caller's tokens stops working.
async fn revoke_token(
    State(auth): State<Auth>,
    Extension(viewer): Extension<Viewer>,
    Mlflow(req): Mlflow<TokenId>,
) -> ApiResult<Json<Value>> {
    let id = int_param(req.token_id, "token_id")?;
    if !auth.store().revoke_token(viewer.user.id, id).await? {
        return Err(ApiError(Error::not_found(format!("You have no live token with id={id}."))));
    }
    tracing::info!(user = %viewer.user.username, token = id, "API token revoked");
    Ok(Json(json!({})))
}
