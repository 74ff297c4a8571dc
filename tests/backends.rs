//! The backend suite (`just test-backends`): every backend other than ndarray trains like
//! ndarray. These tests are ignored by `just test`; the recipe builds the binary with all
//! CPU-runnable backends, names them in `MNIST_BURN_BACKENDS` and runs only these.

use mnist_e2e::{config, read_metrics, run_in, text};

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

#[test]
#[ignore = "backend suite: just test-backends"]
fn every_backend_matches_ndarray_step_by_step() {
    let work = tempfile::tempdir().unwrap();
    for name in ["default", "seed"] {
        let config = config(name);
        let mut args = vec![
            "parity",
            "--config",
            config.to_str().unwrap(),
            "--steps",
            "20",
        ];
        let backends = backends();
        for backend in &backends {
            args.extend(["--backend", backend]);
        }
        let output = run_in(work.path(), &args);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{name}: {stdout}\n{stderr}");
        for backend in &backends {
            let line = stdout
                .lines()
                .find(|line| line.starts_with(&format!("{backend} ")))
                .unwrap_or_else(|| panic!("no parity line for {backend}: {stdout}"));
            assert!(line.ends_with("ok"), "{name}: {line}");
        }
        println!("{stdout}");
    }
}

#[test]
#[ignore = "backend suite: just test-backends"]
fn every_backend_trains_the_smoke_config_like_ndarray() {
    let work = tempfile::tempdir().unwrap();
    let smoke = config("smoke");
    let train = |backend: &str| {
        let output = run_in(
            work.path(),
            &[
                "train",
                "--config",
                smoke.to_str().unwrap(),
                "--backend",
                backend,
                "--out",
                backend,
                "--plain",
            ],
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

/// Backends that compute away from the host, where every read waits for the device.
const DEVICE_BACKENDS: [&str; 3] = ["wgpu", "cuda", "tch-cuda"];

#[test]
#[ignore = "backend suite: just test-backends"]
fn a_device_backend_reads_back_once_per_window_not_once_per_step() {
    let work = tempfile::tempdir().unwrap();
    let smoke = config("smoke");
    let device_backends: Vec<String> = backends()
        .into_iter()
        .filter(|backend| DEVICE_BACKENDS.contains(&backend.as_str()))
        .collect();
    if device_backends.is_empty() {
        mnist_e2e::report_skip(
            "a_device_backend_reads_back_once_per_window_not_once_per_step",
            "no device backend in MNIST_BURN_BACKENDS",
        );
        return;
    }
    for backend in device_backends {
        let output = run_in(
            work.path(),
            &[
                "train",
                "--config",
                smoke.to_str().unwrap(),
                "--backend",
                &backend,
                "--out",
                &backend,
                "--plain",
                "--debug-syncs",
                "--sync-every",
                "10",
                "--set",
                "epochs=2",
            ],
        );
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{backend}: {stdout}\n{stderr}");
        let reads = mnist_e2e::device_reads(&stdout);
        assert_eq!(reads.len(), 2, "{stdout}");
        for (train, test) in reads {
            // 63 training steps: at most one read per 10 steps, plus the end of the split.
            assert!(train <= 63 / 10 + 2, "{backend}: {stdout}");
            assert!(test <= 1, "{backend}: {stdout}");
        }
        println!("{backend}: {stdout}");
    }
}
