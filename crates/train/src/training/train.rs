//! One training run, step by step: read the splits, claim the folder, announce, fit, judge how
//! it ended, keep the selected epoch and write what a run leaves behind.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::anyhow;
use burn::module::Module;
use burn::prelude::Device;
use mnist_config::ExperimentConfig;
use mnist_data::{ImageSet, Split};
use mnist_model::LogisticRegression;
use mnist_runs::{
    MODEL_STEM, RunFolder, RunRecord, RunStatus, TrainedModel, WEIGHTS_FILE, claim_run_dir,
};

use crate::run::manifest::environment;
use crate::training::ending::{self, RunEnd};
use crate::training::fit::{Evaluated, Fit, fit};
use crate::training::history::History;
use crate::training::request::{ProgressView, RunDir, RunOutcome, RunRequest};
use crate::training::selection;

/// Trains as `request` says and writes the run folder.
pub fn train(request: &RunRequest) -> anyhow::Result<RunOutcome> {
    let started = Instant::now();
    let config = request.config;
    let device = request.backend.usable_device()?;
    let (train_split, validation_split, test_split) = read_splits(config)?;
    // Kept to choose the confidence threshold on once the model is final (4 MB by default).
    let held_out = validation_split.clone();

    let claimed;
    let lock = match request.run_dir {
        RunDir::New { out, force } => {
            claimed = claim_run_dir(out, request.name, force)?;
            &claimed
        }
        RunDir::Locked(lock) => lock,
    };
    let folder = RunFolder::create(lock, config)?;
    let mut record = RunRecord {
        train_items: train_split.len(),
        validation_items: validation_split.as_ref().map_or(0, ImageSet::len),
        test_items: test_split.len(),
        epochs_completed: request.completed.len(),
        environment: Some(environment(config, request.backend, format!("{device:?}"))),
        ..RunRecord::begun(
            request.name.to_string(),
            request.config_path.to_path_buf(),
            request.backend.name().to_string(),
            format!("{device:?}"),
        )
    };
    folder.write_record(&record)?;

    let show_dashboard = request.progress == ProgressView::Auto && std::io::stdout().is_terminal();
    if !show_dashboard {
        announce(request, &record, &device);
    }
    let history = Arc::new(Mutex::new(History {
        epochs: request.completed.clone(),
        ..History::default()
    }));
    let evaluated = Evaluated {
        validation: validation_split,
        test: test_split,
    };
    let result = fit(
        request,
        Fit {
            device: &device,
            train_split,
            evaluated,
            run_dir: folder.path(),
            show_dashboard,
            history: &history,
        },
    );
    let history = std::mem::take(&mut *history.lock().expect("history lock"));

    record.epochs_completed = history.epochs.len();
    record.wall_seconds = Some(started.elapsed().as_secs_f64());
    record.peak_rss_mib = peak_rss_mib();
    let end = match ending::judge(&result, &history, config, folder.path()) {
        Ok(end) => end,
        Err(error) => {
            record.status = if error.is::<ending::Diverged>() {
                RunStatus::Diverged
            } else {
                RunStatus::Failed
            };
            // Best effort: the error being reported matters more than this record.
            let _ = folder.write_record(&record);
            return Err(error);
        }
    };
    record.status = match end {
        RunEnd::Finished => RunStatus::Finished,
        RunEnd::Interrupted => RunStatus::Interrupted,
        RunEnd::Pruned => RunStatus::Pruned,
    };
    let stopping = config
        .early_stopping
        .as_ref()
        .filter(|_| end == RunEnd::Finished);
    let (model, selected) = selection::keep(
        result.model,
        stopping,
        config.epochs,
        &history.epochs,
        folder.path(),
        &mut record,
    )?;
    if end == RunEnd::Pruned {
        record.stop_reason = history.pruned.clone();
    }
    if let Some(validation) = held_out.filter(|_| end == RunEnd::Finished) {
        let trained = TrainedModel::of_run(config, model.clone(), folder.path());
        record.confidence = trained.confidence_on(&validation, &device);
    }
    save_model(request, &folder, model, &history)?;
    folder.write_record(&record)?;
    Ok(RunOutcome {
        run_dir: folder.into_path(),
        epochs: history.epochs,
        seconds: started.elapsed().as_secs_f64(),
        end,
        selected,
        stop_reason: record.stop_reason,
    })
}

/// The training split (less the validation split, if the config holds one out) and the test
/// split, read, checked and (if configured) deskewed side by side.
fn read_splits(
    config: &ExperimentConfig,
) -> anyhow::Result<(ImageSet, Option<ImageSet>, ImageSet)> {
    let (training, test) = std::thread::scope(|scope| {
        let test = scope.spawn(|| config.data.images(Split::Test));
        let training = config.data.training_images(config.seed);
        (
            training,
            test.join().expect("the test split's loader panicked"),
        )
    });
    let (train, validation) = training?;
    Ok((train, validation, test?))
}

/// The run's first line when no dashboard shows it.
fn announce(request: &RunRequest, record: &RunRecord, device: &Device) {
    let config = request.config;
    let devices = match config.devices {
        1 => String::new(),
        devices => format!(" on each of {devices} devices"),
    };
    let resuming = match request.completed.len() {
        0 => String::new(),
        done => format!(", resuming after epoch {done}"),
    };
    let validation = match record.validation_items {
        0 => String::new(),
        items => format!("{items} validation / "),
    };
    say!(
        "Training `{}` on {} ({:?}): {} train / {validation}{} test images, {} epochs, batch {}{devices}{resuming}",
        request.name,
        request.backend,
        device,
        record.train_items,
        record.test_items,
        config.epochs,
        config.data.batch_size,
    );
}

/// `model.bpk`, its weight templates and the learning curves.
fn save_model(
    request: &RunRequest,
    folder: &RunFolder,
    model: LogisticRegression,
    history: &History,
) -> anyhow::Result<()> {
    let config = request.config;
    let weights = model.weight_values();
    let model_path = folder.file(MODEL_STEM);
    model
        .into_record()
        .save(&model_path)
        .map_err(|error| anyhow!("{}: cannot save the model: {error}", model_path.display()))?;
    let label = format!("{} on {}", request.name, request.backend);
    if !history.epochs.is_empty() {
        mnist_runs::learning_curves(folder.path(), &[(label, history.epochs.clone())])?;
    }
    mnist_runs::weight_templates(
        &folder.file(WEIGHTS_FILE),
        &weights,
        config.data.dataset.class_names(),
    )?;
    Ok(())
}

/// The process's peak resident memory in MiB (`VmHWM` in `/proc/self/status`), where known.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
