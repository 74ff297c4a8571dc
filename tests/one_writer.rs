//! One process writes a run folder at a time: a second `train --out` into it, a `--resume`
//! of a run still training and a sweep resumed twice are refused in one line naming the
//! process that holds it; a killed holder leaves no stale lock; readers are never blocked.

use std::fs;
use std::process::Output;

use crate::support;
use support::{
    Running, TrainArgs, assert_one_line_error, config, poll, read_metrics, run_in, start, succeed,
    text, wait_for,
};

/// The seed config with batches of 5 (about a second an epoch) for the most epochs a config
/// allows (more than a day): every check meets it running, whatever the machine's speed, and
/// the test ends it with [`interrupt`].
fn endless_run(out: &str) -> TrainArgs {
    TrainArgs::shipped("seed")
        .set("epochs=100000")
        .set("data.batch_size=5")
        .out(out)
        .plain()
}

/// Stops a run with Ctrl-C's signal: it ends at once, interrupted, its folder resumable.
fn interrupt(run: Running) -> Output {
    run.signal("INT");
    let output = run.finish(120);
    assert_eq!(output.status.code(), Some(130), "{:?}", text(&output));
    output
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
    let first = start(work.path(), &endless_run("shared").list());
    wait_for(
        &work.path().join("shared/run.toml"),
        "status = \"running\"",
        60,
    );
    for force in [false, true] {
        let args = endless_run("shared").flags(force.then_some("--force"));
        assert_refused_by(&run_in(work.path(), &args.list()), "shared", first.id());
    }
    interrupt(first);
    let record = fs::read_to_string(work.path().join("shared/run.toml")).unwrap();
    assert!(record.contains("status = \"interrupted\""), "{record}");
}

/// Two runs started at once on one new folder: one trains, the other is refused by the lock
/// (both run for as long as the test lets them, so the refusal can only be the lock's, never
/// a finished folder's `not empty`).
#[test]
fn two_runs_started_together_on_one_new_folder_never_both_train_into_it() {
    let work = tempfile::tempdir().unwrap();
    let args = endless_run("both");
    let mut runs = [
        start(work.path(), &args.list()),
        start(work.path(), &args.list()),
    ];
    let refused = poll(
        120,
        || runs.iter_mut().position(Running::has_ended),
        || "neither run was refused".into(),
    );
    let [first, second] = runs;
    let (refused, trained) = if refused == 0 {
        (first, second)
    } else {
        (second, first)
    };
    // The loser may read the lock before the winner has written its pid into it.
    assert_one_line_error(&refused.finish(10), 1, "is writing this folder");
    // The winner trains into the folder until it is stopped.
    let record = work.path().join("both/run.toml");
    wait_for(&record, "status = \"running\"", 60);
    interrupt(trained);
    let record = fs::read_to_string(record).unwrap();
    assert!(record.contains("status = \"interrupted\""), "{record}");
}

#[test]
fn resuming_a_run_that_is_still_training_is_refused_and_reading_it_is_not() {
    let work = tempfile::tempdir().unwrap();
    let first = start(work.path(), &endless_run("busy").list());
    wait_for(&work.path().join("busy/metrics.csv"), "\n1,", 60);
    let resume = run_in(work.path(), &TrainArgs::resume("busy").plain().list());
    assert_refused_by(&resume, "busy", first.id());
    // Readers do not take the lock: the run is listed while it trains.
    let listed = succeed(work.path(), &["runs", ".", "--json"]);
    assert!(listed.contains("\"busy\""), "{listed}");
    interrupt(first);
}

/// The kernel drops a lock with its process: a run killed outright resumes at once.
#[test]
fn a_run_killed_with_sigkill_leaves_no_lock_behind() {
    let work = tempfile::tempdir().unwrap();
    let mut killed = start(work.path(), &endless_run("killed").list());
    wait_for(&work.path().join("killed/metrics.csv"), "\n1,", 60);
    killed.kill();
    // One epoch more than the killed run kept.
    let epochs = read_metrics(&work.path().join("killed")).len() + 1;
    let resumed = run_in(
        work.path(),
        &TrainArgs::resume("killed")
            .set(&format!("epochs={epochs}"))
            .plain()
            .list(),
    );
    let (stdout, stderr) = text(&resumed);
    assert!(resumed.status.success(), "{stdout}\n{stderr}");
    assert_eq!(read_metrics(&work.path().join("killed")).len(), epochs);
}

#[test]
fn a_sweep_resumed_while_it_runs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Endless trials (see `endless_run`): the first still runs whenever it is met.
    let base = config("seed");
    let file = dir.path().join("sweep.toml");
    fs::write(
        &file,
        format!(
            "base = {:?}\n[set]\nepochs = 100000\n\"data.batch_size\" = 5\n\
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
    interrupt(sweep);
}
