//! What a sweep found: its trials ranked by final validation accuracy (by test accuracy when
//! the base config holds no validation split out, which the table says), as a terminal table,
//! `results.csv`, `results.md` and the best trial's config as `best.toml` (`figure` draws
//! test accuracy against each varied key from the same ranking).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::spec::{SweepPlan, Trial};
use mnist_runs::CONFIG_FILE;
use mnist_runs::write_file;
use mnist_runs::{ListedStatus, RunSummary, summarise};

pub const RESULTS_CSV: &str = "results.csv";
pub const RESULTS_MD: &str = "results.md";
pub const BEST_CONFIG: &str = "best.toml";
pub const FIGURE: &str = "accuracy.png";

/// One trial and what its folder says.
pub struct TrialResult {
    pub trial: Trial,
    pub summary: RunSummary,
}

/// What trials are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranking {
    /// The validation split's final accuracy: the test split stays an honest estimate.
    Validation,
    /// No trial holds a validation split out, so only the test split can rank them.
    Test,
}

impl Ranking {
    /// Validation when any trial validates.
    pub fn of(results: &[TrialResult]) -> Self {
        if results
            .iter()
            .any(|r| r.summary.final_valid_accuracy.is_some())
        {
            Ranking::Validation
        } else {
            Ranking::Test
        }
    }

    /// The accuracy a finished trial is ranked by.
    pub fn accuracy(self, result: &TrialResult) -> Option<f64> {
        let summary = &result.summary;
        match (summary.status, self) {
            (ListedStatus::Finished, Ranking::Validation) => summary.final_valid_accuracy,
            (ListedStatus::Finished, Ranking::Test) => summary.final_test_accuracy,
            _ => None,
        }
    }

    /// One line for a person on what the ranking used.
    pub fn note(self) -> &'static str {
        match self {
            Ranking::Validation => {
                "Ranked by validation accuracy; test accuracy is reported, never used to choose."
            }
            Ranking::Test => {
                "Ranked by test accuracy: the base config holds no validation split out (set data.validation), so the winner's test accuracy is optimistic."
            }
        }
    }
}

/// Every trial, the best final accuracy first by [`Ranking::of`] (trials without one last).
pub fn collect(plan: &SweepPlan, sweep_dir: &Path) -> Vec<TrialResult> {
    let mut results: Vec<TrialResult> = plan
        .trials
        .iter()
        .map(|trial| TrialResult {
            summary: summarise(&sweep_dir.join(&trial.id), trial.id.clone()),
            trial: trial.clone(),
        })
        .collect();
    let ranking = Ranking::of(&results);
    results.sort_by(|a, b| {
        let accuracy = |result: &TrialResult| ranking.accuracy(result);
        accuracy(b)
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&accuracy(a).unwrap_or(f64::NEG_INFINITY))
            .then_with(|| a.trial.id.cmp(&b.trial.id))
    });
    results
}

/// The header and the cells of the results table.
fn cells(plan: &SweepPlan, results: &[TrialResult]) -> (Vec<String>, Vec<Vec<String>>) {
    let keys = plan.varied_keys();
    let mut header: Vec<String> = ["rank", "trial", "status"].map(String::from).to_vec();
    header.extend(keys.iter().cloned());
    let validated = Ranking::of(results) == Ranking::Validation;
    if validated {
        header.push("valid_acc".into());
    }
    header.extend(["test_acc", "best_test_acc", "epochs", "seconds"].map(String::from));
    let rows = results
        .iter()
        .enumerate()
        .map(|(rank, result)| {
            let summary = &result.summary;
            let optional = |value: Option<f64>, digits: usize| {
                value.map_or(String::new(), |value| format!("{value:.digits$}"))
            };
            let mut row = vec![
                (rank + 1).to_string(),
                result.trial.id.clone(),
                summary.status.name().to_string(),
            ];
            row.extend(keys.iter().map(|key| {
                result
                    .trial
                    .values
                    .get(key)
                    .map_or(String::new(), |value| match value {
                        toml::Value::String(text) => text.clone(),
                        other => other.to_string(),
                    })
            }));
            if validated {
                row.push(optional(summary.final_valid_accuracy, 2));
            }
            row.extend([
                optional(summary.final_test_accuracy, 2),
                optional(summary.best_test_accuracy, 2),
                summary.epochs_completed.to_string(),
                optional(summary.wall_seconds, 1),
            ]);
            row
        })
        .collect();
    (header, rows)
}

/// The table printed at the end of a sweep.
pub fn terminal_table(plan: &SweepPlan, results: &[TrialResult]) -> String {
    let (header, rows) = cells(plan, results);
    let mut widths: Vec<usize> = header.iter().map(String::len).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |row: &[String]| {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut text = line(&header);
    for row in &rows {
        text.push('\n');
        text.push_str(&line(row));
    }
    text
}

/// Writes `results.csv`, `results.md` and `best.toml` (the picture is `figure`'s); returns
/// the best trial's config file, if any trial finished.
pub fn write(
    plan: &SweepPlan,
    sweep_dir: &Path,
    results: &[TrialResult],
) -> anyhow::Result<Option<PathBuf>> {
    let (header, rows) = cells(plan, results);
    let mut csv = header.join(",");
    let mut markdown = format!(
        "# Sweep {}\n\n| {} |\n|{}|\n",
        plan.name,
        header.join(" | "),
        vec!["---"; header.len()].join("|")
    );
    for row in &rows {
        write!(
            csv,
            "\n{}",
            row.iter()
                .map(|cell| csv_field(cell))
                .collect::<Vec<_>>()
                .join(",")
        )
        .ok();
        writeln!(markdown, "| {} |", row.join(" | ")).ok();
    }
    csv.push('\n');
    for (file, text) in [(RESULTS_CSV, csv), (RESULTS_MD, markdown)] {
        let path = sweep_dir.join(file);
        write_file(&path, text.as_bytes())?;
    }
    let Some(best) = results
        .first()
        .filter(|best| best.summary.status == ListedStatus::Finished)
    else {
        return Ok(None);
    };
    let config = std::fs::read_to_string(best.summary.dir.join(CONFIG_FILE))
        .with_context(|| format!("{}: cannot read the best trial's config", best.trial.id))?;
    let text = format!(
        "# The best trial of sweep {} ({}: {}).\n{config}",
        plan.name,
        best.trial.id,
        verdict(&best.summary)
    );
    let path = sweep_dir.join(BEST_CONFIG);
    write_file(&path, text.as_bytes())?;
    Ok(Some(path))
}

/// What pruning saved, when the sweep prunes: `Pruned 5 of 12 trials: 138 of 240 planned
/// epochs trained (58%).`
pub fn pruning_note(plan: &SweepPlan, results: &[TrialResult]) -> Option<String> {
    plan.prune.as_ref()?;
    let pruned = results
        .iter()
        .filter(|result| result.summary.status == ListedStatus::Pruned)
        .count();
    let trained: usize = results.iter().map(|r| r.summary.epochs_completed).sum();
    let planned: usize = results
        .iter()
        .map(|r| {
            r.summary
                .epochs_planned
                .unwrap_or(r.summary.epochs_completed)
        })
        .sum();
    Some(format!(
        "Pruned {pruned} of {} trials: {trained} of {planned} planned epochs trained ({:.0}%).",
        results.len(),
        100.0 * trained as f64 / planned.max(1) as f64
    ))
}

/// The best trial's numbers: what chose it, and the test accuracy as the estimate.
pub fn verdict(summary: &RunSummary) -> String {
    let test = summary.final_test_accuracy.unwrap_or_default();
    match summary.final_valid_accuracy {
        Some(valid) => format!("{valid:.2}% validation accuracy, {test:.2}% on the test split"),
        None => format!("{test:.2}% test accuracy"),
    }
}

fn csv_field(cell: &str) -> String {
    if cell.contains([',', '"', '\n']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}
