//! The run folder and the files in it. Every file is written to a temporary name beside its
//! destination and renamed into place, so a crash never leaves half of one.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// File names inside a run folder.
pub const CONFIG_FILE: &str = "config.toml";
pub const RUN_FILE: &str = "run.toml";
pub const METRICS_FILE: &str = "metrics.csv";
/// Burn adds its `.bpk` extension to this.
pub const MODEL_STEM: &str = "model";

/// The header of `metrics.csv`; accuracies are in percent.
pub const METRICS_HEADER: &str =
    "epoch,train_loss,train_acc,test_loss,test_acc,train_seconds,test_seconds";

/// One epoch's results: one row of `metrics.csv`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    /// Percent.
    pub train_acc: f64,
    pub test_loss: f64,
    /// Percent.
    pub test_acc: f64,
    pub train_seconds: f64,
    pub test_seconds: f64,
}

impl EpochMetrics {
    /// The progress line printed when no dashboard is shown.
    pub fn summary_line(&self, total_epochs: usize) -> String {
        let width = total_epochs.to_string().len();
        format!(
            "epoch {epoch:>width$}/{total_epochs}  train loss {:.4}  test loss {:.4}  \
             test acc {:6.2}%  {:.2} s",
            self.train_loss,
            self.test_loss,
            self.test_acc,
            self.train_seconds + self.test_seconds,
            epoch = self.epoch,
        )
    }
}

/// Writes every row so far as `metrics.csv`, atomically.
pub fn write_metrics_csv(path: &Path, rows: &[EpochMetrics]) -> io::Result<()> {
    let mut csv = format!("{METRICS_HEADER}\n");
    for row in rows {
        writeln!(
            csv,
            "{},{:.6},{:.4},{:.6},{:.4},{:.4},{:.4}",
            row.epoch,
            row.train_loss,
            row.train_acc,
            row.test_loss,
            row.test_acc,
            row.train_seconds,
            row.test_seconds
        )
        .expect("writing to a String cannot fail");
    }
    write_atomic(path, csv.as_bytes())
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut staged = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(folder)?;
    staged.write_all(bytes)?;
    staged.as_file().sync_all()?;
    staged.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// Where a run's artifacts go.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    #[error("{0}: already exists and is not empty; pass --force to write into it anyway")]
    NotEmpty(PathBuf),
    #[error("{path}: cannot create the run folder: {source}")]
    Create { path: PathBuf, source: io::Error },
}

/// Chooses the run folder without creating it: `out` if given (refusing a non-empty one
/// unless `force`), else a fresh `runs/<name>-<timestamp>` that no earlier run uses.
pub fn choose_run_dir(out: Option<&Path>, name: &str, force: bool) -> Result<PathBuf, RunDirError> {
    match out {
        Some(out) => {
            let occupied = fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some());
            if occupied && !force {
                return Err(RunDirError::NotEmpty(out.to_path_buf()));
            }
            Ok(out.to_path_buf())
        }
        None => {
            let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
            let base = format!("{name}-{stamp}");
            let free = (1..)
                .map(|n| match n {
                    1 => Path::new("runs").join(&base),
                    n => Path::new("runs").join(format!("{base}-{n}")),
                })
                .find(|candidate| !candidate.exists())
                .expect("some suffix is free");
            Ok(free)
        }
    }
}

/// Creates the chosen run folder, so the `Learner` never has to (it panics if it cannot).
pub fn create_run_dir(path: &Path) -> Result<(), RunDirError> {
    fs::create_dir_all(path).map_err(|source| RunDirError::Create {
        path: path.to_path_buf(),
        source,
    })
}
