//! The end-to-end suite, one test binary: each module runs `mnist-burn` (the binary cargo
//! builds for this test target of its package, `CARGO_BIN_EXE_mnist-burn`) or the library on
//! the real MNIST files, one module per concern; `support` holds what they share.

mod support;

mod backends;
mod cli;
mod dashboard;
mod docs_figures;
mod generated_configs;
mod insight;
mod interchange;
mod one_writer;
mod pictures;
mod pruning;
mod recipes;
mod reliability;
mod serve;
mod serve_api;
mod slurm;
mod sweep;
mod web;
