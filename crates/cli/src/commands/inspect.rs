//! `mnist-burn inspect`: the data as the configured pipeline sees it.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
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
    let (config, config_name) = match &args.config {
        Some(path) => (
            ExperimentConfig::load(path, &[])?,
            path.display().to_string(),
        ),
        None => (ExperimentConfig::new(), "the built-in defaults".to_string()),
    };
    let dataset = args.dataset.unwrap_or(config.data.dataset);
    let train = ImageSet::load(dataset, Split::Train)?;
    let test = ImageSet::load(dataset, Split::Test)?;
    let shown = Arc::new(match args.split {
        Split::Train => train.clone(),
        Split::Test => test.clone(),
    });
    let indices = mnist_train::chosen(&shown, &args.indices, args.count).map_err(Usage)?;
    // What the model is given: the same images deskewed when the config says so.
    let seen = Arc::new(if config.data.deskew {
        (*shown).clone().deskewed()
    } else {
        (*shown).clone()
    });
    if indices.is_empty() {
        return Err(Usage("-n must be at least 1: there is nothing to show".into()).into());
    }
    let facts = mnist_train::Facts {
        source: dataset.source()?,
        train: &train,
        test: &test,
        shown: &shown,
        indices: &indices,
        batch: mnist_train::BatchFacts::build(&seen, &indices, &config.data, config_name),
    };
    mnist_output::write(format_args!("{}", facts.summary()));
    let names = dataset.class_names();
    let mut images: Vec<(&[u8], String)> = indices
        .iter()
        .map(|&index| {
            let label = names[usize::from(shown.label(index))];
            (shown.image(index), format!("#{index}: {label}"))
        })
        .collect();
    if config.data.deskew {
        images.extend(
            indices
                .iter()
                .map(|&index| (seen.image(index), format!("#{index} deskewed"))),
        );
    }
    say!();
    mnist_output::write(format_args!(
        "{}",
        mnist_train::draw_in_terminal(&images, 3)
    ));
    let out = args.out.unwrap_or_else(|| {
        PathBuf::from("inspect").join(format!("{}-{}.png", dataset.name(), args.split.name()))
    });
    if let Some(folder) = out.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("{}: cannot create", folder.display()))?;
    }
    let title = if config.data.deskew {
        format!(
            "{} {} images, then deskewed",
            dataset.name(),
            args.split.name()
        )
    } else {
        format!("{} {} images", dataset.name(), args.split.name())
    };
    mnist_runs::image_grid(&out, &title, &images)?;
    say!("\nWrote {}", out.display());
    Ok(())
}
