//! `just bench`: timed runs of the real CLI on the seed and default configs, for every backend
//! compiled in, against the PyTorch tutorial measured in the same session.
//!
//! Each case runs `MNIST_BENCH_RUNS` times (default 3). Reported per case: the median train and
//! test seconds per epoch over all epochs of all runs, steps and samples per second, the
//! median wall time of a whole run from process start, and the peak resident memory. The table
//! goes to stdout and everything to `<target>/bench/epochs.json`.
//!
//! The baseline runs `bench/tutorial.py` with the Python named by `MNIST_BENCH_PYTHON`
//! (`just bench` points it at the project's PyTorch venv); without it the baseline is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use mnist_train::artifacts::{self, RunRecord};
use mnist_train::backend::BackendKind;
use serde::Serialize;

/// A config and how many epochs each of its runs trains.
const CASES: [(&str, usize); 2] = [("seed", 5), ("default", 20)];
/// Epochs of the PyTorch tutorial baseline (each takes seconds).
const BASELINE_EPOCHS: usize = 2;

#[derive(Debug, Serialize)]
struct Measurement {
    config: String,
    backend: String,
    runs: usize,
    epochs_per_run: usize,
    train_seconds_per_epoch: f64,
    test_seconds_per_epoch: f64,
    steps_per_second: f64,
    samples_per_second: f64,
    wall_seconds: f64,
    peak_rss_mib: Option<f64>,
    final_test_accuracy: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    machine: String,
    runs_per_case: usize,
    baseline: Option<Baseline>,
    measurements: Vec<Measurement>,
}

/// The PyTorch tutorial's per-epoch times.
#[derive(Debug, Serialize, serde::Deserialize)]
struct Baseline {
    torch: String,
    threads: usize,
    train_seconds: Vec<f64>,
    test_seconds: Vec<f64>,
    test_accuracy: Vec<f64>,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() % 2 {
        0 => (values[middle - 1] + values[middle]) / 2.0,
        _ => values[middle],
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn measure(config: &str, epochs: usize, backend: BackendKind, runs: usize) -> Measurement {
    let scratch = tempfile::tempdir().expect("scratch folder");
    let config_path = repo_root().join("configs").join(format!("{config}.toml"));
    let (mut train, mut test, mut walls, mut peaks) = (vec![], vec![], vec![], vec![]);
    let mut last = (0.0, 0, 0);
    for run in 0..runs {
        let out = scratch.path().join(format!("run-{run}"));
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_mnist-burn"))
            .args(["train", "--plain", "--backend", backend.name(), "--config"])
            .arg(&config_path)
            .args(["--set", &format!("epochs={epochs}"), "--out"])
            .arg(&out)
            .output()
            .expect("mnist-burn runs");
        walls.push(started.elapsed().as_secs_f64());
        assert!(
            output.status.success(),
            "{config} on {backend}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let rows = artifacts::read_metrics_csv(&out.join(artifacts::METRICS_FILE)).unwrap();
        train.extend(rows.iter().map(|row| row.train_seconds));
        test.extend(rows.iter().map(|row| row.test_seconds));
        let record = RunRecord::read(&out).unwrap();
        peaks.extend(record.peak_rss_mib);
        let batch_size = mnist_train::config::ExperimentConfig::load(&config_path, &[])
            .unwrap()
            .data
            .batch_size;
        last = (
            rows.last().unwrap().test_acc,
            record.train_items,
            batch_size,
        );
    }
    let (accuracy, items, batch_size) = last;
    let train_seconds = median(train);
    Measurement {
        config: config.to_string(),
        backend: backend.name().to_string(),
        runs,
        epochs_per_run: epochs,
        train_seconds_per_epoch: train_seconds,
        test_seconds_per_epoch: median(test),
        steps_per_second: items.div_ceil(batch_size) as f64 / train_seconds,
        samples_per_second: items as f64 / train_seconds,
        wall_seconds: median(walls),
        peak_rss_mib: peaks.into_iter().reduce(f64::max),
        final_test_accuracy: accuracy,
    }
}

fn baseline() -> Option<Baseline> {
    let python = std::env::var_os("MNIST_BENCH_PYTHON")?;
    let data = mnist_data::provision::mnist_dir().expect("cache folder");
    let output = Command::new(python)
        .arg(repo_root().join("bench/tutorial.py"))
        .arg("--data")
        .arg(data)
        .args(["--epochs", &BASELINE_EPOCHS.to_string()])
        .output()
        .expect("python runs");
    if !output.status.success() {
        eprintln!(
            "baseline skipped: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    Some(serde_json::from_slice(&output.stdout).expect("tutorial.py prints JSON"))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

fn main() {
    // `cargo bench` passes `--bench`; this harness has no options of its own.
    let runs = std::env::var("MNIST_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .filter(|&runs: &usize| runs > 0)
        .unwrap_or(3);
    let baseline = baseline();
    let mut measurements = Vec::new();
    for (config, epochs) in CASES {
        for backend in BackendKind::compiled() {
            eprintln!("{config} on {backend}: {runs} runs of {epochs} epochs");
            measurements.push(measure(config, epochs, backend, runs));
        }
    }
    let report = Report {
        machine: machine(),
        runs_per_case: runs,
        baseline,
        measurements,
    };
    print_table(&report);
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let out = target.join("bench");
    std::fs::create_dir_all(&out).unwrap();
    let path = out.join("epochs.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("\nWrote {}", path.display());
}

fn print_table(report: &Report) {
    println!(
        "\nMachine: {}; median of {} runs per case",
        report.machine, report.runs_per_case
    );
    let baseline_epoch = report.baseline.as_ref().map(|baseline| {
        median(baseline.train_seconds.clone()) + median(baseline.test_seconds.clone())
    });
    if let Some(baseline) = &report.baseline {
        println!(
            "Baseline, the PyTorch tutorial (torch {}, {} threads, {} epochs): train {:.3} s + \
             test {:.3} s per epoch",
            baseline.torch,
            baseline.threads,
            baseline.train_seconds.len(),
            median(baseline.train_seconds.clone()),
            median(baseline.test_seconds.clone()),
        );
    }
    println!(
        "\n{:<8} {:<8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8} {:>9} {:>8} {:>10}",
        "config",
        "backend",
        "train s",
        "test s",
        "epoch s",
        "steps/s",
        "samples/s",
        "wall s",
        "peak MiB",
        "acc %",
        "vs torch"
    );
    for m in &report.measurements {
        let epoch = m.train_seconds_per_epoch + m.test_seconds_per_epoch;
        let speedup = match (baseline_epoch, m.config.as_str()) {
            (Some(baseline), "seed") => format!("{:.1}x", baseline / epoch),
            _ => "-".to_string(),
        };
        println!(
            "{:<8} {:<8} {:>9.3} {:>9.3} {:>9.3} {:>9.0} {:>10.0} {:>8.2} {:>9.0} {:>8.2} {:>10}",
            m.config,
            m.backend,
            m.train_seconds_per_epoch,
            m.test_seconds_per_epoch,
            epoch,
            m.steps_per_second,
            m.samples_per_second,
            m.wall_seconds,
            m.peak_rss_mib.unwrap_or(f64::NAN),
            m.final_test_accuracy,
            speedup
        );
    }
}
