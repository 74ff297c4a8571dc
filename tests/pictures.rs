//! Pictures as people send them: MNIST test digits drawn as pages, saved plainly, as a
//! drawing on a transparent canvas (dark ink and light ink) and as a photo stored sideways
//! with an EXIF orientation; `predict` and serve's upload read each as the plain page, and a
//! model unsure of a digit says which two it hesitates between. MNIST's whole test split drawn
//! as pages reads as well as the split itself: the conversion leaves MNIST's digits as they are.

use std::fs;
use std::path::{Path, PathBuf};

use image::{DynamicImage, GrayImage, ImageEncoder, Luma, RgbaImage, imageops};
use mnist_data::{DatasetKind, ImageSet, Split};

use crate::support;
use support::{TrainArgs, exif_orientation, succeed};

/// Digits each kind of picture is made of.
const DIGITS: usize = 300;

/// Test digit `index` as ink on a page, read from the test split here.
pub fn test_ink(index: usize) -> GrayImage {
    ink(
        &ImageSet::load(DatasetKind::Mnist, Split::Test).unwrap(),
        index,
    )
}

/// Test digit `index` as ink (0 background, 255 ink) on a 168x168 page with a margin.
fn ink(test: &ImageSet, index: usize) -> GrayImage {
    let digit = GrayImage::from_raw(28, 28, test.image(index).to_vec()).unwrap();
    let large = imageops::resize(&digit, 112, 112, imageops::FilterType::Triangle);
    let mut page = GrayImage::new(168, 168);
    imageops::overlay(&mut page, &large, 28, 28);
    page
}

/// The kinds of picture: a name and how a page of ink is saved as one.
pub fn save_as(kind: &str, ink: &GrayImage, path: &Path) {
    let mut page = ink.clone();
    imageops::invert(&mut page);
    let page = DynamicImage::ImageLuma8(page);
    let mut bytes = Vec::new();
    match kind {
        "plain.png" => page.write_with_encoder(png(&mut bytes, None)).unwrap(),
        "plain.jpg" => page.write_with_encoder(jpeg(&mut bytes, None)).unwrap(),
        // Strokes as an HTML canvas exports them: colour where drawn, alpha = ink.
        "transparent-dark.png" | "transparent-light.png" => {
            let colour = if kind.contains("dark") { 0 } else { 255 };
            let drawn = RgbaImage::from_fn(ink.width(), ink.height(), |x, y| {
                let Luma([value]) = *ink.get_pixel(x, y);
                image::Rgba([colour, colour, colour, value])
            });
            DynamicImage::ImageRgba8(drawn)
                .write_with_encoder(png(&mut bytes, None))
                .unwrap();
        }
        // As a phone stores a photo taken sideways: pixels turned, the tag says how to show them.
        "sideways.jpg" => page
            .rotate90()
            .write_with_encoder(jpeg(&mut bytes, Some(8)))
            .unwrap(),
        "sideways.png" => page
            .rotate270()
            .write_with_encoder(png(&mut bytes, Some(6)))
            .unwrap(),
        other => panic!("no such kind of picture: {other}"),
    }
    fs::write(path, bytes).unwrap();
}

fn png(
    bytes: &mut Vec<u8>,
    orientation: Option<u16>,
) -> image::codecs::png::PngEncoder<&mut Vec<u8>> {
    let mut encoder = image::codecs::png::PngEncoder::new(bytes);
    if let Some(value) = orientation {
        encoder.set_exif_metadata(exif_orientation(value)).unwrap();
    }
    encoder
}

fn jpeg(
    bytes: &mut Vec<u8>,
    orientation: Option<u16>,
) -> image::codecs::jpeg::JpegEncoder<&mut Vec<u8>> {
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(bytes, 92);
    if let Some(value) = orientation {
        encoder.set_exif_metadata(exif_orientation(value)).unwrap();
    }
    encoder
}

pub const KINDS: [&str; 6] = [
    "plain.png",
    "plain.jpg",
    "transparent-dark.png",
    "transparent-light.png",
    "sideways.jpg",
    "sideways.png",
];

/// Writes the first `count` test digits as every kind of picture into `dir`.
pub fn pictures(dir: &Path, count: usize) -> Vec<(usize, u8, String, PathBuf)> {
    let test = ImageSet::load(DatasetKind::Mnist, Split::Test).unwrap();
    let mut made = Vec::new();
    for index in 0..count {
        let ink = ink(&test, index);
        for kind in KINDS {
            let path = dir.join(format!("{index}-{kind}"));
            save_as(kind, &ink, &path);
            made.push((index, test.label(index), kind.to_string(), path));
        }
    }
    made
}

/// `predict --json` of many pictures: each line's file and answer.
fn predicted(work: &Path, run: &str, files: &[PathBuf]) -> Vec<serde_json::Value> {
    let mut args = vec!["predict".to_string(), run.to_string(), "--json".to_string()];
    args.extend(files.iter().map(|file| file.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    succeed(work, &args)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Trains `configs/<name>.toml` into `<dir>/run`, with `settings` as `--set` values.
fn train_run(dir: &Path, name: &str, settings: &[&str]) {
    let args = TrainArgs::shipped(name)
        .out("run")
        .plain()
        .sets(settings.iter().copied());
    succeed(dir, &args.list());
}

/// Percent of the test split's digits, drawn as plain pages into `work/pages`, that `predict`
/// reads right.
fn pages_accuracy(work: &Path) -> f64 {
    let test = ImageSet::load(DatasetKind::Mnist, Split::Test).unwrap();
    fs::create_dir(work.join("pages")).unwrap();
    let files: Vec<String> = (0..test.len())
        .map(|index| {
            let file = format!("pages/{index}.png");
            save_as("plain.png", &ink(&test, index), &work.join(&file));
            file
        })
        .collect();
    let mut args = vec!["predict", "run"];
    args.extend(files.iter().map(String::as_str));
    let stdout = succeed(work, &args);
    let mut right = 0;
    for (index, line) in stdout.lines().enumerate() {
        let (file, answer) = line.split_once(": ").unwrap();
        assert_eq!(file, files[index]);
        let class = answer.split_whitespace().next().unwrap();
        right += usize::from(class == test.label(index).to_string());
    }
    assert_eq!(stdout.lines().count(), test.len());
    100.0 * right as f64 / test.len() as f64
}

#[test]
fn transparent_drawings_and_sideways_photos_read_as_the_plain_page() {
    let work = tempfile::tempdir().unwrap();
    train_run(work.path(), "default", &["epochs=5"]);
    succeed(work.path(), &["eval", "run"]);
    let eval: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(work.path().join("run/eval.json")).unwrap())
            .unwrap();
    let split = eval["accuracy"].as_f64().unwrap();
    let pages = pages_accuracy(work.path());
    println!("test split {split:.2}%, the same digits as pages {pages:.2}%");
    assert!(
        (pages - split).abs() < 0.1,
        "MNIST's test digits as pages read {pages:.2}%, the split itself {split:.2}%"
    );
    let made = pictures(work.path(), DIGITS);
    let files: Vec<PathBuf> = made.iter().map(|(_, _, _, path)| path.clone()).collect();
    let answers = predicted(work.path(), "run", &files);
    assert_eq!(answers.len(), made.len());
    let mut right = std::collections::BTreeMap::new();
    let mut seen = std::collections::BTreeMap::new();
    for ((index, label, kind, _), answer) in made.iter().zip(&answers) {
        *right.entry(kind.as_str()).or_insert(0usize) +=
            usize::from(answer["class"] == u64::from(*label));
        seen.insert((*index, kind.as_str()), answer["input"].clone());
    }
    println!("correct of {DIGITS}: {right:?}");
    let plain = right["plain.png"] as f64;
    for kind in KINDS {
        let accuracy = 100.0 * right[kind] as f64 / DIGITS as f64;
        assert!(
            (accuracy - 100.0 * plain / DIGITS as f64).abs() <= 1.0,
            "{kind}: {accuracy}% against {}% for the plain page",
            100.0 * plain / DIGITS as f64
        );
    }
    // A drawing on a transparent canvas is, pixel for pixel, the plain page the model sees.
    for index in 0..DIGITS {
        for kind in [
            "transparent-dark.png",
            "transparent-light.png",
            "sideways.png",
        ] {
            assert_eq!(
                seen[&(index, kind)],
                seen[&(index, "plain.png")],
                "digit {index}, {kind}"
            );
        }
    }
}

#[test]
fn a_picture_too_large_to_decode_is_refused_in_one_line() {
    let work = tempfile::tempdir().unwrap();
    train_run(work.path(), "smoke", &[]);
    // A PNG header that claims 30,000 x 30,000 pixels.
    let huge = work.path().join("huge.png");
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(&[0u8; 16], 4, 4, image::ExtendedColorType::L8)
        .unwrap();
    // IHDR's width and height, and its CRC, rewritten.
    bytes[16..20].copy_from_slice(&30_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&30_000u32.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    fs::write(&huge, bytes).unwrap();
    let output = support::run_in(work.path(), &["predict", "run", huge.to_str().unwrap()]);
    support::assert_one_line_error(&output, 1, "30000x30000 pixels is larger than");
}

/// CRC-32 (PNG's), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// serve's upload reads the same files the same way: each kind of picture of a digit reaches
/// the model as the plain page does.
#[test]
fn serves_upload_reads_every_kind_of_picture_as_the_plain_page() {
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    let work = tempfile::tempdir().unwrap();
    let runs = work.path().join("runs");
    fs::create_dir_all(&runs).unwrap();
    train_run(&runs, "smoke", &[]);
    let device = mnist_train::BackendKind::Flex.device().unwrap();
    let app = mnist_serve::router(mnist_serve::AppState::new(runs, device));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let upload = |path: &Path| -> serde_json::Value {
        let request = Request::post("/api/runs/run/predict")
            .header("content-type", "application/octet-stream")
            .body(Body::from(fs::read(path).unwrap()))
            .unwrap();
        runtime.block_on(async {
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{}", path.display());
            let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
            serde_json::from_slice(&body).unwrap()
        })
    };
    let made = pictures(work.path(), 20);
    let from_cli = predicted(
        work.path(),
        "runs/run",
        &made
            .iter()
            .map(|(_, _, _, path)| path.clone())
            .collect::<Vec<_>>(),
    );
    for ((index, _, kind, path), cli) in made.iter().zip(&from_cli) {
        let served = upload(path);
        assert_eq!(
            served["input"], cli["input"],
            "digit {index}, {kind}: serve and predict"
        );
        assert_eq!(served["class"], cli["class"], "digit {index}, {kind}");
    }
}

/// A run that validates chooses, on its validation split, the confidence above which its
/// answers stand alone; on the test split those answers are right about 99 times in 100, and
/// `predict` names the two likeliest classes exactly for the answers below it. `eval` reports
/// the calibration and draws it.
#[test]
fn answers_below_the_validated_confidence_come_with_their_runner_up() {
    let work = tempfile::tempdir().unwrap();
    train_run(work.path(), "default", &["epochs=5"]);
    let record: toml::Table = fs::read_to_string(work.path().join("run/run.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let threshold = record["confidence"]["confident_above"].as_float().unwrap();
    let coverage = record["confidence"]["coverage"].as_float().unwrap();
    assert!(
        (0.3..1.0).contains(&threshold) && (0.5..1.0).contains(&coverage),
        "{record}"
    );

    let stdout = succeed(work.path(), &["eval", "run", "--probabilities"]);
    assert!(stdout.contains("Expected calibration error: "), "{stdout}");
    let picture = image::open(work.path().join("run/reliability.png")).unwrap();
    assert_eq!(picture.width(), 640);
    let test = ImageSet::load(DatasetKind::Mnist, Split::Test).unwrap();
    let rows = fs::read_to_string(work.path().join("run/probabilities.csv")).unwrap();
    let (mut sure, mut right) = (0usize, 0usize);
    for (index, line) in rows.lines().skip(1).enumerate() {
        let p: Vec<f64> = line
            .split(',')
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect();
        let (best, top) = p.iter().enumerate().fold(
            (0, 0.0),
            |(b, t), (k, &v)| if v > t { (k, v) } else { (b, t) },
        );
        if top >= threshold {
            sure += 1;
            right += usize::from(best == usize::from(test.label(index)));
        }
    }
    let accuracy = right as f64 / sure as f64;
    println!("threshold {threshold:.3}: {sure} answers alone, {accuracy:.4} right");
    assert!(
        accuracy >= 0.985,
        "answers above the threshold: {accuracy} right"
    );

    let made = pictures(work.path(), 60);
    let plain: Vec<PathBuf> = made
        .iter()
        .filter(|(_, _, kind, _)| kind == "plain.png")
        .map(|(_, _, _, path)| path.clone())
        .collect();
    let answers = predicted(work.path(), "run", &plain);
    let mut unsure = 0;
    for answer in &answers {
        let p: Vec<f64> = answer["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let mut ranked: Vec<usize> = (0..p.len()).collect();
        ranked.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
        let between = &answer["unsure_between"];
        assert_eq!(between.is_array(), p[ranked[0]] < threshold, "{answer}");
        if between.is_array() {
            unsure += 1;
            assert_eq!(
                between[0], answer["class"],
                "the first of the two is the answer"
            );
            assert_eq!(
                between,
                &serde_json::json!([ranked[0], ranked[1]]),
                "the two most probable classes: {answer}"
            );
        }
    }
    println!("{unsure} of {} pages unsure", answers.len());
    assert!(unsure > 0, "no page was unsure: the rule was never tried");
}
