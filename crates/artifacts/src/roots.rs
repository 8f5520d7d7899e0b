//! Which artifact roots this server reads itself, and through which store.

use crate::{ArtifactPath, ArtifactStore};
use std::path::{Component, Path, PathBuf};
use tracking::Result;

/// The artifact roots a server reads for the runs, logged models and model
/// versions it serves: `mlflow-artifacts:` roots through the proxied store
/// and, when the server's default artifact root is a local folder, `file:`
/// roots inside that folder (MLflow's server reads local roots too). Any
/// other root is not read by the server, so an experiment whose
/// `artifact_location` names `/etc` or another machine's bucket cannot make
/// the server hand out files outside what it was configured with.
#[derive(Debug, Clone, Default)]
pub struct ArtifactRoots {
    proxied: Option<ArtifactStore>,
    local: Option<(PathBuf, ArtifactStore)>,
}

impl ArtifactRoots {
    /// Roots served through `proxied` only (`None`: `--no-serve-artifacts`).
    pub fn new(proxied: Option<ArtifactStore>) -> Self {
        ArtifactRoots { proxied, local: None }
    }

    /// Also reads `file:` roots under `default_root`, when that is a local
    /// folder (a `file:` URI or a path); other roots add nothing.
    pub fn with_default_root(mut self, default_root: &str) -> Result<Self> {
        if let Some(dir) = local_path(default_root) {
            let store = ArtifactStore::open(&dir.to_string_lossy())?;
            self.local = Some((dir, store));
        }
        Ok(self)
    }

    /// The store behind `mlflow-artifacts:` URIs, if the server proxies.
    pub fn proxied(&self) -> Option<&ArtifactStore> {
        self.proxied.as_ref()
    }

    /// Where the files under `root_uri` are read: the store and the path of
    /// the root inside it. `None` for a root this server does not read.
    pub fn locate(&self, root_uri: &str) -> Option<(&ArtifactStore, ArtifactPath)> {
        if let Some(path) = ArtifactPath::from_root_uri(root_uri) {
            return Some((self.proxied.as_ref()?, path));
        }
        let (dir, store) = self.local.as_ref()?;
        let relative = local_path(root_uri)?.strip_prefix(dir).ok()?.to_string_lossy().into_owned();
        Some((store, ArtifactPath::parse(&relative).ok()?))
    }
}

/// A local URI (`file:` or a bare path) as an absolute path with `.` and
/// `..` resolved lexically (MLflow's `local_file_uri_to_path` then
/// `Path.resolve`, without following links); `None` for any other scheme
/// or another host.
pub fn local_path(uri: &str) -> Option<PathBuf> {
    let (scheme, host, path) = tracking::registry::split_uri(uri);
    let path = match scheme.as_str() {
        "" => uri.to_string(),
        "file" if matches!(host, "" | "localhost" | "127.0.0.1") => {
            tracking::validation::percent_decode_fully(path, false)
        }
        _ => return None,
    };
    let path = Path::new(&path);
    let absolute = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().ok()?.join(path) };
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_roots_only_inside_the_default_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = format!("file://{}", dir.path().display());
        let roots = ArtifactRoots::new(None).with_default_root(&root).unwrap();
        let (_, path) = roots.locate(&format!("{root}/1/abc/artifacts")).unwrap();
        assert_eq!(path.as_str(), "1/abc/artifacts");
        let (_, path) = roots.locate(&format!("{}/2/x", dir.path().display())).unwrap();
        assert_eq!(path.as_str(), "2/x");
        for outside in ["file:///etc", "/etc/passwd", &format!("{root}/../x"), "file://other-host/x", "s3://b/1"] {
            assert!(roots.locate(outside).is_none(), "{outside}");
        }
        // mlflow-artifacts: roots need the proxied store.
        assert!(roots.locate("mlflow-artifacts:/1/abc/artifacts").is_none());
        assert!(ArtifactRoots::new(None).with_default_root("mlflow-artifacts:/").unwrap().locate(&root).is_none());
    }
}
