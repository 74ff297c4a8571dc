//! A run folder: chosen, created with room for its checkpoints, and its `config.toml` and
//! `run.toml`, which say what ran and how it ended. `train` and `import` make one; every
//! command that reads runs reads these files.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::artifacts::{WriteError, write_file};
use mnist_config::ExperimentConfig;

/// File names inside a run folder.
pub const CONFIG_FILE: &str = "config.toml";
pub const RUN_FILE: &str = "run.toml";
pub const METRICS_FILE: &str = "metrics.csv";
/// Burn adds its `.bpk` extension to this.
pub const MODEL_STEM: &str = "model";
pub const WEIGHTS_FILE: &str = "weights.png";

/// A run folder this process created, and writes.
pub struct RunFolder {
    dir: PathBuf,
}

impl RunFolder {
    /// Creates `dir` (so the `Learner` never has to: it panics if it cannot), refuses a file
    /// system without room for the model and its checkpoints, and writes the run's
    /// `config.toml`.
    pub fn create(dir: PathBuf, config: &ExperimentConfig) -> Result<Self, RunFolderError> {
        let parameters = (config.model.n_inputs + 1) * config.model.n_outputs;
        fs::create_dir_all(&dir).map_err(|cause| RunDirError::Create {
            path: dir.clone(),
            cause,
        })?;
        check_free_space(&dir, bytes_needed(parameters))?;
        let folder = Self { dir };
        write_file(&folder.file(CONFIG_FILE), config.to_toml().as_bytes())?;
        Ok(folder)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The path of `name` in the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes `run.toml`, atomically.
    pub fn write_record(&self, record: &RunRecord) -> Result<(), WriteError> {
        let text = toml::to_string_pretty(record).expect("a run record serialises");
        write_file(&self.file(RUN_FILE), text.as_bytes())
    }

    pub fn into_path(self) -> PathBuf {
        self.dir
    }
}

/// A run folder that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RunFolderError {
    #[error(transparent)]
    Dir(#[from] RunDirError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Why a run folder cannot be used.
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
    /// A record of a run just begun in a folder: nothing counted yet, no results.
    pub fn begun(name: String, config_file: PathBuf, backend: String, device: String) -> Self {
        Self {
            name,
            config_file,
            backend,
            device,
            train_items: 0,
            validation_items: 0,
            test_items: 0,
            started: chrono::Local::now().to_rfc3339(),
            status: RunStatus::Running,
            epochs_completed: 0,
            wall_seconds: None,
            final_test_accuracy: None,
            final_test_loss: None,
            final_valid_accuracy: None,
            selected_epoch: None,
            stop_reason: None,
            peak_rss_mib: None,
            imported_from: None,
            environment: None,
        }
    }

    /// Reads `run_dir/run.toml`.
    pub fn read(run_dir: &Path) -> Result<Self, String> {
        let path = run_dir.join(RUN_FILE);
        let text =
            fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
        toml::from_str(&text).map_err(|error| format!("{}: {}", path.display(), error.message()))
    }
}

/// Bytes a run folder needs for a model of `parameters` f32 values: Burn keeps up to three
/// epochs of checkpoints (model plus up to two optimiser states each), plus the final model,
/// plus room for the small text files.
fn bytes_needed(parameters: usize) -> u64 {
    let model = 4 * parameters as u64;
    3 * (3 * model) + model + 64 * 1024
}

/// Refuses to start when the folder's file system has less than `needed` bytes free.
#[cfg(unix)]
fn check_free_space(path: &Path, needed: u64) -> Result<(), RunDirError> {
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
fn check_free_space(_path: &Path, _needed: u64) -> Result<(), RunDirError> {
    Ok(())
}
