//! Authorization, answered once for every door: "may this viewer do this
//! to this resource". REST handlers, the artifact proxy, live events and
//! the UI's server functions describe what a request will touch as
//! [`Need`]s, built from the same typed value the handler then runs, and
//! ask [`Access::check`]. MLflow's rules (`mlflow/server/auth/__init__.py`,
//! 3.17): reading a run or logged model needs READ on its experiment and
//! the capability on its tier; creating needs the container's UPDATE and
//! the tier not denied; lookups that find nothing deny, so ids cannot be
//! probed.
//!
//! Ids are canonical before they are looked at: an experiment id is the
//! decimal form of its number (`01`, `+1` and ` 1` are refused, as the
//! store refuses them), so a grant on `1` is the grant that decides.

use crate::auth::Viewer;
use crate::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tracking::dashboards::Dashboard;
use tracking::permissions::{Capability, Permission, Resolver, EXPERIMENT, REGISTERED_MODEL};
use tracking::{Error, ErrorCode, Result};

/// One condition a request must meet; a request meets all of its needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Need {
    /// Any signed-in user (what it shows is narrowed to them, or it is
    /// about themself).
    SignedIn,
    /// Only admins.
    Admin,
    /// An experiment by id.
    Experiment(String, Capability),
    /// An experiment by name; a name nobody has yet passes, so that the
    /// endpoint can answer "not found".
    ExperimentNamed(String, Capability),
    Experiments(Vec<String>, Capability),
    /// Something of `tier` inside an experiment (its runs' artifacts, its
    /// logged models' files): READ on the experiment and the capability on
    /// the tier.
    InExperiment(String, &'static str, Capability),
    /// A new resource of `tier` in an experiment: UPDATE on the experiment
    /// and `(tier, *)` not denied.
    CreateIn(String, &'static str),
    /// A new experiment or registered model: `(type, *)` (or its name) not
    /// denied.
    Create(&'static str, Option<String>),
    /// A run: READ on its experiment and the capability on the run tier.
    Run(String, Capability),
    Runs(Vec<String>, Capability),
    LoggedModel(String, Capability),
    /// A registered model and, with `Some`, its version tier.
    Model(String, Capability, Option<Capability>),
    /// A dashboard: READ on everything it shows; `true` to change it.
    Dashboard(String, bool),
    /// The parameter naming the resource is missing: the request is
    /// refused with MLflow's "missing value" before anything runs.
    Missing(&'static str),
}

/// The checks, with what they remember between requests.
#[derive(Clone)]
pub struct Access(Arc<Inner>);

struct Inner {
    store: Store,
    default_permission: Permission,
    /// Run id → experiment id: a run never moves, so this can be kept.
    run_experiments: Mutex<HashMap<String, String>>,
}

const MAX_REMEMBERED_RUNS: usize = 100_000;

pub const PERMISSION_DENIED_MSG: &str = "Permission denied";

/// MLflow's answer to a request the viewer may not make.
pub fn denied() -> Error {
    Error::new(ErrorCode::PermissionDenied, PERMISSION_DENIED_MSG)
}

/// The canonical spelling of an experiment id, or MLflow's error for one
/// that is not a number in decimal.
pub fn experiment_id(id: &str) -> Result<String> {
    crate::search::experiment_id(id).map(|n| n.to_string())
}

impl Access {
    pub fn new(store: Store, default_permission: Permission) -> Access {
        Access(Arc::new(Inner { store, default_permission, run_experiments: Mutex::new(HashMap::new()) }))
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn default_permission(&self) -> Permission {
        self.0.default_permission
    }

    /// `Ok` when the viewer meets every need; else PERMISSION_DENIED (or
    /// the missing or malformed parameter's error). Admins meet every need.
    pub async fn check(&self, viewer: &Viewer, needs: &[Need]) -> Result<()> {
        for need in needs {
            if let Need::Missing(param) = need {
                return Err(tracking::validation::missing_value(param));
            }
            let Some(resolver) = &viewer.resolver else { continue };
            if !self.allows(viewer, resolver, need).await? {
                tracing::info!(user = %viewer.user.username, ?need, "permission denied");
                return Err(denied());
            }
        }
        Ok(())
    }

    /// The experiment a run belongs to; `None` when there is no such run.
    pub async fn run_experiment(&self, run_id: &str) -> Result<Option<String>> {
        if let Some(e) = self.0.run_experiments.lock().unwrap_or_else(|e| e.into_inner()).get(run_id) {
            return Ok(Some(e.clone()));
        }
        let found = match self.0.store.get_run(run_id).await {
            Ok(run) => run.info.experiment_id,
            Err(e) if matches!(e.error_code, ErrorCode::ResourceDoesNotExist | ErrorCode::InvalidParameterValue) => {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        let mut map = self.0.run_experiments.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_REMEMBERED_RUNS {
            map.clear();
        }
        map.insert(run_id.to_string(), found.clone());
        Ok(Some(found))
    }

    /// Looks up, in one read, the experiments of the runs not remembered
    /// yet (a check of 10,000 runs is then 10,000 lookups in memory).
    async fn remember_run_experiments(&self, run_ids: &[String]) -> Result<()> {
        let unknown: Vec<String> = {
            let map = self.0.run_experiments.lock().unwrap_or_else(|e| e.into_inner());
            run_ids.iter().filter(|id| !map.contains_key(*id)).cloned().collect()
        };
        if unknown.len() < 2 {
            return Ok(());
        }
        let found = self.0.store.run_experiment_ids(&unknown).await?;
        let mut map = self.0.run_experiments.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() + found.len() > MAX_REMEMBERED_RUNS {
            map.clear();
        }
        map.extend(found);
        Ok(())
    }

    /// Whether the viewer may read (or, with `change`, change) a dashboard:
    /// READ on every experiment it shows, or on the experiments of the runs
    /// pinned to it; to change it, also its author, an admin, or UPDATE on
    /// every experiment it shows.
    pub async fn may_use_dashboard(&self, viewer: &Viewer, d: &Dashboard, change: bool) -> Result<bool> {
        let Some(resolver) = &viewer.resolver else { return Ok(true) };
        let mut experiments = d.spec.experiment_ids.clone();
        for run_id in &d.spec.run_ids {
            match self.run_experiment(run_id).await? {
                Some(e) => experiments.push(e),
                // A pinned run that is gone shows nothing.
                None => continue,
            }
        }
        let all = |cap: Capability| experiments.iter().all(|e| resolver.on(EXPERIMENT, e).allows(cap));
        if !all(Capability::Read) {
            return Ok(false);
        }
        Ok(!change
            || (!d.created_by.is_empty() && d.created_by == viewer.user.username)
            || (!experiments.is_empty() && all(Capability::Update)))
    }

    async fn allows(&self, viewer: &Viewer, resolver: &Resolver, need: &Need) -> Result<bool> {
        use Capability::*;
        Ok(match need {
            Need::SignedIn => true,
            Need::Admin | Need::Missing(_) => false,
            Need::Experiment(id, cap) => {
                let id = experiment_id(id)?;
                resolver.on(EXPERIMENT, &id).allows(*cap) && tiers_allow(resolver, &id, *cap)
            }
            Need::ExperimentNamed(name, cap) => match self.0.store.get_experiment_by_name(name).await {
                Ok(e) => resolver.on(EXPERIMENT, &e.experiment_id).allows(*cap),
                Err(e) if e.error_code == ErrorCode::ResourceDoesNotExist => true,
                Err(e) => return Err(e),
            },
            Need::Experiments(ids, cap) => {
                for id in ids {
                    if !resolver.on(EXPERIMENT, &experiment_id(id)?).allows(*cap) {
                        return Ok(false);
                    }
                }
                true
            }
            Need::InExperiment(id, tier, cap) => {
                let id = experiment_id(id)?;
                resolver.on(EXPERIMENT, &id).allows(Read) && resolver.on_tier(tier, EXPERIMENT, &id).allows(*cap)
            }
            Need::CreateIn(id, tier) => {
                let id = experiment_id(id)?;
                resolver.on(EXPERIMENT, &id).allows(Update) && !resolver.tier_denied(tier)
            }
            Need::Create(resource_type, name) => {
                // Anyone may create, unless denied outright (MLflow's rule
                // with workspaces off): a default of NO_PERMISSIONS still
                // lets users make, and so manage, their own.
                resolver.on(resource_type, name.as_deref().unwrap_or("*")) != Permission::Deny
            }
            Need::Run(run_id, cap) => match self.run_experiment(run_id).await? {
                Some(e) => {
                    resolver.on(EXPERIMENT, &e).allows(Read) && resolver.on_tier("run", EXPERIMENT, &e).allows(*cap)
                }
                None => false,
            },
            Need::Runs(run_ids, cap) => {
                self.remember_run_experiments(run_ids).await?;
                for run_id in run_ids {
                    if !Box::pin(self.allows(viewer, resolver, &Need::Run(run_id.clone(), *cap))).await? {
                        return Ok(false);
                    }
                }
                true
            }
            Need::LoggedModel(model_id, cap) => match self.0.store.get_logged_model(model_id, true).await {
                Ok(m) => {
                    let e = &m.info.experiment_id;
                    resolver.on(EXPERIMENT, e).allows(Read)
                        && resolver.on_tier("logged_model", EXPERIMENT, e).allows(*cap)
                }
                Err(e)
                    if matches!(e.error_code, ErrorCode::ResourceDoesNotExist | ErrorCode::InvalidParameterValue) =>
                {
                    false
                }
                Err(e) => return Err(e),
            },
            Need::Model(name, cap, versions) => {
                resolver.on(REGISTERED_MODEL, name).allows(*cap)
                    && versions
                        .is_none_or(|v| resolver.on_tier("registered_model_version", REGISTERED_MODEL, name).allows(v))
            }
            Need::Dashboard(id, change) => match self.0.store.get_dashboard(id).await {
                Ok(d) => self.may_use_dashboard(viewer, &d, *change).await?,
                Err(e)
                    if matches!(e.error_code, ErrorCode::ResourceDoesNotExist | ErrorCode::InvalidParameterValue) =>
                {
                    false
                }
                Err(e) => return Err(e),
            },
        })
    }
}

/// Whether this process runs with users and permissions: then a check
/// that cannot find its request's [`Gate`] denies instead of allowing.
static USERS_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Called once when the server starts with users and permissions.
pub fn users_on() {
    USERS_ON.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// What the server's guard leaves on each request it authenticated: the
/// checks and who is asking. Every door asks it before it runs anything;
/// without users and permissions it is open. It remembers whether anyone
/// asked, so that the guard can tell a route that decided nothing.
#[derive(Clone)]
pub struct Gate(Kind);

#[derive(Clone)]
enum Kind {
    Open,
    Closed,
    Checked(Arc<GateInner>),
}

struct GateInner {
    access: Access,
    viewer: Viewer,
    credential: Credential,
    decided: std::sync::atomic::AtomicBool,
}

/// What a request presented to sign in, to tell later (a live stream, a
/// token made with a token) whether it still holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    /// A username and password: holds while the password is unchanged.
    Password { password_hash: String },
    /// A personal API token (`kind` `token`) or a UI session (`session`):
    /// holds until revoked or expired.
    Token { kind: String, hash: String, expiry_time: Option<i64> },
}

impl Gate {
    /// Users and permissions are off: everything is allowed.
    pub fn open() -> Gate {
        Gate(Kind::Open)
    }

    /// For code that cannot find its request's gate: open when users are
    /// off, else closed (every check denies).
    pub fn unknown() -> Gate {
        if USERS_ON.load(std::sync::atomic::Ordering::SeqCst) {
            Gate(Kind::Closed)
        } else {
            Gate(Kind::Open)
        }
    }

    pub fn new(access: Access, viewer: Viewer, credential: Credential) -> Gate {
        Gate(Kind::Checked(Arc::new(GateInner { access, viewer, credential, decided: Default::default() })))
    }

    /// What the request signed in with; `None` when users are off.
    pub fn credential(&self) -> Option<&Credential> {
        match &self.0 {
            Kind::Checked(inner) => Some(&inner.credential),
            _ => None,
        }
    }

    /// Whether what the request signed in with still holds (a stream asks
    /// again while it runs): the token is not revoked or expired, the
    /// password not changed, the user not deleted.
    pub async fn still_valid(&self) -> Result<bool> {
        let inner = match &self.0 {
            Kind::Open => return Ok(true),
            Kind::Closed => return Ok(false),
            Kind::Checked(inner) => inner,
        };
        let store = inner.access.store();
        Ok(match &inner.credential {
            Credential::Password { password_hash } => {
                store.user_by_id(inner.viewer.user.id).await?.is_some_and(|u| &u.password_hash == password_hash)
            }
            Credential::Token { hash, .. } => store.token_by_hash(hash, crate::now_millis()).await?.is_some(),
        })
    }

    /// Users and permissions are off: every check passes (extractors skip
    /// even working out what a request needs, on the ingest path too).
    pub fn is_open(&self) -> bool {
        matches!(self.0, Kind::Open)
    }

    /// See [`Access::check`]; always `Ok` when users are off.
    pub async fn check(&self, needs: &[Need]) -> Result<()> {
        match &self.0 {
            Kind::Open => Ok(()),
            Kind::Closed => Err(denied()),
            Kind::Checked(inner) => {
                inner.decided.store(true, std::sync::atomic::Ordering::Relaxed);
                inner.access.check(&inner.viewer, needs).await
            }
        }
    }

    /// Like [`Gate::check`], for filtering: `Ok(false)` instead of a denial.
    pub async fn allows(&self, needs: &[Need]) -> Result<bool> {
        match self.check(needs).await {
            Ok(()) => Ok(true),
            Err(e) if e.error_code == ErrorCode::PermissionDenied => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// See [`Access::may_use_dashboard`], for filtering lists.
    pub async fn may_use_dashboard(&self, d: &Dashboard, change: bool) -> Result<bool> {
        match &self.0 {
            Kind::Open => Ok(true),
            Kind::Closed => Ok(false),
            Kind::Checked(inner) => {
                inner.decided.store(true, std::sync::atomic::Ordering::Relaxed);
                inner.access.may_use_dashboard(&inner.viewer, d, change).await
            }
        }
    }

    /// Who is asking; `None` when users are off.
    pub fn viewer(&self) -> Option<&Viewer> {
        match &self.0 {
            Kind::Checked(inner) => Some(&inner.viewer),
            _ => None,
        }
    }

    pub fn access(&self) -> Option<&Access> {
        match &self.0 {
            Kind::Checked(inner) => Some(&inner.access),
            _ => None,
        }
    }

    /// Whether a check may refuse: users are on and the viewer is not an
    /// admin.
    pub fn is_restricted(&self) -> bool {
        match &self.0 {
            Kind::Open => false,
            Kind::Closed => true,
            Kind::Checked(inner) => !inner.viewer.is_admin(),
        }
    }

    /// Whether a decision was asked for on this request.
    pub fn decided(&self) -> bool {
        match &self.0 {
            Kind::Checked(inner) => inner.decided.load(std::sync::atomic::Ordering::Relaxed),
            _ => true,
        }
    }
}

/// What touching a path of the artifact store needs (the proxied store and
/// the local default root are laid out alike), by whose folder it is in:
/// `<experiment>/<run>/…` is the run's, `<experiment>/models/…` the
/// experiment's logged models', other `<experiment>/…` the experiment's.
/// A path in no experiment's folder (the root, the uploads in flight, a
/// folder named `01`) is for admins.
pub fn artifact_need<'a>(mut segments: impl Iterator<Item = &'a str>, cap: Capability) -> Need {
    let Some(experiment) = segments.next().filter(|e| experiment_id(e).is_ok()) else {
        return Need::Admin;
    };
    let experiment = experiment.to_string();
    match segments.next() {
        Some(run) if run.len() == 32 && run.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Need::InExperiment(experiment, "run", cap)
        }
        Some("models") => Need::InExperiment(experiment, "logged_model", cap),
        _ => Need::Experiment(experiment, cap),
    }
}

/// Deleting an experiment also deletes its runs and logged models: a tier
/// grant narrower than that (`run` `*` EDIT) stops it, as in MLflow.
fn tiers_allow(resolver: &Resolver, experiment: &str, cap: Capability) -> bool {
    cap != Capability::Delete
        || ["run", "logged_model"].iter().all(|tier| resolver.on_tier(tier, EXPERIMENT, experiment).allows(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_paths_belong_to_the_folder_they_are_in() {
        use Capability::*;
        let need = |p: &str, cap| artifact_need(p.split('/').filter(|s| !s.is_empty()), cap);
        let run = "0123456789abcdef0123456789abcdef";
        assert_eq!(need(&format!("7/{run}/artifacts/x"), Read), Need::InExperiment("7".into(), "run", Read));
        assert_eq!(need("7/models/m-1/artifacts", Update), Need::InExperiment("7".into(), "logged_model", Update));
        assert_eq!(need("7/other", Manage), Need::Experiment("7".into(), Manage));
        // No experiment's folder: the root, uploads in flight, respelled ids.
        for p in ["", ".mltrack-uploads/abc/target", "07/x", "+7/x", "custom/place"] {
            assert_eq!(need(p, Read), Need::Admin, "{p}");
        }
    }

    #[test]
    fn experiment_ids_are_canonical_or_refused() {
        assert_eq!(experiment_id("12").unwrap(), "12");
        assert_eq!(experiment_id("0").unwrap(), "0");
        for bad in ["01", "001", "+1", " 1", "1 ", "0x1", "", "1e0", "１"] {
            let e = experiment_id(bad).unwrap_err();
            assert_eq!(e.error_code, ErrorCode::InvalidParameterValue, "{bad:?}");
        }
    }
}
