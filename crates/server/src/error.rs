//! Every error leaves as Graph's JSON error body with the right status. A 5xx is always a bug:
//! it is logged with its cause, and the client sees only the request id to report.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_app::AppError;
use gatehouse_domain::odata::ODataError;
use gatehouse_domain::ValidationError;
use serde_json::json;

use crate::request_id;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub target: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), target: None }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalidRequest", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "itemNotFound", message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "accessDenied", message)
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(v) => v.into(),
            AppError::NotFound(m) => ApiError::not_found(m),
            AppError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            AppError::Forbidden(m) => ApiError::forbidden(m),
            AppError::Unauthenticated(m) => ApiError::unauthenticated(m),
            AppError::BadQuery(m) => ApiError::bad_request(m),
            AppError::Store(inner) => {
                tracing::error!(error = %inner, "storage failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "generalException",
                    "an internal error occurred; report the request-id",
                )
            }
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(v: ValidationError) -> Self {
        ApiError { status: StatusCode::BAD_REQUEST, code: "invalidRequest", message: v.message, target: v.target }
    }
}

impl From<ODataError> for ApiError {
    fn from(e: ODataError) -> Self {
        ApiError::bad_request(e.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ids = request_id::current();
        let mut inner = json!({
            "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
            "request-id": ids.request_id,
        });
        if let Some(c) = ids.client_request_id {
            inner["client-request-id"] = json!(c);
        }
        let mut error = json!({"code": self.code, "message": self.message, "innerError": inner});
        if let Some(t) = self.target {
            error["target"] = json!(t);
        }
        (self.status, axum::Json(json!({ "error": error }))).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
