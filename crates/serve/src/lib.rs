//! `mnist-burn serve`: a local web page (runs, curves, weights, confusion, a canvas to draw
//! on) and the JSON API behind it. The page's files are compiled into the binary, so it
//! works offline; every response carries headers that allow nothing but those files.

mod api;
mod browser_build;
mod connections;
mod models;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use burn::prelude::Device;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt;

pub use api::ApiError;
pub use connections::default_cap as default_connection_cap;
use connections::{Connections, InFlight};
use models::ModelCache;

/// The largest request body accepted (a predict upload); larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long a connection may take to send a request's headers, the first or the next one on
/// a kept-alive connection: a client that stalls (or idles) longer is dropped.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a request may take from its headers to its response (a body that trickles
/// in counts): past it the answer is 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    runs_dir: Arc<PathBuf>,
    models: Arc<ModelCache>,
    /// The browser build's folder, served as the Train view.
    browser_build: Option<Arc<Path>>,
}

impl AppState {
    /// Serves the runs under `runs_dir`, running their models on `device` (a CPU one).
    pub fn new(runs_dir: PathBuf, device: Device) -> Self {
        Self {
            runs_dir: Arc::new(runs_dir),
            models: Arc::new(ModelCache::new(device)),
            browser_build: None,
        }
    }

    /// Serves `folder` (what `just web` writes) as the Train view, under `/train/`.
    pub fn with_browser_build(mut self, folder: PathBuf) -> Self {
        self.browser_build = Some(folder.into());
        self
    }
}

/// The page and the API.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for &(path, content_type, body) in ASSETS {
        router = router.route(path, get(move || asset(content_type, body)));
    }
    router
        .route("/api/runs", get(api::list))
        .route("/api/runs/{id}", get(api::detail))
        .route("/api/runs/{id}/weights", get(api::weights))
        .route("/api/runs/{id}/eval", get(api::evaluation))
        .route("/api/runs/{id}/predict", post(api::predict))
        .route("/train", get(|| async { Redirect::permanent("/train/") }))
        .route("/train/", get(browser_build::page))
        .route("/train/{*path}", get(browser_build::file))
        .fallback(|| async { ApiError::not_found("no such page or API endpoint") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(within_deadline))
        .layer(axum::middleware::map_response(conservative_headers))
        .with_state(state)
}

/// Serves `router` on `listener` until Ctrl-C (or SIGTERM), printing where, with at most
/// `max_connections` open at once ([`default_connection_cap`]: what the file-descriptor
/// limit allows): beyond that the oldest idle connection is closed to make room.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    max_connections: usize,
) -> anyhow::Result<()> {
    let bound = listener.local_addr()?;
    let mut started = format!(
        "Serving the runs in {} at http://{bound}/  (Ctrl-C stops)\n",
        state.runs_dir.display()
    );
    if let Some(folder) = &state.browser_build {
        started += &format!(
            "Train in the browser at http://{bound}/train/  (the browser build in {})\n",
            folder.display()
        );
    }
    // One write (the text's one piece, ending in its last newline): a reader that takes the
    // first line and closes the pipe must not catch the server between two lines (a closed
    // standard output ends the program).
    mnist_output::write(format_args!("{started}"));
    let app = router(state);
    let connections = Connections::new(max_connections);
    let mut stop = std::pin::pin!(stop_signal());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: give the open connections a moment
                // to end before the next accept.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut stop => return Ok(()),
        };
        // Every connection busy with a request: dropping the stream closes it at once.
        let Some(admitted) = connections.admit() else {
            continue;
        };
        let app = app.clone();
        let in_flight = admitted.in_flight.clone();
        let service = hyper::service::service_fn(move |request| {
            let counted = InFlight::start(&in_flight);
            let answer = app.clone().oneshot(request);
            async move {
                let response = answer.await;
                drop(counted);
                response
            }
        });
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            // A failed connection (a client gone, a header timeout) concerns only itself; one
            // closed to make room is dropped, which closes its socket.
            let mut admitted = admitted;
            tokio::select! {
                _ = connection => {}
                _ = &mut admitted.evicted => {}
            }
        });
    }
}

/// Answers 408 for a request not answered within [`REQUEST_TIMEOUT`].
async fn within_deadline(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::timed_out().into_response(),
    }
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM can be watched");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.ok();
}

/// The page's files: (path, content type, contents), compiled in.
const ASSETS: &[(&str, &str, &str)] = &[
    ("/", HTML, include_str!("assets/index.html")),
    ("/common.js", SCRIPT, include_str!("assets/common.js")),
    ("/charts.js", SCRIPT, include_str!("assets/charts.js")),
    ("/runs.js", SCRIPT, include_str!("assets/runs.js")),
    ("/run.js", SCRIPT, include_str!("assets/run.js")),
    ("/draw.js", SCRIPT, include_str!("assets/draw.js")),
    ("/sketch.js", SCRIPT, include_str!("assets/sketch.js")),
    ("/weights.js", SCRIPT, include_str!("assets/weights.js")),
    ("/main.js", SCRIPT, include_str!("assets/main.js")),
    ("/style.css", STYLE, include_str!("assets/style.css")),
    ("/draw.css", STYLE, include_str!("assets/draw.css")),
];
const HTML: &str = "text/html; charset=utf-8";
const SCRIPT: &str = "text/javascript; charset=utf-8";
const STYLE: &str = "text/css; charset=utf-8";

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Only this origin's own files, no framing, no sniffing, no referrer; no CORS header, so
/// other origins' pages cannot read the API. A handler's own policy stays (the Train view's).
async fn conservative_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; \
             script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
             form-action 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
