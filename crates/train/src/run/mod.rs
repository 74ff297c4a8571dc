//! What training adds to the run-folder format of `mnist-runs`: the manifest of a run's inputs
//! (config, data, environment) and resuming a run from its folder. Uses nothing else here.

mod checkpoints;
pub(crate) mod manifest;
mod resume;

pub use resume::Resume;
