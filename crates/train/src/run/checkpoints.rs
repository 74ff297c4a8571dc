//! Burn's checkpoints of a run (model, optimiser and scheduler a finished epoch), read back
//! before a resume hands them to Burn, which panics on one it cannot load.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::OptimizerRecord;
use burn::optim::lr_scheduler::LrSchedulerRecord;
use burn::prelude::Device;
use burn::store::ModuleRecord;
use mnist_config::ExperimentConfig;

/// The three files Burn writes for each checkpointed epoch.
const STEMS: [&str; 3] = ["model", "optim", "scheduler"];

/// What became of one epoch's checkpoint.
#[derive(Debug, PartialEq)]
pub enum CheckpointState {
    /// All three files load, the model's weights of the config's shape.
    Whole,
    /// A file is not there (removed by Burn's keep rule, or a stop before it was written).
    Missing,
    /// A file is there but cannot be loaded: cut short, not a checkpoint, or another model.
    Damaged { file: PathBuf, why: String },
}

/// Reads the checkpoint of `epoch` in `run_dir` as Burn would, for a model of `config`.
pub fn checkpoint_state(
    run_dir: &Path,
    epoch: usize,
    config: &ExperimentConfig,
) -> CheckpointState {
    let files = STEMS.map(|stem| {
        run_dir
            .join("checkpoint")
            .join(format!("{stem}-{epoch}.bpk"))
    });
    if !files.iter().all(|file| file.is_file()) {
        return CheckpointState::Missing;
    }
    let [model, optim, scheduler] = files;
    let damaged = |file: &PathBuf, why: String| CheckpointState::Damaged {
        file: file.clone(),
        why,
    };
    // Checked on the CPU: the shapes are the same on every backend.
    let loaded = ModuleRecord::load(model.clone())
        .map_err(|error| error.to_string())
        .and_then(|record| {
            config
                .model
                .init(&Device::flex())
                .try_load_record(record)
                .map_err(|error| error.to_string())
        });
    if let Err(why) = loaded {
        return damaged(&model, why);
    }
    if let Err(error) = OptimizerRecord::load(optim.clone()) {
        return damaged(&optim, error.to_string());
    }
    if let Err(error) = LrSchedulerRecord::load(scheduler.clone()) {
        return damaged(&scheduler, error.to_string());
    }
    CheckpointState::Whole
}
