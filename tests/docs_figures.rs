//! The figures the README and the shipped default config state are what the program prints
//! on this machine: the tutorial's run line for line (but its timings), the default run's test
//! accuracy, and the mistakes `eval` finds in it.

use std::fs;

use crate::support;

use support::{config, repo_root, succeed};

/// The number in `text` right after `before`, up to `after`.
fn figure<'a>(text: &'a str, before: &str, after: &str) -> &'a str {
    let start = text
        .find(before)
        .unwrap_or_else(|| panic!("no {before:?} in the text"))
        + before.len();
    let length = text[start..].find(after).unwrap();
    &text[start..start + length]
}

/// A progress line without its timing (`  0.20 s` at the end).
fn untimed(line: &str) -> &str {
    line.trim_end()
        .rsplit_once("  ")
        .map_or(line, |(text, _)| text)
}

#[test]
fn the_readmes_runs_are_what_fresh_runs_print() {
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    let work = tempfile::tempdir().unwrap();
    let seed = config("seed");
    #[rustfmt::skip]
    let printed = succeed(work.path(), &[
        "train", "--config", seed.to_str().unwrap(), "--plain", "--out", "seed",
    ]);
    // The README's example: its epoch lines as printed, the Finished line's numbers.
    let example = figure(
        &readme,
        "`just train config=configs/seed.toml --plain`",
        "Run folder",
    );
    let shown: Vec<&str> = example
        .lines()
        .filter(|line| line.starts_with("epoch "))
        .collect();
    assert_eq!(shown.len(), 2, "{example}");
    for line in shown {
        let epoch = &line[..12];
        let ours = printed
            .lines()
            .find(|printed| printed.starts_with(epoch))
            .unwrap_or_else(|| panic!("no {epoch:?} in {printed}"));
        assert_eq!(untimed(ours), untimed(line));
    }
    let finished = figure(example, "Finished 50 epochs in ", "\n");
    let numbers = finished.split_once(": ").unwrap().1;
    assert!(printed.contains(numbers), "{numbers:?} not in {printed}");
    let tutorial = figure(&readme, "the tutorial stops at ", "%");
    assert!(numbers.contains(&format!("test accuracy {tutorial}%")));

    // The default run: the README's accuracy, the config's own comment, and the mistakes
    // counted under the README's picture of them.
    let default = config("default");
    #[rustfmt::skip]
    let printed = succeed(work.path(), &[
        "train", "--config", default.to_str().unwrap(), "--plain", "--out", "default",
    ]);
    let accuracy = figure(&readme, "The default config (`just train`) reaches ", "%");
    assert!(
        printed.contains(&format!("test accuracy {accuracy}%")),
        "README: {accuracy}%; printed: {printed}"
    );
    let comment = fs::read_to_string(&default).unwrap();
    assert!(
        comment.contains(&format!(" {accuracy}% with seed 42")),
        "configs/default.toml says otherwise"
    );
    let caption = &readme[..readme.find(" mistakes in the 10,000").unwrap()];
    let mistakes: usize = caption
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let accuracy: f64 = accuracy.parse().unwrap();
    assert_eq!(mistakes, ((100.0 - accuracy) * 100.0).round() as usize);
    succeed(work.path(), &["eval", "default"]);
    let predictions = fs::read_to_string(work.path().join("default/predictions.csv")).unwrap();
    let wrong = predictions
        .lines()
        .skip(1)
        .filter(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            cells[1] != cells[2]
        })
        .count();
    assert_eq!(wrong, mistakes, "eval's predictions.csv");
}
