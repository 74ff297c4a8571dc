//! What mnist-burn does, for its binary (`crates/cli`), its page (`crates/serve`), the tests
//! and the benches: experiment configs, backend choice, training with Burn's `Learner`, run
//! folders, evaluation, sweeps, plots and model interchange. The modules are private; what
//! is used from outside is re-exported here, so rustc reports anything left unused.

#[macro_use]
pub mod output;

#[cfg(test)]
mod alloc_meter;
mod artifacts;
mod backend;
mod batched;
mod calibration;
mod device_metrics;
mod ending;
mod evaluate;
mod failure;
mod folder_lock;
mod history;
mod holdout;
mod inspect;
mod interchange;
mod lr_find;
mod manifest;
mod mistakes;
mod parity;
mod plots;
mod profile;
mod progress;
mod recorder;
mod resume;
mod run_folder;
mod run_index;
mod selection;
mod signals;
pub mod sweep;
mod tensorboard;
mod throughput;
mod trained;
mod training;

// Run folders: their files, their record, and the index of a folder of them.
pub use artifacts::{read_metrics_csv, readable, write_file};
pub use folder_lock::{FolderLock, LOCK_FILE};
pub use resume::Resume;
pub use run_folder::{CONFIG_FILE, METRICS_FILE, MODEL_STEM, RunRecord, RunStatus, claim_run_dir};
pub use run_index::{RunSummary, find_run, list_runs, model_file};

// Choosing what to train, on what, and training it.
pub use backend::BackendKind;
pub use failure::{Interrupted, Usage, exit_status};
pub use mnist_config::{ExperimentConfig, LrSchedule, OptimizerConfig, OptimizerKind};
pub use signals::stop_on_signals;
pub use training::{Display, RunDir, RunEnd, RunRequest, TrainingLoop, train};

// A trained model: evaluated, explained, exported and imported.
pub use calibration::{Confidence, top_two};
pub use evaluate::{MISCLASSIFIED_FILE, RELIABILITY_FILE};
pub use interchange::{Format, ImportRequest, export, import_checkpoint};
pub use trained::TrainedModel;

// Looking at the data and at runs.
pub use inspect::{BatchFacts, Facts, chosen, draw_in_terminal};
pub use plots::{bar_chart, image_grid, learning_curves};

// Measuring: backend parity, the step profile, throughput and the learning-rate range test.
pub use lr_find::{Range, find_learning_rate};
pub use parity::{ParityReport, TOLERANCE, trajectories};
pub use profile::{StepProfile, profile};
pub use throughput::{BATCH_SIZES, Point, measure_throughput, throughput_chart};
