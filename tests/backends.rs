//! The backend suite (`just test-backends`): every backend other than ndarray trains like
//! ndarray. Its tests are ignored unless `MNIST_BURN_BACKENDS` names the backends to test
//! (compiled into the same build as every other test: CI's has all of them). Two tests run
//! everywhere: one on the default backends, and the CUDA backends' no-GPU path where compiled.

use crate::support;

use std::fs;
use std::path::Path;
use std::process::Output;

use mnist_train::BackendKind;
use support::{TrainArgs, assert_one_line_error, config, read_metrics, run_in, text};

/// The backends under test, from `MNIST_BURN_BACKENDS` (required: the suite must not pass by
/// testing nothing).
fn backends() -> Vec<String> {
    let list = std::env::var("MNIST_BURN_BACKENDS")
        .expect("MNIST_BURN_BACKENDS names the backends to test (just test-backends sets it)");
    let backends: Vec<String> = list
        .split(',')
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect();
    assert!(!backends.is_empty() && !backends.contains(&"ndarray".to_string()));
    backends
}

/// The largest accepted |difference| from ndarray, for a loss or a parameter.
const TOLERANCE: f64 = 1e-4;

/// Runs `parity --steps 20` of `config` for `backends` (plus `extra` arguments), writing every
/// trajectory into `out`; returns what it did.
fn parity(work: &Path, config: &Path, backends: &[String], out: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "parity",
        "--config",
        config.to_str().unwrap(),
        "--steps",
        "20",
        "--out",
        out,
    ];
    for backend in backends {
        args.extend(["--backend", backend]);
    }
    args.extend(extra);
    run_in(work, &args)
}

/// The largest |difference| of `backend`'s losses and of its final parameters from
/// ndarray's, read from the trajectories `parity --out` wrote into `out`.
fn differences(out: &Path, backend: &str) -> (f64, f64) {
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&fs::read_to_string(out.join(format!("{name}.json"))).unwrap())
            .unwrap()
    };
    let (reference, actual) = (read("ndarray"), read(backend));
    assert_eq!(actual["backend"], backend);
    let numbers = |trajectory: &serde_json::Value, keys: &[&str]| -> Vec<f64> {
        keys.iter()
            .flat_map(|key| trajectory[*key].as_array().unwrap().clone())
            .map(|value| value.as_f64().unwrap())
            .collect()
    };
    let largest = |keys: &[&str], len: usize| {
        let (a, b) = (numbers(&reference, keys), numbers(&actual, keys));
        assert_eq!((a.len(), b.len()), (len, len), "{backend}: {keys:?}");
        assert!(a.iter().chain(&b).all(|x| x.is_finite()));
        a.iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    (
        largest(&["losses"], 20),
        largest(&["weights", "bias"], 784 * 10 + 10),
    )
}

#[test]
#[ignore = "backend suite: just test-backends"]
fn every_backend_matches_ndarray_step_by_step() {
    let work = tempfile::tempdir().unwrap();
    for name in ["default", "seed"] {
        let backends = backends();
        let output = parity(work.path(), &config(name), &backends, name, &[]);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{name}: {stdout}\n{stderr}");
        for backend in &backends {
            let (loss, parameter) = differences(&work.path().join(name), backend);
            println!(
                "{name}, {backend}: max |loss diff| {loss:e}, max |parameter diff| {parameter:e}"
            );
            assert!(
                loss <= TOLERANCE && parameter <= TOLERANCE,
                "{name}, {backend}: {loss:e}, {parameter:e}"
            );
        }
        println!("{stdout}");
    }
}

/// flex (compiled by default) against ndarray (when compiled in): within the tolerance by the numbers, and
/// reported as differing once the tolerance is below the difference parity itself measured.
#[test]
fn parity_reports_a_difference_beyond_its_tolerance() {
    if support::second_cpu_backend("parity_reports_a_difference_beyond_its_tolerance").is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let default = config("default");
    let flex = ["flex".to_string()];
    let output = parity(work.path(), &default, &flex, "loose", &[]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let (loss, parameter) = differences(&work.path().join("loose"), "flex");
    assert!(
        loss <= TOLERANCE && parameter <= TOLERANCE,
        "{loss:e}, {parameter:e}"
    );
    let line = stdout.lines().find(|l| l.starts_with("flex ")).unwrap();
    assert!(line.ends_with(" ok"), "{stdout}");
    let largest = loss.max(parameter);
    if largest == 0.0 {
        support::report_skip(
            "parity_reports_a_difference_beyond_its_tolerance",
            "flex and ndarray agree bit for bit: no difference to report",
        );
        return;
    }
    let tight = format!("{:e}", largest / 2.0);
    let output = parity(
        work.path(),
        &default,
        &flex,
        "tight",
        &["--tolerance", &tight],
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    let line = stdout.lines().find(|l| l.starts_with("flex ")).unwrap();
    assert!(line.ends_with(" DIFFERS"), "{stdout}");
    assert!(
        stderr.contains("flex disagree with ndarray beyond"),
        "{stderr}"
    );
}

#[test]
#[ignore = "backend suite: just test-backends"]
fn every_backend_trains_the_smoke_config_like_ndarray() {
    let work = tempfile::tempdir().unwrap();
    let train = |backend: &str| {
        let output = run_in(
            work.path(),
            &TrainArgs::shipped("smoke")
                .backend(backend)
                .out(backend)
                .plain()
                .list(),
        );
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{backend}: {stdout}\n{stderr}");
        read_metrics(&work.path().join(backend))[0].clone()
    };
    let reference = train("ndarray");
    for backend in backends() {
        let row = train(&backend);
        println!("{backend}: {row:?}");
        assert!(
            (row.test_acc - reference.test_acc).abs() <= 1.0,
            "{backend}: {} vs ndarray {}",
            row.test_acc,
            reference.test_acc
        );
    }
}

/// A CUDA backend compiled into a binary on a machine without an NVIDIA driver stops before
/// anything is written: one line saying what is missing and what to use instead, exit code 2.
/// Not ignored: it runs wherever the build has cuda or tch (CI's has both).
#[test]
fn a_cuda_backend_without_a_gpu_stops_with_one_line_and_writes_nothing() {
    let test = "a_cuda_backend_without_a_gpu_stops_with_one_line_and_writes_nothing";
    let driver = [
        "/dev/nvidiactl",
        "/dev/nvidia0",
        "/proc/driver/nvidia/version",
    ];
    if driver.iter().any(|file| Path::new(file).exists()) {
        support::report_skip(test, "this machine has an NVIDIA driver");
        return;
    }
    let compiled: Vec<BackendKind> = [BackendKind::Cuda, BackendKind::TchCuda]
        .into_iter()
        .filter(|kind| kind.is_compiled())
        .collect();
    if compiled.is_empty() {
        support::report_skip(test, "neither cuda nor tch is compiled into this build");
        return;
    }
    for kind in compiled {
        let work = tempfile::tempdir().unwrap();
        let output = run_in(
            work.path(),
            &TrainArgs::shipped("smoke").backend(kind.name()).list(),
        );
        let expected = format!("no NVIDIA GPU found for backend `{kind}`");
        assert_one_line_error(&output, 2, &expected);
        assert!(!work.path().join("runs").exists(), "{kind} wrote a run");
    }
}

/// Backends that compute away from the host, where every read waits for the device.
const DEVICE_BACKENDS: [&str; 3] = ["wgpu", "cuda", "tch-cuda"];

#[test]
#[ignore = "backend suite: just test-backends"]
fn a_device_backend_reads_back_once_per_window_not_once_per_step() {
    let work = tempfile::tempdir().unwrap();
    let device_backends: Vec<String> = backends()
        .into_iter()
        .filter(|backend| DEVICE_BACKENDS.contains(&backend.as_str()))
        .collect();
    if device_backends.is_empty() {
        support::report_skip(
            "a_device_backend_reads_back_once_per_window_not_once_per_step",
            "no device backend in MNIST_BURN_BACKENDS",
        );
        return;
    }
    for backend in device_backends {
        let output = run_in(
            work.path(),
            &TrainArgs::shipped("smoke")
                .backend(&backend)
                .out(&backend)
                .plain()
                .flag("--debug-syncs")
                .flag("--sync-every")
                .flag("10")
                .set("epochs=2")
                .list(),
        );
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{backend}: {stdout}\n{stderr}");
        let reads = support::device_reads(&stdout);
        assert_eq!(reads.len(), 2, "{stdout}");
        for (train, test) in reads {
            // 63 training steps: at most one read per 10 steps, plus the end of the split.
            assert!(train <= 63 / 10 + 2, "{backend}: {stdout}");
            assert!(test <= 1, "{backend}: {stdout}");
        }
        println!("{backend}: {stdout}");
    }
}
