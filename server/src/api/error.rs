//! The API's error response: MLflow's `{"error_code", "message"}` with its HTTP status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tracking::Error;

/// Wraps the domain error so axum can send it.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.error_code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut error = self.0;
        if let Some(cause) = error.cause.take() {
            // The client gets a sentence and an id to quote; the log gets the cause.
            let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
            tracing::error!(request_id = %id, %cause, "{}", error.message);
            error.message = format!("{} (request {id})", error.message);
        } else if status.is_server_error() {
            tracing::error!(error = %error, "request failed");
        }
        (status, Json(error)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
