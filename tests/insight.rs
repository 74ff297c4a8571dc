//! Looking at the data and the results: inspect, plots, eval, predict, Fashion-MNIST.

use std::fs;
use std::path::Path;

use crate::support;
use image::{GrayImage, Luma, Rgb, RgbImage};
use mnist_data::{DatasetKind, ImageSet, Split};

use support::reference::{Weights, assert_reported, fashion_test, mnist_test, raw_mnist};
use support::{TrainArgs, can_run, config, fashion_mnist, read_metrics, run_in, succeed, text};

/// A PNG that decodes, has the given size, and is not blank.
fn assert_picture(path: &Path, size: (u32, u32)) {
    let picture = image::open(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .to_rgb8();
    assert_eq!(picture.dimensions(), size, "{}", path.display());
    let inked = picture.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(inked > 1000, "{} is almost blank", path.display());
}

/// The number after `label` on the line that holds it, e.g. `values -0.42..2.82`.
fn range_after(text: &str, label: &str) -> (f64, f64) {
    let line = text
        .lines()
        .find(|line| line.contains(label))
        .unwrap_or_else(|| panic!("no line with {label:?} in {text}"));
    let rest = &line[line.find(label).unwrap() + label.len()..];
    let range = rest
        .split([',', ' '])
        .find(|word| word.contains(".."))
        .unwrap();
    let (low, high) = range.split_once("..").unwrap();
    (low.parse().unwrap(), high.parse().unwrap())
}

#[test]
fn inspect_reports_what_the_data_and_the_batcher_hold() {
    let work = tempfile::tempdir().unwrap();
    // What inspect reports, against the raw files read here.
    let raw = raw_mnist("train/train-images-idx3-ubyte");
    let raw_labels = raw_mnist("train/train-labels-idx1-ubyte");
    let stdout = succeed(work.path(), &["inspect", "-n", "5"]);
    assert!(
        stdout.contains(&format!("train: {} images", raw.len() / 784)),
        "{stdout}"
    );
    assert!(stdout.contains("test:  10000 images"), "{stdout}");
    // The item type is the one the data crate hands out.
    let item = ImageSet::load(DatasetKind::Mnist, Split::Train)
        .unwrap()
        .item(0);
    let item_type = format!(
        "{} {{ image: {}, label: {} }}",
        std::any::type_name_of_val(&item),
        std::any::type_name_of_val(&item.image),
        std::any::type_name_of_val(&item.label)
    );
    assert!(stdout.contains(&item_type), "{item_type} in {stdout}");
    let (low, high) = (*raw.iter().min().unwrap(), *raw.iter().max().unwrap());
    assert_eq!(
        range_after(&stdout, "raw pixels"),
        (low as f64, high as f64)
    );
    assert!(stdout.contains("images:  [5, 784] F32"), "{stdout}");
    let first_five = &raw[..5 * 784];
    let batch_high = *first_five.iter().max().unwrap() as f64 / 255.0;
    assert_eq!(range_after(&stdout, "  images:"), (0.0, batch_high));
    let labels: Vec<String> = raw_labels[..5].iter().map(u8::to_string).collect();
    let targets = stdout
        .lines()
        .find(|line| line.contains("targets: [5] "))
        .unwrap();
    assert!(
        targets.ends_with(&format!("values {}", labels.join(" "))),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "Labels of train images [0, 1, 2, 3, 4]: {}",
            labels.join(" ")
        )),
        "{stdout}"
    );
    let ones = raw_labels.iter().filter(|&&label| label == 1).count();
    assert!(
        stdout.contains(&format!("{:>11}: {ones:>5}", "1")),
        "class counts: {stdout}"
    );
    assert!(
        stdout.contains('█'),
        "digits drawn in the terminal: {stdout}"
    );
    assert_picture(&work.path().join("inspect/mnist-train.png"), (600, 190));

    // A normalising, deskewing config changes what the batch holds, and says where it came
    // from.
    let default = config("default");
    let stdout = succeed(
        work.path(),
        &[
            "inspect",
            "--config",
            default.to_str().unwrap(),
            "--index",
            "0",
            "--index",
            "1",
            "--out",
            "first-two.png",
        ],
    );
    let (mean, std) = (0.1307, 0.3081);
    let first_two: Vec<u8> = raw[..2 * 784]
        .chunks(784)
        .flat_map(mnist_data::deskew)
        .collect();
    assert_ne!(first_two, raw[..2 * 784], "the default config deskews");
    let scaled = |p: u8| ((p as f32 / 255.0 - mean) / std) as f64;
    let (low, high) = range_after(&stdout, "  images:");
    let expected = (
        scaled(*first_two.iter().min().unwrap()),
        scaled(*first_two.iter().max().unwrap()),
    );
    assert!(
        (low - expected.0).abs() < 1e-4 && (high - expected.1).abs() < 1e-4,
        "{stdout}"
    );
    assert!(
        stdout.contains("data.mean 0.1307, data.std 0.3081"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "Labels of train images [0, 1]: {} {}",
            labels[0], labels[1]
        )),
        "{stdout}"
    );
    assert_picture(&work.path().join("first-two.png"), (480, 190));
}

#[test]
fn a_run_plots_itself_and_runs_compare() {
    let work = tempfile::tempdir().unwrap();
    succeed(
        work.path(),
        &TrainArgs::shipped("smoke").set("epochs=2").out("a").list(),
    );
    succeed(
        work.path(),
        &TrainArgs::shipped("smoke")
            .set("epochs=3")
            .set("optimizer.lr=0.001")
            .out("b")
            .list(),
    );
    for file in ["loss.png", "accuracy.png"] {
        assert_picture(&work.path().join("a").join(file), (900, 560));
    }
    assert_picture(&work.path().join("a/weights.png"), (1000, 470));

    fs::remove_file(work.path().join("a/loss.png")).unwrap();
    succeed(work.path(), &["plot", "a"]);
    assert_picture(&work.path().join("a/loss.png"), (900, 560));

    let stdout = succeed(work.path(), &["plot", "a", "b", "--out", "both"]);
    assert!(stdout.contains("both/loss.png"), "{stdout}");
    assert_picture(&work.path().join("both/accuracy.png"), (900, 560));
}

/// Trains on 2,000 images and evaluates on the whole test split.
fn trained_model(work: &Path) -> &'static str {
    let full_test = work.join("full-test.toml");
    let smoke = fs::read_to_string(config("smoke")).unwrap();
    fs::write(&full_test, smoke.replace("test_limit = 1000", "")).unwrap();
    succeed(work, &TrainArgs::config(&full_test).out("run").list());
    "run"
}

/// The rows of a CSV file of numbers after its header, `skip` columns left out.
fn csv_numbers(path: &Path, skip: usize) -> Vec<Vec<f64>> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            line.split(',')
                .skip(skip)
                .map(|n| n.parse().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn eval_reproduces_the_runs_accuracy_and_counts_every_class() {
    let work = tempfile::tempdir().unwrap();
    let run = trained_model(work.path());
    let last = read_metrics(&work.path().join(run)).pop().unwrap();
    let stdout = succeed(work.path(), &["eval", run]);
    assert!(
        stdout.contains(&format!("Test accuracy: {:.2}%", last.test_acc)),
        "{stdout}"
    );
    assert!(stdout.contains("Most confused"), "{stdout}");

    // Every prediction, against the saved weights applied to the raw test files.
    let test = mnist_test(10_000);
    let measured = Weights::exported(work.path(), run).measure(&test, (0.1307, 0.3081), false);
    let predictions = csv_numbers(&work.path().join("run/predictions.csv"), 0);
    assert_eq!(predictions.len(), 10_000);
    let mut confusion = [[0usize; 10]; 10];
    for (index, row) in predictions.iter().enumerate() {
        let [listed, label, predicted] = [0, 1, 2].map(|i| row[i] as usize);
        assert_eq!((listed, label), (index, usize::from(test.1[index])));
        let (expected, margin) = measured.predicted[index];
        assert!(
            predicted == expected || margin < 1e-4,
            "image {index}: {predicted}, the weights say {expected}"
        );
        confusion[label][predicted] += 1;
    }
    let correct: usize = (0..10).map(|class| confusion[class][class]).sum();
    let accuracy = correct as f64 / 100.0;
    assert!(
        (accuracy - last.test_acc).abs() < 1e-9,
        "{accuracy} vs {last:?}"
    );
    assert_reported("last epoch", (last.test_loss, last.test_acc), &measured);

    // confusion.csv is the matrix of predictions.csv (rows: truth), and eval.json's precision
    // (of a predicted class) and recall (of a true class) follow from it.
    let csv = csv_numbers(&work.path().join("run/confusion.csv"), 1);
    for (class, row) in confusion.iter().enumerate() {
        let cells: Vec<usize> = csv[class].iter().map(|&n| n as usize).collect();
        assert_eq!(cells, row, "confusion row {class}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(work.path().join("run/eval.json")).unwrap())
            .unwrap();
    assert!((json["accuracy"].as_f64().unwrap() - accuracy).abs() < 1e-9);
    for class in 0..10 {
        let hits = confusion[class][class] as f64;
        let truly: usize = confusion[class].iter().sum();
        let taken: usize = confusion.iter().map(|row| row[class]).sum();
        let report = &json["classes"][class];
        assert_eq!(report["count"], truly, "class {class}");
        for (key, expected) in [
            ("precision", 100.0 * hits / taken as f64),
            ("recall", 100.0 * hits / truly as f64),
        ] {
            let value = report[key].as_f64().unwrap();
            assert!(
                (value - expected).abs() < 1e-9,
                "class {class}: {key} {value}, expected {expected}"
            );
        }
    }
    assert_picture(&work.path().join("run/confusion.png"), (860, 820));

    // The mistakes it shows are wrong predictions of predictions.csv, with their pixels, the
    // most confident first; the probability is above the 1/10 of a guess.
    let mistakes = json["mistakes"].as_array().unwrap();
    assert_eq!(mistakes.len(), 32);
    let images = ImageSet::load(DatasetKind::Mnist, Split::Test).unwrap();
    let mut previous = 1.0;
    for mistake in mistakes {
        let index = mistake["index"].as_u64().unwrap() as usize;
        let (label, predicted) = (predictions[index][1], predictions[index][2]);
        assert_ne!(label, predicted, "{mistake}");
        assert_eq!(mistake["label"].as_f64().unwrap(), label);
        assert_eq!(mistake["predicted"].as_f64().unwrap(), predicted);
        let probability = mistake["probability"].as_f64().unwrap();
        assert!(
            (0.1..=previous).contains(&probability),
            "{probability} after {previous}"
        );
        previous = probability;
        let pixels: Vec<u8> = mistake["pixels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(pixels, images.image(index), "image {index}");
    }
    assert_picture(&work.path().join("run/misclassified.png"), (960, 610));
}

#[test]
fn predict_agrees_with_eval_on_test_images_and_handles_any_picture() {
    let work = tempfile::tempdir().unwrap();
    let run = trained_model(work.path());
    succeed(work.path(), &["eval", run]);
    let predictions: Vec<(u8, usize)> = fs::read_to_string(work.path().join("run/predictions.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<usize> = line.split(',').map(|f| f.parse().unwrap()).collect();
            (fields[1] as u8, fields[2])
        })
        .collect();

    let test = ImageSet::load(DatasetKind::Mnist, Split::Test).unwrap();
    let pictures = work.path().join("pictures");
    fs::create_dir(&pictures).unwrap();
    let mut args = vec!["predict".to_string(), run.to_string()];
    for index in 0..20 {
        let path = pictures.join(format!("test-{index}.png"));
        GrayImage::from_raw(28, 28, test.image(index).to_vec())
            .unwrap()
            .save(&path)
            .unwrap();
        args.push(path.to_str().unwrap().to_string());
    }
    // Test image 0 is a clear 7: as dark ink on white, four times larger, and as red ink on
    // a yellow background off-centre in a wide picture.
    let seven = test.image(0);
    assert_eq!(predictions[0], (7, 7));
    let mut light = GrayImage::from_pixel(150, 130, Luma([255]));
    let mut colour = RgbImage::from_pixel(320, 180, Rgb([250, 235, 110]));
    for (index, &value) in seven.iter().enumerate() {
        let (x, y) = ((index % 28) as u32, (index / 28) as u32);
        for (dx, dy) in (0..4).flat_map(|dx| (0..4).map(move |dy| (dx, dy))) {
            light.put_pixel(20 + 4 * x + dx, 10 + 4 * y + dy, Luma([255 - value]));
            if value > 100 {
                colour.put_pixel(180 + 4 * x + dx, 30 + 4 * y + dy, Rgb([190, 20, 30]));
            }
        }
    }
    light.save(pictures.join("light.png")).unwrap();
    colour.save(pictures.join("colour.jpg")).unwrap();
    fs::write(pictures.join("notes.png"), "not a picture").unwrap();
    for name in ["light.png", "notes.png", "colour.jpg"] {
        args.push(pictures.join(name).to_str().unwrap().to_string());
    }

    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run_in(work.path(), &args);
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "one bad file fails the call: {stderr}"
    );
    assert!(
        stderr.contains("notes.png: not a picture this program reads"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 of 23 images could not be classified"),
        "{stderr}"
    );
    for (index, (_, predicted)) in predictions.iter().enumerate().take(20) {
        let line = stdout
            .lines()
            .find(|line| line.contains(&format!("/test-{index}.png: ")))
            .unwrap_or_else(|| panic!("no prediction for test image {index}: {stdout}"));
        assert!(
            line.contains(&format!(".png: {predicted}  (0: ")),
            "image {index}: eval said {predicted}: {line}"
        );
    }
    for name in ["light.png", "colour.jpg"] {
        assert!(
            stdout.contains(&format!("{name}: 7  (")),
            "{name}: {stdout}"
        );
    }
    let probabilities: f32 = stdout
        .lines()
        .next()
        .unwrap()
        .split(": ")
        .skip(2)
        .map(|field| field[..5].parse::<f32>().unwrap())
        .sum();
    assert!(
        (probabilities - 1.0).abs() < 0.01,
        "probabilities sum to 1: {probabilities}"
    );
}

#[test]
fn fashion_mnist_trains_and_names_its_classes() {
    if !can_run(
        fashion_mnist(),
        "fashion_mnist_trains_and_names_its_classes",
    ) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let stdout = succeed(
        work.path(),
        &TrainArgs::shipped("fashion")
            .set("epochs=1")
            .set("data.train_limit=5000")
            .out("run")
            .list(),
    );
    let row = read_metrics(&work.path().join("run"))[0].clone();
    let measured =
        Weights::exported(work.path(), "run").measure(&fashion_test(), (0.2860, 0.3530), false);
    assert_reported("fashion", (row.test_loss, row.test_acc), &measured);
    assert!(
        measured.accuracy > 70.0,
        "one pass over 5,000 images: {}% ({stdout})",
        measured.accuracy
    );
    let stdout = succeed(work.path(), &["eval", "run"]);
    assert!(
        stdout.contains("Ankle boot") && stdout.contains("T-shirt/top"),
        "{stdout}"
    );
    let stdout = succeed(
        work.path(),
        &["inspect", "--dataset", "fashion-mnist", "-n", "2"],
    );
    let fashion = ImageSet::load(DatasetKind::FashionMnist, Split::Train).unwrap();
    let names = DatasetKind::FashionMnist.class_names();
    let expected = format!(
        "Labels of train images [0, 1]: {} {}",
        names[usize::from(fashion.label(0))],
        names[usize::from(fashion.label(1))]
    );
    assert!(stdout.contains(&expected), "{stdout}");
    assert!(stdout.contains("Dataset: fashion-mnist, from "), "{stdout}");
    assert!(stdout.contains("dataset-fashion-mnist"), "{stdout}");
}

#[test]
fn profile_times_every_phase_of_a_step_and_draws_them() {
    let work = tempfile::tempdir().unwrap();
    let smoke = config("smoke");
    let stdout = succeed(
        work.path(),
        &[
            "profile",
            "--config",
            smoke.to_str().unwrap(),
            "--backend",
            "flex",
            "--steps",
            "300",
            "--warmup",
            "20",
            "--out",
            "profile",
        ],
    );
    let found: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(work.path().join("profile/profile.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(found["backend"], "flex");
    assert_eq!(found["steps"], 300);
    let phases = found["phases_us"].as_object().unwrap();
    let names: Vec<&str> = phases.keys().map(String::as_str).collect();
    for phase in [
        "batch (host)",
        "host to device",
        "forward",
        "backward",
        "optimizer step",
        "metrics read",
    ] {
        assert!(names.contains(&phase), "{phase} missing from {names:?}");
        assert!(phases[phase].as_f64().unwrap() > 0.0, "{phase}: {found}");
        assert!(
            stdout.lines().any(|line| line.starts_with(phase)),
            "{stdout}"
        );
    }
    assert_eq!(phases.len(), 6, "{found}");
    // The phases, each timed apart, against whole steps timed in a loop of their own: the
    // syncs between phases cost something, and the machine is shared, so only the scale is
    // checked, not the digits.
    let sum: f64 = phases.values().map(|value| value.as_f64().unwrap()).sum();
    let step = found["unbracketed_step_us"].as_f64().unwrap();
    assert!(
        (0.4 * step..=3.0 * step).contains(&sum),
        "phases add up to {sum} us, a whole step takes {step} us: {found}"
    );
    assert!(found["learner_step_us"].as_f64().unwrap() > 0.0, "{found}");
    assert_picture(
        &work.path().join("profile/profile.png"),
        (760, 110 + 42 * 6),
    );
}

/// Digits written with a lean (sheared 20 degrees) are seen upright by a model whose run
/// deskews: `predict` applies the run's deskew, so the leaning digits are classified about as
/// well as the upright ones, and better than by the same model trained without deskewing.
#[test]
fn a_deskewing_model_reads_leaning_digits() {
    let work = tempfile::tempdir().unwrap();
    for (name, deskew) in [("upright", "true"), ("raw", "false")] {
        let deskew = format!("data.deskew={deskew}");
        succeed(
            work.path(),
            &TrainArgs::shipped("smoke")
                .set("data.train_limit=20000")
                .set(&deskew)
                .out(name)
                .plain()
                .list(),
        );
    }
    let test = ImageSet::load(DatasetKind::Mnist, Split::Test).unwrap();
    let lean = 20f64.to_radians().tan();
    let mut pictures = Vec::new();
    for index in 0..100 {
        // Row r moves lean * (14 - r) columns right: the top leans right.
        let mut leaning = GrayImage::new(28, 28);
        for (pixel, &value) in test.image(index).iter().enumerate() {
            let (row, col) = (pixel / 28, pixel % 28);
            let moved = col as f64 + lean * (14.0 - row as f64);
            if (0.0..27.5).contains(&moved) {
                leaning.put_pixel(moved.round() as u32, row as u32, Luma([value]));
            }
        }
        let path = work.path().join(format!("leaning-{index}.png"));
        leaning.save(&path).unwrap();
        pictures.push(path.to_str().unwrap().to_string());
    }
    let correct = |run: &str| {
        let mut args = vec!["predict", run];
        args.extend(pictures.iter().map(String::as_str));
        let stdout = succeed(work.path(), &args);
        (0..100)
            .filter(|&index| {
                let label = test.label(index);
                stdout.contains(&format!("leaning-{index}.png: {label}  ("))
            })
            .count()
    };
    let (upright, raw) = (correct("upright"), correct("raw"));
    assert!(upright >= 90, "{upright} of 100 leaning digits right");
    assert!(upright >= raw + 5, "deskewed {upright} vs raw {raw} of 100");
}

/// `lr-find` on the default config suggests a rate within 10x of the best of the lr sweep
/// (0.005, README), writes nothing without `--out`, and its chart and points with it.
#[test]
fn lr_find_suggests_a_rate_near_the_sweeps_best() {
    let work = tempfile::tempdir().unwrap();
    let default = config("default");
    let stdout = succeed(work.path(), &["lr-find", default.to_str().unwrap()]);
    assert_eq!(
        fs::read_dir(work.path()).unwrap().count(),
        0,
        "nothing written"
    );
    let suggested: f64 = stdout
        .split("--set optimizer.lr=")
        .nth(1)
        .unwrap_or_else(|| panic!("{stdout}"))
        .trim()
        .parse()
        .unwrap();
    assert!(
        (0.0005..=0.05).contains(&suggested),
        "{suggested}: {stdout}"
    );
    succeed(
        work.path(),
        &["lr-find", default.to_str().unwrap(), "--out", "lr"],
    );
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(work.path().join("lr/lr_find.json")).unwrap())
            .unwrap();
    let points = json["points"].as_array().unwrap();
    let rates: Vec<f64> = points.iter().map(|p| p["lr"].as_f64().unwrap()).collect();
    assert!(rates.len() >= 100 && rates[0] == 1e-6, "{}", rates.len());
    assert!(rates.windows(2).all(|pair| pair[1] > pair[0]));
    assert_picture(&work.path().join("lr/lr_find.png"), (900, 560));
}
