//! End-to-end: the real binary on the real MNIST files, as a user runs it.

use std::fs;
use std::path::Path;

use crate::support;

use mnist_data::{DatasetKind, ImageSet, Split};
use mnist_runs::TrainedModel;
use support::reference::{Weights, assert_reported, mnist_test, mnist_train};
use support::{
    TrainArgs, assert_one_line_error, device_reads, learned, read_metrics, run_in, succeed, text,
};

#[test]
fn a_smoke_run_trains_and_leaves_its_artifacts() {
    let scratch = tempfile::tempdir().unwrap();
    let output = run_in(
        scratch.path(),
        &TrainArgs::shipped("smoke").backend("flex").list(),
    );
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );

    let runs: Vec<_> = fs::read_dir(scratch.path().join("runs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1);
    let run_dir = &runs[0];
    let folder_name = run_dir.file_name().unwrap().to_string_lossy();
    assert!(folder_name.starts_with("smoke-"), "{folder_name}");
    assert!(
        stdout.contains(&format!("Run folder: runs/{folder_name}")),
        "{stdout}"
    );
    assert!(stdout.contains("Training `smoke` on flex"), "{stdout}");
    assert!(stdout.contains("epoch 1/1  train loss"), "{stdout}");

    let rows = read_metrics(run_dir);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.epoch, 1);
    // The test loss and accuracy are the final model's on the first 1,000 test images.
    let weights = Weights::exported(scratch.path(), run_dir.to_str().unwrap());
    let test = weights.measure(&mnist_test(1000), (0.1307, 0.3081), false);
    assert_reported("test", (row.test_loss, row.test_acc), &test);
    assert!(
        test.accuracy > 80.0,
        "one pass over 2,000 images: {}%",
        test.accuracy
    );
    assert!(row.train_seconds > 0.0 && row.test_seconds > 0.0, "{row:?}");

    let recorded = fs::read_to_string(run_dir.join("config.toml")).unwrap();
    assert!(recorded.contains("train_limit = 2000"), "{recorded}");
    let run = fs::read_to_string(run_dir.join("run.toml")).unwrap();
    assert!(run.contains("backend = \"flex\""), "{run}");
    assert!(run.contains("device = \"Device<Flex(Cpu)>\""), "{run}");
    assert!(run.contains("epochs_completed = 1"), "{run}");
    assert!(run_dir.join("model.bpk").is_file());
    let checkpoints: Vec<_> = fs::read_dir(run_dir.join("checkpoint"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        checkpoints.iter().any(|name| name.starts_with("model-1")),
        "{checkpoints:?}"
    );
}

/// With one step an epoch (a batch of all 2,000 training images), the training loss and
/// accuracy of epoch 2 are those of the model after epoch 1 on the training images, and each
/// epoch's test numbers are its model's on the test images: every number of metrics.csv
/// recomputed from the saved weights and the raw files.
#[test]
fn every_metric_is_the_models_own_on_the_raw_images() {
    let scratch = tempfile::tempdir().unwrap();
    succeed(
        scratch.path(),
        &TrainArgs::shipped("smoke")
            .set("epochs=2")
            .set("data.batch_size=2000")
            .set("optimizer.lr=0.5")
            .out("run")
            .list(),
    );
    let rows = read_metrics(&scratch.path().join("run"));
    let scaling = (0.1307, 0.3081);
    let after_one = Weights::exported(scratch.path(), "run/checkpoint/model-1.bpk");
    let after_two = Weights::exported(scratch.path(), "run/model.bpk");
    let (train, test) = (mnist_train(2000), mnist_test(1000));
    let reported = |row: usize, split: &str| match split {
        "train" => (rows[row].train_loss, rows[row].train_acc),
        _ => (rows[row].test_loss, rows[row].test_acc),
    };
    assert_reported(
        "epoch 2, train",
        reported(1, "train"),
        &after_one.measure(&train, scaling, false),
    );
    assert_reported(
        "epoch 1, test",
        reported(0, "test"),
        &after_one.measure(&test, scaling, false),
    );
    let final_test = after_two.measure(&test, scaling, false);
    assert_reported("epoch 2, test", reported(1, "test"), &final_test);
    assert!(final_test.accuracy > 70.0, "{}%", final_test.accuracy);
}

#[test]
fn the_same_seed_gives_the_same_metrics() {
    let scratch = tempfile::tempdir().unwrap();
    let train = |out: &str, seed: &str| {
        let output = run_in(
            scratch.path(),
            &TrainArgs::shipped("smoke")
                .set("epochs=2")
                .set(seed)
                .out(out)
                .list(),
        );
        assert!(output.status.success(), "{:?}", text(&output));
        learned(&scratch.path().join(out))
    };
    let first = train("first", "seed=42");
    assert_eq!(first.len(), 2);
    assert_eq!(first, train("second", "seed=42"));
    // ...and the seed is what decides: another one starts elsewhere and shuffles otherwise.
    assert_ne!(first, train("other", "seed=43"));
}

#[test]
fn config_mistakes_are_one_line_and_exit_2() {
    let scratch = tempfile::tempdir().unwrap();
    let cases = [
        (
            "typo.toml",
            "[optimizer]\nlearning_rat = 0.1\n",
            "typo.toml:2: unknown key `optimizer.learning_rat`",
        ),
        (
            "type.toml",
            "[data]\nbatch_size = \"big\"\n",
            "type.toml:2: `data.batch_size`: invalid type",
        ),
        (
            "lr.toml",
            "[optimizer]\nlr = 0\n",
            "`optimizer.lr` must be a finite number above 0",
        ),
        (
            "batch.toml",
            "[data]\nbatch_size = 0\n",
            "`data.batch_size` must be at least 1",
        ),
        ("epochs.toml", "epochs = 0\n", "`epochs` must be at least 1"),
        (
            "syntax.toml",
            "epochs = = 3\n",
            "syntax.toml:1: TOML syntax error",
        ),
        ("empty.toml", "", "empty.toml: the file sets nothing"),
        (
            "inputs.toml",
            "[model]\nn_inputs = 100\n",
            "inputs.toml:2: `model.n_inputs` is 100, but mnist images have 784 pixels",
        ),
        (
            "outputs.toml",
            "[model]\nn_outputs = 5\n",
            "outputs.toml:2: `model.n_outputs` is 5, but mnist has 10 classes",
        ),
        (
            "huge.toml",
            "[data]\ntrain_limit = 100\nbatch_size = 500\n",
            "`data.batch_size` is 500, larger than `data.train_limit` (100)",
        ),
    ];
    for (name, contents, needle) in cases {
        fs::write(scratch.path().join(name), contents).unwrap();
        let output = run_in(scratch.path(), &TrainArgs::config(name).plain().list());
        assert_one_line_error(&output, 2, needle);
    }
    let output = run_in(scratch.path(), &TrainArgs::config("absent.toml").list());
    assert_one_line_error(&output, 2, "absent.toml: cannot read: ");
    assert!(
        !scratch.path().join("runs").exists(),
        "no run folder is created for a bad config"
    );
}

#[test]
fn an_existing_run_folder_is_not_overwritten() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("taken");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("notes.txt"), "mine").unwrap();
    let output = run_in(
        Path::new("."),
        &TrainArgs::shipped("smoke").out(&out).list(),
    );
    assert_one_line_error(&output, 1, "already exists and is not empty; pass --force");
    assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
    assert_eq!(fs::read_dir(&out).unwrap().count(), 1);
}

#[test]
fn a_closed_pipe_ends_output_quietly() {
    use std::process::Command;

    let scratch = tempfile::tempdir().unwrap();
    let mut child = support::Running::spawn(
        Command::new(support::binary())
            .args(["inspect", "-n", "300", "--out"])
            .arg(scratch.path().join("grid.png")),
    );
    // The first of ~400 KB of digits; the rest meets a closed pipe.
    let first = child.first_line(60);
    assert!(first.starts_with("Dataset: mnist"), "{first}");
    let output = child.finish(60);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A run whose reader goes away (`train --plain | head -n 1`) stops as an interrupted run: a
/// non-zero exit, its folder says `interrupted` (not `running` forever), and it resumes.
#[test]
fn a_closed_pipe_interrupts_a_run_which_then_resumes() {
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    // The most epochs a config allows: only the closed pipe can stop it.
    let args = TrainArgs::shipped("smoke")
        .plain()
        .set("epochs=100000")
        .out(&run);
    let mut child = support::start(scratch.path(), &args.list());
    let first = child.first_line(60);
    assert!(first.starts_with("Training `smoke`"), "{first}");
    let output = child.finish(120);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let record = fs::read_to_string(run.join("run.toml")).unwrap();
    assert!(record.contains("status = \"interrupted\""), "{record}");
    // One epoch more than it kept.
    let epochs = read_metrics(&run).len() + 1;
    let resume = TrainArgs::resume(&run).set(&format!("epochs={epochs}"));
    succeed(scratch.path(), &resume.plain().list());
    let record = fs::read_to_string(run.join("run.toml")).unwrap();
    assert!(record.contains("status = \"finished\""), "{record}");
    assert_eq!(read_metrics(&run).len(), epochs);
}

/// Standard output that fails for another reason than a closed pipe (a full disk): one line
/// on standard error, and the run ends interrupted, to be resumed, instead of a panic that
/// leaves it `running` for ever.
#[test]
fn a_full_standard_output_interrupts_a_run_with_one_line() {
    use std::process::{Command, Stdio};

    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    let full = fs::File::options().write(true).open("/dev/full").unwrap();
    let mut command = Command::new(support::binary());
    command
        .args(TrainArgs::shipped("smoke").plain().out(&run).list())
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped());
    let child = support::Running::new(command.spawn().unwrap());
    let output = child.finish(120);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: cannot write to standard output: No space left on device (os error 28)"
    );
    let record = fs::read_to_string(run.join("run.toml")).unwrap();
    assert!(record.contains("status = \"interrupted\""), "{record}");
    succeed(scratch.path(), &TrainArgs::resume(&run).plain().list());
    let record = fs::read_to_string(run.join("run.toml")).unwrap();
    assert!(record.contains("status = \"finished\""), "{record}");
}

#[test]
fn overrides_that_contradict_the_data_are_refused_before_anything_is_written() {
    let scratch = tempfile::tempdir().unwrap();
    for (set, needle) in [
        (
            "model.n_inputs=100",
            "`model.n_inputs` is 100, but mnist images have 784 pixels",
        ),
        (
            "model.n_outputs=5",
            "`model.n_outputs` is 5, but mnist has 10 classes",
        ),
        (
            "data.batch_size=5000",
            "`data.batch_size` is 5000, larger than `data.train_limit` (2000)",
        ),
    ] {
        let output = run_in(
            scratch.path(),
            &TrainArgs::shipped("smoke").set(set).plain().list(),
        );
        assert_one_line_error(&output, 2, needle);
    }
    assert!(!scratch.path().join("runs").exists(), "nothing is written");
}

/// Trains the smoke config into `out` with extra arguments; returns its standard output.
fn smoke_run(work: &Path, out: &str, extra: &[&str]) -> String {
    let args = TrainArgs::shipped("smoke")
        .out(out)
        .plain()
        .flags(extra.iter().copied());
    let output = run_in(work, &args.list());
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "{args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    stdout
}

#[test]
fn a_resumed_run_keeps_its_backend_and_refuses_changes_its_checkpoints_cannot_follow() {
    let test = "a_resumed_run_keeps_its_backend_and_refuses_changes_its_checkpoints_cannot_follow";
    let Some(backend) = support::second_cpu_backend(test) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    smoke_run(work.path(), "run", &["--backend", backend]);
    for (set, needle) in [
        ("data.mean=0.5", "`data.mean` cannot change when resuming"),
        (
            "data.batch_size=64",
            "`data.batch_size` cannot change when resuming",
        ),
        ("seed=7", "`seed` cannot change when resuming"),
    ] {
        let output = run_in(
            work.path(),
            &TrainArgs::resume("run").set("epochs=2").set(set).list(),
        );
        assert_one_line_error(&output, 2, needle);
    }
    let output = run_in(
        work.path(),
        &TrainArgs::resume("run").set("epochs=2").plain().list(),
    );
    let (stdout, stderr) = text(&output);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "Resuming run after epoch 1 of 2 on {backend} (the backend it ran on)"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Training `smoke` on {backend}")),
        "{stdout}"
    );
    assert_eq!(read_metrics(&work.path().join("run")).len(), 2);

    // A cosine schedule's every step depends on the run's length: a longer run is refused.
    smoke_run(
        work.path(),
        "cosine",
        &["--set", "optimizer.schedule=cosine"],
    );
    let output = run_in(
        work.path(),
        &TrainArgs::resume("cosine").set("epochs=2").list(),
    );
    assert_one_line_error(
        &output,
        2,
        "`epochs` cannot change when resuming a run with the cosine schedule",
    );
}

#[test]
fn reading_metrics_in_windows_changes_no_number() {
    let test = "reading_metrics_in_windows_changes_no_number";
    let work = tempfile::tempdir().unwrap();
    // flex's training steps bring their loss and accuracy on the host: only the test split
    // (one batch of 1,000) is read, with either loop.
    for (out, extra) in [("flex-burn", &["--burn-loop"][..]), ("flex", &[])] {
        let run = smoke_run(work.path(), out, &[&["--debug-syncs"], extra].concat());
        assert_eq!(device_reads(&run), [(0, 1)], "{run}");
    }
    // ndarray's stay tensors, read in windows.
    let Some(backend) = support::second_cpu_backend(test) else {
        return;
    };
    let run = |out: &str, extra: &[&str]| {
        let flags = [&["--backend", backend, "--debug-syncs"], extra].concat();
        smoke_run(work.path(), out, &flags)
    };
    // Burn's loop hands the metrics every step, which the CPU reads at once.
    let every_step = run("every", &["--burn-loop"]);
    let windowed = run("windowed", &["--burn-loop", "--sync-every", "10"]);
    // This program's loop hands them several steps at a time: read as they come.
    let batched = run("batched", &[]);
    // 2,000 images in batches of 32: 63 steps; the test split is one batch of 1,000.
    assert_eq!(device_reads(&every_step), [(63, 1)], "{every_step}");
    // The batched loop reads once a hand-off: one every MAX_STEPS_PER_ITEM steps or
    // HAND_OFF_INTERVAL, whichever comes first, and the epoch's last.
    let train_seconds = read_metrics(&work.path().join("batched"))[0].train_seconds;
    let hand_offs = 63usize.div_ceil(mnist_train::MAX_STEPS_PER_ITEM)
        + (train_seconds / mnist_train::HAND_OFF_INTERVAL.as_secs_f64()) as usize
        + 1;
    assert!(
        hand_offs < 63,
        "the run took {train_seconds} s: too slow to tell"
    );
    for (run, most) in [(&windowed, 63 / 10 + 2), (&batched, hand_offs)] {
        let reads = device_reads(run);
        assert_eq!(reads.len(), 1, "{run}");
        assert!(reads[0].0 <= most && reads[0].1 == 1, "{run}");
    }
    for run in ["windowed", "batched"] {
        assert_eq!(
            learned(&work.path().join("every")),
            learned(&work.path().join(run)),
            "{run}"
        );
    }
}

#[test]
fn two_devices_train_the_default_config_like_one() {
    let work = tempfile::tempdir().unwrap();
    let train = |out: &str, extra: &[&str]| {
        let args = TrainArgs::shipped("default")
            .out(out)
            .plain()
            .flags(extra.iter().copied());
        let output = run_in(work.path(), &args.list());
        let (stdout, stderr) = text(&output);
        assert!(
            output.status.success(),
            "stdout: {stdout}\nstderr: {stderr}"
        );
        stdout
    };
    train("one", &[]);
    let stdout = train("two", &["--devices", "2"]);
    assert!(stdout.contains("batch 64 on each of 2 devices"), "{stdout}");
    let final_accuracy = |run: &str| {
        read_metrics(&work.path().join(run))
            .last()
            .unwrap()
            .test_acc
    };
    let (one, two) = (final_accuracy("one"), final_accuracy("two"));
    // Burn sums the devices' gradients; the model scales each device's loss by 1/2 (tested in
    // the model crate), so two devices take the steps of one batch of 128 at the same
    // learning rate, and land where one device does.
    assert!(
        (one - two).abs() <= 0.3,
        "one device {one}%, two devices {two}%"
    );
    let recorded = fs::read_to_string(work.path().join("two/config.toml")).unwrap();
    assert!(recorded.contains("devices = 2"), "{recorded}");
}

/// A validation split: held out of the training images by the seed, reported every epoch
/// beside the test split, measured on exactly those images (so none of them was trained on,
/// since the training split is what remains), the same on another backend and on resume.
#[test]
fn a_validation_split_is_held_out_and_reported_beside_the_test_split() {
    let work = tempfile::tempdir().unwrap();
    let split = ["--set", "data.validation=500", "--set", "epochs=2"];
    let stdout = smoke_run(work.path(), "flex", &split);
    assert!(
        stdout.contains("1500 train / 500 validation / 1000 test"),
        "{stdout}"
    );
    assert!(stdout.contains("valid acc"), "{stdout}");
    let run = fs::read_to_string(work.path().join("flex/run.toml")).unwrap();
    assert!(run.contains("validation_items = 500"), "{run}");
    // The manifest: the config's hash is that of the config.toml beside it, the data files'
    // those of the files on disk, the build's commit a commit.
    let manifest: toml::Table = run.parse().unwrap();
    let environment = manifest["environment"].as_table().unwrap();
    let sha256 = |bytes: &[u8]| -> String {
        use sha2::Digest;
        sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let config_toml = fs::read(work.path().join("flex/config.toml")).unwrap();
    assert_eq!(
        environment["config_sha256"].as_str(),
        Some(sha256(&config_toml).as_str())
    );
    let images = support::real_mnist_dir().join("train/train-images-idx3-ubyte");
    let file = &environment["data_files"].as_array().unwrap()[0];
    assert_eq!(
        file["sha256"].as_str(),
        Some(sha256(&fs::read(images).unwrap()).as_str())
    );
    let commit = environment["git_commit"].as_str().unwrap();
    assert!(commit == "unknown" || commit.len() == 40, "{commit}");
    assert_eq!(environment["backend"].as_str(), Some("flex"));
    let rows = read_metrics(&work.path().join("flex"));
    assert_eq!(rows.len(), 2);
    let last = rows.last().unwrap();

    // The held-out images, chosen as the data crate does, give the reported numbers.
    let (train, held) = ImageSet::load(DatasetKind::Mnist, Split::Train)
        .unwrap()
        .truncated(Some(2000))
        .hold_out(500, 42);
    assert_eq!((train.len(), held.len()), (1500, 500));
    let raw: (Vec<u8>, Vec<u8>) = (
        (0..held.len())
            .flat_map(|i| held.image(i).to_vec())
            .collect(),
        held.labels().to_vec(),
    );
    let measured = Weights::exported(work.path(), "flex").measure(&raw, (0.1307, 0.3081), false);
    assert_reported(
        "validation",
        (last.valid_loss.unwrap(), last.valid_acc.unwrap()),
        &measured,
    );

    // Another backend validates on the same images; a resumed run on the same ones too.
    let test = "a_validation_split_is_held_out_and_reported_beside_the_test_split";
    if let Some(backend) = support::second_cpu_backend(test) {
        smoke_run(
            work.path(),
            backend,
            &[&split[..], &["--backend", backend]].concat(),
        );
        let other = read_metrics(&work.path().join(backend));
        for (a, b) in rows.iter().zip(&other) {
            assert!(
                (a.valid_loss.unwrap() - b.valid_loss.unwrap()).abs() < 1e-4,
                "{a:?} {b:?}"
            );
            assert!(
                (a.valid_acc.unwrap() - b.valid_acc.unwrap()).abs() < 0.21,
                "{a:?} {b:?}"
            );
        }
    }
    smoke_run(work.path(), "cut", &["--set", "data.validation=500"]);
    let output = run_in(
        work.path(),
        &TrainArgs::resume("cut").set("epochs=2").plain().list(),
    );
    assert!(output.status.success(), "{:?}", text(&output));
    let resumed = read_metrics(&work.path().join("cut"));
    let key =
        |row: &support::MetricsRow| (row.valid_loss, row.valid_acc, row.test_loss, row.test_acc);
    assert_eq!(
        resumed.iter().map(key).collect::<Vec<_>>(),
        rows.iter().map(key).collect::<Vec<_>>()
    );
    let output = run_in(
        work.path(),
        &TrainArgs::shipped("smoke")
            .set("data.validation=2000")
            .list(),
    );
    assert_one_line_error(
        &output,
        2,
        "`data.validation` is 2000, but there are only 2000",
    );
}

/// `[early_stopping]` stops when validation accuracy stops improving and keeps the best
/// epoch: model.bpk holds exactly the tensors of that epoch's checkpoint, and run.toml names
/// it and why the run stopped. Watching the test split, or watching without a validation
/// split, is refused in one line.
#[test]
fn early_stopping_keeps_the_best_validation_epoch() {
    let work = tempfile::tempdir().unwrap();
    #[rustfmt::skip]
    let stdout = smoke_run(work.path(), "run", &[
        "--set", "data.validation=500", "--set", "epochs=15",
        "--set", "early_stopping.metric=valid_acc", "--set", "early_stopping.patience=1",
    ]);
    let record: toml::Table = fs::read_to_string(work.path().join("run/run.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let completed = record["epochs_completed"].as_integer().unwrap() as usize;
    let selected = record["selected_epoch"].as_integer().unwrap() as usize;
    assert!(completed < 15 && selected == completed - 1, "{record}");
    assert!(
        stdout.contains("Stopped: early stopping: valid_acc did not improve"),
        "{stdout}"
    );
    let rows = read_metrics(&work.path().join("run"));
    let best = rows
        .iter()
        .map(|row| row.valid_acc.unwrap())
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(rows[selected - 1].valid_acc, Some(best));
    assert_eq!(
        record["final_test_accuracy"].as_float(),
        Some(rows[selected - 1].test_acc)
    );

    let device = burn::prelude::Device::flex();
    let weights = |file: &str| {
        let model = TrainedModel::load(&work.path().join("run").join(file), &device).unwrap();
        let weights: Vec<f32> = model.model.weights().into_data().try_to_vec().unwrap();
        let bias: Vec<f32> = model.model.bias().into_data().try_to_vec().unwrap();
        (weights, bias)
    };
    let kept = weights("model.bpk");
    assert_eq!(kept, weights(&format!("checkpoint/model-{selected}.bpk")));
    assert_ne!(kept, weights(&format!("checkpoint/model-{completed}.bpk")));

    for (sets, needle) in [
        (
            ["data.validation=500", "early_stopping.metric=test_acc"],
            "`early_stopping.metric` cannot watch the test split",
        ),
        (
            ["epochs=2", "early_stopping.patience=2"],
            "`early_stopping.metric` needs a validation split",
        ),
    ] {
        let args = TrainArgs::shipped("smoke").sets(sets);
        assert_one_line_error(&run_in(work.path(), &args.list()), 2, needle);
    }
}

/// This program's training loop hands the metrics several steps at a time; Burn's hands them
/// one: every metric of every epoch is the same, and so is every bit of the weights of the
/// model and of every checkpoint, for the tutorial's config and the default one (validation
/// split, momentum, cosine schedule).
#[test]
fn the_batched_loop_gives_the_numbers_of_burns_loop_bit_for_bit() {
    let scratch = tempfile::tempdir().unwrap();
    for (name, set) in [("seed", "epochs=3"), ("default", "epochs=3")] {
        let mut runs = Vec::new();
        for (out, extra) in [("batched", None), ("burn", Some("--burn-loop"))] {
            let out = format!("{name}-{out}");
            let args = TrainArgs::shipped(name)
                .set(set)
                .out(&out)
                .plain()
                .flags(extra);
            succeed(scratch.path(), &args.list());
            let csv = fs::read_to_string(scratch.path().join(&out).join("metrics.csv")).unwrap();
            // Every column but the two timings.
            let columns: Vec<String> = csv
                .lines()
                .map(|line| {
                    let cells: Vec<&str> = line.split(',').collect();
                    cells[..cells.len() - 2].join(",")
                })
                .collect();
            runs.push((columns, stored_weights(&scratch.path().join(&out))));
        }
        assert_eq!(runs[0].0, runs[1].0, "{name}: the loops' metrics differ");
        assert_eq!(runs[0].0.len(), 4, "{name}: a header and three epochs");
        let names: Vec<&String> = runs[0].1.iter().map(|(name, _)| name).collect();
        assert!(
            names.len() >= 3,
            "{name}: the model and checkpoints: {names:?}"
        );
        for ((file, batched), (_, burn)) in runs[0].1.iter().zip(&runs[1].1) {
            assert!(
                batched == burn,
                "{name}: the loops' weights in {file} differ"
            );
        }
        assert_eq!(runs[0].1.len(), runs[1].1.len(), "{name}: {names:?}");
    }
}

/// The weights and bias, as bits, of `model.bpk` and of every model checkpoint of a run, by
/// file name (the files' bytes differ: each holds its parameters' random ids).
fn stored_weights(run: &Path) -> Vec<(String, Vec<u32>)> {
    let mut files = vec!["model.bpk".to_string()];
    let mut checkpoints: Vec<String> = fs::read_dir(run.join("checkpoint"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("model-"))
        .map(|name| format!("checkpoint/{name}"))
        .collect();
    checkpoints.sort();
    files.extend(checkpoints);
    files
        .into_iter()
        .map(|file| {
            let bits = support::weight_bits(&run.join(&file));
            (file, bits)
        })
        .collect()
}
