//! Runs a sweep's trials as ordinary `mnist-burn train` processes, several at a time, each in
//! its own run folder. Ctrl-C (or SIGTERM) reaches the sweep only (the trials run in their
//! own process group); it passes SIGINT on to every running trial, which finishes its step
//! and records itself as interrupted, and starts no new one.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::spec::{SweepPlan, Trial};
use super::{BASE_FILE, PLAN_FILE, TRIAL_LOG};
use crate::backend::BackendKind;
use mnist_runs::read_metrics_csv;
use mnist_runs::writer_of;
use mnist_runs::{ListedStatus, RunSummary, summarise};
use mnist_runs::{METRICS_FILE, RUN_FILE};

/// How trials are run.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Trials at a time.
    pub jobs: usize,
    /// CPU threads each trial's backend may use (`RAYON_NUM_THREADS`).
    pub threads_per_trial: usize,
    pub backend: Option<BackendKind>,
}

/// Whether a trial has ended (finished, diverged, failed or pruned): nothing is left to run.
/// One not started, cut short or interrupted has not.
pub fn is_done(summary: &RunSummary) -> bool {
    matches!(
        summary.status,
        ListedStatus::Finished
            | ListedStatus::Diverged
            | ListedStatus::Failed
            | ListedStatus::Pruned
    )
}

/// The `mnist-burn` arguments that run (or continue) `trial` in `sweep_dir`, relative to it;
/// `backend` applies to a fresh trial (a resumed one keeps the backend it started on).
pub fn train_arguments(
    plan: &SweepPlan,
    trial: &Trial,
    sweep_dir: &Path,
    backend: Option<BackendKind>,
) -> Vec<String> {
    let trial_dir = sweep_dir.join(&trial.id);
    let summary = summarise(&trial_dir, trial.id.clone());
    let resumable = trial_dir.join(RUN_FILE).is_file()
        && matches!(
            summary.status,
            ListedStatus::Interrupted | ListedStatus::Running
        )
        && summary.epochs_completed > 0;
    let mut arguments: Vec<String> = vec!["train".into()];
    if plan.prune.is_some() {
        arguments.extend(["--prune-with".into(), PLAN_FILE.into()]);
    }
    if resumable {
        arguments.extend(["--resume".into(), trial.id.clone(), "--plain".into()]);
        return arguments;
    }
    arguments.extend(["--config".into(), BASE_FILE.into()]);
    for assignment in plan.fixed.iter().cloned().chain(trial.overrides()) {
        arguments.extend(["--set".into(), assignment]);
    }
    arguments.extend([
        "--out".into(),
        trial.id.clone(),
        "--force".into(),
        "--plain".into(),
    ]);
    if let Some(backend) = backend {
        arguments.extend(["--backend".into(), backend.name().into()]);
    }
    arguments
}

struct Running {
    trial: Trial,
    child: Child,
    started: Instant,
}

/// Runs every trial of `plan` that is not done; returns whether the sweep was interrupted.
pub fn run_pending(
    plan: &SweepPlan,
    sweep_dir: &Path,
    options: &RunnerOptions,
) -> anyhow::Result<bool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("cannot watch for Ctrl-C")?;
    let mut queue = VecDeque::new();
    for trial in &plan.trials {
        let dir = sweep_dir.join(&trial.id);
        // A trial another process trains (a cluster's task, say) is left to it.
        if let Some(pid) = writer_of(&dir) {
            let holder = pid.map_or(String::new(), |pid| format!(" (pid {pid})"));
            say!(
                "{} is being trained by another process{holder}: left to it",
                trial.id
            );
        } else if !is_done(&summarise(&dir, trial.id.clone())) {
            queue.push_back(trial.clone());
        }
    }
    let total = queue.len();
    let (binary, live) = (std::env::current_exe()?, std::io::stdout().is_terminal());
    say!(
        "{} trials to run, {} at a time, in {}",
        total,
        options.jobs,
        sweep_dir.display()
    );
    let mut running: Vec<Running> = Vec::new();
    let (mut finished, mut forwarded) = (0, false);
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        while !stopping && running.len() < options.jobs {
            let Some(trial) = queue.pop_front() else {
                break;
            };
            let child = spawn(&binary, plan, &trial, sweep_dir, options)?;
            running.push(Running {
                trial,
                child,
                started: Instant::now(),
            });
        }
        if stopping && !forwarded {
            running.iter().for_each(interrupt);
            forwarded = true;
        }
        let mut index = 0;
        while index < running.len() {
            if running[index].child.try_wait()?.is_none() {
                index += 1;
                continue;
            }
            let done = running.swap_remove(index);
            finished += 1;
            if live {
                print!("\r\x1b[K");
            }
            say!("{}", finished_line(&done, sweep_dir, finished, total));
        }
        if running.is_empty() && (queue.is_empty() || stopping) {
            break;
        }
        if live {
            print!("\r\x1b[K{}", status_line(&running, sweep_dir, queue.len()));
            std::io::stdout().flush().ok();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(stop.load(Ordering::SeqCst))
}

fn spawn(
    binary: &Path,
    plan: &SweepPlan,
    trial: &Trial,
    sweep_dir: &Path,
    options: &RunnerOptions,
) -> anyhow::Result<Child> {
    let trial_dir = sweep_dir.join(&trial.id);
    std::fs::create_dir_all(&trial_dir)
        .with_context(|| format!("{}: cannot create", trial_dir.display()))?;
    let log_path = trial_dir.join(TRIAL_LOG);
    let log = File::options()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("{}: cannot write", log_path.display()))?;
    let mut command = Command::new(binary);
    command
        .args(train_arguments(plan, trial, sweep_dir, options.backend))
        .current_dir(sweep_dir)
        .env("RAYON_NUM_THREADS", options.threads_per_trial.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))
}

/// Asks a trial to stop after its current step, as Ctrl-C would.
fn interrupt(running: &Running) {
    #[cfg(unix)]
    {
        use rustix::process::{Pid, Signal, kill_process};
        kill_process(Pid::from_child(&running.child), Signal::INT).ok();
    }
    #[cfg(not(unix))]
    let _ = running;
}

/// `[3/12] trial-003 finished  92.41%  optimizer.lr=0.01  12.3 s`
fn finished_line(done: &Running, sweep_dir: &Path, finished: usize, total: usize) -> String {
    let summary = summarise(&sweep_dir.join(&done.trial.id), done.trial.id.clone());
    let accuracy = summary
        .final_test_accuracy
        .map_or("-".into(), |accuracy| format!("{accuracy:.2}%"));
    let status = match summary.status {
        ListedStatus::Incomplete => format!("failed (see {}/{TRIAL_LOG})", done.trial.id),
        status => status.name().to_string(),
    };
    format!(
        "[{finished}/{total}] {} {status}  test acc {accuracy}  {}  {:.1} s",
        done.trial.id,
        done.trial.overrides().join(" "),
        done.started.elapsed().as_secs_f64()
    )
}

/// `running: trial-004 epoch 2/3, trial-005 epoch 1/3; 6 waiting`
fn status_line(running: &[Running], sweep_dir: &Path, waiting: usize) -> String {
    let trials: Vec<String> = running
        .iter()
        .map(|run| {
            let metrics: PathBuf = sweep_dir.join(&run.trial.id).join(METRICS_FILE);
            let epochs = read_metrics_csv(&metrics).map_or(0, |rows| rows.len());
            format!("{} epoch {}", run.trial.id, epochs + 1)
        })
        .collect();
    format!("running: {}; {waiting} waiting", trials.join(", "))
}
