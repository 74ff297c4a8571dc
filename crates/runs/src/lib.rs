//! A run folder and what it holds, for everything that reads or writes one (the trainer, the
//! binary, the page): the format (`run.toml`, `metrics.csv`, `config.toml`, `model.bpk`), one
//! writer at a time, the index of a folder of runs, a trained model loaded from one (predict,
//! evaluate, calibrate) and the charts it leaves. Needs Burn's tensors, not its `Learner`.

mod calibration;
mod charts;
mod environment;
mod evaluate;
mod files;
mod folder;
mod index;
mod listing;
mod lock;
mod metrics;
mod mistakes;
mod trained;

// The format: files, the record, metrics, and how each is written.
pub use environment::{DataFile, Environment};
pub use files::{CreateError, WriteError, create_folder, write_atomic, write_file};
pub use folder::{
    CONFIG_FILE, METRICS_FILE, MODEL_STEM, RUN_FILE, RunDirError, RunFolder, RunFolderError,
    RunRecord, RunStatus, WEIGHTS_FILE, claim_run_dir,
};
pub use lock::{FolderLock, LOCK_FILE, LockError, writer_of};
pub use metrics::{EpochMetrics, read_metrics_csv, readable, write_metrics_csv};

// A folder of runs.
pub use index::{ListedStatus, RunSummary, find_run, list_runs, model_file, summarise};
pub use listing::{ListedRun, RunOrder, listed_runs, runs_table};

// A trained model: predicting, evaluating, calibrating.
pub use calibration::{Confidence, Reliability, Scored, top_two};
pub use evaluate::{ClassReport, Confusion, Evaluation, MISCLASSIFIED_FILE, RELIABILITY_FILE};
pub use trained::{TrainedModel, probabilities};

// Charts: the one set-up every figure shares, and the figures of a run.
pub use charts::{
    Canvas, DrawResult, FONT_NAME, PALETTE, Series, bar_chart, confusion_matrix, draw_legend,
    image_grid, learning_curves, legend_line, line_chart, line_frame, reliability_diagram, render,
    weight_templates,
};
