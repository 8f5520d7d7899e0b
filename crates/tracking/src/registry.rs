//! The model registry's entities and rules (`model_registry.proto`,
//! MLflow's `utils/validation.py`): registered models, their versions,
//! stages, tags and aliases.

use crate::validation::{invalid_value, missing_value, validate_key, validate_length};
use crate::{Error, KeyValue, Result};
use serde::{Deserialize, Serialize};

pub const MAX_REGISTRY_TAG_KEY_LENGTH: usize = 250;
pub const MAX_REGISTRY_TAG_VALUE_LENGTH: usize = 100_000;
pub const MAX_ALIAS_LENGTH: usize = 255;
pub const SEARCH_REGISTERED_MODELS_DEFAULT: i64 = 100;
pub const SEARCH_REGISTERED_MODELS_MAX: i64 = 1000;
pub const SEARCH_MODEL_VERSIONS_DEFAULT: i64 = 10_000;
pub const SEARCH_MODEL_VERSIONS_MAX: i64 = 200_000;

/// The stages a version can be in, as MLflow spells them.
pub const STAGES: [&str; 4] = ["None", "Staging", "Production", "Archived"];
/// Where deleted versions go: never shown, but their number is never reused.
pub const STAGE_DELETED: &str = "Deleted_Internal";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredModelAlias {
    pub alias: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredModel {
    pub name: String,
    pub creation_timestamp: i64,
    pub last_updated_timestamp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latest_versions: Vec<ModelVersion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<RegisteredModelAlias>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub name: String,
    pub version: String,
    pub creation_timestamp: i64,
    pub last_updated_timestamp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub current_stage: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// `READY`: mltrack registers a version only once its source is stored.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_link: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The logged model this version was made from (MLflow 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
}

/// A stage name in any case, as MLflow's `get_canonical_stage` accepts it.
pub fn canonical_stage(stage: &str) -> Result<&'static str> {
    STAGES.iter().find(|s| s.eq_ignore_ascii_case(stage)).copied().ok_or_else(|| {
        Error::invalid(format!("Invalid Model Version stage: {stage}. Value must be one of {}.", STAGES.join(", ")))
    })
}

/// MLflow's `_validate_model_name`.
pub fn validate_model_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(missing_value("name"));
    }
    if name.contains(['/', ':']) {
        return Err(Error::invalid(format!("Invalid model name '{name}'. Names cannot contain '/' or ':'.")));
    }
    // A grant on `*` means every model: a model of that name would turn its
    // creator's MANAGE grant into one on all models (mltrack is stricter
    // than MLflow here).
    if name.contains('*') {
        return Err(Error::invalid(format!(
            "Invalid model name '{name}'. Names cannot contain '*', which permissions read as \"every model\"."
        )));
    }
    let norm = crate::validation::normpath(name);
    if norm != name || norm == "." || norm.starts_with("..") || norm.starts_with('/') {
        return Err(invalid_value(
            "name",
            name,
            &format!(
                "Names may be treated as files in certain cases, and must not resolve to other names when \
                 treated as such. This name would resolve to '{norm}'"
            ),
        ));
    }
    Ok(())
}

/// A version number as MLflow reads it from a request.
pub fn parse_version(version: &str) -> Result<i64> {
    version
        .trim()
        .parse::<i64>()
        .map_err(|_| Error::invalid(format!("Parameter 'version' must be an integer, got '{version}'.")))
}

pub fn validate_registry_tag(key: &str, value: &str) -> Result<()> {
    validate_key("key", key)?;
    validate_length("key", key, MAX_REGISTRY_TAG_KEY_LENGTH)?;
    validate_length("value", value, MAX_REGISTRY_TAG_VALUE_LENGTH)
}

/// MLflow's `_validate_model_alias_name` and the reserved names.
pub fn validate_alias(alias: &str) -> Result<()> {
    if alias.is_empty() {
        return Err(Error::invalid("Registered model alias name cannot be empty."));
    }
    if !alias.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
        return Err(Error::invalid(format!(
            "Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-)."
        )));
    }
    validate_length("Registered model alias name", alias, MAX_ALIAS_LENGTH)?;
    if alias.eq_ignore_ascii_case("latest") {
        return Err(Error::invalid("'latest' alias name (case insensitive) is reserved."));
    }
    let b = alias.as_bytes();
    if b.len() > 1 && (b[0] == b'v' || b[0] == b'V') && b[1..].iter().all(u8::is_ascii_digit) {
        return Err(Error::invalid(format!("Version alias name '{alias}' is reserved.")));
    }
    Ok(())
}

/// The parts of a URI that MLflow's source checks look at, split as
/// Python's `urllib.parse.urlparse` splits them: a scheme (lower case, empty
/// when there is none), the network location after `//`, and the path
/// (without query or fragment).
pub fn split_uri(uri: &str) -> (String, &str, &str) {
    let (scheme, rest) = match uri.split_once(':') {
        Some((s, rest))
            if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            (s.to_ascii_lowercase(), rest)
        }
        _ => (String::new(), uri),
    };
    let (netloc, rest) = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find(['/', '?', '#']).unwrap_or(after.len());
            (&after[..end], &after[end..])
        }
        None => ("", rest),
    };
    let path = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    (scheme, netloc, path)
}

/// MLflow's `is_local_uri` for a model version source: no scheme, or a
/// `file:` URI on this host. Local sources are only accepted inside the
/// artifact directory of the run (or logged model) the request names.
pub fn is_local_source(source: &str) -> Result<bool> {
    let (scheme, netloc, _) = split_uri(source);
    let host = netloc.rsplit('@').next().unwrap_or("").split(':').next().unwrap_or("");
    let remote_host =
        !host.is_empty() && host != "." && !host.starts_with("localhost") && !host.starts_with("127.0.0.1");
    match scheme.as_str() {
        "" => Ok(true),
        "file" if remote_host => Err(Error::invalid(format!(
            "{source} is not a valid remote uri. For remote access on windows, please consider using a different \
             scheme such as SMB (e.g. smb://<hostname>/<path>)."
        ))),
        "file" => Ok(true),
        _ => Ok(false),
    }
}

/// MLflow's `_validate_non_local_source_contains_relative_paths` (the fix
/// for CVE-2023-1177 and CVE-2023-2780): once fully percent-decoded, a
/// non-local source must name an absolute path with no `.` or `..`
/// segment and no NUL byte, so that it cannot reach outside what it names.
pub fn validate_non_local_source(source: &str) -> Result<()> {
    let invalid = || {
        Error::invalid(format!(
            "Invalid model version source: '{source}'. If supplying a source as an http, https, local file path, \
             ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path \
             references present. Please provide an absolute path."
        ))
    };
    let decoded = crate::validation::percent_decode_fully(source, true);
    let (_, _, path) = split_uri(&decoded);
    let mut collapsed = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && collapsed.ends_with('/')) {
            collapsed.push(c);
        }
    }
    let path = collapsed.trim_end_matches('/');
    if path.contains('\0') || decoded.split('/').any(|p| p == "..") {
        return Err(invalid());
    }
    // Python resolves the path against the server's working directory:
    // anything but a plain absolute path resolves to something else.
    if !path.starts_with('/') || path.split('/').any(|p| p == ".") {
        return Err(invalid());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_rules() {
        assert_eq!(canonical_stage("production").unwrap(), "Production");
        assert_eq!(canonical_stage("NONE").unwrap(), "None");
        assert!(canonical_stage("prod").is_err());
        validate_model_name("churn model v2").unwrap();
        for bad in ["", "  ", "a/b", "a:b", "./a", "a/.."] {
            assert!(validate_model_name(bad).is_err(), "{bad}");
        }
        validate_alias("champion").unwrap();
        validate_alias("v1beta").unwrap();
        for bad in ["", "latest", "LATEST", "v3", "V12", "a b", "a.b"] {
            assert!(validate_alias(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_version("3").unwrap(), 3);
        for ok in ["runs:/run_id/model", "s3://bucket/a/b", "mlflow-artifacts:/1/abc/artifacts/model", "models:/m-1"] {
            validate_non_local_source(ok).unwrap();
            assert!(!is_local_source(ok).unwrap(), "{ok}");
        }
        for bad in [
            "mlflow-artifacts://host:5000/../../etc",
            "http://host/api/2.0/mlflow-artifacts/artifacts/%2e%2e/%2e%2e/x",
            "s3:/bucket/./x",
            "s3://bucket",
            "runs:relative/path",
            "http://host/a%00b",
        ] {
            assert!(validate_non_local_source(bad).is_err(), "{bad}");
        }
        assert!(is_local_source("/tmp/model").unwrap());
        assert!(is_local_source("file:///tmp/model").unwrap());
        assert!(is_local_source("file://localhost/tmp/model").unwrap());
        assert!(is_local_source("file://other-host/tmp/model").is_err());
        assert_eq!(split_uri("s3://b/p?q#f"), ("s3".to_string(), "b", "/p"));
        assert!(parse_version("three").is_err());
    }
}
