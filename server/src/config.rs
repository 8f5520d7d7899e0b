//! Command line and environment configuration (`mltrack --help`).

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "mltrack", version, about = "An MLflow-compatible experiment tracking server and web UI")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the tracking server and web UI (the same as `server`).
    Ui(ServeConfig),
    /// Start the tracking server and web UI.
    Server(ServeConfig),
    /// Copy experiments, runs, metrics, artifacts and the model registry from
    /// MLflow (a server, an mlruns folder or its database) or an export file.
    Import(ImportConfig),
    /// Write everything in mltrack to one portable file.
    Export(ExportConfig),
    /// Print every route the server answers (REST, pages, server
    /// functions) as JSON, for the permission tests.
    #[command(hide = true)]
    Routes,
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending schema migrations to the backend store.
    Upgrade {
        /// The backend store to migrate (as for `mltrack ui`); MLflow's
        /// `mlflow db upgrade <url>` form is accepted too.
        #[arg(env = "MLTRACK_BACKEND_STORE_URI", default_value = "sqlite:///mltrack.db")]
        url: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on. Use 0.0.0.0 to accept connections from other machines.
    #[arg(long, env = "MLTRACK_HOST", default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on.
    #[arg(long, short = 'p', env = "MLTRACK_PORT", default_value_t = 5000)]
    pub port: u16,

    #[command(flatten)]
    pub storage: StorageConfig,

    #[command(flatten)]
    pub security: SecurityConfig,

    #[command(flatten)]
    pub auth: AuthConfig,

    /// Accepted for compatibility with `mlflow server` launch scripts; mltrack
    /// serves every request from one process with an async runtime.
    #[arg(long, short = 'w', hide = true)]
    pub workers: Option<String>,
}

/// MLflow's security flags (`mlflow server --allowed-hosts …`).
#[derive(Debug, Clone, Args)]
pub struct SecurityConfig {
    /// Comma-separated Host header values the server answers (`*` and `?`
    /// wildcards, e.g. `mltrack.corp.example,10.*`); `*` answers every host.
    /// Default: localhost, loopback and private-network addresses. Guards
    /// against DNS rebinding.
    #[arg(long, env = "MLTRACK_ALLOWED_HOSTS", default_value = "")]
    pub allowed_hosts: String,

    /// Comma-separated origins (wildcards allowed; `*` for all) whose pages
    /// may send state-changing requests and read answers. The server's own
    /// origin and localhost origins are always allowed.
    #[arg(long, env = "MLTRACK_CORS_ALLOWED_ORIGINS", default_value = "")]
    pub cors_allowed_origins: String,

    /// The X-Frame-Options header (`SAMEORIGIN`, `DENY`, or `NONE` to send none).
    #[arg(long, env = "MLTRACK_X_FRAME_OPTIONS", default_value = "SAMEORIGIN")]
    pub x_frame_options: String,

    /// Turn off the Host and cross-origin checks (MLflow's flag); only behind
    /// a proxy that does them.
    #[arg(long, env = "MLTRACK_DISABLE_SECURITY_MIDDLEWARE")]
    pub disable_security_middleware: bool,
}

impl SecurityConfig {
    pub fn policy(&self) -> crate::security::Policy {
        if self.disable_security_middleware {
            return crate::security::Policy::permissive();
        }
        crate::security::Policy::new(&self.allowed_hosts, &self.cors_allowed_origins, &self.x_frame_options)
    }
}

/// Users and permissions (MLflow's basic-auth app).
#[derive(Debug, Clone, Args)]
pub struct AuthConfig {
    /// `basic-auth` turns on users and permissions, as `mlflow server
    /// --app-name basic-auth` does: every request then needs a user's
    /// password (HTTP Basic), an API token (Bearer) or a UI login.
    #[arg(long, env = "MLTRACK_APP_NAME", value_parser = ["basic-auth"])]
    pub app_name: Option<String>,

    /// What a user may do where no grant says otherwise: READ (MLflow's
    /// default), USE, EDIT, MANAGE or NO_PERMISSIONS.
    #[arg(long, env = "MLTRACK_AUTH_DEFAULT_PERMISSION", default_value = "READ")]
    pub auth_default_permission: String,

    /// Serve on a non-loopback address with no users and permissions:
    /// anyone who can reach the port may read and change everything.
    #[arg(long, env = "MLTRACK_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
}

impl AuthConfig {
    pub fn enabled(&self) -> bool {
        self.app_name.is_some()
    }

    pub fn default_permission(&self) -> anyhow::Result<tracking::permissions::Permission> {
        use tracking::permissions::Permission;
        match Permission::parse(&self.auth_default_permission.to_ascii_uppercase()) {
            Some(p) if p != Permission::Deny => Ok(p),
            _ => anyhow::bail!(
                "--auth-default-permission {} is not one of READ, USE, EDIT, MANAGE, NO_PERMISSIONS",
                self.auth_default_permission
            ),
        }
    }

    /// The first admin from `MLTRACK_ADMIN_USERNAME` and
    /// `MLTRACK_ADMIN_PASSWORD` (MLflow's `MLFLOW_AUTH_ADMIN_*` names too).
    pub fn admin_from_env() -> anyhow::Result<Option<(String, String)>> {
        let var = |names: [&str; 2]| names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()));
        let user = var(["MLTRACK_ADMIN_USERNAME", "MLFLOW_AUTH_ADMIN_USERNAME"]);
        let password = var(["MLTRACK_ADMIN_PASSWORD", "MLFLOW_AUTH_ADMIN_PASSWORD"]);
        match (user, password) {
            (Some(u), Some(p)) => Ok(Some((u, p))),
            (None, None) => Ok(None),
            (Some(u), None) => anyhow::bail!("MLTRACK_ADMIN_USERNAME is {u} but MLTRACK_ADMIN_PASSWORD is not set"),
            (None, Some(_)) => anyhow::bail!("MLTRACK_ADMIN_PASSWORD is set but MLTRACK_ADMIN_USERNAME is not"),
        }
    }
}

/// Whether `host` (the listen address) is reachable only from this machine.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Where mltrack keeps its data: shared by `ui`/`server`, `import` and `export`.
#[derive(Debug, Clone, Args)]
pub struct StorageConfig {
    /// Where experiments and runs are stored: `sqlite:///relative.db`,
    /// `sqlite:////absolute/path.db` or a file path, or a PostgreSQL
    /// database, `postgresql://user:password@host:5432/db` (also
    /// `postgresql+psycopg2://…`, as MLflow spells it). The default is a
    /// SQLite file in the working directory.
    #[arg(long, env = "MLTRACK_BACKEND_STORE_URI", default_value = "sqlite:///mltrack.db")]
    pub backend_store_uri: String,

    /// Most connections this process opens to a PostgreSQL backend store
    /// (a quarter write, the rest read). Replicas each open their own.
    #[arg(long, env = "MLTRACK_DB_POOL_SIZE", default_value_t = store::DEFAULT_POOL_SIZE)]
    pub db_pool_size: u32,

    /// The artifact location given to new experiments. Defaults to
    /// `mlflow-artifacts:/` (artifacts go through this server) when artifacts
    /// are served, else to the artifacts destination.
    #[arg(long, env = "MLTRACK_DEFAULT_ARTIFACT_ROOT")]
    pub default_artifact_root: Option<String>,

    /// Where this server stores artifacts that clients upload through it.
    #[arg(long, env = "MLTRACK_ARTIFACTS_DESTINATION", default_value = "./mlartifacts")]
    pub artifacts_destination: String,

    /// Proxy artifact uploads and downloads through the server (MLflow's default).
    #[arg(long, env = "MLTRACK_SERVE_ARTIFACTS", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub serve_artifacts: bool,

    /// Turn off artifact proxying; clients then write to the artifact root themselves.
    #[arg(long, conflicts_with = "serve_artifacts")]
    pub no_serve_artifacts: bool,
}

impl StorageConfig {
    /// Opens (and migrates) the backend store.
    pub async fn open_store(&self) -> anyhow::Result<store::Store> {
        store::open_with(&self.backend_store_uri, &self.artifact_root(), self.db_pool_size)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.detail()))
            .with_context(|| format!("could not open the backend store {}", self.backend_store_shown()))
    }

    /// The backend store URI without its password, for logs and messages.
    pub fn backend_store_shown(&self) -> String {
        redact_password(&self.backend_store_uri)
    }

    /// Opens the artifacts destination.
    pub fn open_artifacts(&self) -> anyhow::Result<artifacts::ArtifactStore> {
        artifacts::ArtifactStore::open(&self.artifacts_destination)
            .map_err(|e| anyhow::anyhow!("{}", e.detail()))
            .with_context(|| format!("could not open the artifacts destination {}", self.artifacts_destination))
    }

    pub fn serves_artifacts(&self) -> bool {
        self.serve_artifacts && !self.no_serve_artifacts
    }

    /// The artifact root that new experiments get.
    pub fn artifact_root(&self) -> String {
        match &self.default_artifact_root {
            Some(root) => root.clone(),
            None if self.serves_artifacts() => "mlflow-artifacts:".to_string(),
            None => {
                let dest = PathBuf::from(&self.artifacts_destination);
                let abs = std::path::absolute(&dest).unwrap_or(dest);
                format!("file://{}", abs.display())
            }
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ImportConfig {
    /// What to import: http(s)://host:port (a running MLflow server),
    /// ./mlruns (MLflow's file store), sqlite:///mlflow.db or
    /// postgresql://user:pass@host/db (MLflow's database), or a file written
    /// by `mltrack export`.
    #[arg(long)]
    pub from: String,

    /// Only this experiment (name or id); repeat for more.
    #[arg(long = "experiment")]
    pub experiments: Vec<String>,

    /// Keep polling the source and mirror new runs, points, status changes
    /// and artifacts until interrupted.
    #[arg(long)]
    pub watch: bool,

    /// Seconds between polls with --watch.
    #[arg(long, default_value_t = 2.0)]
    pub interval: f64,

    /// List what would be imported; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// What to do when an experiment's name is taken in mltrack by another
    /// experiment: merge (its runs go there), rename ("<name> (imported)") or skip.
    #[arg(long, default_value = "merge")]
    pub on_conflict: importer::OnConflict,

    /// Leave out deleted experiments, runs and logged models (by default
    /// they come over, still deleted).
    #[arg(long)]
    pub skip_deleted: bool,

    /// For a database source: where that MLflow server kept proxied
    /// artifacts (its --artifacts-destination, a folder or s3:// URI), so
    /// `mlflow-artifacts:/` URIs can be read.
    #[arg(long)]
    pub source_artifacts: Option<String>,

    /// No progress bars (the summary is still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub storage: StorageConfig,
}

#[derive(Debug, Clone, Args)]
pub struct ExportConfig {
    /// The file to write (a tar archive; `mltrack import --from FILE` reads it).
    #[arg(long)]
    pub to: PathBuf,

    /// Only this experiment (name or id); repeat for more.
    #[arg(long = "experiment")]
    pub experiments: Vec<String>,

    #[command(flatten)]
    pub storage: StorageConfig,
}

/// `scheme://user:password@host/…` with the password replaced by `***`.
pub fn redact_password(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else { return uri.to_string() };
    let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
    let Some((credentials, host)) = authority.rsplit_once('@') else { return uri.to_string() };
    let Some((user, _)) = credentials.split_once(':') else { return uri.to_string() };
    let path = path.map(|p| format!("/{p}")).unwrap_or_default();
    format!("{scheme}://{user}:***@{host}{path}")
}

#[cfg(test)]
mod redaction_tests {
    use super::redact_password;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(redact_password("postgresql://bob:s3cr@t@db:5432/ml"), "postgresql://bob:***@db:5432/ml");
        assert_eq!(redact_password("postgresql://bob@db/ml"), "postgresql://bob@db/ml");
        assert_eq!(redact_password("sqlite:///mltrack.db"), "sqlite:///mltrack.db");
    }
}
