//! `mnist-burn inspect`: the data as the configured pipeline sees it.

use std::path::PathBuf;
use std::sync::Arc;

use mnist_data::{DatasetKind, ImageSet, Split};

use mnist_train::{ExperimentConfig, Usage};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Experiment config whose dataset and batcher (pixel scaling) to show (default: the
    /// built-in defaults).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// `mnist` or `fashion-mnist` (default: the config's dataset).
    #[arg(long)]
    dataset: Option<DatasetKind>,
    /// The split the images come from: `train` or `test`.
    #[arg(long, default_value = "train")]
    split: Split,
    /// How many of the first images to show.
    #[arg(long, short = 'n', default_value_t = 10)]
    count: usize,
    /// Show these images instead of the first ones (repeatable): --index 0 --index 1.
    #[arg(long = "index")]
    indices: Vec<usize>,
    /// Where to write the PNG grid (default inspect/<dataset>-<split>.png: not among the runs).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn exec(args: Args) -> anyhow::Result<()> {
    let (config, config_name) = config_of(&args)?;
    let dataset = args.dataset.unwrap_or(config.data.dataset);
    let train = ImageSet::load(dataset, Split::Train)?;
    let test = ImageSet::load(dataset, Split::Test)?;
    let shown = Arc::new(match args.split {
        Split::Train => train.clone(),
        Split::Test => test.clone(),
    });
    let indices = mnist_train::chosen(&shown, &args.indices, args.count).map_err(Usage)?;
    if indices.is_empty() {
        return Err(Usage("-n must be at least 1: there is nothing to show".into()).into());
    }
    // What the model is given: the same images deskewed when the config says so.
    let deskewed = config
        .data
        .deskew
        .then(|| Arc::new((*shown).clone().deskewed()));
    let seen = deskewed.clone().unwrap_or_else(|| shown.clone());
    let facts = mnist_train::Facts {
        source: dataset.source()?,
        train: &train,
        test: &test,
        shown: &shown,
        deskewed: deskewed.as_deref(),
        indices: &indices,
        batch: mnist_train::BatchFacts::build(&seen, &indices, &config.data, config_name),
    };
    let pictures = facts.pictures();
    mnist_output::write(format_args!("{}", facts.summary()));
    say!();
    let drawn = mnist_train::draw_in_terminal(&pictures, 3);
    mnist_output::write(format_args!("{drawn}"));
    let out = picture_path(&args, dataset)?;
    mnist_runs::image_grid(&out, &facts.title(args.split.name()), &pictures)?;
    say!("\nWrote {}", out.display());
    Ok(())
}

/// `--config` and how to name it, or the built-in defaults.
fn config_of(args: &Args) -> anyhow::Result<(ExperimentConfig, String)> {
    Ok(match &args.config {
        Some(path) => (
            ExperimentConfig::load(path, &[])?,
            path.display().to_string(),
        ),
        None => (ExperimentConfig::new(), "the built-in defaults".to_string()),
    })
}

/// Where the grid is drawn (`--out`, or `inspect/<dataset>-<split>.png`), its folder made.
fn picture_path(args: &Args, dataset: DatasetKind) -> anyhow::Result<PathBuf> {
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("inspect").join(format!("{}-{}.png", dataset.name(), args.split.name()))
    });
    if let Some(folder) = out.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        mnist_runs::create_folder(folder)?;
    }
    Ok(out)
}
