//! The browser build (`just web`): its static folder, served by a plain file server
//! (Python's `http.server`), trains the default config in headless Chromium, stopped once
//! and continued on the way, and every epoch's numbers are those of a native
//! `mnist-burn train` of the same config and seed; the model it downloads, imported, gives
//! the page's test accuracy in `mnist-burn eval` and its answer for a drawing in `predict`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::interchange::{argmax, float_rows};
use crate::support;
use support::{COMMAND_SECONDS, Running, TrainArgs, browser, can_run, output_within, repo_root};

/// The folder `just web` writes beside the binary's build (`<target>/web`), or why not.
pub(crate) fn web_folder() -> Result<PathBuf, String> {
    let release = support::binary();
    let folder = release
        .parent()
        .and_then(|release| release.parent())
        .expect("the binary is in <target>/release")
        .join("web");
    if folder.join("mnist_web_bg.wasm").is_file() {
        Ok(folder)
    } else {
        Err(format!(
            "no browser build in {} (`just test-tools` installs its tools, then `just test` or `just web` writes it)",
            folder.display()
        ))
    }
}

/// A run of the page: the backend it is asked for, the config's overrides, Chromium's extra
/// flags and how close to the native run its numbers must be.
struct PageRun {
    test: &'static str,
    backend: &'static str,
    /// For `wgpu`: `required` (skipped without an adapter) or `absent` (skipped with one).
    webgpu: &'static str,
    overrides: &'static [&'static str],
    chromium_args: &'static [&'static str],
    /// Loss and accuracy (percentage points) tolerances.
    within: (f64, f64),
    /// Writes the README's screenshots (with `MNIST_BURN_SCREENSHOTS`).
    screenshots: bool,
    limit_s: u64,
    /// Drops pictures as people send them on the canvas (a transparent drawing, a photo
    /// stored sideways) and checks the page sees what `predict` sees.
    drops: bool,
}

#[test]
fn the_page_trains_the_default_config_with_the_numbers_of_a_native_run() {
    let page = trains_like_a_native_run(PageRun {
        test: "the_page_trains_the_default_config_with_the_numbers_of_a_native_run",
        backend: "flex",
        webgpu: "",
        overrides: &["epochs=3"],
        chromium_args: &[],
        within: (1e-4, 0.05),
        screenshots: true,
        limit_s: 200,
        drops: true,
    });
    if let Some(page) = page {
        assert!(
            page["backend"]
                .as_str()
                .unwrap()
                .starts_with("backend: flex"),
            "{page}"
        );
    }
}

/// WebGPU on Chromium's SwiftShader adapter (a CPU rasteriser, so slow: a slice of the data),
/// compared with the CPU's numbers (the native flex run's, which the CPU path matches).
#[test]
fn on_webgpu_the_page_trains_with_the_cpu_paths_numbers() {
    let page = trains_like_a_native_run(PageRun {
        test: "on_webgpu_the_page_trains_with_the_cpu_paths_numbers",
        backend: "wgpu",
        webgpu: "required",
        // Two calls of the page's 50 steps per epoch: the stop lands between them.
        overrides: &[
            "epochs=2",
            "data.train_limit=3000",
            "data.validation=500",
            "data.test_limit=1000",
            "data.batch_size=32",
        ],
        chromium_args: &["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"],
        within: (1e-4, 0.05),
        screenshots: false,
        limit_s: 300,
        drops: false,
    });
    if let Some(page) = page {
        assert!(
            page["backend"]
                .as_str()
                .unwrap()
                .starts_with("backend: wgpu"),
            "{page}"
        );
    }
}

/// Asked for WebGPU where Chromium offers none (no flags, headless): the page says so in one
/// line and trains on the CPU, with the CPU's numbers.
#[test]
fn without_webgpu_the_page_says_so_and_trains_on_the_cpu() {
    let page = trains_like_a_native_run(PageRun {
        test: "without_webgpu_the_page_says_so_and_trains_on_the_cpu",
        backend: "wgpu",
        webgpu: "absent",
        // More than one epoch after the first steps, where the stop is asked for.
        overrides: &["epochs=3", "data.test_limit=1000"],
        chromium_args: &[],
        within: (1e-4, 0.05),
        screenshots: false,
        limit_s: 120,
        drops: false,
    });
    let Some(page) = page else { return };
    let notice = page["notice"].as_str().unwrap();
    assert!(
        notice.starts_with("WebGPU is not available here (") && !notice.contains('\n'),
        "{page}"
    );
    assert!(
        notice.ends_with("): training on the CPU instead"),
        "{notice}"
    );
    assert!(
        page["backend"]
            .as_str()
            .unwrap()
            .starts_with("backend: flex"),
        "{page}"
    );
}

/// Trains in the page as `run` says and checks it against a native run; the page's report,
/// or `None` where the test was skipped.
fn trains_like_a_native_run(run: PageRun) -> Option<serde_json::Value> {
    let ready = browser().and_then(|chromium| {
        support::program("python3", &["--version"])?;
        Ok((chromium, web_folder()?))
    });
    let (chromium, web) = ready
        .map_err(|reason| can_run(Err(reason), run.test))
        .ok()?;
    let dir = tempfile::tempdir().unwrap();
    let train = TrainArgs::shipped("default")
        .sets(run.overrides.iter().copied())
        .backend("flex")
        .out("native")
        .plain();
    support::succeed(dir.path(), &train.list());
    let native = support::read_metrics(&dir.path().join("native"));

    let mut server = Running::new(
        Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "-d"])
            .arg(&web)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let line = server.first_line(30);
    let port = line
        .split(" port ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    let out = dir.path().join("page");
    std::fs::create_dir(&out).unwrap();
    let mut driver = Command::new("node");
    driver
        .arg(repo_root().join("tests/browser/train.mjs"))
        .env("WEB_URL", format!("http://127.0.0.1:{port}"))
        .env("CHROMIUM", &chromium)
        .env("OVERRIDES", serde_json::to_string(run.overrides).unwrap())
        .env(
            "CHROMIUM_ARGS",
            serde_json::to_string(run.chromium_args).unwrap(),
        )
        .env("BACKEND", run.backend)
        .env("WEBGPU", run.webgpu)
        .env("OUT_DIR", &out)
        .env("LIMIT_S", run.limit_s.to_string());
    if let Some(shots) = std::env::var_os("MNIST_BURN_SCREENSHOTS").filter(|_| run.screenshots) {
        driver.env("SCREENSHOT_DIR", shots);
    }
    let kinds: &[&str] = if run.drops {
        &[
            "transparent-dark.png",
            "transparent-light.png",
            "sideways.jpg",
        ]
    } else {
        &[]
    };
    let drops: Vec<std::path::PathBuf> = kinds
        .iter()
        .map(|kind| {
            let path = dir.path().join(kind);
            crate::pictures::save_as(kind, &crate::pictures::test_ink(3), &path);
            path
        })
        .collect();
    driver.env("DROP_FILES", serde_json::to_string(&drops).unwrap());
    let output = output_within(driver, COMMAND_SECONDS);
    let (stdout, stderr) = support::text(&output);
    assert!(output.status.success(), "{stderr}");
    drop(server);
    let page: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    if let Some(reason) = page["skipped"].as_str() {
        support::report_skip(run.test, reason);
        return None;
    }
    println!(
        "the page's longest frame while training: {:.0} ms; backend: {}",
        page["max_frame_gap_ms"].as_f64().unwrap(),
        page["backend"]
    );
    let stopped_at = page["stopped_at"].as_str().unwrap_or_default();
    assert!(
        stopped_at.starts_with("epoch "),
        "the page stopped and said where: {stdout}"
    );
    let epochs = native.last().unwrap().epoch;
    let last = format!("epoch {epochs}, step ");
    assert!(
        page["last_step"].as_str().unwrap().starts_with(&last),
        "after Continue it trained to the end: {stdout}"
    );
    let shown = page["epochs"].as_array().unwrap();
    assert_eq!(shown.len(), native.len(), "{stdout}");
    for (page, native) in shown.iter().zip(&native) {
        let number = |key: &str| {
            page[key]
                .as_f64()
                .unwrap_or_else(|| panic!("{key} in {page}"))
        };
        assert_eq!(page["epoch"].as_u64(), Some(native.epoch as u64));
        for (key, expected) in [
            ("train_loss", native.train_loss),
            ("valid_loss", native.valid_loss.unwrap()),
            ("test_loss", native.test_loss),
        ] {
            let found = number(key);
            assert!(
                (found - expected).abs() <= run.within.0,
                "epoch {}: {key} {found} in the page, {expected} native",
                native.epoch
            );
        }
        for (key, expected) in [
            ("train_acc", native.train_acc),
            ("valid_acc", native.valid_acc.unwrap()),
            ("test_acc", native.test_acc),
        ] {
            let found = number(key);
            assert!(
                (found - expected).abs() <= run.within.1,
                "epoch {}: {key} {found}% in the page, {expected}% native",
                native.epoch
            );
        }
    }
    let last_test_acc = shown.last().unwrap()["test_acc"].as_f64().unwrap();
    the_download_gives_the_pages_answers(dir.path(), &page["drawn"], last_test_acc);
    the_page_sees_dropped_pictures_as_predict_does(dir.path(), &drops, &page["dropped"]);
    Some(page)
}

/// `mnist-burn import` of the page's download (its model.safetensors with its config.toml),
/// then `eval`: the page's last test accuracy; `predict` of the drawing the page answered:
/// the page's probabilities (printed to 3 decimals).
fn the_download_gives_the_pages_answers(
    dir: &std::path::Path,
    drawn: &serde_json::Value,
    test_acc: f64,
) {
    let page = dir.join("page");
    let [model, config, drawing] =
        ["model.safetensors", "config.toml", "drawn.png"].map(|file| page.join(file));
    support::succeed(
        dir,
        &[
            "import",
            model.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--out",
            "imported",
        ],
    );
    let evaluated = support::succeed(dir, &["eval", "imported", "--probabilities"]);
    assert!(
        evaluated.contains(&format!("Test accuracy: {test_acc:.2}%")),
        "the page showed {test_acc}%: {evaluated}"
    );
    in_pytorch_as_imported(dir, &model);
    let predicted = support::succeed(dir, &["predict", "imported", drawing.to_str().unwrap()]);
    let listed = predicted
        .split("  (")
        .nth(1)
        .unwrap_or_else(|| panic!("no probabilities in {predicted:?}"));
    let probabilities: Vec<f64> = listed
        .split(", ")
        .map(|pair| {
            pair.split(": ")
                .nth(1)
                .unwrap()
                .trim()
                .trim_end_matches(')')
                .parse()
                .unwrap()
        })
        .collect();
    let shown = drawn["probabilities"].as_array().unwrap();
    assert_eq!(probabilities.len(), shown.len(), "{predicted}");
    for (digit, (cli, page)) in probabilities.iter().zip(shown).enumerate() {
        let page = page.as_f64().unwrap();
        assert!(
            (cli - page).abs() <= 5e-4,
            "digit {digit}: {page} in the page, {cli} from predict ({predicted})"
        );
    }
    assert!(
        predicted.contains(&format!(": {}  (", drawn["class"])),
        "the page answered {}: {predicted}",
        drawn["class"]
    );
}

/// The download in PyTorch (`examples/python/load_safetensors.py`, which reads how to feed
/// it from the file's own header) classifies all 10,000 test images; those the run evaluates
/// (its config may limit them) get the imported run's probabilities.
fn in_pytorch_as_imported(dir: &std::path::Path, model: &std::path::Path) {
    let python = match support::python_with(&["torch", "safetensors", "numpy"]) {
        Ok(python) => python,
        Err(reason) => {
            return support::report_skip("the browser download in PyTorch", &reason);
        }
    };
    let images = support::real_mnist_dir().join("test/t10k-images-idx3-ubyte");
    let out = dir.join("pytorch.csv");
    support::run_python_example(&python, "load_safetensors.py", &[model, &images, &out]);
    let theirs = float_rows(&out, 0, 0);
    let ours = float_rows(&dir.join("imported/probabilities.csv"), 1, 1);
    assert_eq!(theirs.len(), 10_000);
    assert!(!ours.is_empty() && ours.len() <= theirs.len());
    for (index, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(argmax(a), argmax(b), "image {index}: {a:?} vs {b:?}");
        assert!(
            a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-5),
            "image {index}: {a:?} vs {b:?}"
        );
    }
}

/// Each dropped picture reached the page's model as the 28x28 picture `predict` gives the
/// imported model (the same config, so the same conversion and deskew): pixel for pixel, but
/// for a step of the resampling's rounding here and there (the browser's and the machine's
/// maths libraries may differ in the last bit).
fn the_page_sees_dropped_pictures_as_predict_does(
    dir: &std::path::Path,
    files: &[std::path::PathBuf],
    dropped: &serde_json::Value,
) {
    if files.is_empty() {
        return;
    }
    let mut args = vec!["predict".to_string(), "imported".into(), "--json".into()];
    args.extend(files.iter().map(|file| file.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let predicted = support::succeed(dir, &args);
    let dropped = dropped.as_array().unwrap();
    assert_eq!(dropped.len(), files.len(), "{dropped:?}");
    for ((file, line), page) in files.iter().zip(predicted.lines()).zip(dropped) {
        let cli: serde_json::Value = serde_json::from_str(line).unwrap();
        let (ours, theirs) = (
            cli["input"].as_array().unwrap(),
            page["input"].as_array().unwrap(),
        );
        assert_eq!((ours.len(), theirs.len()), (784, 784), "{}", file.display());
        let far = ours
            .iter()
            .zip(theirs)
            .filter(|(a, b)| a.as_i64().unwrap().abs_diff(b.as_i64().unwrap()) > 1)
            .count();
        assert_eq!(far, 0, "{}: the page saw another picture", file.display());
        assert_eq!(cli["class"], page["class"], "{}", file.display());
    }
}
