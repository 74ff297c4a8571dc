//! A sweep's `[prune]` section end to end: the shipped learning-rate sweep pruned by the
//! median rule picks the same best trial as without pruning for far fewer epochs, pruned
//! trials are marked where people look, and bad sections are refused before anything runs.

use std::fs;
use std::path::Path;

use crate::support;

use support::{assert_one_line_error, config, repo_root, run_in, succeed};

/// The shipped learning-rate sweep (`configs/sweeps/lr.toml`) in `dir`, its base named by
/// absolute path, with `prune` appended.
fn shipped_lr_sweep(dir: &Path, name: &str, prune: &str) -> String {
    let shipped = fs::read_to_string(repo_root().join("configs/sweeps/lr.toml")).unwrap();
    let base = format!("base = {:?}", config("default").display().to_string());
    assert!(shipped.contains("base = \"../default.toml\""), "{shipped}");
    let text = shipped.replace("base = \"../default.toml\"", &base) + prune;
    let file = format!("{name}.toml");
    fs::write(dir.join(&file), text).unwrap();
    file
}

/// `results.csv` as (trial, status, epochs) rows, best first.
fn results(sweep_dir: &Path) -> Vec<(String, String, usize)> {
    let csv = fs::read_to_string(sweep_dir.join("results.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|&h| h == name).unwrap();
    let (trial, status, epochs) = (column("trial"), column("status"), column("epochs"));
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (
                cells[trial].to_string(),
                cells[status].to_string(),
                cells[epochs].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn median_pruning_keeps_the_best_trial_for_at_most_60_percent_of_the_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let plain = shipped_lr_sweep(dir.path(), "plain", "");
    let pruned = shipped_lr_sweep(
        dir.path(),
        "pruned",
        "\n[prune]\nrule = \"median\"\nafter = 3\n",
    );
    succeed(
        dir.path(),
        &["sweep", &plain, "--out", "plain", "--jobs", "2"],
    );
    let stdout = succeed(
        dir.path(),
        &["sweep", &pruned, "--out", "pruned", "--jobs", "2"],
    );
    let (all, kept) = (
        results(&dir.path().join("plain")),
        results(&dir.path().join("pruned")),
    );
    assert_eq!(all.len(), 12);
    assert_eq!(kept[0].0, all[0].0, "the same best trial:\n{stdout}");
    assert_eq!(kept[0].1, "finished");

    let trained: usize = kept.iter().map(|(_, _, epochs)| epochs).sum();
    let planned: usize = all.iter().map(|(_, _, epochs)| epochs).sum();
    assert_eq!(planned, 12 * 20);
    assert!(
        trained * 100 <= planned * 60,
        "{trained} of {planned} epochs trained:\n{stdout}"
    );
    let note = format!("{trained} of {planned} planned epochs trained");
    assert!(stdout.contains(&note), "{stdout}");

    // Each pruned trial stopped at or after epoch 3, says why in run.toml, and is listed as
    // pruned; a trial that ran to the end is the plain sweep's trial, epoch for epoch.
    let pruned_trials: Vec<_> = kept.iter().filter(|row| row.1 == "pruned").collect();
    assert!(!pruned_trials.is_empty(), "{stdout}");
    for (trial, _, epochs) in &pruned_trials {
        assert!((3..20).contains(epochs), "{trial}: {epochs}");
        let record =
            fs::read_to_string(dir.path().join("pruned").join(trial).join("run.toml")).unwrap();
        assert!(record.contains("status = \"pruned\""), "{record}");
        assert!(
            record.contains(&format!(
                "stop_reason = \"pruned after epoch {epochs}: its best valid_acc"
            )),
            "{record}"
        );
    }
    let finished = kept.iter().find(|row| row.1 == "finished").unwrap();
    assert_eq!(
        support::learned(&dir.path().join("pruned").join(&finished.0)),
        support::learned(&dir.path().join("plain").join(&finished.0))
    );
    let listed: serde_json::Value =
        serde_json::from_str(&succeed(dir.path(), &["runs", "pruned", "--json"])).unwrap();
    let statuses: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == "pruned").count(),
        pruned_trials.len()
    );
    // A resumed sweep runs none of them again.
    let again = succeed(dir.path(), &["sweep", "--resume", "pruned"]);
    assert!(again.contains("0 trials to run"), "{again}");
}

#[test]
fn bad_pruning_sections_are_refused_before_anything_runs_or_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let write = |prune: &str, base: &str| {
        let text = format!(
            "base = {:?}\n[set]\nepochs = 4\n[grid]\n\"optimizer.lr\" = [0.01, 0.02]\n[prune]\n{prune}\n",
            config(base).display().to_string()
        );
        fs::write(dir.path().join("sweep.toml"), text).unwrap();
    };
    let cases = [
        (
            "rule = \"quartile\"",
            "default",
            "unknown variant `quartile`",
        ),
        (
            "rule = \"median\"",
            "smoke",
            "prune.metric: needs a validation split",
        ),
        (
            "rule = \"median\"\nmetric = \"test_acc\"",
            "default",
            "prune.metric: cannot compare trials on the test split",
        ),
        (
            "rule = \"halving\"\nafter = 5",
            "default",
            "prune.after: epoch 5 is past the last epoch (4)",
        ),
        (
            "rule = \"halving\"\nreduction = 1",
            "default",
            "prune.reduction: must be at least 2",
        ),
    ];
    for (prune, base, needle) in cases {
        write(prune, base);
        for emit in [&[][..], &["--emit", "slurm"][..]] {
            let mut args = vec!["sweep", "sweep.toml", "--out", "out"];
            args.extend(emit);
            assert_one_line_error(&run_in(dir.path(), &args), 2, needle);
            assert!(!dir.path().join("out").exists(), "{prune}: nothing written");
        }
    }
}
