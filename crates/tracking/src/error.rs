//! MLflow's error codes and the one error type every layer returns.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The subset of MLflow's `ErrorCode` (databricks.proto) that mltrack returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InternalError,
    InvalidParameterValue,
    ResourceDoesNotExist,
    ResourceAlreadyExists,
    InvalidState,
    BadRequest,
    EndpointNotFound,
    NotImplemented,
    TemporarilyUnavailable,
    /// A write based on a version someone else has since replaced.
    ResourceConflict,
    /// No credentials, or wrong ones (the basic-auth app's 401).
    Unauthenticated,
    /// Authenticated, but the permission does not allow it (403).
    PermissionDenied,
    /// Too many failed logins in a row: wait, then try again (429).
    RequestLimitExceeded,
}

impl ErrorCode {
    /// The HTTP status MLflow sends with this code (`mlflow/exceptions.py`).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InternalError | ErrorCode::InvalidState => 500,
            ErrorCode::NotImplemented => 501,
            ErrorCode::TemporarilyUnavailable => 503,
            ErrorCode::ResourceConflict => 409,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::PermissionDenied => 403,
            ErrorCode::RequestLimitExceeded => 429,
            ErrorCode::ResourceDoesNotExist | ErrorCode::EndpointNotFound => 404,
            ErrorCode::InvalidParameterValue | ErrorCode::ResourceAlreadyExists | ErrorCode::BadRequest => 400,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::InvalidParameterValue => "INVALID_PARAMETER_VALUE",
            ErrorCode::ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
            ErrorCode::ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
            ErrorCode::InvalidState => "INVALID_STATE",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::EndpointNotFound => "ENDPOINT_NOT_FOUND",
            ErrorCode::NotImplemented => "NOT_IMPLEMENTED",
            ErrorCode::TemporarilyUnavailable => "TEMPORARILY_UNAVAILABLE",
            ErrorCode::ResourceConflict => "RESOURCE_CONFLICT",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::RequestLimitExceeded => "REQUEST_LIMIT_EXCEEDED",
        }
    }
}

/// An MLflow error: a code and a message meant for the user. Serialises to
/// MLflow's wire shape `{"error_code": …, "message": …}`.
///
/// `cause` is what went wrong inside (a database's or a file system's own
/// words, paths): it is logged and shown on the command line, never sent
/// to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    pub error_code: ErrorCode,
    pub message: String,
    #[serde(skip)]
    pub cause: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(error_code: ErrorCode, message: impl Into<String>) -> Self {
        Error { error_code, message: message.into(), cause: None }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameterValue, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceDoesNotExist, message)
    }
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceAlreadyExists, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalError, message)
    }
    /// An internal failure of `what` (e.g. "Reading the store"): the client
    /// is told that much, the cause goes to the log.
    pub fn internal_cause(what: &str, cause: impl fmt::Display) -> Self {
        Error {
            error_code: ErrorCode::InternalError,
            message: format!("{what} failed on the server; the cause is in the server's log."),
            cause: Some(cause.to_string()),
        }
    }
    /// The message with its hidden cause, for logs and the command line.
    pub fn detail(&self) -> String {
        match &self.cause {
            Some(cause) => format!("{} ({cause})", self.message),
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_code.as_str(), self.detail())
    }
}

impl std::error::Error for Error {}
