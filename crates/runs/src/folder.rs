//! A run folder: chosen, created with room for its checkpoints, and its `config.toml` and
//! `run.toml`, which say what ran and how it ended. `train` and `import` make one; every
//! command that reads runs reads these files.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files::{WriteError, write_file};
use crate::lock::{FolderLock, LOCK_FILE, LockError, is_empty_but_lock};
use mnist_config::ExperimentConfig;

/// File names inside a run folder.
pub const CONFIG_FILE: &str = "config.toml";
pub const RUN_FILE: &str = "run.toml";
pub const METRICS_FILE: &str = "metrics.csv";
/// Burn adds its `.bpk` extension to this.
pub const MODEL_STEM: &str = "model";
pub const WEIGHTS_FILE: &str = "weights.png";

/// A run folder this process locked (see [`claim_run_dir`]), and writes.
pub struct RunFolder {
    dir: PathBuf,
}

impl RunFolder {
    /// Refuses a file system without room for the model and its checkpoints, and writes the
    /// run's `config.toml` into the folder `lock` holds (created when it was claimed, so the
    /// `Learner` never has to: it panics if it cannot).
    pub fn create(lock: &FolderLock, config: &ExperimentConfig) -> Result<Self, RunFolderError> {
        let parameters = (config.model.n_inputs + 1) * config.model.n_outputs;
        let dir = lock.path().to_path_buf();
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
    #[error(transparent)]
    Locked(#[from] LockError),
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

/// Creates and locks the run folder: `out` if given (refusing it while another process writes
/// it, and when it is not empty unless `force`), else a new `runs/<name>-<timestamp>` (made
/// here, so two runs started in the same second get two folders).
pub fn claim_run_dir(
    out: Option<&Path>,
    name: &str,
    force: bool,
) -> Result<FolderLock, RunDirError> {
    let cannot_create = |path: &Path| {
        let path = path.to_path_buf();
        move |cause| RunDirError::Create { path, cause }
    };
    if let Some(out) = out {
        let occupied =
            |out: &Path| !force && out.exists() && !is_empty_but_lock(out).unwrap_or(false);
        // A folder that has held a run is locked first (the refusal names a process still
        // writing it); any other occupied folder is refused without being touched.
        if !out.join(LOCK_FILE).is_file() && occupied(out) {
            return Err(RunDirError::NotEmpty(out.to_path_buf()));
        }
        fs::create_dir_all(out).map_err(cannot_create(out))?;
        let lock = FolderLock::acquire(out)?;
        if occupied(out) {
            return Err(RunDirError::NotEmpty(out.to_path_buf()));
        }
        return Ok(lock);
    }
    let runs = Path::new("runs");
    fs::create_dir_all(runs).map_err(cannot_create(runs))?;
    let base = format!("{name}-{}", chrono::Local::now().format("%Y%m%d-%H%M%S"));
    for n in 1.. {
        let candidate = match n {
            1 => runs.join(&base),
            n => runs.join(format!("{base}-{n}")),
        };
        match fs::create_dir(&candidate) {
            Ok(()) => return Ok(FolderLock::acquire(&candidate)?),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(cannot_create(&candidate)(error)),
        }
    }
    unreachable!("some suffix is free")
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
    /// Stopped by its sweep's pruning rule, behind the trials before it (`stop_reason` says
    /// at which epoch and why); never resumed, never ranked.
    Pruned,
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
    /// Why the run ended before its last epoch, when early stopping or pruning ended it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// Peak resident memory of the process so far, in MiB (Linux only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_mib: Option<f64>,
    /// The checkpoint an imported model came from (`mnist-burn import`); such a run was not
    /// trained here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<PathBuf>,
    /// The confidence below which the run's model gives its runner-up too, chosen on the
    /// validation split (none without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<crate::calibration::Confidence>,
    /// What ran it: build, Burn, backend, machine, data files, config (`manifest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<crate::environment::Environment>,
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
            confidence: None,
            environment: None,
        }
    }

    /// Reads `run_dir/run.toml`.
    pub fn read(run_dir: &Path) -> Result<Self, String> {
        let path = run_dir.join(RUN_FILE);
        let text = mnist_config::read_text(&path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
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
