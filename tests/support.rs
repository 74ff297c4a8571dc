//! Helpers for the end-to-end tests: find the `mnist-burn` binary, run it, read a run folder.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (configs live in `configs/` there).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository")
        .to_path_buf()
}

/// A config shipped in `configs/`.
pub fn config(name: &str) -> PathBuf {
    repo_root().join("configs").join(format!("{name}.toml"))
}

/// The release binary built beside this test (`just test` builds it first).
pub fn binary() -> PathBuf {
    let deps = std::env::current_exe().expect("test executable path");
    let profile_dir = deps
        .parent()
        .and_then(Path::parent)
        .expect("tests run from <target>/<profile>/deps");
    let binary = profile_dir.join("mnist-burn");
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build --release -p mnist-train` (just test does)",
        binary.display()
    );
    binary
}

/// Runs `mnist-burn args...` in `cwd` and returns what it did.
pub fn run_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("mnist-burn starts")
}

/// Standard output and error as text.
pub fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// One row of a run's `metrics.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsRow {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_acc: f64,
    pub test_loss: f64,
    pub test_acc: f64,
    pub train_seconds: f64,
    pub test_seconds: f64,
}

/// Reads `metrics.csv`, checking its header.
pub fn read_metrics(run_dir: &Path) -> Vec<MetricsRow> {
    let csv = fs::read_to_string(run_dir.join("metrics.csv")).expect("metrics.csv exists");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("epoch,train_loss,train_acc,test_loss,test_acc,train_seconds,test_seconds")
    );
    lines
        .map(|line| {
            let fields: Vec<f64> = line
                .split(',')
                .map(|field| field.parse().expect("numeric field"))
                .collect();
            assert_eq!(fields.len(), 7, "{line}");
            MetricsRow {
                epoch: fields[0] as usize,
                train_loss: fields[1],
                train_acc: fields[2],
                test_loss: fields[3],
                test_acc: fields[4],
                train_seconds: fields[5],
                test_seconds: fields[6],
            }
        })
        .collect()
}
