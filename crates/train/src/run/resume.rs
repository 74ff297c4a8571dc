//! An interrupted run, read back from its folder, and the checks that it can go on as the
//! same run: the same backend unless another is named, and only the settings that do not
//! change what the saved checkpoints mean.

use std::path::Path;

use super::checkpoints::{CheckpointState, checkpoint_state};
use crate::backend::BackendKind;
use mnist_config::{ConfigError, ExperimentConfig, LrSchedule};
use mnist_runs::EpochMetrics;
use mnist_runs::FolderLock;
use mnist_runs::{CONFIG_FILE, METRICS_FILE, RUN_FILE, RunRecord};

/// Keys a resumed run may change: they do not change the model, the data order, the
/// optimiser's state or (with a constant learning rate) the schedule.
const CHANGEABLE_ON_RESUME: [&str; 5] = [
    "epochs",
    "optimizer.lr",
    "optimizer.weight_decay",
    "data.num_workers",
    "data.test_batch_size",
];

/// A run to continue, locked by this process.
pub struct Resume {
    /// Taken before the run is read: a run another process still trains is refused.
    pub lock: FolderLock,
    pub config: ExperimentConfig,
    pub record: RunRecord,
    pub backend: BackendKind,
    /// Whether the backend is the run's own (not one named on the command line).
    pub backend_from_run: bool,
    pub completed: Vec<EpochMetrics>,
    /// Why it goes on from an earlier epoch than its last: a damaged checkpoint.
    pub skipped: Option<String>,
}

impl Resume {
    /// Reads `run_dir`, applies `overrides` to its config and checks that the result can
    /// continue from the run's checkpoints.
    pub fn read(
        run_dir: &Path,
        overrides: &[String],
        backend: Option<BackendKind>,
    ) -> anyhow::Result<Self> {
        let cannot = |why: String| anyhow::anyhow!("cannot resume {}: {why}", run_dir.display());
        if !run_dir.join(RUN_FILE).is_file() {
            return Err(cannot(format!("not a run folder (no {RUN_FILE})")));
        }
        let lock = FolderLock::acquire(run_dir)?;
        let record = RunRecord::read(run_dir).map_err(cannot)?;
        let config_path = run_dir.join(CONFIG_FILE);
        let original = ExperimentConfig::load(&config_path, &[])?;
        let config = ExperimentConfig::load(&config_path, overrides)?;
        check_changes(&original, &config, &config_path)?;
        let (backend, backend_from_run) = match backend {
            Some(backend) => (backend, false),
            None => (
                BackendKind::ALL
                    .into_iter()
                    .find(|kind| kind.name() == record.backend)
                    .ok_or_else(|| cannot(format!("unknown backend `{}`", record.backend)))?,
                true,
            ),
        };
        let metrics = run_dir.join(METRICS_FILE);
        let mut completed = if metrics.exists() {
            mnist_runs::read_metrics_csv(&metrics).map_err(cannot)?
        } else {
            Vec::new()
        };
        if completed
            .iter()
            .enumerate()
            .any(|(i, row)| row.epoch != i + 1)
        {
            return Err(cannot(format!("{} skips epochs", metrics.display())));
        }
        // Resume from the last epoch that has both its metrics and a whole checkpoint (a stop
        // can land between the two, a copy can be cut short); later epochs are trained again,
        // identically.
        let mut damaged = None;
        while let Some(last) = completed.last() {
            match checkpoint_state(run_dir, last.epoch, &config) {
                CheckpointState::Whole => break,
                CheckpointState::Missing => {}
                CheckpointState::Damaged { file, why } => {
                    damaged.get_or_insert((file, why, last.epoch));
                }
            }
            completed.pop();
        }
        let skipped = match damaged {
            Some((file, why, _)) if completed.is_empty() => {
                return Err(cannot(format!(
                    "{} is damaged ({why}) and no earlier checkpoint is whole; start the run \
                     again",
                    file.display()
                )));
            }
            Some((file, _, epoch)) => Some(format!(
                "{} is damaged: resuming from epoch {} instead of {epoch}",
                file.display(),
                completed.len()
            )),
            None => None,
        };
        if completed.len() >= config.epochs {
            return Err(cannot(format!(
                "all {} epochs are done; add some with --set epochs=N",
                config.epochs
            )));
        }
        Ok(Self {
            lock,
            config,
            record,
            backend,
            backend_from_run,
            completed,
            skipped,
        })
    }

    /// What is printed before a resumed run starts: a line, after the damaged checkpoint it
    /// passed over if any.
    pub fn describe(&self, run_dir: &Path) -> String {
        let origin = if self.backend_from_run {
            "the backend it ran on".to_string()
        } else {
            format!("as asked; it ran on {}", self.record.backend)
        };
        let skipped = self
            .skipped
            .as_ref()
            .map_or(String::new(), |why| format!("{why}\n"));
        format!(
            "{skipped}Resuming {} after epoch {} of {} on {} ({origin})",
            run_dir.display(),
            self.completed.len(),
            self.config.epochs,
            self.backend,
        )
    }
}

/// Refuses overrides that would make the checkpoints mean something else: anything but
/// [`CHANGEABLE_ON_RESUME`], and a new length or peak for a cosine schedule, whose every
/// step depends on the run's total (a recomputed cosine would jump, not continue).
fn check_changes(
    original: &ExperimentConfig,
    changed: &ExperimentConfig,
    config_path: &Path,
) -> Result<(), ConfigError> {
    let refuse = |key: String, reason: String| ConfigError::Invalid {
        path: mnist_config::Location {
            file: config_path.to_path_buf(),
            line: None,
        },
        key,
        reason,
    };
    for key in original.differing_keys(changed) {
        if !CHANGEABLE_ON_RESUME.contains(&key.as_str()) {
            return Err(refuse(
                key,
                "cannot change when resuming (the checkpoints were made with the run's value); \
                 start a new run instead"
                    .into(),
            ));
        }
        let schedule_bound = key == "epochs" || key == "optimizer.lr";
        if schedule_bound && original.optimizer.schedule == LrSchedule::Cosine {
            return Err(refuse(
                key,
                "cannot change when resuming a run with the cosine schedule (its learning rate \
                 at every step depends on the run's length and peak); start a new run, or use \
                 optimizer.schedule = \"constant\""
                    .into(),
            ));
        }
    }
    Ok(())
}
