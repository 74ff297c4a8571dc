//! The JSON API: runs, one run, its weights and evaluation, and predictions. Every failure
//! is a 4xx (or 503 when the test split is missing) with `{"error": "<one line>"}`.

use std::fs;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mnist_data::{IMAGE_PIXELS, Split, picture, preprocess};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use mnist_runs::{
    CONFIG_FILE, METRICS_FILE, RunSummary, find_run, list_runs, model_file, read_metrics_csv,
};

/// A request the server will not answer, with its reason in one line.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let message: String = message.into();
        Self {
            status,
            message: message.lines().collect::<Vec<_>>().join(" "),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn unknown_run(id: &str) -> Self {
        Self::not_found(format!("no run named `{id}`"))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn timed_out() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "the request took too long to arrive or to answer",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "this endpoint does not take that method",
        )
    }

    /// The run exists but its files cannot be used (a model that does not load).
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

type Answer = Result<Response, ApiError>;

/// Runs blocking work (files, the model) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
}

fn run_id(path: Result<UrlPath<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|UrlPath(id)| id)
        .map_err(|rejection| ApiError::not_found(rejection.body_text()))
}

fn run(state: &AppState, id: &str) -> Result<RunSummary, ApiError> {
    find_run(&state.runs_dir, id).ok_or_else(|| ApiError::unknown_run(id))
}

/// `GET /api/runs`
pub async fn list(State(state): State<AppState>) -> Answer {
    let runs_dir = state.runs_dir.clone();
    let runs = blocking(move || Ok(list_runs(&runs_dir))).await?;
    Ok(
        Json(json!({ "runs_dir": state.runs_dir.display().to_string(), "runs": runs }))
            .into_response(),
    )
}

/// `GET /api/runs/{id}`: the summary, the config text and every epoch's metrics.
pub async fn detail(
    State(state): State<AppState>,
    path: Result<UrlPath<String>, PathRejection>,
) -> Answer {
    let id = run_id(path)?;
    blocking(move || {
        let summary = run(&state, &id)?;
        let config = fs::read_to_string(summary.dir.join(CONFIG_FILE)).ok();
        let metrics = read_metrics_csv(&summary.dir.join(METRICS_FILE)).unwrap_or_default();
        Ok(
            Json(json!({ "summary": summary, "config": config, "metrics": metrics }))
                .into_response(),
        )
    })
    .await
}

/// `GET /api/runs/{id}/weights`: each class's 28x28 template and its bias.
pub async fn weights(
    State(state): State<AppState>,
    path: Result<UrlPath<String>, PathRejection>,
) -> Answer {
    let id = run_id(path)?;
    blocking(move || {
        let model = state.models.get(&state.runs_dir, &id)?;
        let classes = model.trained.dataset().class_names();
        Ok(
            Json(json!({ "classes": classes, "weights": model.templates(), "bias": model.bias }))
                .into_response(),
        )
    })
    .await
}

/// `GET /api/runs/{id}/eval`: `eval.json` of the run folder, computed first if it is missing
/// or older than the model.
pub async fn evaluation(
    State(state): State<AppState>,
    path: Result<UrlPath<String>, PathRejection>,
) -> Answer {
    let id = run_id(path)?;
    blocking(move || {
        let summary = run(&state, &id)?;
        let cached = summary.dir.join("eval.json");
        let age = |file: &std::path::Path| fs::metadata(file).and_then(|meta| meta.modified()).ok();
        if age(&cached).is_some()
            && age(&cached) >= age(&model_file(&summary.dir))
            && let Ok(text) = fs::read_to_string(&cached)
        {
            return Ok(([(header::CONTENT_TYPE, "application/json")], text).into_response());
        }
        let model = state.models.get(&state.runs_dir, &id)?;
        let trained = &model.trained;
        let test = trained.config.data.images(Split::Test).map_err(|error| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the test split cannot be read: {error}"),
            )
        })?;
        let evaluation = trained.evaluate(&test, state.models.device());
        let title = format!(
            "Confusion matrix: {} ({:.2}% on {} test images)",
            summary.name, evaluation.accuracy, evaluation.images
        );
        evaluation
            .write(&summary.dir, &title)
            .map_err(|error| ApiError::unprocessable(format!("{error:#}")))?;
        Ok(Json(evaluation).into_response())
    })
    .await
}

/// `POST /api/runs/{id}/predict` with a picture, or 784 pixel values as JSON.
pub async fn predict(
    State(state): State<AppState>,
    path: Result<UrlPath<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let id = run_id(path)?;
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {} bytes", super::MAX_BODY_BYTES),
        ),
        status => ApiError::new(status, rejection.body_text()),
    })?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    blocking(move || {
        let model = state.models.get(&state.runs_dir, &id)?;
        let pixels = if is_json {
            pixels_from_json(&body)?
        } else {
            pixels_from_picture(&body)?
        };
        Ok(Json(model.predict(&pixels)).into_response())
    })
    .await
}

/// The JSON body: `[784 numbers]` or `{"pixels": [784 numbers]}`, each 0..=255.
#[derive(Deserialize)]
#[serde(untagged)]
enum PixelsBody {
    Plain(Vec<f64>),
    Object { pixels: Vec<f64> },
}

fn pixels_from_json(body: &[u8]) -> Result<[u8; IMAGE_PIXELS], ApiError> {
    let expected = "expected 784 numbers from 0 to 255 (a 28x28 picture, row-major), as a \
                    JSON array or {\"pixels\": [...]}";
    let values = match serde_json::from_slice::<PixelsBody>(body) {
        Ok(PixelsBody::Plain(values) | PixelsBody::Object { pixels: values }) => values,
        Err(error) => return Err(ApiError::bad_request(format!("{expected}: {error}"))),
    };
    if values.len() != IMAGE_PIXELS {
        return Err(ApiError::bad_request(format!(
            "{expected}; got {} numbers",
            values.len()
        )));
    }
    let mut pixels = [0; IMAGE_PIXELS];
    for (index, (pixel, &value)) in pixels.iter_mut().zip(&values).enumerate() {
        if !(0.0..=255.0).contains(&value) {
            return Err(ApiError::bad_request(format!(
                "{expected}; number {index} is {value}"
            )));
        }
        *pixel = value.round() as u8;
    }
    Ok(pixels)
}

/// Decodes an uploaded picture (bounded in size) and converts it as `predict` does.
fn pixels_from_picture(body: &[u8]) -> Result<[u8; IMAGE_PIXELS], ApiError> {
    let picture = picture::decode_picture(body).map_err(|error| {
        ApiError::bad_request(format!(
            "{error}; a body that is not a picture must be JSON with Content-Type: \
             application/json"
        ))
    })?;
    Ok(preprocess::mnist_style(&picture))
}
