//! Permission levels and resource types of MLflow's basic-auth app
//! (`mlflow/server/auth/permissions.py`, 3.17), and how grants fold into
//! one effective permission.

use crate::{Error, Result};

/// A grant's level. Each level allows what the one before it allows and
/// more: READ < USE < EDIT < MANAGE; DENY allows nothing and wins over any
/// other grant it meets at the same tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    Read,
    Use,
    Edit,
    Manage,
    Deny,
    NoPermissions,
}

/// What a request needs of its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Read,
    /// Use a resource without changing it (MLflow: run or load a model,
    /// log to an experiment's runs is EDIT).
    Use,
    Update,
    Delete,
    Manage,
}

pub const ALL_PERMISSIONS: [Permission; 6] = [
    Permission::Read,
    Permission::Use,
    Permission::Edit,
    Permission::Manage,
    Permission::NoPermissions,
    Permission::Deny,
];

impl Permission {
    pub fn name(self) -> &'static str {
        match self {
            Permission::Read => "READ",
            Permission::Use => "USE",
            Permission::Edit => "EDIT",
            Permission::Manage => "MANAGE",
            Permission::Deny => "DENY",
            Permission::NoPermissions => "NO_PERMISSIONS",
        }
    }

    pub fn parse(name: &str) -> Option<Permission> {
        ALL_PERMISSIONS.into_iter().find(|p| p.name() == name)
    }

    /// Parses a permission named in a request, with MLflow's message.
    pub fn parse_requested(name: &str) -> Result<Permission> {
        Permission::parse(name).ok_or_else(|| {
            let names: Vec<String> = ALL_PERMISSIONS.iter().map(|p| format!("'{}'", p.name())).collect();
            Error::invalid(format!("Invalid permission '{name}'. Valid permissions are: ({})", names.join(", ")))
        })
    }

    /// MLflow's `PERMISSION_PRIORITY`: DENY below everything, so a `max`
    /// never picks it (DENY is looked for first).
    fn priority(self) -> i8 {
        match self {
            Permission::Deny => -1,
            Permission::NoPermissions => 0,
            Permission::Read => 1,
            Permission::Use => 2,
            Permission::Edit => 3,
            Permission::Manage => 4,
        }
    }

    pub fn allows(self, capability: Capability) -> bool {
        let level = self.priority();
        match capability {
            Capability::Read => level >= 1,
            Capability::Use => level >= 2,
            Capability::Update => level >= 3,
            Capability::Delete | Capability::Manage => level >= 4,
        }
    }

    /// Folds several grants on one tier: a DENY among them wins, otherwise
    /// the highest; `None` when there are none.
    pub fn fold(grants: impl IntoIterator<Item = Permission>) -> Option<Permission> {
        let mut best: Option<Permission> = None;
        for p in grants {
            if p == Permission::Deny {
                return Some(Permission::Deny);
            }
            best = Some(match best {
                Some(b) if b.priority() >= p.priority() => b,
                _ => p,
            });
        }
        best
    }
}

/// The resource types a grant can name (MLflow's `TYPE` table). mltrack
/// enforces grants on experiments (their runs, logged models and
/// artifacts), registered models (their versions) and the workspace-wide
/// slot; the others are accepted and kept so MLflow's clients can manage
/// them, and have no effect here.
pub const RESOURCE_TYPES: [(&str, bool); 18] = [
    // (name, accepts a specific id as well as "*")
    ("assessment", false),
    ("experiment", true),
    ("gateway_endpoint", true),
    ("gateway_model_definition", true),
    ("gateway_secret", true),
    ("logged_model", false),
    ("mcp_server", true),
    ("mcp_server_version", false),
    ("prompt", true),
    ("prompt_version", false),
    ("registered_model", true),
    ("registered_model_version", false),
    ("review_queue", false),
    ("run", false),
    ("scorer", true),
    ("scorer_version", false),
    ("trace", false),
    ("workspace", false),
];

pub const EXPERIMENT: &str = "experiment";
pub const REGISTERED_MODEL: &str = "registered_model";
pub const WORKSPACE: &str = "workspace";

/// The workspace every role lives in while mltrack has no workspaces
/// (MLflow's name for it with workspaces off).
pub const DEFAULT_WORKSPACE: &str = "default";

/// Checks a resource type named in a request, with MLflow's message.
pub fn validate_resource_type(resource_type: &str) -> Result<()> {
    if RESOURCE_TYPES.iter().any(|(t, _)| *t == resource_type) {
        return Ok(());
    }
    let names: Vec<String> = RESOURCE_TYPES.iter().map(|(t, _)| format!("'{t}'")).collect();
    Err(Error::invalid(format!(
        "Invalid resource type '{resource_type}'. Valid resource types are: ({})",
        names.join(", ")
    )))
}

/// Checks that `permission` may be granted on `resource_type` matching
/// `pattern` (MLflow's `_validate_permission_for_resource_type` and
/// `_validate_resource_pattern`).
pub fn validate_grant(resource_type: &str, pattern: &str, permission: Permission) -> Result<()> {
    validate_resource_type(resource_type)?;
    if resource_type == WORKSPACE {
        if !matches!(permission, Permission::Use | Permission::Manage) {
            return Err(Error::invalid(format!(
                "Invalid permission '{}' for resource_type='workspace'. Workspace-wide grants accept only: \
                 ('MANAGE', 'USE').",
                permission.name()
            )));
        }
    } else if permission == Permission::NoPermissions {
        return Err(Error::invalid(format!(
            "Invalid permission 'NO_PERMISSIONS' for resource_type='{resource_type}'. Resource-level grants accept \
             only: ('DENY', 'EDIT', 'MANAGE', 'READ', 'USE')."
        )));
    }
    let by_id = RESOURCE_TYPES.iter().any(|(t, id)| *t == resource_type && *id);
    if pattern != "*" && !by_id {
        return Err(Error::invalid(format!(
            "Invalid resource_pattern '{pattern}' for resource_type='{resource_type}'. This resource type supports \
             only wildcard ('*') grants."
        )));
    }
    if pattern.is_empty() {
        return Err(Error::invalid("resource_pattern must not be empty."));
    }
    Ok(())
}

/// One grant that reaches a user through one of their roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub resource_type: String,
    pub pattern: String,
    pub permission: Permission,
}

/// Resolves a user's effective permissions from all their grants, as
/// MLflow's basic-auth app does with workspaces off:
/// - a workspace-wide MANAGE grant allows everything;
/// - on one key (a type and an id, or `*`), a DENY among the grants wins,
///   else the highest; a grant naming the resource decides before `*`;
/// - a sub-resource tier (`run`, `logged_model`, `registered_model_version`)
///   with any `*` grant decides for itself; without one its container does;
/// - where no grant applies the server's default permission does, and any
///   positive result is raised to at least the default (only DENY can
///   narrow what the default gives).
#[derive(Debug, Clone)]
pub struct Resolver {
    grants: Vec<Grant>,
    default: Permission,
    workspace_admin: bool,
}

impl Resolver {
    pub fn new(grants: Vec<Grant>, default: Permission) -> Resolver {
        let workspace_admin = grants.iter().any(|g| g.resource_type == WORKSPACE && g.permission == Permission::Manage);
        Resolver { grants, default, workspace_admin }
    }

    /// Whether the user holds MANAGE on the whole workspace.
    pub fn is_workspace_admin(&self) -> bool {
        self.workspace_admin
    }

    /// The folded grants on exactly this key; `None` when there are none.
    fn on_key(&self, resource_type: &str, pattern: &str) -> Option<Permission> {
        Permission::fold(
            self.grants
                .iter()
                .filter(|g| g.resource_type == resource_type && g.pattern == pattern)
                .map(|g| g.permission),
        )
    }

    fn floored(&self, p: Permission) -> Permission {
        match p {
            Permission::Deny | Permission::NoPermissions => p,
            p if p.priority() < self.default.priority() => self.default,
            p => p,
        }
    }

    /// The effective permission on one resource (`experiment` 7, a
    /// registered model by name).
    pub fn on(&self, resource_type: &str, id: &str) -> Permission {
        if self.workspace_admin {
            return Permission::Manage;
        }
        let found = self.on_key(resource_type, id).or_else(|| self.on_key(resource_type, "*"));
        self.floored(found.unwrap_or(self.default))
    }

    /// The effective permission on a sub-resource of `tier` (every run of
    /// an experiment, say) inside the container `(resource_type, id)`.
    pub fn on_tier(&self, tier: &str, resource_type: &str, id: &str) -> Permission {
        if self.workspace_admin {
            return Permission::Manage;
        }
        match self.on_key(tier, "*") {
            Some(p) => self.floored(p),
            None => self.on(resource_type, id),
        }
    }

    /// Whether `(tier, *)` is denied outright.
    pub fn tier_denied(&self, tier: &str) -> bool {
        !self.workspace_admin && self.on_key(tier, "*") == Some(Permission::Deny)
    }

    /// The resources of a type the user may read, as a condition on ids:
    /// the store turns it into SQL, so searches page and count right.
    pub fn readable(&self, resource_type: &str) -> Visible {
        if self.workspace_admin {
            return Visible::AllBut(Vec::new());
        }
        let mut ids: Vec<&str> = self
            .grants
            .iter()
            .filter(|g| g.resource_type == resource_type && g.pattern != "*")
            .map(|g| g.pattern.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let otherwise = self.on(resource_type, "\u{0}no such id");
        let differ: Vec<String> = ids
            .into_iter()
            .filter(|id| self.on(resource_type, id).allows(Capability::Read) != otherwise.allows(Capability::Read))
            .map(str::to_string)
            .collect();
        if otherwise.allows(Capability::Read) {
            Visible::AllBut(differ)
        } else {
            Visible::Only(differ)
        }
    }
}

/// Which resources a search may show a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visible {
    /// Every resource except these ids.
    AllBut(Vec<String>),
    /// Only these ids.
    Only(Vec<String>),
}

impl Visible {
    pub fn contains(&self, id: &str) -> bool {
        match self {
            Visible::AllBut(ids) => !ids.iter().any(|i| i == id),
            Visible::Only(ids) => ids.iter().any(|i| i == id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(list: &[(&str, &str, Permission)], default: Permission) -> Resolver {
        Resolver::new(
            list.iter()
                .map(|(t, p, g)| Grant { resource_type: t.to_string(), pattern: p.to_string(), permission: *g })
                .collect(),
            default,
        )
    }

    #[test]
    fn levels_allow_what_the_ones_below_allow() {
        assert!(Permission::Read.allows(Capability::Read));
        assert!(!Permission::Read.allows(Capability::Use));
        assert!(Permission::Use.allows(Capability::Use));
        assert!(!Permission::Use.allows(Capability::Update));
        assert!(Permission::Edit.allows(Capability::Update));
        assert!(!Permission::Edit.allows(Capability::Delete));
        assert!(Permission::Manage.allows(Capability::Manage));
        for c in [Capability::Read, Capability::Use, Capability::Update, Capability::Delete, Capability::Manage] {
            assert!(!Permission::Deny.allows(c));
            assert!(!Permission::NoPermissions.allows(c));
        }
    }

    #[test]
    fn deny_wins_on_a_key_and_a_named_resource_beats_the_wildcard() {
        use Permission::*;
        assert_eq!(Permission::fold([Manage, Deny, Read]), Some(Deny));
        assert_eq!(Permission::fold([Read, Edit]), Some(Edit));
        assert_eq!(Permission::fold([]), None);
        let r = resolver(&[("experiment", "1", Edit), ("experiment", "1", Read), ("experiment", "*", Deny)], Read);
        assert_eq!(r.on("experiment", "1"), Edit);
        assert_eq!(r.on("experiment", "2"), Deny);
        let r = resolver(&[("experiment", "2", Deny)], Read);
        assert_eq!(r.on("experiment", "2"), Deny);
        assert_eq!(r.on("experiment", "3"), Read);
        assert_eq!(r.on("registered_model", "m"), Read);
    }

    #[test]
    fn the_default_is_a_floor_and_workspace_managers_may_do_anything() {
        use Permission::*;
        let r = resolver(&[("experiment", "1", Read), ("experiment", "2", Deny)], Edit);
        assert_eq!(r.on("experiment", "1"), Edit);
        assert_eq!(r.on("experiment", "2"), Deny);
        let r = resolver(&[("workspace", "*", Manage), ("experiment", "2", Deny)], NoPermissions);
        assert_eq!(r.on("experiment", "2"), Manage);
        assert!(r.is_workspace_admin());
    }

    #[test]
    fn a_tier_grant_decides_for_its_sub_resources() {
        use Permission::*;
        let r = resolver(&[("experiment", "1", Manage), ("run", "*", Read)], Read);
        assert_eq!(r.on_tier("run", "experiment", "1"), Read);
        assert_eq!(r.on_tier("logged_model", "experiment", "1"), Manage);
        let r = resolver(&[("run", "*", Deny)], Read);
        assert!(r.tier_denied("run"));
        assert!(!r.tier_denied("logged_model"));
    }

    #[test]
    fn readable_sets_follow_the_default() {
        use Permission::*;
        let r = resolver(&[("experiment", "2", Deny), ("experiment", "3", Manage)], Read);
        assert_eq!(r.readable("experiment"), Visible::AllBut(vec!["2".into()]));
        let r = resolver(&[("experiment", "2", Deny), ("experiment", "3", Use)], NoPermissions);
        assert_eq!(r.readable("experiment"), Visible::Only(vec!["3".into()]));
        assert!(r.readable("experiment").contains("3") && !r.readable("experiment").contains("4"));
        let r = resolver(&[("experiment", "*", Deny), ("experiment", "5", Read)], Read);
        assert_eq!(r.readable("experiment"), Visible::Only(vec!["5".into()]));
    }

    #[test]
    fn grants_are_checked_as_mlflow_checks_them() {
        assert!(validate_grant("experiment", "7", Permission::Edit).is_ok());
        assert!(validate_grant("experiment", "*", Permission::Deny).is_ok());
        let e = validate_grant("run", "7", Permission::Read).unwrap_err();
        assert!(e.message.contains("supports only wildcard"), "{}", e.message);
        let e = validate_grant("workspace", "*", Permission::Read).unwrap_err();
        assert!(e.message.contains("Workspace-wide grants accept only"), "{}", e.message);
        assert!(validate_grant("bogus", "*", Permission::Read)
            .unwrap_err()
            .message
            .starts_with("Invalid resource type"));
        assert!(Permission::parse_requested("WRITE").unwrap_err().message.starts_with("Invalid permission 'WRITE'"));
    }
}
