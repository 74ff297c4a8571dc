//! The browser build (`just web`): its static folder, served by a plain file server
//! (Python's `http.server`), trains the default config in headless Chromium, stopped once
//! and continued on the way, and every epoch's numbers are those of a native
//! `mnist-burn train` of the same config and seed; the model it downloads, imported, gives
//! the page's test accuracy in `mnist-burn eval` and its answer for a drawing in `predict`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::support;
use support::{COMMAND_SECONDS, Running, browser, can_run, config, output_within, repo_root};

/// The folder `just web` writes beside the binary's build (`<target>/web`), or why not.
fn web_folder() -> Result<PathBuf, String> {
    let release = support::binary();
    let folder = release
        .parent()
        .and_then(|release| release.parent())
        .expect("the binary is in <target>/release")
        .join("web");
    match folder.join("mnist_web_bg.wasm").is_file() {
        true => Ok(folder),
        false => Err(format!(
            "no browser build in {} (`just web` writes it)",
            folder.display()
        )),
    }
}

#[test]
fn the_page_trains_the_default_config_with_the_numbers_of_a_native_run() {
    let test = "the_page_trains_the_default_config_with_the_numbers_of_a_native_run";
    let ready = browser().and_then(|chromium| {
        support::program("python3", &["--version"])?;
        Ok((chromium, web_folder()?))
    });
    let Some((chromium, web)) = ready.map_err(|reason| can_run(Err(reason), test)).ok() else {
        return;
    };
    let epochs = 3;
    let overrides = [format!("epochs={epochs}")];
    let dir = tempfile::tempdir().unwrap();
    let default = config("default");
    support::succeed(
        dir.path(),
        &[
            "train",
            "--config",
            default.to_str().unwrap(),
            "--set",
            &overrides[0],
            "--backend",
            "flex",
            "--out",
            "native",
            "--plain",
        ],
    );
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
        .env("OVERRIDES", serde_json::to_string(&overrides).unwrap())
        .env("OUT_DIR", &out)
        .env("LIMIT_S", "200");
    if let Some(shots) = std::env::var_os("MNIST_BURN_SCREENSHOTS") {
        driver.env("SCREENSHOT_DIR", shots);
    }
    let output = output_within(driver, COMMAND_SECONDS);
    let (stdout, stderr) = support::text(&output);
    assert!(output.status.success(), "{stderr}");
    drop(server);
    let page: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
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
                (found - expected).abs() <= 1e-4,
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
                (found - expected).abs() <= 0.05,
                "epoch {}: {key} {found}% in the page, {expected}% native",
                native.epoch
            );
        }
    }
    let last_test_acc = shown.last().unwrap()["test_acc"].as_f64().unwrap();
    the_download_gives_the_pages_answers(dir.path(), &page["drawn"], last_test_acc);
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
    let evaluated = support::succeed(dir, &["eval", "imported"]);
    assert!(
        evaluated.contains(&format!("Test accuracy: {test_acc:.2}%")),
        "the page showed {test_acc}%: {evaluated}"
    );
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
