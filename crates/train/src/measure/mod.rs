//! Measuring tools: the data's facts, backend parity, the step profile, throughput by batch
//! size and the learning-rate range test. They train through `training/` and draw with
//! `charts/`.

mod inspect;
mod lr_find;
mod parity;
pub(crate) mod profile;
mod profile_report;
mod throughput;

pub use inspect::{BatchFacts, Facts, chosen, draw_in_terminal};
pub use lr_find::{Range, find_learning_rate};
pub use parity::{ParityReport, TOLERANCE, Trajectory, trajectories};
pub use profile::{StepProfile, profile};
pub use throughput::{BATCH_SIZES, ThroughputPoint, measure_throughput, throughput_chart};
