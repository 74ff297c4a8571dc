//! mnist-burn in the browser: a config in the project's TOML, the four MNIST files checked
//! against the digests the CLI checks, and the same model, initial weights, shuffle order,
//! batches, optimiser and schedule as a native run, stepped here instead of by Burn's
//! `Learner` (which does not build for WebAssembly).
#![cfg(target_arch = "wasm32")]

mod device;
mod tally;
mod trainer;

pub use trainer::Trainer;
