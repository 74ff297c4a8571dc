//! Every run folder under a runs directory, summarised from its files: what `serve` lists and
//! `runs` prints. Nothing here trusts a folder to be complete: a half-written, empty or
//! crashed run becomes a summary that says what is missing, never an error for the others.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::Serialize;

use crate::folder::{CONFIG_FILE, METRICS_FILE, MODEL_STEM, RUN_FILE, RunRecord, RunStatus};
use crate::metrics::{EpochMetrics, read_metrics_csv};

/// Joins the folder names of a nested run (a sweep's trial) into its id, which contains no
/// `/` so that it is one URL path segment.
pub const ID_SEPARATOR: char = ':';

/// A run's state as listed: its `run.toml` status, or `incomplete` when that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListedStatus {
    Running,
    Finished,
    Interrupted,
    Diverged,
    Failed,
    Pruned,
    Incomplete,
}

impl ListedStatus {
    pub fn name(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Interrupted => "interrupted",
            Self::Diverged => "diverged",
            Self::Failed => "failed",
            Self::Pruned => "pruned",
            Self::Incomplete => "incomplete",
        }
    }
}

impl From<RunStatus> for ListedStatus {
    fn from(status: RunStatus) -> Self {
        match status {
            RunStatus::Running => Self::Running,
            RunStatus::Finished => Self::Finished,
            RunStatus::Interrupted => Self::Interrupted,
            RunStatus::Diverged => Self::Diverged,
            RunStatus::Failed => Self::Failed,
            RunStatus::Pruned => Self::Pruned,
        }
    }
}

/// One run folder, as far as its files tell.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The folder's path under the runs directory, its parts joined by [`ID_SEPARATOR`].
    pub id: String,
    pub name: String,
    pub config_name: Option<String>,
    pub backend: Option<String>,
    pub device: Option<String>,
    pub status: ListedStatus,
    /// Why the folder is incomplete, in one line.
    pub problem: Option<String>,
    pub epochs_completed: usize,
    pub epochs_planned: Option<usize>,
    /// Percent.
    pub final_test_accuracy: Option<f64>,
    /// Percent.
    pub best_test_accuracy: Option<f64>,
    /// On the validation split, when the run has one (percent): what selections use.
    pub final_valid_accuracy: Option<f64>,
    pub best_valid_accuracy: Option<f64>,
    /// The run's manifest (`[environment]` of run.toml), when it has one.
    pub environment: Option<crate::environment::Environment>,
    pub wall_seconds: Option<f64>,
    pub started: Option<String>,
    /// Unix time of the newest change to its record, metrics or model.
    pub updated: f64,
    pub has_model: bool,
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The runs directly under `runs_dir` and one level further down (a sweep's trials), newest
/// first. A missing `runs_dir` has no runs.
pub fn list_runs(runs_dir: &Path) -> Vec<RunSummary> {
    let mut runs: Vec<RunSummary> = run_folders(runs_dir)
        .into_iter()
        .map(|(id, dir)| summarise(&dir, id))
        .collect();
    runs.sort_by(|a, b| b.updated.total_cmp(&a.updated).then(a.id.cmp(&b.id)));
    runs
}

/// The run with this id, found among the listed folders: an id is never joined onto a path,
/// so no name can reach outside `runs_dir`. Only that run's files are read.
pub fn find_run(runs_dir: &Path, id: &str) -> Option<RunSummary> {
    let (id, dir) = run_folders(runs_dir)
        .into_iter()
        .find(|(listed, _)| listed == id)?;
    Some(summarise(&dir, id))
}

/// The id and folder of every run [`list_runs`] shows, by name.
fn run_folders(runs_dir: &Path) -> Vec<(String, PathBuf)> {
    let mut folders = Vec::new();
    for (name, dir) in subfolders(runs_dir) {
        if looks_like_run(&dir) {
            folders.push((name, dir));
            continue;
        }
        let trials: Vec<_> = subfolders(&dir)
            .into_iter()
            .filter(|(_, trial)| looks_like_run(trial))
            .collect();
        if trials.is_empty() {
            folders.push((name.clone(), dir));
        }
        for (trial, trial_dir) in trials {
            folders.push((format!("{name}{ID_SEPARATOR}{trial}"), trial_dir));
        }
    }
    folders
}

/// The final model file of a run folder.
pub fn model_file(dir: &Path) -> PathBuf {
    dir.join(format!("{MODEL_STEM}.bpk"))
}

/// Visible subfolders of `dir` with UTF-8 names, sorted by name.
fn subfolders(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut folders: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter_map(|entry| Some((entry.file_name().into_string().ok()?, entry.path())))
        .filter(|(name, _)| !name.starts_with('.') && !name.contains(ID_SEPARATOR))
        .collect();
    folders.sort();
    folders
}

fn looks_like_run(dir: &Path) -> bool {
    [RUN_FILE, CONFIG_FILE, METRICS_FILE]
        .iter()
        .any(|file| dir.join(file).is_file())
}

/// Reads what there is of one run folder.
pub fn summarise(dir: &Path, id: String) -> RunSummary {
    let record = RunRecord::read(dir);
    let metrics = read_metrics_csv(&dir.join(METRICS_FILE)).unwrap_or_default();
    let planned = planned_epochs(&dir.join(CONFIG_FILE));
    let has_model = model_file(dir).is_file();
    let updated = [RUN_FILE, METRICS_FILE, &format!("{MODEL_STEM}.bpk")]
        .iter()
        .filter_map(|file| fs::metadata(dir.join(file)).ok()?.modified().ok())
        .chain(fs::metadata(dir).ok().and_then(|meta| meta.modified().ok()))
        .filter_map(|time| time.duration_since(UNIX_EPOCH).ok())
        .map(|age| age.as_secs_f64())
        .fold(0.0, f64::max);
    let best = |accuracy: fn(&EpochMetrics) -> Option<f64>| {
        metrics
            .iter()
            .filter_map(accuracy)
            .fold(None, |best: Option<f64>, acc| {
                Some(best.map_or(acc, |b| b.max(acc)))
            })
    };
    let last = metrics.last();
    let fallback_name = id.rsplit(ID_SEPARATOR).next().unwrap_or(&id).to_string();
    let mut summary = RunSummary {
        name: fallback_name,
        id,
        config_name: None,
        backend: None,
        device: None,
        status: ListedStatus::Incomplete,
        problem: None,
        epochs_completed: last.map_or(0, |row| row.epoch),
        epochs_planned: planned,
        final_test_accuracy: last.map(|row| row.test_acc),
        best_test_accuracy: best(|row| Some(row.test_acc)),
        final_valid_accuracy: last.and_then(|row| row.valid_acc),
        best_valid_accuracy: best(|row| row.valid_acc),
        environment: None,
        wall_seconds: None,
        started: None,
        updated,
        has_model,
        dir: dir.to_path_buf(),
    };
    match record {
        Ok(record) => {
            summary.name = record.name;
            summary.config_name = record
                .config_file
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned());
            summary.backend = Some(record.backend);
            summary.device = Some(record.device);
            summary.status = record.status.into();
            summary.epochs_completed = summary.epochs_completed.max(record.epochs_completed);
            summary.final_test_accuracy =
                record.final_test_accuracy.or(summary.final_test_accuracy);
            summary.final_valid_accuracy =
                record.final_valid_accuracy.or(summary.final_valid_accuracy);
            summary.environment = record.environment;
            summary.wall_seconds = record.wall_seconds;
            summary.started = Some(record.started);
        }
        Err(problem) => {
            summary.problem = Some(if dir.join(RUN_FILE).exists() {
                problem
            } else {
                format!("no {RUN_FILE}: the run never started or its folder was cut short")
            });
        }
    }
    summary
}

/// `epochs` of a run's `config.toml`, read loosely: a summary is shown even for a config
/// this version would refuse.
fn planned_epochs(config: &Path) -> Option<usize> {
    let table: toml::Table = fs::read_to_string(config).ok()?.parse().ok()?;
    usize::try_from(table.get("epochs")?.as_integer()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(file), text).unwrap();
    }

    #[test]
    fn lists_runs_trials_and_broken_folders_without_failing() {
        let root = tempfile::tempdir().unwrap();
        let done = root.path().join("done");
        write(&done, CONFIG_FILE, "epochs = 3\n");
        write(
            &done,
            METRICS_FILE,
            "epoch,train_loss,train_acc,test_loss,test_acc,train_seconds,test_seconds\n\
             1,0.5,80,0.4,85.5,1,1\n2,0.4,82,0.3,88.25,1,1\n3,0.4,82,0.35,87.0,1,1\n",
        );
        fs::create_dir_all(root.path().join("empty")).unwrap();
        write(
            &root.path().join("sweep/trial-1"),
            CONFIG_FILE,
            "epochs = 2\n",
        );
        write(&root.path().join("garbled"), RUN_FILE, "status = [");

        let runs = list_runs(root.path());
        let by_id = |id: &str| runs.iter().find(|run| run.id == id).unwrap();
        let mut ids: Vec<&str> = runs.iter().map(|run| run.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, ["done", "empty", "garbled", "sweep:trial-1"]);
        let done = by_id("done");
        assert_eq!((done.epochs_completed, done.epochs_planned), (3, Some(3)));
        assert_eq!(done.best_test_accuracy, Some(88.25));
        assert_eq!(done.final_test_accuracy, Some(87.0));
        assert_eq!(done.status, ListedStatus::Incomplete);
        assert!(
            by_id("garbled")
                .problem
                .as_ref()
                .unwrap()
                .contains(RUN_FILE)
        );
        assert_eq!(by_id("sweep:trial-1").epochs_planned, Some(2));
        assert!(find_run(root.path(), "sweep:trial-1").is_some());
        for outside in ["..", "../done", "sweep/trial-1", "", "sweep:..", "done:"] {
            assert!(find_run(root.path(), outside).is_none(), "{outside}");
        }
    }
}
