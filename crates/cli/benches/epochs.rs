//! `just bench`: this project's CPU backends against the same arithmetic written by hand in
//! NumPy (`bench/numpy_loop.py`) and as an expert's PyTorch loop on the CPU
//! (`bench/torch_expert.py`), for the seed config (batch 32) and the default config (batch 64,
//! momentum, weight decay, cosine), interleaved: each of `MNIST_BENCH_RUNS` rounds (default 3)
//! runs every contender of every case once, so a slow minute of the machine hits all of them.
//!
//! Reported per contender: the best and the median epoch (train + evaluation) over all epochs
//! of all rounds, its ratio to the NumPy loop's best epoch and the PyTorch loop's ratio to it;
//! for this project also the wall time of a whole run from process start against the sum of
//! its epochs, the peak resident memory and the final test accuracy. The PyTorch tutorial as
//! published (`bench/tutorial.py`) is measured once beside them. The tables go to stdout and
//! everything to `<target>/bench/epochs.json`.
//!
//! The Python loops run with the interpreter named by `MNIST_BENCH_PYTHON` (`just bench` points
//! it at the project's venv, with NumPy and torch); without it they are skipped, said once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use mnist_runs::RunRecord;
use mnist_train::BackendKind;
use serde::Serialize;

/// A config and how many epochs a run of it trains: this project's runs the config's whole
/// length (the wall-time target is a whole run), the Python loops enough epochs for a best.
struct Case {
    config: &'static str,
    epochs: usize,
    loop_epochs: usize,
}

const CASES: [Case; 2] = [
    Case {
        config: "seed",
        epochs: 5,
        loop_epochs: 5,
    },
    Case {
        config: "default",
        epochs: 20,
        loop_epochs: 5,
    },
];
/// Epochs of the PyTorch tutorial baseline (each takes seconds).
const TUTORIAL_EPOCHS: usize = 2;
/// The Python loops' threads: this machine's two cores, as an expert sets them.
const PYTHON_THREADS: &str = "2";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Contender {
    Project(BackendKind),
    NumPy,
    TorchExpert,
}

impl Contender {
    fn name(self) -> String {
        match self {
            Self::Project(backend) => format!("mnist-burn {backend}"),
            Self::NumPy => "NumPy loop".into(),
            Self::TorchExpert => "PyTorch expert".into(),
        }
    }
}

/// One run: its epochs' seconds (train + evaluation) and what the whole run cost.
struct Run {
    epochs: Vec<f64>,
    wall: f64,
    peak_rss_mib: Option<f64>,
    test_accuracy: f64,
}

#[derive(Debug, Serialize)]
struct Measurement {
    config: String,
    contender: String,
    runs: usize,
    epochs_per_run: usize,
    best_epoch_seconds: f64,
    median_epoch_seconds: f64,
    steps_per_second: f64,
    /// Best epoch over the NumPy loop's best epoch (≤ 1 is as fast or faster).
    vs_numpy: Option<f64>,
    /// The PyTorch expert loop's best epoch over this one's (how many times faster).
    speedup_over_torch: Option<f64>,
    wall_seconds: f64,
    /// Median wall time from process start over the median sum of a run's epoch times.
    wall_over_epochs: f64,
    peak_rss_mib: Option<f64>,
    final_test_accuracy: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    machine: String,
    runs_per_case: usize,
    tutorial: Option<Tutorial>,
    measurements: Vec<Measurement>,
}

/// The PyTorch tutorial's per-epoch times, as `bench/tutorial.py` prints them.
#[derive(Debug, Serialize, serde::Deserialize)]
struct Tutorial {
    torch: String,
    threads: usize,
    train_seconds: Vec<f64>,
    test_seconds: Vec<f64>,
    test_accuracy: Vec<f64>,
}

/// What both Python loops print.
#[derive(serde::Deserialize)]
struct LoopOutput {
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

fn config_path(case: &Case) -> PathBuf {
    repo_root()
        .join("configs")
        .join(format!("{}.toml", case.config))
}

fn run_project(case: &Case, backend: BackendKind, out: &Path) -> Run {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_mnist-burn"))
        .args(["train", "--plain", "--backend", backend.name(), "--config"])
        .arg(config_path(case))
        .args(["--set", &format!("epochs={}", case.epochs), "--out"])
        .arg(out)
        .output()
        .expect("mnist-burn runs");
    let wall = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{} on {backend}: {}",
        case.config,
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = mnist_runs::read_metrics_csv(&out.join(mnist_runs::METRICS_FILE)).unwrap();
    Run {
        epochs: rows
            .iter()
            .map(|row| row.train_seconds + row.test_seconds)
            .collect(),
        wall,
        peak_rss_mib: RunRecord::read(out).unwrap().peak_rss_mib,
        test_accuracy: rows.last().unwrap().test_acc,
    }
}

/// Runs a script of `bench/` with `python`; its JSON on stdout, or why not.
fn run_python<T: serde::de::DeserializeOwned>(
    python: &Path,
    script: &str,
    args: &[String],
) -> Result<(T, f64), String> {
    let data = mnist_data::provision::mnist_dir().map_err(|error| error.to_string())?;
    let started = Instant::now();
    let output = Command::new(python)
        .arg(repo_root().join("bench").join(script))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .map_err(|error| format!("{}: {error}", python.display()))?;
    let wall = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    serde_json::from_slice(&output.stdout)
        .map(|parsed| (parsed, wall))
        .map_err(|error| format!("{script} printed no JSON: {error}"))
}

fn run_loop(case: &Case, contender: Contender, python: &Path) -> Result<Run, String> {
    let config = config_path(case).display().to_string();
    let epochs = case.loop_epochs.to_string();
    let mut args = vec!["--config".into(), config, "--epochs".into(), epochs];
    let script = match contender {
        Contender::NumPy => "numpy_loop.py",
        _ => {
            args.extend(["--device", "cpu", "--threads", PYTHON_THREADS].map(String::from));
            "torch_expert.py"
        }
    };
    let (output, wall): (LoopOutput, f64) = run_python(python, script, &args)?;
    Ok(Run {
        epochs: output
            .train_seconds
            .iter()
            .zip(&output.test_seconds)
            .map(|(train, test)| train + test)
            .collect(),
        wall,
        peak_rss_mib: None,
        test_accuracy: *output.test_accuracy.last().ok_or("no epochs")?,
    })
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

fn steps_per_epoch(case: &Case) -> usize {
    let config = mnist_train::ExperimentConfig::load(&config_path(case), &[]).unwrap();
    (60_000 - config.data.validation).div_ceil(config.data.batch_size)
}

fn summarise(case: &Case, contender: Contender, runs: &[Run]) -> Measurement {
    let all: Vec<f64> = runs.iter().flat_map(|run| run.epochs.clone()).collect();
    let best = all.iter().copied().fold(f64::INFINITY, f64::min);
    let wall = median(runs.iter().map(|run| run.wall).collect());
    let epoch_sums = median(runs.iter().map(|run| run.epochs.iter().sum()).collect());
    Measurement {
        config: case.config.into(),
        contender: contender.name(),
        runs: runs.len(),
        epochs_per_run: runs[0].epochs.len(),
        best_epoch_seconds: best,
        median_epoch_seconds: median(all),
        steps_per_second: steps_per_epoch(case) as f64 / best,
        vs_numpy: None,
        speedup_over_torch: None,
        wall_seconds: wall,
        wall_over_epochs: wall / epoch_sums,
        peak_rss_mib: runs
            .iter()
            .filter_map(|run| run.peak_rss_mib)
            .reduce(f64::max),
        final_test_accuracy: runs.last().unwrap().test_accuracy,
    }
}

/// Fills in each measurement's ratios to the two Python loops of its config.
fn compare(measurements: &mut [Measurement]) {
    let best_of = |measurements: &[Measurement], config: &str, contender: Contender| {
        measurements
            .iter()
            .find(|m| m.config == config && m.contender == contender.name())
            .map(|m| m.best_epoch_seconds)
    };
    for index in 0..measurements.len() {
        let config = measurements[index].config.clone();
        let numpy = best_of(measurements, &config, Contender::NumPy);
        let torch = best_of(measurements, &config, Contender::TorchExpert);
        let m = &mut measurements[index];
        m.vs_numpy = numpy.map(|numpy| m.best_epoch_seconds / numpy);
        m.speedup_over_torch = torch.map(|torch| torch / m.best_epoch_seconds);
    }
}

fn tutorial(python: &Path) -> Option<Tutorial> {
    let args = ["--epochs".to_string(), TUTORIAL_EPOCHS.to_string()];
    match run_python(python, "tutorial.py", &args) {
        Ok((tutorial, _)) => Some(tutorial),
        Err(why) => {
            eprintln!("the PyTorch tutorial skipped: {why}");
            None
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; this harness has no options of its own.
    let rounds = std::env::var("MNIST_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .filter(|&runs: &usize| runs > 0)
        .unwrap_or(3);
    let python = std::env::var_os("MNIST_BENCH_PYTHON").map(PathBuf::from);
    let mut contenders: Vec<Contender> = BackendKind::compiled()
        .into_iter()
        .filter(|backend| !backend.is_device() && *backend != BackendKind::Wgpu)
        .map(Contender::Project)
        .collect();
    match &python {
        Some(_) => contenders.extend([Contender::NumPy, Contender::TorchExpert]),
        None => eprintln!("MNIST_BENCH_PYTHON is not set: the NumPy and PyTorch loops are skipped"),
    }
    let tutorial = python.as_deref().and_then(tutorial);
    let scratch = tempfile::tempdir().expect("scratch folder");
    let mut runs: Vec<Vec<Run>> = (0..CASES.len() * contenders.len())
        .map(|_| vec![])
        .collect();
    let mut skipped = Vec::new();
    for round in 0..rounds {
        for (c, case) in CASES.iter().enumerate() {
            for (k, &contender) in contenders.iter().enumerate() {
                eprintln!(
                    "round {}/{rounds}: {} with {}",
                    round + 1,
                    case.config,
                    contender.name()
                );
                let run = match contender {
                    Contender::Project(backend) => {
                        let out = scratch.path().join(format!("{round}-{c}-{k}"));
                        Ok(run_project(case, backend, &out))
                    }
                    _ => run_loop(case, contender, python.as_deref().unwrap()),
                };
                match run {
                    Ok(run) => runs[c * contenders.len() + k].push(run),
                    Err(why) => {
                        skipped.push(format!("{} on {}: {why}", contender.name(), case.config))
                    }
                }
            }
        }
    }
    let mut measurements = Vec::new();
    for (c, case) in CASES.iter().enumerate() {
        for (k, &contender) in contenders.iter().enumerate() {
            let runs = &runs[c * contenders.len() + k];
            if !runs.is_empty() {
                measurements.push(summarise(case, contender, runs));
            }
        }
    }
    compare(&mut measurements);
    let report = Report {
        machine: machine(),
        runs_per_case: rounds,
        tutorial,
        measurements,
    };
    print_tables(&report);
    for why in &skipped {
        eprintln!("skipped: {why}");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let out = target.join("bench");
    std::fs::create_dir_all(&out).unwrap();
    let path = out.join("epochs.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("\nWrote {}", path.display());
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "-".into(), |value| format!("{value:.2}x"))
}

fn print_tables(report: &Report) {
    println!(
        "\nMachine: {}; {} interleaved rounds; epoch = train + evaluation, best and median over \
         all epochs of all rounds",
        report.machine, report.runs_per_case
    );
    for case in &CASES {
        println!(
            "\n{} config\n{:<18} {:>7} {:>8} {:>8} {:>8} {:>9} {:>10} {:>8} {:>10} {:>8} {:>7}",
            case.config,
            "contender",
            "epochs",
            "best s",
            "median s",
            "steps/s",
            "vs NumPy",
            "vs PyTorch",
            "wall s",
            "wall/epochs",
            "peak MiB",
            "acc %"
        );
        for m in report
            .measurements
            .iter()
            .filter(|m| m.config == case.config)
        {
            let project = m.contender.starts_with("mnist-burn");
            println!(
                "{:<18} {:>7} {:>8.3} {:>8.3} {:>8.0} {:>9} {:>10} {:>8.2} {:>10} {:>8} {:>7.2}",
                m.contender,
                m.epochs_per_run,
                m.best_epoch_seconds,
                m.median_epoch_seconds,
                m.steps_per_second,
                ratio(m.vs_numpy),
                ratio(m.speedup_over_torch),
                m.wall_seconds,
                if project {
                    format!("{:.2}x", m.wall_over_epochs)
                } else {
                    "-".into()
                },
                m.peak_rss_mib
                    .map_or_else(|| "-".into(), |peak| format!("{peak:.0}")),
                m.final_test_accuracy
            );
        }
    }
    if let Some(tutorial) = &report.tutorial {
        let epoch = median(tutorial.train_seconds.clone()) + median(tutorial.test_seconds.clone());
        let flex = report
            .measurements
            .iter()
            .find(|m| m.config == "seed" && m.contender == "mnist-burn flex");
        println!(
            "\nThe PyTorch tutorial as published (torch {}, {} threads, {} epochs): {:.3} s per \
             epoch{}",
            tutorial.torch,
            tutorial.threads,
            tutorial.train_seconds.len(),
            epoch,
            flex.map_or(String::new(), |flex| format!(
                ", {:.1}x the seed config's best epoch on flex",
                epoch / flex.best_epoch_seconds
            )),
        );
    }
}
