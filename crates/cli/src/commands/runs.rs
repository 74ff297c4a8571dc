//! `mnist-burn runs`: the table of runs in a folder (and sweeps' trials in it).

use std::cmp::Ordering;
use std::path::PathBuf;

use serde::Serialize;

use mnist_runs::{CONFIG_FILE, RunSummary, list_runs};
use mnist_train::ExperimentConfig;

/// Columns the table can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortKey {
    Name,
    Status,
    Backend,
    Epochs,
    Accuracy,
    Best,
    Time,
    Started,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder whose runs to list.
    #[arg(default_value = "runs", value_name = "DIR")]
    dir: PathBuf,
    /// Column to sort by (accuracies and times: largest first; default: newest first).
    #[arg(long, value_enum, default_value_t = SortKey::Started)]
    sort: SortKey,
    /// Reverse the order.
    #[arg(long)]
    reverse: bool,
    /// Print JSON (one array of runs) for scripts instead of the table.
    #[arg(long)]
    json: bool,
}

/// A row: the summary plus the config keys the run changed from the project's defaults.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    summary: RunSummary,
    changes: Option<Vec<String>>,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    if !args.dir.is_dir() {
        anyhow::bail!("{}: no such folder", args.dir.display());
    }
    let mut rows: Vec<Row> = list_runs(&args.dir)
        .into_iter()
        .map(|summary| Row {
            changes: ExperimentConfig::load(&summary.dir.join(CONFIG_FILE), &[])
                .ok()
                .map(|config| config.changes_from_defaults()),
            summary,
        })
        .collect();
    rows.sort_by(|a, b| compare(args.sort, &a.summary, &b.summary));
    if args.reverse {
        rows.reverse();
    }
    if args.json {
        say!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    say!("{}", table(&rows));
    Ok(())
}

fn compare(key: SortKey, a: &RunSummary, b: &RunSummary) -> Ordering {
    let larger_first = |x: Option<f64>, y: Option<f64>| {
        y.unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&x.unwrap_or(f64::NEG_INFINITY))
    };
    let by = match key {
        SortKey::Name => a.id.cmp(&b.id),
        SortKey::Status => a.status.name().cmp(b.status.name()),
        SortKey::Backend => a.backend.cmp(&b.backend),
        SortKey::Epochs => b.epochs_completed.cmp(&a.epochs_completed),
        SortKey::Accuracy => larger_first(a.final_test_accuracy, b.final_test_accuracy),
        SortKey::Best => larger_first(a.best_test_accuracy, b.best_test_accuracy),
        SortKey::Time => larger_first(a.wall_seconds, b.wall_seconds),
        SortKey::Started => b.started.cmp(&a.started),
    };
    by.then_with(|| a.id.cmp(&b.id))
}

/// The rows as an aligned text table.
fn table(rows: &[Row]) -> String {
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
            |Row {
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
