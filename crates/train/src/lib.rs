//! What mnist-burn does, for its binary (`crates/cli`), the tests and the benches: backend
//! choice, training with Burn's `Learner`, evaluation, sweeps, charts, measurements and model
//! interchange. Run folders and trained models are `mnist-runs`, which the page shares.
//!
//! One folder per concern, each saying in its `mod.rs` what it may use: `run/` and
//! `interchange/` use nothing else here but `backend`; `training/` uses `run/`; `measure/`
//! uses `training/`; `sweep/` runs its trials as processes of the binary and uses only
//! `backend` (a trial's pruning reaches training as the request's epoch gate, which the
//! binary builds). `failure.rs` says how every command fails, for the exit status. What is
//! used from outside is re-exported below, so rustc reports anything left unused.

#[macro_use]
extern crate mnist_output;

#[cfg(test)]
mod alloc_meter;
mod backend;
mod failure;
mod interchange;
mod measure;
mod run;
pub mod sweep;
mod training;

// Choosing what to train, on what, and training it.
pub use backend::BackendKind;
pub use burn::train::Interrupter;
pub use failure::{Interrupted, Usage, exit_status};
pub use mnist_config::{ExperimentConfig, LrSchedule, OptimizerConfig, OptimizerKind};
pub use run::Resume;
pub use training::signals::stop_on_signals;
pub use training::{
    EpochGate, ProgressView, RunDir, RunEnd, RunOutcome, RunRequest, TrainingLoop, train,
};
// How often the batched loop hands its steps to the metrics (and so reads the device).
pub use training::{HAND_OFF_INTERVAL, MAX_STEPS_PER_ITEM};

// A trained model in other runtimes' formats.
pub use interchange::{Format, ImportRequest, export, import_checkpoint};

// Looking at the data.
pub use measure::{BatchFacts, Facts, chosen, draw_in_terminal};

// Measuring: backend parity, the step profile, throughput and the learning-rate range test.
pub use measure::{
    BATCH_SIZES, ParityReport, Range, StepProfile, TOLERANCE, ThroughputPoint, Trajectory,
    find_learning_rate, measure_throughput, profile, throughput_chart, trajectories,
};
