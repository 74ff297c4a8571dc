//! `metrics.csv`: one row per epoch, written whole (atomically) after each epoch and read back
//! by resume, the runs table, sweeps and the page.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use mnist_config::StopMetric;
use serde::Serialize;

use crate::files::write_atomic;

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
    /// The value of `metric` in this epoch (none for a validation metric without a split).
    pub fn value(&self, metric: StopMetric) -> Option<f64> {
        match metric {
            StopMetric::ValidLoss => self.valid_loss,
            StopMetric::ValidAcc => self.valid_acc,
            StopMetric::TestLoss => Some(self.test_loss),
            StopMetric::TestAcc => Some(self.test_acc),
        }
    }

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
    let mut csv = if validated {
        format!("{VALIDATED_HEADER}\n")
    } else {
        format!("{METRICS_HEADER}\n")
    };
    for row in rows {
        let valid = if validated {
            format!(
                "{:.6},{:.4},",
                row.valid_loss.unwrap_or(f64::NAN),
                row.valid_acc.unwrap_or(f64::NAN)
            )
        } else {
            String::new()
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
