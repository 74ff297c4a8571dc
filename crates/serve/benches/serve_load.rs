//! Load on `mnist-burn serve`'s predict endpoint: 8 clients with a kept-alive connection
//! each, for 10 s, posting an MNIST test image as 784 JSON numbers, against the server in
//! this process on 127.0.0.1. Reports requests per second, p50/p99 latency and the
//! process's resident memory after 2 s and at the end (flat = no growth per request).
//!
//! `cargo bench -p mnist-serve --bench serve_load` (part of `just bench`).

use std::time::{Duration, Instant};

use burn::module::Module;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use mnist_data::{DatasetKind, ImageSet, Split};
use mnist_serve::{AppState, router};
use mnist_train::{BackendKind, ExperimentConfig};

const CLIENTS: usize = 8;
const SECONDS: u64 = 10;

fn resident_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// One client: requests back to back on one connection until `until`; their latencies.
async fn client(address: std::net::SocketAddr, body: Bytes, until: Instant) -> Vec<Duration> {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut latencies = Vec::new();
    while Instant::now() < until {
        let request = Request::post("/api/runs/model/predict")
            .header("content-type", "application/json")
            .header("host", "127.0.0.1")
            .body(Full::new(body.clone()))
            .unwrap();
        let started = Instant::now();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.into_body().collect().await.unwrap();
        latencies.push(started.elapsed());
    }
    latencies
}

fn main() {
    let runs = tempfile::tempdir().unwrap();
    let run = runs.path().join("model");
    std::fs::create_dir_all(&run).unwrap();
    let device = BackendKind::preferred().unwrap().usable_device().unwrap();
    let config = ExperimentConfig::new();
    std::fs::write(run.join("config.toml"), config.to_toml()).unwrap();
    config
        .model
        .init(&device)
        .into_record()
        .save(run.join("model"))
        .unwrap();
    let image = ImageSet::load(DatasetKind::Mnist, Split::Test).expect("MNIST (just data)");
    let body = Bytes::from(serde_json::to_vec(image.image(0)).unwrap());

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = router(AppState::new(runs.path().to_path_buf(), device));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

        let until = Instant::now() + Duration::from_secs(SECONDS);
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| tokio::spawn(client(address, body.clone(), until)))
            .collect();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let early_rss = resident_mib("VmRSS:");
        let mut latencies = Vec::new();
        for client in clients {
            latencies.extend(client.await.unwrap());
        }
        latencies.sort();
        let quantile = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "serve predict, {CLIENTS} clients x {SECONDS} s: {} requests, {:.0} req/s, p50 {:.2} ms, \
             p99 {:.2} ms, max {:.2} ms; RSS {:.1} MiB after 2 s, {:.1} MiB at the end (peak {:.1})",
            latencies.len(),
            latencies.len() as f64 / SECONDS as f64,
            ms(quantile(0.5)),
            ms(quantile(0.99)),
            ms(*latencies.last().unwrap()),
            early_rss,
            resident_mib("VmRSS:"),
            resident_mib("VmHWM:"),
        );
    });
}
