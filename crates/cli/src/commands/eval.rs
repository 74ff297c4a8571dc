//! `mnist-burn eval`: a trained model on the test images its run used.

use std::path::PathBuf;

use mnist_data::Split;

use mnist_runs::TrainedModel;
use mnist_train::BackendKind;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A run folder, or a model file (.bpk) inside one (its final model or a checkpoint).
    #[arg(value_name = "RUN_DIR|MODEL_FILE")]
    model: PathBuf,
    /// Backend to run the model on (default: the first compiled one).
    #[arg(long, short, value_parser = crate::values::backend())]
    backend: Option<BackendKind>,
    /// Where to write the evaluation files (default: the run folder).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write every test image's class probabilities as probabilities.csv (to compare
    /// with another runtime, e.g. an exported model).
    #[arg(long)]
    probabilities: bool,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let backend = BackendKind::or_preferred(args.backend)?;
    let device = backend.usable_device()?;
    let trained = TrainedModel::load(&args.model, &device)?;
    // The test images the run measured itself on, so the accuracies compare.
    let test = trained.config.data.images(Split::Test)?;
    say!(
        "Evaluating {} on the {} test split ({} images) with {backend}",
        trained.weights_file.display(),
        trained.dataset().name(),
        test.len()
    );
    let evaluation = trained.evaluate(&test, &device);
    mnist_output::write(format_args!("{}", evaluation.report()));
    let out = args.out.unwrap_or_else(|| trained.run_dir.clone());
    mnist_runs::create_folder(&out)?;
    let title = format!(
        "Confusion matrix: {} ({:.2}% on {} test images)",
        trained.weights_file.display(),
        evaluation.accuracy,
        evaluation.images
    );
    evaluation.write(&out, &title)?;
    if args.probabilities {
        let path = out.join("probabilities.csv");
        mnist_runs::write_file(&path, trained.probabilities_csv(&test, &device).as_bytes())?;
        say!("Wrote {}", path.display());
    }
    say!(
        "\nWrote eval.json, confusion.csv, predictions.csv, confusion.png, {} and {} in {}",
        mnist_runs::RELIABILITY_FILE,
        mnist_runs::MISCLASSIFIED_FILE,
        out.display()
    );
    Ok(())
}
