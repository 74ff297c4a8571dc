//! `mnist-burn serve` in a real browser: headless Chromium, driven by Playwright
//! (`tests/browser/e2e.mjs`), on a server this test starts over runs it trains. The browser
//! script only acts and reports what the page showed; the checks against `predict` and
//! `eval` are here.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mnist_data::{DatasetKind, ImageSet, Split};
use mnist_e2e::{Running, binary, can_run, config, repo_root, succeed};

/// Chromium, Node and Playwright, or why not.
fn browser() -> Result<PathBuf, String> {
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.is_file() {
        return Err(format!(
            "no Chromium at {} (`just browser-tools` installs Debian's chromium)",
            chromium.display()
        ));
    }
    mnist_e2e::program("node", &["--version"])?;
    let playwright = repo_root().join("tests/browser/node_modules/playwright-core");
    if !playwright.is_dir() {
        return Err("no tests/browser/node_modules (`just browser-tools` runs npm ci)".into());
    }
    Ok(chromium)
}

/// Writes 784 pixels as a 28x28 grayscale PNG.
fn write_png(path: &Path, pixels: &[u8]) {
    image::GrayImage::from_raw(28, 28, pixels.to_vec())
        .expect("784 pixels")
        .save(path)
        .unwrap();
}

/// The class `mnist-burn predict` gives a picture.
fn predicted(dir: &Path, run: &str, picture: &Path) -> String {
    let stdout = succeed(dir, &["predict", run, picture.to_str().unwrap()]);
    let (_, rest) = stdout.trim().split_once(": ").expect("predict's line");
    rest.split_whitespace().next().unwrap().to_string()
}

#[test]
fn the_page_lists_runs_live_and_classifies_drawings_like_predict() {
    let Some(chromium) = browser()
        .map_err(|reason| {
            can_run(
                Err(reason),
                "the_page_lists_runs_live_and_classifies_drawings_like_predict",
            )
        })
        .ok()
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let default = config("default");
    let default = default.to_str().unwrap();
    succeed(
        dir.path(),
        &[
            "train",
            "--config",
            default,
            "--set",
            "epochs=3",
            "--out",
            "runs/first",
            "--plain",
        ],
    );

    let mut server = Command::new(binary())
        .args(["serve", "runs", "--port", "0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let server = Running::new(server);
    let url = line
        .split("http://")
        .nth(1)
        .expect("the address")
        .split('/')
        .next()
        .unwrap();

    let test_images = ImageSet::load(DatasetKind::Mnist, Split::Test).unwrap();
    let upload = dir.path().join("test-0.png");
    write_png(&upload, test_images.image(0));
    let live = dir.path().join("runs/live");
    let live_command = serde_json::json!([
        binary(),
        "train",
        "--config",
        default,
        "--set",
        "epochs=20",
        "--out",
        live,
        "--plain"
    ]);
    let mut driver = Command::new("node");
    driver
        .arg(repo_root().join("tests/browser/e2e.mjs"))
        .env("SERVE_URL", format!("http://{url}"))
        .env("CHROMIUM", chromium)
        .env("LIVE_COMMAND", live_command.to_string())
        .env("LIVE_RUN_ID", "live")
        .env("UPLOAD_IMAGE", &upload);
    if let Some(shots) = std::env::var_os("MNIST_BURN_SCREENSHOTS") {
        driver.env("SCREENSHOT_DIR", shots);
    }
    let output = driver.output().unwrap();
    drop(server);
    assert!(
        output.status.success(),
        "browser: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one line of JSON");

    assert!(
        seen["runs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|id| id == "first"),
        "{seen}"
    );
    let epochs: Vec<u64> = seen["live_epochs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_u64().unwrap())
        .collect();
    assert!(
        epochs.len() >= 3 && epochs.windows(2).all(|pair| pair[0] < pair[1]),
        "{epochs:?}"
    );
    for stroke in ["bar", "loop"] {
        let input: Vec<u8> = seen[stroke]["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(input.len(), 784);
        assert!(
            input.iter().filter(|&&p| p > 0).count() > 20,
            "{stroke}: the canvas got no ink"
        );
        let picture = dir.path().join(format!("{stroke}.png"));
        write_png(&picture, &input);
        assert_eq!(
            seen[stroke]["shown"],
            predicted(dir.path(), "runs/first", &picture),
            "{stroke}"
        );
    }
    succeed(dir.path(), &["eval", "runs/first"]);
    let predictions =
        std::fs::read_to_string(dir.path().join("runs/first/predictions.csv")).unwrap();
    let first = predictions
        .lines()
        .nth(1)
        .unwrap()
        .rsplit(',')
        .next()
        .unwrap();
    assert_eq!(seen["upload"]["shown"], first);
}
