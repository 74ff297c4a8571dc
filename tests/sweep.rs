//! Sweeps end to end: validation before anything runs, trials in parallel, a diverging trial
//! recorded and passed over, Ctrl-C and `--resume`, the results, the `runs` table, and the
//! TensorBoard files read back by TensorBoard itself.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support;

use support::{
    COMMAND_SECONDS, TrainArgs, assert_one_line_error, binary, can_run, config, output_within,
    python_with, run_in, signal_while_held, succeed, wait_for, writer_of,
};

/// A sweep file over the smoke config with `body` (its [set]/[grid]/[random] tables).
fn sweep_file(dir: &Path, body: &str) -> String {
    let text = format!("base = {:?}\n{body}", config("smoke").display().to_string());
    fs::write(dir.join("sweep.toml"), text).unwrap();
    "sweep.toml".into()
}

#[test]
fn every_bad_trial_is_named_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(
        dir.path(),
        "[grid]\n\"optimizer.lr\" = [0.01, -1.0]\n\"data.batch_size\" = [32, 0]\n",
    );
    let output = run_in(dir.path(), &["sweep", &file, "--out", "out"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    // Trials 2, 3 and 4 have a bad value each (the keys vary in name order, the last fastest);
    // the last line sums up.
    assert_eq!(lines.len(), 4, "{stderr}");
    assert!(
        lines[0].contains("sweep.toml: trial-002 (data.batch_size=32 optimizer.lr=-1.0)"),
        "{stderr}"
    );
    assert!(lines[0].contains("`optimizer.lr` must be"), "{stderr}");
    assert!(
        lines[1].contains("trial-003") && lines[1].contains("`data.batch_size` must be"),
        "{stderr}"
    );
    assert!(lines[3].contains("3 mistake(s)"), "{stderr}");
    assert!(!dir.path().join("out").exists() && !dir.path().join("runs").exists());

    sweep_file(
        dir.path(),
        "[random]\ntrials = 2\n[random.keys]\n\"optimizer.lr\" = { log_uniform = [0.0, 1.0] }\n",
    );
    assert_one_line_error(&run_in(dir.path(), &["sweep", &file]), 2, "0 < low < high");
}

#[test]
fn trials_run_in_parallel_and_a_diverging_one_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(
        dir.path(),
        "[set]\nepochs = 5\n[grid]\n\"optimizer.lr\" = [0.01, 1e38, 0.003]\n",
    );
    let stdout = succeed(dir.path(), &["sweep", &file, "--out", "out", "--jobs", "2"]);
    assert!(stdout.contains("3 trials to run, 2 at a time"), "{stdout}");
    assert!(
        stdout.contains("Ranked by test accuracy: the base config holds no validation split"),
        "{stdout}"
    );
    let out = dir.path().join("out");
    let record = |trial: &str| fs::read_to_string(out.join(trial).join("run.toml")).unwrap();
    // When each trial ran: from the creation of its train.log, which the runner opens just
    // before it starts the trial, to the last write of its run.toml, at the trial's end.
    // (Where the file system keeps no creation time, from the start of training.)
    let seconds = |time: std::time::SystemTime| {
        time.duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    let span = |trial: &str| {
        let ended = seconds(
            fs::metadata(out.join(trial).join("run.toml"))
                .unwrap()
                .modified()
                .unwrap(),
        );
        let run: toml::Table = record(trial).parse().unwrap();
        let began = fs::metadata(out.join(trial).join("train.log"))
            .unwrap()
            .created()
            .map_or_else(|_| ended - run["wall_seconds"].as_float().unwrap(), seconds);
        (began, ended)
    };
    // Two ran at the same time: trial-001 beside trial-002, or beside trial-003 that took
    // the diverging trial-002's place.
    let spans = ["trial-001", "trial-002", "trial-003"].map(span);
    let overlap = |a: (f64, f64), b: (f64, f64)| a.0 < b.1 && b.0 < a.1;
    assert!(
        overlap(spans[0], spans[1]) || overlap(spans[0], spans[2]),
        "{spans:?}"
    );
    assert!(
        record("trial-002").contains("status = \"diverged\""),
        "{}",
        record("trial-002")
    );
    for trial in ["trial-001", "trial-003"] {
        assert!(record(trial).contains("status = \"finished\""));
    }
    // Ranked by accuracy, the diverged trial last; best.toml is the winner's config.
    let csv = fs::read_to_string(out.join("results.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|line| line.split(',').collect())
        .collect();
    assert_eq!(
        csv.lines().next().unwrap(),
        "rank,trial,status,optimizer.lr,test_acc,best_test_acc,epochs,seconds"
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2][1..3], ["trial-002", "diverged"]);
    let accuracy = |row: &Vec<&str>| row[4].parse::<f64>().unwrap();
    assert!(accuracy(&rows[0]) >= accuracy(&rows[1]));
    for row in &rows[..2] {
        let last = support::read_metrics(&out.join(row[1])).pop().unwrap();
        assert!(
            (accuracy(row) - last.test_acc).abs() < 0.005,
            "{row:?} vs {last:?}"
        );
    }
    let best = fs::read_to_string(out.join("best.toml")).unwrap();
    let winner = fs::read_to_string(out.join(rows[0][1]).join("config.toml")).unwrap();
    assert!(best.ends_with(&winner), "{best}");
    for file in ["results.md", "accuracy.png", "plan.toml", "base.toml"] {
        assert!(out.join(file).is_file(), "{file}");
    }
    // The runs table lists the trials with their status and the key each changed.
    let listed: serde_json::Value = serde_json::from_str(&succeed(
        dir.path(),
        &["runs", "out", "--json", "--sort", "accuracy"],
    ))
    .unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], rows[0][1]);
    assert_eq!(ids[2], "trial-002");
    let changes = listed[2]["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|change| change == "optimizer.lr=1e38"),
        "{changes:?}"
    );
}

#[test]
fn an_interrupted_sweep_resumes_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(
        dir.path(),
        "[set]\nepochs = 30\n\"data.train_limit\" = 6000\n[grid]\n\"optimizer.lr\" = [0.01, 0.02, 0.03]\n",
    );
    let sweep = support::start(dir.path(), &["sweep", &file, "--out", "out", "--jobs", "2"]);
    wait_for(&dir.path().join("out/trial-001/metrics.csv"), "\n2,", 120);
    // Both trials are held still until the sweep has passed Ctrl-C on to them, so neither can
    // finish (and let trial-003 start) in between, however fast they are.
    let trials =
        ["trial-001", "trial-002"].map(|trial| writer_of(&dir.path().join("out").join(trial)));
    signal_while_held(&trials, "INT", || sweep.signal("INT"));
    let output = sweep.finish(120);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("sweep --resume out"), "{stderr}");
    let status =
        |trial: &str| fs::read_to_string(dir.path().join("out").join(trial).join("run.toml")).ok();
    assert!(status("trial-001").unwrap().contains("\"interrupted\""));
    assert!(
        status("trial-003").is_none(),
        "trial-003 should not have started"
    );

    let stdout = succeed(dir.path(), &["sweep", "--resume", "out"]);
    assert!(stdout.contains("3 trials to run"), "{stdout}");
    for trial in ["trial-001", "trial-002", "trial-003"] {
        let record = status(trial).unwrap();
        assert!(
            record.contains("\"finished\"") && record.contains("epochs_completed = 30"),
            "{record}"
        );
    }
    let log = fs::read_to_string(dir.path().join("out/trial-001/train.log")).unwrap();
    assert!(log.contains("Resuming"), "{log}");
}

#[test]
fn emitted_commands_are_collected_by_resume() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(dir.path(), "[grid]\n\"optimizer.momentum\" = [0.0, 0.5]\n");
    succeed(
        dir.path(),
        &["sweep", &file, "--out", "out", "--emit", "slurm"],
    );
    let out = dir.path().join("out");
    let commands = fs::read_to_string(out.join("commands.sh")).unwrap();
    let lines: Vec<&str> = commands
        .lines()
        .filter(|line| !line.starts_with('#'))
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(
        fs::read_to_string(out.join("sweep.sbatch"))
            .unwrap()
            .contains("--array=1-2")
    );
    // One trial run by "the cluster" (this shell), the other left to --resume.
    let mut cluster = Command::new("bash");
    cluster
        .args(["-c", lines[0]])
        .env("MNIST_BURN", binary())
        .current_dir(&out);
    assert!(output_within(cluster, COMMAND_SECONDS).status.success());
    let stdout = succeed(dir.path(), &["sweep", "--resume", "out"]);
    assert!(stdout.contains("1 trials to run"), "{stdout}");
    assert!(
        fs::read_to_string(out.join("results.csv"))
            .unwrap()
            .matches("finished")
            .count()
            == 2
    );
}

/// TensorBoard's own reader finds every epoch of metrics.csv and the per-step values.
#[test]
fn tensorboard_reads_the_event_files() {
    let test = "tensorboard_reads_the_event_files";
    let Some(python) = python_with(&["tensorboard"])
        .map_err(|reason| can_run(Err(reason), test))
        .ok()
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    succeed(
        dir.path(),
        &TrainArgs::shipped("smoke")
            .set("epochs=3")
            .out("run")
            .plain()
            .list(),
    );
    let script = "import sys, json\n\
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator\n\
        ea = EventAccumulator(sys.argv[1], size_guidance={'scalars': 0}); ea.Reload()\n\
        print(json.dumps({t: [[e.step, e.value] for e in ea.Scalars(t)] for t in ea.Tags()['scalars']}))";
    let mut reader = Command::new(python);
    reader.args(["-c", script, "run"]).current_dir(dir.path());
    let output = output_within(reader, COMMAND_SECONDS);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let scalars: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let metrics = support::read_metrics(&dir.path().join("run"));
    for (tag, values) in [
        (
            "train/loss",
            metrics.iter().map(|row| row.train_loss).collect::<Vec<_>>(),
        ),
        (
            "test/accuracy",
            metrics.iter().map(|row| row.test_acc).collect(),
        ),
    ] {
        let logged = scalars[tag]
            .as_array()
            .unwrap_or_else(|| panic!("no {tag}: {scalars}"));
        assert_eq!(logged.len(), 3, "{tag}");
        for (epoch, (point, value)) in logged.iter().zip(&values).enumerate() {
            assert_eq!(point[0], epoch + 1);
            assert!(
                (point[1].as_f64().unwrap() - value).abs() < 1e-3 * value.abs().max(1.0),
                "{tag}: {point} vs {value}"
            );
        }
    }
    // 63 steps an epoch (2,000 images, batch 32): a loss and learning rate every 10 steps.
    let rates = scalars["step/learning_rate"].as_array().unwrap();
    let losses = scalars["step/train_loss"].as_array().unwrap();
    assert!(losses.len() >= 18, "{losses:?}");
    assert_eq!(rates.len(), losses.len());
    assert!(losses.last().unwrap()[0].as_u64().unwrap() > 180);
    for (rate, loss) in rates.iter().zip(losses) {
        assert_eq!(rate[0], loss[0], "the same steps");
        assert!((rate[1].as_f64().unwrap() - 0.01).abs() < 1e-9, "{rate}");
        let loss = loss[1].as_f64().unwrap();
        assert!(loss.is_finite() && loss > 0.0 && loss < 3.0, "{loss}");
    }
}

/// With a validation split in the base, trials are ranked by it, not by the test split: here
/// the two orders differ, and the table, `best.toml` and the message follow validation.
#[test]
fn a_sweep_over_a_validating_base_ranks_by_validation() {
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(
        dir.path(),
        "[set]\n\"data.validation\" = 300\n[grid]\n\"optimizer.lr\" = [0.002, 0.004, 0.006, 0.008, 0.01, 0.02, 0.04]\n",
    );
    let stdout = succeed(dir.path(), &["sweep", &file, "--out", "out", "--jobs", "2"]);
    assert!(stdout.contains("Ranked by validation accuracy"), "{stdout}");
    let out = dir.path().join("out");
    let csv = fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(
        csv.lines().next().unwrap(),
        "rank,trial,status,optimizer.lr,valid_acc,test_acc,best_test_acc,epochs,seconds"
    );
    let rows: Vec<(String, f64, f64)> = csv
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (
                cells[1].to_string(),
                cells[4].parse().unwrap(),
                cells[5].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 7);
    assert!(
        rows.windows(2).all(|pair| pair[0].1 >= pair[1].1),
        "{rows:?}"
    );
    let mut by_test = rows.clone();
    by_test.sort_by(|a, b| b.2.total_cmp(&a.2));
    let order = |rows: &[(String, f64, f64)]| rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
    assert_ne!(
        order(&rows),
        order(&by_test),
        "the two rankings differ here: {rows:?}"
    );
    for (trial, valid, _) in &rows {
        let last = support::read_metrics(&out.join(trial)).pop().unwrap();
        assert!((last.valid_acc.unwrap() - valid).abs() < 0.005, "{trial}");
    }
    let best = fs::read_to_string(out.join("best.toml")).unwrap();
    assert!(
        best.contains(&format!(
            "{}: {:.2}% validation accuracy",
            rows[0].0, rows[0].1
        )),
        "{best}"
    );
}
