//! What a server function answers when it cannot do what was asked: the
//! tracking error code (MLflow's, as the REST API sends it) and a sentence
//! for the user. Pages tell "not found", "denied", "sign in" and "try
//! again" apart by the code, not by the words; on the wire it is MLflow's
//! own error body, `{"error_code": ..., "message": ...}`, with its status.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use tracking::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    pub error_code: ErrorCode,
    pub message: String,
}

/// What the user can do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// Nothing here: the thing is not there, or the request was wrong.
    None,
    /// Sign in (again).
    SignIn,
    /// Ask for access: the user is signed in but may not do this.
    AskForAccess,
    /// The server or the network failed for now: try again.
    TryAgain,
}

impl AppError {
    pub fn new(error_code: ErrorCode, message: impl Into<String>) -> Self {
        AppError { error_code, message: message.into() }
    }

    /// A request the server cannot take as it is.
    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::InvalidParameterValue, message)
    }

    pub fn remedy(&self) -> Remedy {
        match self.error_code {
            ErrorCode::Unauthenticated => Remedy::SignIn,
            ErrorCode::PermissionDenied => Remedy::AskForAccess,
            ErrorCode::InternalError | ErrorCode::TemporarilyUnavailable | ErrorCode::RequestLimitExceeded => {
                Remedy::TryAgain
            }
            _ => Remedy::None,
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl From<tracking::Error> for AppError {
    fn from(e: tracking::Error) -> Self {
        AppError::new(e.error_code, e.message)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// The failures of the call itself, in sentences: the network, an
    /// answer that cannot be read, arguments the server cannot read.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => AppError::new(
                ErrorCode::TemporarilyUnavailable,
                "The server could not be reached. Check that mltrack is running, then try again.",
            ),
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::new(ErrorCode::BadRequest, "The request could not be read. Reload the page and try again.")
            }
            ServerFnErrorErr::ServerError(message) => AppError::new(ErrorCode::InternalError, message),
            _ => AppError::new(
                ErrorCode::InternalError,
                "The server's answer could not be read. Reload the page and try again.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_pick_what_the_user_can_do() {
        assert_eq!(AppError::new(ErrorCode::ResourceDoesNotExist, "gone").remedy(), Remedy::None);
        assert_eq!(AppError::new(ErrorCode::PermissionDenied, "no").remedy(), Remedy::AskForAccess);
        assert_eq!(AppError::new(ErrorCode::Unauthenticated, "who").remedy(), Remedy::SignIn);
        let unreachable = AppError::from_server_fn_error(ServerFnErrorErr::Request("connection refused".into()));
        assert_eq!(unreachable.remedy(), Remedy::TryAgain);
        assert!(!unreachable.message.contains("refused"), "no raw internal text: {}", unreachable.message);
    }

    #[test]
    fn on_the_wire_it_is_mlflows_error_body() {
        let e = AppError::new(ErrorCode::PermissionDenied, "Permission denied");
        let body = serde_json::to_value(&e).unwrap();
        assert_eq!(body, serde_json::json!({"error_code": "PERMISSION_DENIED", "message": "Permission denied"}));
    }
}
