//! The backend suite (`just test-backends`): every backend other than ndarray trains like
//! ndarray. These tests are ignored by `just test`; the recipe builds the binary with all
//! CPU-runnable backends, names them in `MNIST_BURN_BACKENDS` and runs only these.

use mnist_e2e::{config, read_metrics, run_in, text};

/// The backends under test, from `MNIST_BURN_BACKENDS` (required: the suite must not pass by
/// testing nothing).
fn backends() -> Vec<String> {
    let list = std::env::var("MNIST_BURN_BACKENDS")
        .expect("MNIST_BURN_BACKENDS names the backends to test (just test-backends sets it)");
    let backends: Vec<String> = list.split(',').map(str::to_string).collect();
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
