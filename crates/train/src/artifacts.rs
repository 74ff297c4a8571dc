//! The files of a run besides its record: `metrics.csv`, checkpoints, and how every file is
//! written: to a temporary name beside its destination, then renamed into place, so a crash
//! never leaves half of one.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;

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
