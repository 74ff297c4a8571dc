//! The justfile as a person types it: `just train`, `just sweep`, `just run`, `just export`
//! and `just runs` with the argument forms of the README and of `--help` (the `key=value`
//! shorthands, `--flag value`, `--flag=value`, positional files), a run interrupted and
//! resumed through `just train --resume`; each checked by what it left in its folder.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use crate::support;
use support::{Running, can_run, config, output_within, read_metrics, repo_root, text, wait_for};

/// `just`, or why the recipes cannot be run here.
fn just() -> Result<(), String> {
    support::program("just", &["--version"])
        .map_err(|why| format!("{why} (`pip install rust-just` installs it)"))
}

/// `just ARGS` typed in the repository, as a person does; the tests name every file and
/// folder by its absolute path, so nothing lands in the repository itself. The recipes run
/// the binary under test (`MNIST_BURN_BIN`): cargo built it for this test run, and a build
/// started from inside the run could replace it under the other tests.
fn just_command(args: &[&str]) -> Command {
    let mut command = Command::new("just");
    command
        .current_dir(repo_root())
        .env("MNIST_BURN_BIN", support::binary())
        .args(args);
    command
}

/// Runs `just ARGS` to its end (a build that is already done takes a second or two).
fn just_in(args: &[&str]) -> Output {
    output_within(just_command(args), support::COMMAND_SECONDS)
}

/// Runs `just ARGS` and expects success.
fn just_succeeds(args: &[&str]) -> String {
    let output = just_in(args);
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "just {args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    stdout
}

fn status_of(run: &Path) -> String {
    fs::read_to_string(run.join("run.toml")).unwrap()
}

/// An absolute path in `dir`, as text.
fn at(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

#[test]
fn just_train_takes_every_form_of_its_arguments() {
    if !can_run(just(), "just_train_takes_every_form_of_its_arguments") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let smoke = config("smoke");
    let smoke = smoke.to_str().unwrap();
    let config_flag = format!("--config={smoke}");
    let shorthand = format!("config={smoke}");
    // The backend the forms name: ndarray where it is compiled in, so that the one a run
    // falls back to (flex) would show in its record.
    let other = support::compiled_second_cpu_backend().unwrap_or("flex");
    let backend_shorthand = format!("backend={other}");
    let forms: [(&str, Vec<&str>); 4] = [
        ("flag", vec!["train", "--config", smoke, "--plain"]),
        ("equals", vec!["train", &config_flag, "--plain"]),
        (
            "shorthand",
            vec!["train", &shorthand, &backend_shorthand, "--plain"],
        ),
        ("short", vec!["train", "-c", smoke, "-b", other, "--plain"]),
    ];
    for (name, mut args) in forms {
        let out = at(work.path(), name);
        args.extend(["--out", &out, "--set", "data.test_limit=500"]);
        let stdout = just_succeeds(&args);
        assert!(stdout.contains("Training `smoke`"), "{name}: {stdout}");
        let record = status_of(&work.path().join(name));
        assert!(record.contains("status = \"finished\""), "{name}: {record}");
        let backend = if name == "shorthand" || name == "short" {
            other
        } else {
            "flex"
        };
        assert!(
            record.contains(&format!("backend = \"{backend}\"")),
            "{name}: {record}"
        );
        assert_eq!(read_metrics(&work.path().join(name)).len(), 1, "{name}");
    }
    // The forms of one backend trained the same run: the same config, the same numbers.
    let learned = |name: &str| support::learned(&work.path().join(name));
    assert_eq!(learned("flag"), learned("equals"));
    assert_eq!(learned("shorthand"), learned("short"));
}

#[test]
fn just_train_resume_continues_an_interrupted_run_on_its_backend() {
    if !can_run(
        just(),
        "just_train_resume_continues_an_interrupted_run_on_its_backend",
    ) {
        return;
    }
    let test = "just_train_resume_continues_an_interrupted_run_on_its_backend";
    let Some(backend) = support::second_cpu_backend(test) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let seed = config("seed");
    let cut = at(work.path(), "cut");
    let backend_shorthand = format!("backend={backend}");
    let mut command = just_command(&[
        "train",
        &backend_shorthand,
        "--config",
        seed.to_str().unwrap(),
        "--set",
        "epochs=3",
        "--set",
        "data.batch_size=5",
        "--out",
        &cut,
        "--plain",
    ]);
    // Ctrl-C in a terminal reaches the whole process group: just and the run it started.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let run = Running::spawn(&mut command);
    wait_for(&work.path().join("cut/metrics.csv"), "\n1,", 120);
    // Held still while Ctrl-C's signal is sent, so it lands in the second epoch however fast
    // the run is. `--`: procps' kill would take a negative number first for a signal.
    for signal in ["STOP", "INT", "CONT"] {
        let mut kill = Command::new("kill");
        kill.args(["-s", signal, "--", &format!("-{}", run.id())]);
        assert!(output_within(kill, 10).status.success());
    }
    let output = run.finish(120);
    assert_eq!(output.status.code(), Some(130), "{:?}", text(&output));
    assert!(status_of(Path::new(&cut)).contains("status = \"interrupted\""));

    let stdout = just_succeeds(&["train", "--resume", &cut, "--plain"]);
    assert!(
        stdout.contains(&format!("on {backend} (the backend it ran on)")),
        "{stdout}"
    );
    let record = status_of(Path::new(&cut));
    assert!(record.contains("status = \"finished\""), "{record}");
    assert_eq!(read_metrics(Path::new(&cut)).len(), 3);
    let again = just_in(&["train", &format!("--resume={cut}")]);
    let (_, stderr) = text(&again);
    assert!(
        stderr.contains("all 3 epochs are done; add some with --set epochs=N"),
        "{stderr}"
    );
}

/// A sweep file named as the binary takes it (positional) or with the shorthand, resumed
/// with `--resume`, then a trial exported, the runs listed and the data inspected.
#[test]
fn just_sweep_export_and_runs_take_their_arguments_as_typed() {
    if !can_run(
        just(),
        "just_sweep_export_and_runs_take_their_arguments_as_typed",
    ) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let sweep = at(work.path(), "my-sweep.toml");
    fs::write(
        &sweep,
        format!(
            "base = {:?}\n[set]\n\"data.test_limit\" = 500\n[grid]\n\"optimizer.lr\" = [0.01, 0.02]\n",
            config("smoke").display().to_string()
        ),
    )
    .unwrap();
    let (positional, shorthand_out) = (at(work.path(), "positional"), at(work.path(), "shorthand"));
    let shorthand = format!("config={sweep}");
    let out_equals = format!("--out={shorthand_out}");
    for (folder, args) in [
        (
            "positional",
            vec!["sweep", sweep.as_str(), "--out", &positional],
        ),
        (
            "shorthand",
            vec!["sweep", &shorthand, &out_equals, "-j", "1"],
        ),
    ] {
        let stdout = just_succeeds(&args);
        assert!(stdout.contains("2 trials to run"), "{folder}: {stdout}");
        let results = fs::read_to_string(work.path().join(folder).join("results.csv")).unwrap();
        assert_eq!(results.lines().count(), 3, "{folder}: {results}");
    }
    let stdout = just_succeeds(&["sweep", "--resume", &positional]);
    assert!(stdout.contains("0 trials to run"), "{stdout}");
    // lr-find's config is positional too.
    let (smoke, lr) = (config("smoke"), at(work.path(), "lr"));
    let shorthand = format!("config={}", smoke.display());
    let stdout = just_succeeds(&["run", "lr-find", &shorthand, "--out", &lr]);
    assert!(stdout.contains("Wrote lr_find.png"), "{stdout}");

    let trial = at(work.path(), "positional/trial-001");
    let exported = at(work.path(), "model.safetensors");
    just_succeeds(&[
        "export",
        &trial,
        "--format",
        "safetensors",
        "--out",
        &exported,
    ]);
    let size = fs::metadata(&exported).map(|m| m.len()).unwrap_or(0);
    assert!(size > 784 * 10 * 4, "{exported}: {size} bytes");

    let listed = just_succeeds(&["runs", &positional, "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");

    let inspected = at(work.path(), "first.png");
    let stdout = just_succeeds(&["run", "inspect", "--index", "0", "--out", &inspected]);
    assert!(stdout.contains("Labels of train images [0]: 5"), "{stdout}");
    assert!(Path::new(&inspected).is_file());
}
