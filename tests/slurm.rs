//! A sweep on a real Slurm cluster (the one-node cluster `just slurm` starts): the emitted
//! array job submitted with `sbatch`, its trials collected by `sweep --resume` with the same
//! numbers as the same sweep run here; a task cancelled with `scancel` recorded as
//! interrupted, left alone while it runs, and the rest submitted again.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support;
use support::{
    binary, can_run, config, learned, output_within, poll, signal_while_held, succeed, text,
    wait_for, writer_of,
};

/// A cluster that answers, or why the test cannot run.
fn cluster() -> Result<(), String> {
    let mut sinfo = Command::new("sinfo");
    sinfo.args(["-h", "-o", "%T"]);
    match support::try_output_within(sinfo, 30) {
        Ok(output) if output.status.success() => {
            let states = String::from_utf8_lossy(&output.stdout).into_owned();
            if states
                .lines()
                .any(|state| ["idle", "mixed", "allocated"].contains(&state))
            {
                Ok(())
            } else {
                Err(format!(
                    "no Slurm node is up ({}): `just slurm` starts one",
                    states.trim()
                ))
            }
        }
        _ => Err("no Slurm cluster here (`just slurm` installs and starts a one-node one)".into()),
    }
}

/// Runs a Slurm command; its standard output.
fn slurm(program: &str, args: &[&str]) -> String {
    let mut command = Command::new(program);
    command.args(args);
    let output = output_within(command, 60);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{program} {args:?}: {stderr}");
    stdout
}

/// Submits `sweep.sbatch` of `sweep_dir`; the array's job id.
fn submit(sweep_dir: &Path) -> String {
    let script = sweep_dir.join("sweep.sbatch");
    slurm("sbatch", &["--parsable", script.to_str().unwrap()])
        .trim()
        .to_string()
}

/// Waits until no task of job `id` is queued or running.
fn wait_for_job(id: &str, seconds: u64) {
    poll(
        seconds,
        || {
            slurm("squeue", &["-h", "-j", id])
                .trim()
                .is_empty()
                .then_some(())
        },
        || format!("Slurm job {id} still queued or running after {seconds} s"),
    );
}

/// Waits until no job collects sweep `name` (an array's first task submits one, so once the
/// array has ended it is queued, running or done), and returns the newest collecting job's
/// log in `sweep_dir`.
fn wait_for_collector(sweep_dir: &Path, name: &str) -> String {
    let job_name = format!("{name}-collect");
    poll(
        120,
        || {
            slurm("squeue", &["-h", "-n", &job_name])
                .trim()
                .is_empty()
                .then_some(())
        },
        || format!("{job_name} still queued or running"),
    );
    let newest = fs::read_dir(sweep_dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let id = name.strip_prefix("collect-")?.strip_suffix(".log")?;
            id.parse::<u64>().ok()
        })
        .max()
        .unwrap_or_else(|| panic!("no collecting job ran in {}", sweep_dir.display()));
    fs::read_to_string(sweep_dir.join(format!("collect-{newest}.log"))).unwrap()
}

/// Runs the sweep `file` here into `local`, one thread a trial as on the cluster: the same
/// arithmetic, so the same numbers.
fn run_here(dir: &Path, file: &str) {
    succeed(
        dir,
        &[
            "sweep",
            file,
            "--out",
            "local",
            "--jobs",
            "1",
            "--threads",
            "1",
        ],
    );
}

fn sweep_file(dir: &Path, name: &str, set: &str, grid: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    fs::write(
        &path,
        format!(
            "base = {:?}\n[set]\n{set}\n[grid]\n{grid}\n",
            config("smoke").display().to_string()
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn an_emitted_array_job_runs_on_slurm_and_resume_collects_the_local_numbers() {
    let test = "an_emitted_array_job_runs_on_slurm_and_resume_collects_the_local_numbers";
    if !can_run(cluster(), test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(
        dir.path(),
        "lr",
        "epochs = 2\n\"data.test_limit\" = 500",
        "\"optimizer.lr\" = [0.01, 0.02, 0.05]",
    );
    run_here(dir.path(), &file);
    let stdout = succeed(
        dir.path(),
        &[
            "sweep",
            &file,
            "--out",
            "cluster",
            "--emit",
            "slurm",
            "--threads",
            "1",
            "--slurm-arg=--time=00:10:00",
        ],
    );
    assert!(stdout.contains("3 trials to run"), "{stdout}");
    let cluster = dir.path().join("cluster");
    let sbatch = fs::read_to_string(cluster.join("sweep.sbatch")).unwrap();
    for directive in ["--array=1-3", "--cpus-per-task=1", "--time=00:10:00"] {
        assert!(
            sbatch.contains(&format!("#SBATCH {directive}\n")),
            "{sbatch}"
        );
    }
    assert!(
        !sbatch.contains("--gres"),
        "a CPU backend asks for no GPU: {sbatch}"
    );
    let commands = fs::read_to_string(cluster.join("commands.sh")).unwrap();
    assert!(
        commands.contains(&binary().display().to_string()),
        "the job runs the binary that wrote it: {commands}"
    );

    let job = submit(&cluster);
    wait_for_job(&job, 300);
    // The results are collected without anyone asking, once the array has ended.
    let collected = wait_for_collector(&cluster, "lr");
    assert!(collected.contains("Wrote results.csv"), "{collected}");
    let results = fs::read_to_string(cluster.join("results.csv")).unwrap();
    assert_eq!(results.matches("finished").count(), 3, "{results}");
    let stdout = succeed(dir.path(), &["sweep", "--resume", "cluster"]);
    assert!(stdout.contains("0 trials to run"), "{stdout}");
    for task in 1..=3 {
        let trial = format!("trial-00{task}");
        let log = fs::read_to_string(cluster.join(format!("slurm-{job}_{task}.log")))
            .unwrap_or_else(|error| panic!("{trial}: Slurm's log of the task: {error}"));
        let record = fs::read_to_string(cluster.join(&trial).join("run.toml")).unwrap();
        assert!(
            record.contains("status = \"finished\""),
            "{trial}: {record}\n{log}"
        );
        assert_eq!(
            learned(&cluster.join(&trial)),
            learned(&dir.path().join("local").join(&trial)),
            "{trial}: the cluster's numbers are the local run's"
        );
    }
    let results = fs::read_to_string(cluster.join("results.csv")).unwrap();
    assert_eq!(results.matches("finished").count(), 3, "{results}");
}

#[test]
fn a_cancelled_task_is_left_alone_while_it_runs_then_submitted_again() {
    let test = "a_cancelled_task_is_left_alone_while_it_runs_then_submitted_again";
    if !can_run(cluster(), test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(
        dir.path(),
        "long",
        "epochs = 300\n\"data.test_limit\" = 500",
        "\"optimizer.lr\" = [0.01, 0.02]",
    );
    succeed(
        dir.path(),
        &[
            "sweep",
            &file,
            "--out",
            "cut",
            "--emit",
            "slurm",
            "--threads",
            "1",
        ],
    );
    let cut = dir.path().join("cut");
    let job = submit(&cut);
    wait_for(&cut.join("trial-001/metrics.csv"), "\n2,", 120);
    // trial-001 is held still from here until Slurm's signal waits for it, so it is met
    // running, and stopped by that signal, however fast it trains.
    let trainer = writer_of(&cut.join("trial-001"));
    signal_while_held(&[trainer], "TERM", || {
        // While the cluster trains trial-001, a local resume leaves it alone.
        let stdout = succeed(
            dir.path(),
            &["sweep", "--resume", "cut", "--emit", "commands"],
        );
        assert!(
            stdout.contains(&format!(
                "trial-001 is being trained by another process (pid {trainer})"
            )),
            "{stdout}"
        );
        // Slurm's scancel sends SIGTERM: the trial stops after its step, as interrupted.
        slurm("scancel", &[&format!("{job}_1")]);
    });
    wait_for(
        &cut.join("trial-001/run.toml"),
        "status = \"interrupted\"",
        60,
    );
    wait_for_job(&job, 300);
    wait_for_collector(&cut, "long");
    let record = fs::read_to_string(cut.join("trial-002/run.toml")).unwrap();
    assert!(record.contains("status = \"finished\""), "{record}");

    // Only what is left goes to the cluster again, and it resumes.
    let stdout = succeed(dir.path(), &["sweep", "--resume", "cut", "--emit", "slurm"]);
    assert!(stdout.contains("1 trials to run"), "{stdout}");
    let commands = fs::read_to_string(cut.join("commands.sh")).unwrap();
    let lines: Vec<&str> = commands.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 1, "{commands}");
    assert!(lines[0].contains("--resume trial-001"), "{commands}");
    let again = submit(&cut);
    wait_for_job(&again, 300);
    wait_for_collector(&cut, "long");
    let stdout = succeed(dir.path(), &["sweep", "--resume", "cut"]);
    assert!(stdout.contains("0 trials to run"), "{stdout}");
    let log = fs::read_to_string(cut.join(format!("slurm-{again}_1.log"))).unwrap_or_default();
    assert!(log.contains("Resuming"), "{log}");
    let record = fs::read_to_string(cut.join("trial-001/run.toml")).unwrap();
    assert!(
        record.contains("status = \"finished\"") && record.contains("epochs_completed = 300"),
        "{record}\n{log}"
    );
}

/// At Slurm's warning before a time limit (or a preemption), the trial stops after its step
/// and its task requeues itself; started again, it resumes and ends with the numbers and every
/// bit of the weights of the same trial run here uninterrupted.
#[test]
fn a_task_warned_of_its_time_limit_requeues_and_resumes_to_the_same_numbers() {
    let test = "a_task_warned_of_its_time_limit_requeues_and_resumes_to_the_same_numbers";
    if !can_run(cluster(), test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(
        dir.path(),
        "requeued",
        "epochs = 40\n\"data.test_limit\" = 500",
        "\"optimizer.lr\" = [0.01]",
    );
    run_here(dir.path(), &file);
    #[rustfmt::skip]
    succeed(dir.path(), &[
        "sweep", &file, "--out", "cut", "--emit", "slurm", "--threads", "1",
        "--requeue-grace", "30", "--slurm-arg=--time=00:10:00",
    ]);
    let cut = dir.path().join("cut");
    let sbatch = fs::read_to_string(cut.join("sweep.sbatch")).unwrap();
    for directive in ["--requeue", "--signal=B:USR1@30", "--open-mode=append"] {
        assert!(
            sbatch.contains(&format!("#SBATCH {directive}\n")),
            "{sbatch}"
        );
    }
    let job = submit(&cut);
    let task = format!("{job}_1");
    wait_for(&cut.join("trial-001/metrics.csv"), "\n2,", 120);
    // Held still until the batch shell has passed Slurm's warning on, so the trial is met
    // running however fast it trains.
    let trainer = writer_of(&cut.join("trial-001"));
    signal_while_held(&[trainer], "TERM", || {
        slurm("scancel", &["--signal=USR1", "--batch", &task]);
    });
    // Slurm holds a requeued task for two minutes before it may start: let it start now.
    poll(
        60,
        || (slurm("squeue", &["-h", "-j", &task, "-o", "%T"]).trim() == "PENDING").then_some(()),
        || format!("{task} was not requeued"),
    );
    slurm(
        "scontrol",
        &["update", &format!("jobid={task}"), "StartTime=now"],
    );
    wait_for_job(&job, 300);
    wait_for_collector(&cut, "requeued");

    let log = fs::read_to_string(cut.join(format!("slurm-{job}_1.log"))).unwrap();
    assert!(log.contains("Resuming"), "{log}");
    let record = fs::read_to_string(cut.join("trial-001/run.toml")).unwrap();
    assert!(
        record.contains("status = \"finished\"") && record.contains("epochs_completed = 40"),
        "{record}\n{log}"
    );
    let (ours, theirs) = (cut.join("trial-001"), dir.path().join("local/trial-001"));
    assert_eq!(learned(&ours), learned(&theirs));
    let model = |run: &Path| support::weight_bits(&run.join("model.bpk"));
    assert!(
        model(&ours) == model(&theirs),
        "the requeued trial's weights differ"
    );
}

/// The statuses and epochs of a sweep's trials, in plan order, from their `run.toml`.
fn outcomes(sweep_dir: &Path, trials: usize) -> Vec<(String, usize)> {
    (1..=trials)
        .map(|n| {
            let record: toml::Table =
                fs::read_to_string(sweep_dir.join(format!("trial-00{n}/run.toml")))
                    .unwrap()
                    .parse()
                    .unwrap();
            (
                record["status"].as_str().unwrap().to_string(),
                record["epochs_completed"].as_integer().unwrap() as usize,
            )
        })
        .collect()
}

#[test]
fn a_pruned_array_prunes_the_trials_a_local_sweep_prunes() {
    let test = "a_pruned_array_prunes_the_trials_a_local_sweep_prunes";
    if !can_run(cluster(), test) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = sweep_file(
        dir.path(),
        "pruned",
        "epochs = 4\n\"data.validation\" = 500\n\"data.test_limit\" = 500",
        "\"optimizer.lr\" = [0.003, 0.0003, 0.03, 0.00003, 0.01]\n\
         [prune]\nrule = \"median\"\nafter = 2\nmin_trials = 1",
    );
    run_here(dir.path(), &file);
    let local = outcomes(&dir.path().join("local"), 5);
    assert!(
        local.iter().any(|(status, _)| status == "pruned"),
        "{local:?}"
    );
    #[rustfmt::skip]
    succeed(dir.path(), &[
        "sweep", &file, "--out", "cluster", "--emit", "slurm", "--threads", "1",
        "--slurm-arg=--time=00:10:00",
    ]);
    let cluster = dir.path().join("cluster");
    let job = submit(&cluster);
    wait_for_job(&job, 300);
    let collected = wait_for_collector(&cluster, "pruned");
    // Two tasks at a time, in whatever order Slurm starts them: each trial waits for the
    // trials before it, so the same trials are pruned after the same epochs.
    assert_eq!(outcomes(&cluster, 5), local, "{collected}");
    assert!(collected.contains("Pruned "), "{collected}");
}
