//! The Train view: the browser build's folder (`just web`) under `/train/`, so the page that
//! trains in the browser comes from the same server as the runs. Only files inside that
//! folder are read (plain path components, resolved and checked against it); WebAssembly
//! needs one more permission in the page's content security policy. A file with a compressed
//! copy beside it (`just web` writes Brotli and gzip ones of the WebAssembly) is sent
//! compressed to a browser that accepts it.

use std::fs;
use std::path::{Component, Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::api::{ApiError, blocking};

/// What the Train view's pages may do beyond the rest of the site: compile WebAssembly.
const POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; \
     script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// `GET /train/`: the page, or a page saying how to build it.
pub async fn page(state: State<AppState>) -> Response {
    if state.browser_build.is_none() {
        let page = "<!doctype html><meta charset=\"utf-8\"><title>mnist-burn: no browser build</title>\
            <p>This server has no browser build to train in. <code>just web</code> writes it; start \
            <code>mnist-burn serve</code> again (or give it with <code>--web DIR</code>). \
            <a href=\"/\">Back to the runs</a></p>";
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page,
        )
            .into_response();
    }
    serve(&state, "index.html", Vec::new()).await
}

/// `GET /train/{*path}`: its scripts, styles, WebAssembly, config and MNIST files.
pub async fn file(
    state: State<AppState>,
    headers: HeaderMap,
    UrlPath(path): UrlPath<String>,
) -> Response {
    let accepted: Vec<&'static str> = CODINGS
        .into_iter()
        .filter(|coding| {
            headers
                .get_all(header::ACCEPT_ENCODING)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .any(|accepted| accepts(accepted, coding))
        })
        .collect();
    serve(&state, &path, accepted).await
}

/// The compressed copies a file may have beside it (`FILE.br`, `FILE.gz`), in the order they
/// are preferred when a browser takes both, whatever its q-values rank (as static servers
/// do): Brotli, which `just web` makes the smaller.
const CODINGS: [&str; 2] = ["br", "gzip"];

/// Whether one element of Accept-Encoding (`gzip`, `br;q=0.5`) accepts `coding`; `q=0` says
/// it does not.
fn accepts(element: &str, coding: &str) -> bool {
    let mut parts = element.split(';').map(str::trim);
    let refused = |parameter: &str| {
        parameter
            .strip_prefix("q=")
            .and_then(|q| q.parse::<f32>().ok())
            .is_some_and(|q| q == 0.0)
    };
    parts.next() == Some(coding) && !parts.any(refused)
}

async fn serve(state: &AppState, path: &str, accepted: Vec<&'static str>) -> Response {
    let folder = state.browser_build.clone();
    let path = path.to_string();
    let found = blocking(move || {
        let compressed = accepted.into_iter().find_map(|coding| {
            let suffix = if coding == "br" { "br" } else { "gz" };
            let (bytes, _) = read(folder.as_deref(), &format!("{path}.{suffix}")).ok()?;
            Some((bytes, content_type(Path::new(&path)), Some(coding)))
        });
        match compressed {
            Some(found) => Ok(found),
            None => read(folder.as_deref(), &path)
                .map(|(bytes, content_type)| (bytes, content_type, None)),
        }
    })
    .await;
    match found {
        Ok((bytes, content_type, coding)) => {
            let mut response = ([(header::CONTENT_TYPE, content_type)], bytes).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(POLICY),
            );
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            if let Some(coding) = coding {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
            }
            response
        }
        Err(error) => error.into_response(),
    }
}

fn read(folder: Option<&Path>, path: &str) -> Result<(Vec<u8>, &'static str), ApiError> {
    let folder = folder.ok_or_else(|| {
        ApiError::not_found(
            "this server has no browser build: `just web` writes it, then start `serve` again \
             (or give it with --web DIR)",
        )
    })?;
    let relative = PathBuf::from(path);
    if path.is_empty()
        || !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(ApiError::bad_request(format!(
            "not a file of the page: {path:?}"
        )));
    }
    let missing = || ApiError::not_found(format!("the page has no file {path:?}"));
    // Resolved, links and all, and still inside the folder.
    let file = fs::canonicalize(folder.join(&relative)).map_err(|_| missing())?;
    let root = fs::canonicalize(folder).map_err(|_| missing())?;
    if !file.starts_with(&root) || !file.is_file() {
        return Err(missing());
    }
    let bytes = fs::read(&file).map_err(|_| missing())?;
    Ok((bytes, content_type(&file)))
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|extension| extension.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("toml") => "text/plain; charset=utf-8",
        Some("gz") => "application/gzip",
        _ => "application/octet-stream",
    }
}
