//! Training: Burn's `Learner` with the project's strategy, metrics, dashboard, records and
//! signals. Uses the run-folder format (`mnist-runs`) and `run/`; `run/` and `interchange/`
//! use nothing here.

mod batched;
pub(crate) mod device_metrics;
pub(crate) mod ending;
mod fit;
pub(crate) mod history;
mod holdout;
mod progress;
mod recorder;
mod request;
mod selection;
pub(crate) mod signals;
pub(crate) mod tensorboard;
mod train;

pub use batched::{HAND_OFF_INTERVAL, MAX_STEPS_PER_ITEM};
pub use ending::RunEnd;
pub use request::{EpochGate, ProgressView, RunDir, RunOutcome, RunRequest, TrainingLoop};
pub use train::train;
