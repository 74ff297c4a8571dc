//! The mnist-burn trainer: experiment configs, backend selection, Burn's `Learner` and the
//! artifacts of a run. `main.rs` only calls [`cli::main`]; each command is a file under
//! [`commands`].

#[macro_use]
pub mod output;

pub mod artifacts;
pub mod backend;
pub mod cli;
pub mod commands;
pub mod config;
pub mod device_metrics;
pub mod ending;
pub mod evaluate;
pub mod failure;
pub mod history;
pub mod holdout;
pub mod inspect;
pub mod interchange;
pub mod lr_find;
pub mod manifest;
pub mod mistakes;
pub mod parity;
pub mod plots;
pub mod profile;
pub mod recorder;
pub mod resume;
pub mod run_index;
pub mod selection;
pub mod serve;
pub mod signals;
pub mod sweep;
pub mod tensorboard;
pub mod throughput;
pub mod training;
