//! Artifact paths as clients send them, checked before they reach storage.
//!
//! MLflow's artifact proxy had a string of path-traversal CVEs (reading or
//! writing outside the artifact root with `..`, absolute paths, `file:` URIs,
//! percent-encoded and double-encoded `..%2f`, backslashes, `#` fragments).
//! Every path a request names goes through [`ArtifactPath::parse`], which
//! decodes the way MLflow does (repeatedly, until the text stops changing)
//! and then accepts only plain relative segments.

use std::fmt;
use tracking::{Error, Result};

/// A relative artifact path: non-empty segments joined by `/`, none of them
/// `.` or `..`. The empty path is the root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ArtifactPath(String);

impl ArtifactPath {
    pub fn root() -> Self {
        ArtifactPath(String::new())
    }

    /// Checks and normalises a path from a request (percent-encoded or not).
    pub fn parse(raw: &str) -> Result<Self> {
        let decoded = decode_fully(raw)?;
        if let Some(c) = decoded.chars().find(|c| c.is_control()) {
            return Err(invalid(raw, &format!("it contains the control character {:?}", c)));
        }
        if decoded.contains('#') {
            return Err(invalid(raw, "it contains '#'"));
        }
        if decoded.contains('\\') {
            return Err(invalid(raw, "it contains a backslash; separate folders with '/'"));
        }
        if decoded.starts_with('/') {
            return Err(invalid(raw, "it is absolute; artifact paths are relative to the run's artifact root"));
        }
        if decoded.to_ascii_lowercase().starts_with("file:") || is_drive(&decoded) {
            return Err(invalid(raw, "it names a local file or drive"));
        }
        let mut segments = Vec::new();
        for segment in decoded.split('/') {
            match segment {
                "" | "." => {}
                ".." => return Err(invalid(raw, "it contains '..'")),
                s => segments.push(s),
            }
        }
        Ok(ArtifactPath(segments.join("/")))
    }

    /// The store path of an artifact root that the server proxies:
    /// `mlflow-artifacts:/1/<run>/artifacts`, `mlflow-artifacts://host:port/…`
    /// or `http(s)://host/api/2.0/mlflow-artifacts/artifacts/…`. Other
    /// roots (`s3://`, `file://`) are read by clients directly: `None`.
    pub fn from_root_uri(uri: &str) -> Option<Self> {
        let path = if let Some(rest) = uri.strip_prefix("mlflow-artifacts:") {
            match rest.strip_prefix("//") {
                Some(authority_and_path) => authority_and_path.find('/').map_or("", |i| &authority_and_path[i..]),
                None => rest,
            }
        } else if uri.starts_with("http://") || uri.starts_with("https://") {
            let anchor = "/api/2.0/mlflow-artifacts/artifacts";
            &uri[uri.find(anchor)? + anchor.len()..]
        } else {
            return None;
        };
        // The root's own leading `/` is not an absolute path on this machine.
        Self::parse(path.strip_prefix('/').unwrap_or(path)).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The last segment (the file or folder name); empty for the root.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    /// `self/child`, where `child` is already a checked path.
    pub fn join(&self, child: &ArtifactPath) -> ArtifactPath {
        match (self.is_root(), child.is_root()) {
            (true, _) => child.clone(),
            (_, true) => self.clone(),
            _ => ArtifactPath(format!("{}/{}", self.0, child.0)),
        }
    }

    /// `rest` relative to `self`, when `rest` lies under it.
    pub fn strip_prefix(&self, rest: &ArtifactPath) -> Option<ArtifactPath> {
        if self.is_root() {
            return Some(rest.clone());
        }
        let tail = rest.0.strip_prefix(&self.0)?;
        if tail.is_empty() {
            Some(ArtifactPath::root())
        } else {
            tail.strip_prefix('/').map(|t| ArtifactPath(t.to_string()))
        }
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }
}

impl fmt::Display for ArtifactPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// MLflow answers every unsafe path with exactly "Invalid path" (clients
/// match on it); the reason goes to the server's debug log.
fn invalid(raw: &str, why: &str) -> Error {
    tracing::debug!(path = %raw.escape_debug(), "refused artifact path: {why}");
    Error::invalid("Invalid path")
}

/// `C:` or `C:/…`: a Windows drive, absolute on the machines MLflow warns about.
fn is_drive(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b.len() == 2 || b[2] == b'/')
}

/// Percent-decodes until the text no longer changes, as MLflow's
/// `validate_path_is_safe` does, so `..%252f` is seen as `../`.
fn decode_fully(raw: &str) -> Result<String> {
    let mut text = raw.to_string();
    for _ in 0..10 {
        let next = percent_decode(&text).ok_or_else(|| invalid(raw, "it is not valid UTF-8 once decoded"))?;
        if next == text {
            return Ok(text);
        }
        text = next;
    }
    Err(invalid(raw, "it is percent-encoded too many times"))
}

fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_string());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        ArtifactPath::parse(raw).unwrap_or_else(|e| panic!("{raw:?} refused: {e}")).0
    }

    fn refused(raw: &str) {
        let err = ArtifactPath::parse(raw).expect_err(raw);
        assert_eq!(err.error_code, tracking::ErrorCode::InvalidParameterValue, "{raw}");
    }

    #[test]
    fn plain_paths_are_normalised() {
        assert_eq!(ok("model/MLmodel"), "model/MLmodel");
        assert_eq!(ok("./a//b/"), "a/b");
        assert_eq!(ok(""), "");
        assert_eq!(ok("results 100%.txt"), "results 100%.txt");
        assert_eq!(ok("a%20b.txt"), "a b.txt");
        assert_eq!(ok("ünïcode/файл.txt"), "ünïcode/файл.txt");
        assert_eq!(ok("a..b/c.."), "a..b/c..");
    }

    #[test]
    fn traversal_in_every_spelling_is_refused() {
        for raw in [
            "..",
            "../etc/passwd",
            "a/../../b",
            "/etc/passwd",
            "//etc/passwd",
            "..%2f..%2fetc%2fpasswd",
            "%2e%2e/secret",
            "..%252f..%252fetc",
            "%252e%252e%252fsecret",
            "..\\..\\windows",
            "a\\b",
            "file:///etc/passwd",
            "FILE:/etc/passwd",
            "C:/Windows/win.ini",
            "C:",
            "a\0b",
            "a%00b",
            "a%0ab",
            "x#/../../y",
            "a%23b",
            "%2fetc%2fpasswd",
        ] {
            refused(raw);
        }
    }

    #[test]
    fn proxied_roots_in_every_form() {
        for uri in [
            "mlflow-artifacts:/1/abc/artifacts",
            "mlflow-artifacts://localhost:5000/1/abc/artifacts",
            "http://host:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts",
        ] {
            assert_eq!(ArtifactPath::from_root_uri(uri).unwrap().as_str(), "1/abc/artifacts", "{uri}");
        }
        assert!(ArtifactPath::from_root_uri("s3://bucket/1/abc").is_none());
        assert!(ArtifactPath::from_root_uri("file:///tmp/x").is_none());
        assert!(ArtifactPath::from_root_uri("mlflow-artifacts:/../../etc").is_none());
    }

    #[test]
    fn prefix_helpers() {
        let root = ArtifactPath::parse("1/abc/artifacts").unwrap();
        let file = ArtifactPath::parse("1/abc/artifacts/model/MLmodel").unwrap();
        assert_eq!(root.strip_prefix(&file).unwrap().as_str(), "model/MLmodel");
        assert!(root.strip_prefix(&ArtifactPath::parse("1/abcd").unwrap()).is_none());
        assert_eq!(root.join(&ArtifactPath::parse("x").unwrap()).as_str(), "1/abc/artifacts/x");
        assert_eq!(file.file_name(), "MLmodel");
    }
}
