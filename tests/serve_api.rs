//! The web server's API, called in process through its router: listing, bad requests,
//! folders it must not read, and predictions checked against the weights it serves.

use std::fs;
use std::path::Path;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use burn::module::Module;
use mnist_serve::{AppState, MAX_BODY_BYTES, router};
use mnist_train::{BackendKind, ExperimentConfig};
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

/// A runs folder with one usable run (`good`, an initialised model), a sweep trial, a run
/// whose model file is garbage and an empty folder.
/// The pixel scaling written into the runs' configs (not the defaults).
const RUN_MEAN: f32 = 0.5;
const RUN_STD: f32 = 0.25;

fn runs_folder() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let device = BackendKind::preferred().unwrap().device().unwrap();
    // A scaling of its own, so a server that ignored the run's config would be caught.
    let mut config = ExperimentConfig::new();
    (config.data.mean, config.data.std) = (RUN_MEAN, RUN_STD);
    for run in ["good", "sweep/trial-1", "broken"] {
        let dir = root.path().join(run);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("config.toml"), config.to_toml()).unwrap();
        config
            .model
            .init(&device)
            .into_record()
            .save(dir.join("model"))
            .unwrap();
    }
    fs::write(root.path().join("broken/model.bpk"), b"not a model").unwrap();
    fs::create_dir_all(root.path().join("empty")).unwrap();
    root
}

fn app(root: &Path) -> Router {
    let device = BackendKind::preferred().unwrap().device().unwrap();
    router(AppState::new(root.to_path_buf(), device))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Sends one request; the status, the headers and the body.
fn raw(app: &Router, request: Request<Body>) -> (StatusCode, header::HeaderMap, Vec<u8>) {
    runtime().block_on(async {
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, headers, bytes.to_vec())
    })
}

/// Sends one request; the status and the body parsed as JSON (Null if it is not JSON).
fn call(app: &Router, request: Request<Body>) -> (StatusCode, Value, header::HeaderMap) {
    let (status, headers, bytes) = raw(app, request);
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json, headers)
}

fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let (status, json, _) = call(app, Request::get(uri).body(Body::empty()).unwrap());
    (status, json)
}

fn post(app: &Router, uri: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    let (status, json, _) = call(app, request);
    (status, json)
}

/// An error is a 4xx whose body is `{"error": "<one line>"}`.
fn assert_error(answer: (StatusCode, Value), status: StatusCode, mentions: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    let message = answer.1["error"].as_str().expect("a JSON error");
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains(mentions), "`{message}` lacks `{mentions}`");
}

#[test]
fn lists_every_folder_and_shows_broken_ones_as_such() {
    let root = runs_folder();
    let app = app(root.path());
    let (status, json) = get(&app, "/api/runs");
    assert_eq!(status, StatusCode::OK);
    let mut ids: Vec<&str> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["broken", "empty", "good", "sweep:trial-1"]);
    let (status, detail) = get(&app, "/api/runs/sweep:trial-1");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["summary"]["status"], "incomplete");
    assert!(detail["config"].as_str().unwrap().contains("[optimizer]"));
    assert_error(
        get(&app, "/api/runs/broken/weights"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "broken",
    );
    assert_eq!(get(&app, "/api/runs/good/weights").0, StatusCode::OK);
    assert_error(
        get(&app, "/api/runs/empty/weights"),
        StatusCode::NOT_FOUND,
        "no model",
    );
}

#[test]
fn never_reads_outside_the_runs_folder() {
    let root = runs_folder();
    let app = app(root.path().join("sweep").as_path());
    for uri in [
        "/api/runs/..",
        "/api/runs/..%2Fgood",
        "/api/runs/%2E%2E/weights",
        "/api/runs/trial-1%2F..%2F..%2Fgood/weights",
        "/api/runs/good",
        "/api/runs/trial-1:..",
        "/../good/config.toml",
    ] {
        let (status, json) = get(&app, uri);
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {json}");
    }
    let answer = post(&app, "/api/runs/..%2Fgood/predict", "image/png", vec![1, 2]);
    assert_error(answer, StatusCode::NOT_FOUND, "no run named `../good`");
}

#[test]
fn the_train_view_serves_the_browser_build_and_nothing_beside_it() {
    let root = tempfile::tempdir().unwrap();
    let web = root.path().join("web");
    fs::create_dir_all(web.join("mnist")).unwrap();
    for (file, bytes) in [
        ("index.html", &b"<!doctype html><title>train</title>"[..]),
        ("mnist_web_bg.wasm", b"\0asm\x01\0\0\0"),
        ("mnist/t10k-labels-idx1-ubyte.gz", b"\x1f\x8b"),
    ] {
        fs::write(web.join(file), bytes).unwrap();
    }
    fs::write(root.path().join("secret.txt"), "outside").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.path().join("secret.txt"), web.join("link.js")).unwrap();
    let device = BackendKind::preferred().unwrap().device().unwrap();
    let served =
        router(AppState::new(root.path().to_path_buf(), device).with_browser_build(web.clone()));
    let fetch = |uri: &str| raw(&served, Request::get(uri).body(Body::empty()).unwrap());

    let (status, headers, body) = fetch("/train/");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, fs::read(web.join("index.html")).unwrap());
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{policy}"
    );
    assert!(!policy.contains("'unsafe-eval'") && !policy.contains("'unsafe-inline'"));
    assert_eq!(fetch("/train").0, StatusCode::PERMANENT_REDIRECT);
    let (status, headers, body) = fetch("/train/mnist_web_bg.wasm");
    assert_eq!((status, &body[..4]), (StatusCode::OK, &b"\0asm"[..]));
    assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
    let gzipped = fetch("/train/mnist/t10k-labels-idx1-ubyte.gz");
    assert_eq!(gzipped.1[header::CONTENT_TYPE], "application/gzip");
    // A browser that accepts a compressed copy gets one, labelled so: Brotli when it takes
    // both (even where, as here, the gzip copy is smaller), none of what it refuses (q=0).
    fs::write(web.join("mnist_web_bg.wasm.br"), b"brotli bytes").unwrap();
    fs::write(web.join("mnist_web_bg.wasm.gz"), b"gzip").unwrap();
    let accepting = |coding: &str| {
        let request = Request::get("/train/mnist_web_bg.wasm")
            .header(header::ACCEPT_ENCODING, coding)
            .body(Body::empty())
            .unwrap();
        let (status, headers, body) = raw(&served, request);
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
        let encoding = headers
            .get(header::CONTENT_ENCODING)
            .map(|v| v.to_str().unwrap().to_string());
        (encoding, body)
    };
    assert_eq!(
        accepting("gzip, deflate, br"),
        (Some("br".into()), b"brotli bytes".to_vec())
    );
    for coding in ["gzip;q=1.0", "br;q=0, gzip", "br; q=0.0, gzip;q=0.5"] {
        assert_eq!(
            accepting(coding),
            (Some("gzip".into()), b"gzip".to_vec()),
            "{coding}"
        );
    }
    assert_eq!(
        accepting("br;q=0, gzip;q=0"),
        (None, b"\0asm\x01\0\0\0".to_vec())
    );
    assert_eq!(accepting("identity"), (None, b"\0asm\x01\0\0\0".to_vec()));
    // The rest of the site keeps its stricter policy.
    let (_, headers, _) = fetch("/");
    assert!(
        !headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("wasm")
    );

    for (uri, status) in [
        ("/train/../secret.txt", StatusCode::BAD_REQUEST),
        ("/train/%2E%2E/secret.txt", StatusCode::BAD_REQUEST),
        ("/train/mnist/..%2F..%2Fsecret.txt", StatusCode::BAD_REQUEST),
        ("/train/%2Fetc%2Fpasswd", StatusCode::BAD_REQUEST),
        ("/train/link.js", StatusCode::NOT_FOUND),
        ("/train/mnist", StatusCode::NOT_FOUND),
        ("/train/nothing.js", StatusCode::NOT_FOUND),
    ] {
        let (found, _, body) = fetch(uri);
        assert_eq!(found, status, "{uri}: {}", String::from_utf8_lossy(&body));
        assert!(!String::from_utf8_lossy(&body).contains("outside"), "{uri}");
    }

    let without = app(root.path());
    let (status, _, body) = raw(
        &without,
        Request::get("/train/").body(Body::empty()).unwrap(),
    );
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("just web"));
    assert_error(
        get(&without, "/train/worker.js"),
        StatusCode::NOT_FOUND,
        "just web",
    );
}

#[test]
fn headers_allow_only_the_page_itself() {
    let root = runs_folder();
    let (status, _, headers) = call(
        &app(root.path()),
        Request::get("/")
            .header(header::ORIGIN, "http://evil.example")
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK);
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("default-src 'self'") && policy.contains("script-src 'self'"));
    assert!(!policy.contains("unsafe"));
    assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

#[test]
fn bad_predict_bodies_get_their_status_and_one_line() {
    let root = runs_folder();
    let app = app(root.path());
    let uri = "/api/runs/good/predict";
    let json = "application/json";
    let numbers = |count: usize, value: f64| serde_json::to_vec(&vec![value; count]).unwrap();
    assert_error(
        post(&app, uri, "image/png", b"GIF89a but not really".to_vec()),
        StatusCode::BAD_REQUEST,
        "not a picture",
    );
    assert_error(
        post(&app, uri, json, numbers(783, 0.0)),
        StatusCode::BAD_REQUEST,
        "got 783",
    );
    assert_error(
        post(&app, uri, json, numbers(784, 256.0)),
        StatusCode::BAD_REQUEST,
        "256",
    );
    assert_error(
        post(&app, uri, json, b"{\"pixels\": 3}".to_vec()),
        StatusCode::BAD_REQUEST,
        "784",
    );
    assert_error(
        post(&app, uri, "image/png", vec![0; MAX_BODY_BYTES + 1]),
        StatusCode::PAYLOAD_TOO_LARGE,
        "larger than",
    );
    assert_error(
        post(&app, "/api/runs/nothing/predict", json, numbers(784, 0.0)),
        StatusCode::NOT_FOUND,
        "nothing",
    );
}

/// The class, probabilities and contributions agree with the templates the API serves:
/// the scores rebuilt from `/weights` give the same softmax and the same winner.
#[test]
fn predictions_are_explained_by_the_served_weights() {
    let root = runs_folder();
    let app = app(root.path());
    let pixels: Vec<f64> = (0..784).map(|index| ((index * 37) % 256) as f64).collect();
    let (status, answer) = post(
        &app,
        "/api/runs/good/predict",
        "application/json",
        serde_json::to_vec(&serde_json::json!({ "pixels": pixels })).unwrap(),
    );
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, weights) = get(&app, "/api/runs/good/weights");
    let floats = |value: &Value| -> Vec<f64> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let scaled: Vec<f64> = pixels.iter().map(|&p| (p / 255.0 - 0.5) / 0.25).collect();
    let bias = floats(&weights["bias"]);
    let scores: Vec<f64> = (0..10)
        .map(|class| {
            let template = floats(&weights["weights"][class]);
            bias[class]
                + template
                    .iter()
                    .zip(&scaled)
                    .map(|(w, x)| w * x)
                    .sum::<f64>()
        })
        .collect();
    let largest = scores.iter().cloned().fold(f64::MIN, f64::max);
    let total: f64 = scores.iter().map(|s| (s - largest).exp()).sum();
    let probabilities = floats(&answer["probabilities"]);
    for (score, p) in scores.iter().zip(&probabilities) {
        assert!(
            ((score - largest).exp() / total - p).abs() < 1e-4,
            "{scores:?} {probabilities:?}"
        );
    }
    let class = answer["class"].as_u64().unwrap() as usize;
    assert_eq!(scores[class], largest);
    let explained =
        floats(&answer["contributions"]).iter().sum::<f64>() + answer["bias"].as_f64().unwrap();
    assert!(
        (explained - scores[class]).abs() < 1e-3,
        "{explained} vs {}",
        scores[class]
    );
    let input: Vec<f64> = floats(&answer["input"]);
    assert_eq!(input, pixels);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the body, the answer is a prediction or a 400, never a server error.
    #[test]
    fn arbitrary_bodies_never_break_predict(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        as_json in any::<bool>(),
        png_header in any::<bool>(),
    ) {
        let root = runs_folder();
        let app = app(root.path());
        let mut bytes = body;
        if png_header {
            bytes.splice(0..0, *b"\x89PNG\r\n\x1a\n");
        }
        let content_type = if as_json { "application/json" } else { "application/octet-stream" };
        let (status, json) = post(&app, "/api/runs/good/predict", content_type, bytes);
        prop_assert!(status == StatusCode::OK || status == StatusCode::BAD_REQUEST, "{status} {json}");
        prop_assert!(json.is_object());
    }
}
