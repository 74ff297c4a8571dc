//! The run folder and the files in it. Every file is written to a temporary name beside its
//! destination and renamed into place, so a crash never leaves half of one.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File names inside a run folder.
pub const CONFIG_FILE: &str = "config.toml";
pub const RUN_FILE: &str = "run.toml";
pub const METRICS_FILE: &str = "metrics.csv";
/// Burn adds its `.bpk` extension to this.
pub const MODEL_STEM: &str = "model";
pub const WEIGHTS_FILE: &str = "weights.png";

/// The header of `metrics.csv`; accuracies are in percent.
pub const METRICS_HEADER: &str =
    "epoch,train_loss,train_acc,test_loss,test_acc,train_seconds,test_seconds";
/// The header of `metrics.csv` of a run with a validation split.
pub const VALIDATED_HEADER: &str = "epoch,train_loss,train_acc,valid_loss,valid_acc,test_loss,\
    test_acc,train_seconds,test_seconds";

/// One epoch's results: one row of `metrics.csv`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    /// Percent.
    pub train_acc: f64,
    pub test_loss: f64,
    /// Percent.
    pub test_acc: f64,
    /// On the validation split, when the run has one (`data.validation`).
    pub valid_loss: Option<f64>,
    /// Percent.
    pub valid_acc: Option<f64>,
    pub train_seconds: f64,
    /// Evaluation: the validation and the test split.
    pub test_seconds: f64,
}

impl EpochMetrics {
    /// The progress line printed when no dashboard is shown.
    pub fn summary_line(&self, total_epochs: usize) -> String {
        let width = total_epochs.to_string().len();
        let valid = match (self.valid_loss, self.valid_acc) {
            (Some(loss), Some(acc)) => {
                format!("valid loss {}  valid acc {acc:6.2}%  ", readable(loss))
            }
            _ => String::new(),
        };
        format!(
            "epoch {epoch:>width$}/{total_epochs}  train loss {}  {valid}test loss {}  \
             test acc {:6.2}%  {:.2} s",
            readable(self.train_loss),
            readable(self.test_loss),
            self.test_acc,
            self.train_seconds + self.test_seconds,
            epoch = self.epoch,
        )
    }
}

/// A number for a person: four decimals in the usual range, scientific notation outside it.
pub fn readable(value: f64) -> String {
    match value.abs() {
        0.0 => "0".to_string(),
        magnitude if (1e-3..1e6).contains(&magnitude) => format!("{value:.4}"),
        _ => format!("{value:.3e}"),
    }
}

/// Writes every row so far as `metrics.csv`, atomically.
pub fn write_metrics_csv(path: &Path, rows: &[EpochMetrics]) -> io::Result<()> {
    let validated = rows.iter().any(|row| row.valid_acc.is_some());
    let mut csv = match validated {
        true => format!("{VALIDATED_HEADER}\n"),
        false => format!("{METRICS_HEADER}\n"),
    };
    for row in rows {
        let valid = match validated {
            true => format!(
                "{:.6},{:.4},",
                row.valid_loss.unwrap_or(f64::NAN),
                row.valid_acc.unwrap_or(f64::NAN)
            ),
            false => String::new(),
        };
        writeln!(
            csv,
            "{},{:.6},{:.4},{valid}{:.6},{:.4},{:.4},{:.4}",
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

/// A file of a run (or an export) that could not be written: its path, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot write", path.display())]
pub struct WriteError {
    path: PathBuf,
    #[source]
    cause: io::Error,
}

/// [`write_atomic`], with the path in the error.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_atomic(path, bytes).map_err(|cause| WriteError {
        path: path.to_path_buf(),
        cause,
    })
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
    #[error("{path}: cannot create the run folder: {cause}")]
    Create { path: PathBuf, cause: io::Error },
    #[error(
        "{path}: only {available} bytes free, a run needs about {needed}; free some space or \
         choose another folder with --out"
    )]
    NoSpace {
        path: PathBuf,
        needed: u64,
        available: u64,
    },
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
    fs::create_dir_all(path).map_err(|cause| RunDirError::Create {
        path: path.to_path_buf(),
        cause,
    })
}

/// How a run ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Finished,
    /// Stopped by a signal or the dashboard; `train --resume` continues it.
    Interrupted,
    /// Stopped because the loss stopped being a finite number.
    Diverged,
    Failed,
}

/// `run.toml`: what ran, on what, and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub name: String,
    pub config_file: PathBuf,
    pub backend: String,
    pub device: String,
    pub train_items: usize,
    /// Training images held out to validate on (`data.validation`).
    #[serde(default)]
    pub validation_items: usize,
    pub test_items: usize,
    pub started: String,
    pub status: RunStatus,
    pub epochs_completed: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_test_accuracy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_test_loss: Option<f64>,
    /// The last epoch's validation accuracy, when the run validates: what sweeps rank by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_valid_accuracy: Option<f64>,
    /// The epoch whose weights `model.bpk` holds (the best one with `[early_stopping]
    /// keep = "best"`, else the last); the `final_*` numbers are its.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_epoch: Option<usize>,
    /// Why the run ended before its last epoch, when early stopping ended it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// Peak resident memory of the process so far, in MiB (Linux only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_mib: Option<f64>,
    /// The checkpoint an imported model came from (`mnist-burn import`); such a run was not
    /// trained here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<PathBuf>,
    /// What ran it: build, Burn, backend, machine, data files, config (`manifest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<crate::manifest::Environment>,
}

impl RunRecord {
    /// Writes the record into `run_dir`, atomically.
    pub fn write(&self, run_dir: &Path) -> io::Result<()> {
        let text = toml::to_string_pretty(self).expect("a run record serialises");
        write_atomic(&run_dir.join(RUN_FILE), text.as_bytes())
    }

    /// Reads `run_dir/run.toml`.
    pub fn read(run_dir: &Path) -> Result<Self, String> {
        let path = run_dir.join(RUN_FILE);
        let text =
            fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
        toml::from_str(&text).map_err(|error| format!("{}: {}", path.display(), error.message()))
    }
}

/// The process's peak resident memory in MiB (`VmHWM` in `/proc/self/status`), where known.
pub fn peak_rss_mib() -> Option<f64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Reads the rows of a `metrics.csv` written by [`write_metrics_csv`].
pub fn read_metrics_csv(path: &Path) -> Result<Vec<EpochMetrics>, String> {
    let text = fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let mut lines = text.lines();
    let validated = match lines.next() {
        Some(METRICS_HEADER) => false,
        Some(VALIDATED_HEADER) => true,
        _ => {
            return Err(format!(
                "{}: not a metrics file (unexpected header)",
                path.display()
            ));
        }
    };
    lines
        .enumerate()
        .map(|(index, line)| {
            let bad = || format!("{}:{}: malformed row `{line}`", path.display(), index + 2);
            let mut fields: Vec<f64> = line
                .split(',')
                .map(|field| field.parse().map_err(|_| bad()))
                .collect::<Result<_, _>>()?;
            let (valid_loss, valid_acc) = match validated {
                true if fields.len() == 9 => {
                    let valid: Vec<f64> = fields.drain(3..5).collect();
                    (Some(valid[0]), Some(valid[1]))
                }
                true => return Err(bad()),
                false => (None, None),
            };
            let [
                epoch,
                train_loss,
                train_acc,
                test_loss,
                test_acc,
                train_seconds,
                test_seconds,
            ] = fields[..]
            else {
                return Err(bad());
            };
            Ok(EpochMetrics {
                epoch: epoch as usize,
                train_loss,
                train_acc,
                test_loss,
                test_acc,
                valid_loss,
                valid_acc,
                train_seconds,
                test_seconds,
            })
        })
        .collect()
}

/// Whether Burn's checkpoint of `epoch` (model, optimiser and scheduler) is in `run_dir`.
pub fn has_checkpoint(run_dir: &Path, epoch: usize) -> bool {
    ["model", "optim", "scheduler"].iter().all(|stem| {
        run_dir
            .join("checkpoint")
            .join(format!("{stem}-{epoch}.bpk"))
            .is_file()
    })
}

/// Bytes a run folder needs for a model of `parameters` f32 values: Burn keeps up to three
/// epochs of checkpoints (model plus up to two optimiser states each), plus the final model,
/// plus room for the small text files.
pub fn bytes_needed(parameters: usize) -> u64 {
    let model = 4 * parameters as u64;
    3 * (3 * model) + model + 64 * 1024
}

/// Refuses to start when the folder's file system has less than `needed` bytes free.
#[cfg(unix)]
pub fn check_free_space(path: &Path, needed: u64) -> Result<(), RunDirError> {
    let stats = rustix::fs::statvfs(path).map_err(|error| RunDirError::Create {
        path: path.to_path_buf(),
        cause: error.into(),
    })?;
    let available = stats.f_bavail.saturating_mul(stats.f_frsize);
    if available < needed {
        return Err(RunDirError::NoSpace {
            path: path.to_path_buf(),
            needed,
            available,
        });
    }
    Ok(())
}

/// Elsewhere a full disk is reported by the first write that fails, naming the file.
#[cfg(not(unix))]
pub fn check_free_space(_path: &Path, _needed: u64) -> Result<(), RunDirError> {
    Ok(())
}
