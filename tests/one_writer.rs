//! One process writes a run folder at a time: a second `train --out` into it, a `--resume`
//! of a run still training and a sweep resumed twice are refused in one line naming the
//! process that holds it; a killed holder leaves no stale lock; readers are never blocked.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support;
use support::{
    Running, TrainArgs, assert_one_line_error, binary, config, output_within, read_metrics, run_in,
    succeed, text, wait_for,
};

/// Starts `mnist-burn args...` in `work`, its output piped.
fn start(work: &Path, args: &[&str]) -> Running {
    Running::new(
        Command::new(binary())
            .args(args)
            .current_dir(work)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    )
}

/// The seed config with batches of 5: about a second an epoch, long enough to meet it running.
fn slow_run(out: &str, epochs: &str) -> TrainArgs {
    TrainArgs::shipped("seed")
        .set(epochs)
        .set("data.batch_size=5")
        .out(out)
        .plain()
}

/// The refusal: one line, naming the folder and the holder's process id.
fn assert_refused_by(output: &Output, folder: &str, holder: u32) {
    assert_one_line_error(
        output,
        1,
        &format!("{folder}: another process (pid {holder}) is writing this folder"),
    );
}

#[test]
fn a_second_run_into_a_folder_being_trained_is_refused_naming_the_first() {
    let work = tempfile::tempdir().unwrap();
    let first = start(work.path(), &slow_run("shared", "epochs=2").list());
    wait_for(
        &work.path().join("shared/run.toml"),
        "status = \"running\"",
        60,
    );
    for force in [false, true] {
        let args = slow_run("shared", "epochs=2").flags(force.then_some("--force"));
        assert_refused_by(&run_in(work.path(), &args.list()), "shared", first.id());
    }
    let output = first.finish(120);
    assert!(output.status.success(), "{:?}", text(&output));
    assert_eq!(read_metrics(&work.path().join("shared")).len(), 2);
}

#[test]
fn two_runs_started_together_on_one_new_folder_never_both_train_into_it() {
    let work = tempfile::tempdir().unwrap();
    let both = TrainArgs::shipped("smoke")
        .set("epochs=2")
        .out("both")
        .plain();
    let args = both.list();
    let runs = [start(work.path(), &args), start(work.path(), &args)];
    let outputs: Vec<Output> = runs.into_iter().map(|run| run.finish(120)).collect();
    let succeeded = outputs.iter().filter(|o| o.status.success()).count();
    assert_eq!(
        succeeded,
        1,
        "{:?}",
        outputs.iter().map(text).collect::<Vec<_>>()
    );
    let refused = outputs.iter().find(|o| !o.status.success()).unwrap();
    let (_, stderr) = text(refused);
    // Whichever came second meets the first training, or its finished folder.
    assert!(
        stderr.contains("is writing this folder") || stderr.contains("is not empty"),
        "{stderr}"
    );
    assert_eq!(read_metrics(&work.path().join("both")).len(), 2);
}

#[test]
fn resuming_a_run_that_is_still_training_is_refused_and_reading_it_is_not() {
    let work = tempfile::tempdir().unwrap();
    let first = start(work.path(), &slow_run("busy", "epochs=3").list());
    wait_for(&work.path().join("busy/metrics.csv"), "\n1,", 60);
    let resume = run_in(work.path(), &TrainArgs::resume("busy").plain().list());
    assert_refused_by(&resume, "busy", first.id());
    // Readers do not take the lock: the run is listed while it trains.
    let listed = succeed(work.path(), &["runs", ".", "--json"]);
    assert!(listed.contains("\"busy\""), "{listed}");
    let output = first.finish(120);
    assert!(output.status.success(), "{:?}", text(&output));
}

/// The kernel drops a lock with its process: a run killed outright resumes at once.
#[test]
fn a_run_killed_with_sigkill_leaves_no_lock_behind() {
    let work = tempfile::tempdir().unwrap();
    let mut killed = start(work.path(), &slow_run("killed", "epochs=2").list());
    wait_for(&work.path().join("killed/metrics.csv"), "\n1,", 60);
    killed.kill();
    let resumed = run_in(work.path(), &TrainArgs::resume("killed").plain().list());
    let (stdout, stderr) = text(&resumed);
    assert!(resumed.status.success(), "{stdout}\n{stderr}");
    assert_eq!(read_metrics(&work.path().join("killed")).len(), 2);
}

#[test]
fn a_sweep_resumed_while_it_runs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // The seed config in batches of 5, 40 epochs: a trial still runs when it is met (an epoch
    // takes about a second; the sweep is interrupted long before the end).
    let base = config("seed");
    let file = dir.path().join("sweep.toml");
    fs::write(
        &file,
        format!(
            "base = {:?}\n[set]\nepochs = 40\n\"data.batch_size\" = 5\n\
             [grid]\n\"optimizer.lr\" = [0.01, 0.02]\n",
            base.display().to_string()
        ),
    )
    .unwrap();
    let sweep = start(
        dir.path(),
        &[
            "sweep",
            file.to_str().unwrap(),
            "--out",
            "out",
            "--jobs",
            "1",
        ],
    );
    wait_for(&dir.path().join("out/trial-001/metrics.csv"), "\n1,", 120);
    let again = run_in(dir.path(), &["sweep", "--resume", "out"]);
    assert_refused_by(&again, "out", sweep.id());
    let trial = run_in(dir.path(), &TrainArgs::resume("out/trial-001").list());
    let (_, stderr) = text(&trial);
    assert!(stderr.contains("is writing this folder"), "{stderr}");
    let mut kill = Command::new("kill");
    kill.args(["-INT", &sweep.id().to_string()]);
    assert!(output_within(kill, 10).status.success());
    let output = sweep.finish(120);
    assert_eq!(output.status.code(), Some(130), "{:?}", text(&output));
}
