//! `runs`' table: every run of a folder with the config keys it changed from the defaults, in
//! the order asked for, as aligned text (or, serialised, as JSON for scripts).

use std::cmp::Ordering;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;

use crate::folder::CONFIG_FILE;
use crate::index::{RunSummary, list_runs};
use mnist_config::ExperimentConfig;

/// A run as listed: its summary, and the config keys it changed from the project's defaults
/// (`None` when its config cannot be read).
#[derive(Debug, Serialize)]
pub struct ListedRun {
    #[serde(flatten)]
    pub summary: RunSummary,
    pub changes: Option<Vec<String>>,
}

/// The column the table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOrder {
    Name,
    Status,
    Backend,
    Epochs,
    Accuracy,
    Best,
    Time,
    Started,
}

impl RunOrder {
    pub const ALL: [Self; 8] = [
        Self::Name,
        Self::Status,
        Self::Backend,
        Self::Epochs,
        Self::Accuracy,
        Self::Best,
        Self::Time,
        Self::Started,
    ];

    /// The name `--sort` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Status => "status",
            Self::Backend => "backend",
            Self::Epochs => "epochs",
            Self::Accuracy => "accuracy",
            Self::Best => "best",
            Self::Time => "time",
            Self::Started => "started",
        }
    }

    fn compare(self, a: &RunSummary, b: &RunSummary) -> Ordering {
        let larger_first = |x: Option<f64>, y: Option<f64>| {
            y.unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&x.unwrap_or(f64::NEG_INFINITY))
        };
        let by = match self {
            Self::Name => a.id.cmp(&b.id),
            Self::Status => a.status.name().cmp(b.status.name()),
            Self::Backend => a.backend.cmp(&b.backend),
            Self::Epochs => b.epochs_completed.cmp(&a.epochs_completed),
            Self::Accuracy => larger_first(a.final_test_accuracy, b.final_test_accuracy),
            Self::Best => larger_first(a.best_test_accuracy, b.best_test_accuracy),
            Self::Time => larger_first(a.wall_seconds, b.wall_seconds),
            Self::Started => b.started.cmp(&a.started),
        };
        by.then_with(|| a.id.cmp(&b.id))
    }
}

impl FromStr for RunOrder {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|order| order.name() == name)
            .ok_or_else(|| format!("no column {name:?} to sort by"))
    }
}

/// Every run of `dir`, sorted by `order` (accuracies and times largest first, the newest
/// first when started), reversed if asked.
pub fn listed_runs(dir: &Path, order: RunOrder, reverse: bool) -> Vec<ListedRun> {
    let mut rows: Vec<ListedRun> = list_runs(dir)
        .into_iter()
        .map(|summary| ListedRun {
            changes: ExperimentConfig::load(&summary.dir.join(CONFIG_FILE), &[])
                .ok()
                .map(|config| config.changes_from_defaults()),
            summary,
        })
        .collect();
    rows.sort_by(|a, b| order.compare(&a.summary, &b.summary));
    if reverse {
        rows.reverse();
    }
    rows
}

/// The rows as an aligned text table.
pub fn runs_table(rows: &[ListedRun]) -> String {
    let header = [
        "run",
        "status",
        "backend",
        "epochs",
        "valid acc",
        "test acc",
        "best",
        "time",
        "changes",
    ];
    let percent = |value: Option<f64>| value.map_or("-".into(), |v| format!("{v:.2}%"));
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(
            |ListedRun {
                 summary: run,
                 changes,
             }| {
                [
                    run.id.clone(),
                    run.status.name().to_string(),
                    run.backend.clone().unwrap_or_else(|| "-".into()),
                    match run.epochs_planned {
                        Some(planned) => format!("{}/{planned}", run.epochs_completed),
                        None => run.epochs_completed.to_string(),
                    },
                    percent(run.final_valid_accuracy),
                    percent(run.final_test_accuracy),
                    percent(run.best_test_accuracy),
                    run.wall_seconds.map_or("-".into(), |s| format!("{s:.1} s")),
                    match changes {
                        Some(changes) if changes.is_empty() => "(defaults)".into(),
                        Some(changes) => changes.join(" "),
                        None => "?".into(),
                    },
                ]
            },
        )
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |row: &[String]| {
        row.iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut text = line(&header.map(String::from));
    for row in &cells {
        text.push('\n');
        text.push_str(&line(row));
    }
    if cells.is_empty() {
        text.push_str("\n(no runs)");
    }
    text
}
