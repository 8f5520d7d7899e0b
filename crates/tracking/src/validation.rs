//! MLflow's input rules (`mlflow/utils/validation.py`), with its messages.

use crate::error::{Error, Result};

pub const MAX_PARAMS_TAGS_PER_BATCH: usize = 100;
pub const MAX_METRICS_PER_BATCH: usize = 1000;
pub const MAX_ENTITIES_PER_BATCH: usize = 1000;
pub const MAX_BATCH_LOG_REQUEST_SIZE: usize = 1_000_000;
pub const MAX_PARAM_VAL_LENGTH: usize = 6000;
pub const MAX_TAG_VAL_LENGTH: usize = 8000;
pub const MAX_EXPERIMENT_NAME_LENGTH: usize = 500;
pub const MAX_EXPERIMENT_TAG_KEY_LENGTH: usize = 250;
pub const MAX_EXPERIMENT_TAG_VAL_LENGTH: usize = 5000;
pub const MAX_ENTITY_KEY_LENGTH: usize = 250;
pub const MAX_DATASET_NAME_SIZE: usize = 500;
pub const MAX_DATASET_DIGEST_SIZE: usize = 36;
pub const MAX_DATASET_SCHEMA_SIZE: usize = 1_048_575;
pub const MAX_DATASET_SOURCE_SIZE: usize = 65_535;
pub const MAX_DATASET_PROFILE_SIZE: usize = 16_777_215;
pub const MAX_INPUT_TAG_KEY_SIZE: usize = 255;
pub const MAX_INPUT_TAG_VALUE_SIZE: usize = 500;
/// `search-runs` and `search-experiments` page size limits.
pub const MAX_RESULTS_PER_PAGE: i64 = 50_000;
pub const DEFAULT_SEARCH_RUNS_MAX_RESULTS: i64 = 1000;
/// `get-history` page size limit.
pub const MAX_HISTORY_RESULTS: i64 = 25_000_000;

/// The JSON path of a list element's field prefix, e.g. `metrics[3].`,
/// formatted only if a message needs it.
pub struct Item(pub &'static str, pub usize);

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}].", self.0, self.1)
    }
}

/// `Invalid value <json> for parameter '<path>' supplied: <message>`
pub fn invalid_value(path: &str, value: &str, message: &str) -> Error {
    let json = serde_json::to_string(value).unwrap_or_default();
    if message.is_empty() {
        Error::invalid(format!("Invalid value {json} for parameter '{path}' supplied."))
    } else {
        Error::invalid(format!("Invalid value {json} for parameter '{path}' supplied: {message}"))
    }
}

pub fn missing_value(path: &str) -> Error {
    Error::invalid(format!("Missing value for required parameter '{path}'."))
}

fn has_valid_characters(name: &str) -> bool {
    name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '/' | '.' | '-' | ' ' | ':'))
}

/// Python's `posixpath.normpath`, enough to tell whether a name would
/// resolve to another name when used as a file path.
pub(crate) fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let leading = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if leading == 0 && (parts.is_empty() || parts.last() == Some(&"..")) {
                    parts.push("..");
                } else if !parts.is_empty() {
                    parts.pop();
                }
            }
            p => parts.push(p),
        }
    }
    let joined = format!("{}{}", "/".repeat(leading), parts.join("/"));
    if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// True for the keys that need no closer look: allowed characters, no
/// leading, trailing or doubled slash, no `.` or `..` segment, within length.
/// Checked without allocating; it is on the ingest path for every metric.
fn is_plain_key(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_ENTITY_KEY_LENGTH
        && has_valid_characters(name)
        && name.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// Checks a metric, param or tag key the way MLflow does: allowed
/// characters, and no name that resolves to another path.
pub fn validate_key(path: &str, name: &str) -> Result<()> {
    if is_plain_key(name) {
        return Ok(());
    }
    validate_key_slow(path, name)
}

fn validate_key_slow(path: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(missing_value(path));
    }
    if !has_valid_characters(name) {
        return Err(invalid_value(
            path,
            name,
            "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), \
             spaces ( ), colon(:) and slashes (/).",
        ));
    }
    let norm = normpath(name);
    if norm != name || norm == "." || norm.starts_with("..") || norm.starts_with('/') {
        return Err(invalid_value(
            path,
            name,
            &format!(
                "Names may be treated as files in certain cases, and must not resolve to other \
                 names when treated as such. This name would resolve to '{norm}'"
            ),
        ));
    }
    if name.chars().count() > MAX_ENTITY_KEY_LENGTH {
        return Err(exceeds_maximum_length(path, MAX_ENTITY_KEY_LENGTH));
    }
    Ok(())
}

pub fn exceeds_maximum_length(path: &str, limit: usize) -> Error {
    Error::invalid(format!("'{path}' exceeds the maximum length of {limit} characters"))
}

pub fn validate_length(path: &str, value: &str, limit: usize) -> Result<()> {
    if value.chars().count() > limit {
        Err(exceeds_maximum_length(path, limit))
    } else {
        Ok(())
    }
}

/// `path` is the JSON path prefix of the entity, e.g. `params[3].`; it is
/// formatted into a message only when there is an error.
pub fn validate_param(path: impl std::fmt::Display, key: &str, value: &str) -> Result<()> {
    if !is_plain_key(key) {
        validate_key_slow(&format!("{path}key"), key)?;
    }
    if value.len() > MAX_PARAM_VAL_LENGTH {
        validate_length(&format!("{path}value"), value, MAX_PARAM_VAL_LENGTH)?;
    }
    Ok(())
}

pub fn validate_tag(path: impl std::fmt::Display, key: &str, value: &str) -> Result<()> {
    if !is_plain_key(key) {
        validate_key_slow(&format!("{path}key"), key)?;
    }
    if value.len() > MAX_TAG_VAL_LENGTH {
        validate_length(&format!("{path}value"), value, MAX_TAG_VAL_LENGTH)?;
    }
    Ok(())
}

pub fn validate_metric(path: impl std::fmt::Display, key: &str, timestamp: i64) -> Result<()> {
    if !is_plain_key(key) {
        validate_key_slow(&format!("{path}name"), key)?;
    }
    if timestamp < 0 {
        return Err(invalid_value(
            &format!("{path}timestamp"),
            &timestamp.to_string(),
            &format!("metric '{key}'. Timestamp must be a nonnegative long (64-bit integer) "),
        ));
    }
    Ok(())
}

pub fn validate_experiment_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::invalid(format!("Invalid experiment name: '{name}'")));
    }
    validate_length("name", name, MAX_EXPERIMENT_NAME_LENGTH)
}

pub fn validate_experiment_tag(key: &str, value: &str) -> Result<()> {
    validate_key("key", key)?;
    validate_length("key", key, MAX_EXPERIMENT_TAG_KEY_LENGTH)?;
    validate_length("value", value, MAX_EXPERIMENT_TAG_VAL_LENGTH)
}

/// Run ids as MLflow accepts them: `^[a-zA-Z0-9][\w\-]{0,255}$`.
pub fn validate_run_id(path: &str, run_id: &str) -> Result<()> {
    let mut chars = run_id.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && run_id.len() <= 256
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(invalid_value(path, run_id, ""))
    }
}

/// Experiment ids as MLflow accepts them: `^[a-zA-Z0-9][\w\-]{0,63}$`.
pub fn validate_experiment_id(experiment_id: &str) -> Result<()> {
    let mut chars = experiment_id.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && experiment_id.len() <= 64
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("Invalid experiment ID: '{experiment_id}'")))
    }
}

pub fn validate_batch_limits(metrics: usize, params: usize, tags: usize) -> Result<()> {
    let check = |name: &str, limit: usize, len: usize| {
        if len > limit {
            Err(Error::invalid(format!(
                "A batch logging request can contain at most {limit} {name}. Got {len} {name}. \
                 Please split up {name} across multiple requests and try again."
            )))
        } else {
            Ok(())
        }
    };
    check("metrics", MAX_METRICS_PER_BATCH, metrics)?;
    check("params", MAX_PARAMS_TAGS_PER_BATCH, params)?;
    check("tags", MAX_PARAMS_TAGS_PER_BATCH, tags)?;
    check("metrics, params, and tags", MAX_ENTITIES_PER_BATCH, metrics + params + tags)
}

pub fn validate_max_results(max_results: i64, limit: i64) -> Result<()> {
    if max_results < 1 {
        return Err(Error::invalid(format!(
            "Invalid value {max_results} for parameter 'max_results' supplied. It must be a \
             positive integer"
        )));
    }
    if max_results > limit {
        return Err(Error::invalid(format!(
            "Invalid value {max_results} for parameter 'max_results' supplied. It must be at \
             most {limit}"
        )));
    }
    Ok(())
}

/// MLflow's `MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH` default.
pub const MAX_ARTIFACT_LOCATION_LENGTH: usize = 2048;

/// An experiment's `artifact_location`, checked as MLflow's
/// `_validate_artifact_root_uri` does (no `#fragment` or `;params`, no
/// `runs:` URI, no `..` in the query, at most 2048 characters) and, beyond
/// it, with no `..` segment in any percent-decoding of the path: a root
/// like `mlflow-artifacts:/../../etc` is refused when it is set, not only
/// when something is read through it.
pub fn validate_artifact_location(location: &str) -> Result<()> {
    if location.len() > MAX_ARTIFACT_LOCATION_LENGTH {
        return Err(Error::invalid(format!(
            "Invalid artifact path length. The length of the artifact path cannot be greater than \
             {MAX_ARTIFACT_LOCATION_LENGTH} characters."
        )));
    }
    if location.starts_with("runs:") {
        return Err(Error::invalid(format!("Artifact location cannot be a runs:/ URI. Given: '{location}'")));
    }
    let decoded = percent_decode_fully(location, false);
    if decoded.contains('#') || decoded.split('/').next_back().is_some_and(|s| s.contains(';')) {
        return Err(Error::invalid("'artifact_location' URL can't include fragments or params."));
    }
    if decoded.chars().any(char::is_control) || decoded.split(['/', '\\', '?', '&', '=']).any(|s| s == "..") {
        return Err(Error::invalid(format!(
            "Invalid artifact location '{location}': it must not contain '..' or control characters"
        )));
    }
    Ok(())
}

/// Percent-decodes `text` again and again until it stops changing (at most
/// ten times), as MLflow's path checks do, so that `%252e%252e` is seen as
/// `..`. With `plus_as_space`, `+` is a space (Python's `unquote_plus`).
/// Invalid UTF-8 becomes U+FFFD.
pub fn percent_decode_fully(text: &str, plus_as_space: bool) -> String {
    let mut current = text.to_string();
    for _ in 0..10 {
        let next = percent_decode_once(&current, plus_as_space);
        if next == current {
            break;
        }
        current = next;
    }
    current
}

fn percent_decode_once(text: &str, plus_as_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(if plus_as_space && bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keys_agree_with_the_full_check() {
        for key in
            ["loss", "a/b", "a/../b", "./a", "a//b", "/a", "a/", "..", ".a", "a.", "a b:c", "x".repeat(251).as_str()]
        {
            assert_eq!(is_plain_key(key), validate_key_slow("k", key).is_ok(), "{key:?}");
        }
    }

    #[test]
    fn keys_that_resolve_elsewhere_are_rejected() {
        for bad in ["../x", "a/../b", "/abs", "a//b", "./a", ".", "a/", "a\\b", "a\0b", "é!"] {
            assert!(validate_key("key", bad).is_err(), "{bad:?} accepted");
        }
        for good in ["loss", "train/loss", "a.b-c d:e", "accuracy_top5", "ünïcode"] {
            assert!(validate_key("key", good).is_ok(), "{good:?} rejected");
        }
    }

    #[test]
    fn batch_limits_follow_mlflow() {
        assert!(validate_batch_limits(1000, 0, 0).is_ok());
        assert!(validate_batch_limits(1001, 0, 0).is_err());
        assert!(validate_batch_limits(0, 101, 0).is_err());
        assert!(validate_batch_limits(900, 100, 1).is_err());
    }

    #[test]
    fn messages_match_mlflow() {
        let e = validate_key("metrics[0].name", "../x").unwrap_err();
        assert!(e.message.starts_with("Invalid value \"../x\" for parameter 'metrics[0].name'"));
        assert_eq!(missing_value("run_id").message, "Missing value for required parameter 'run_id'.");
    }

    #[test]
    fn artifact_locations_cannot_reach_outside() {
        for ok in ["mlflow-artifacts:/", "s3://bucket/prefix", "file:///data/mlruns", "/abs/path", "gs://b/x..y"] {
            validate_artifact_location(ok).unwrap();
        }
        for bad in [
            "mlflow-artifacts:/../etc",
            "mlflow-artifacts:/%2e%2e/etc",
            "mlflow-artifacts:/%252e%252e/etc",
            "http://h/api/2.0/mlflow-artifacts/artifacts/#/../x",
            "http://h/a;p",
            "http://h/a?x=../../y",
            "runs:/abc/model",
            "file:///tmp\\..\\etc",
        ] {
            assert!(validate_artifact_location(bad).is_err(), "{bad}");
        }
        assert!(validate_artifact_location(&"a".repeat(MAX_ARTIFACT_LOCATION_LENGTH + 1)).is_err());
    }
}
