//! Sweep files drawn from the sweep file's own vocabulary, valid and not: each is a plan or
//! one line per mistake, never a panic, and reading it holds a bounded amount of memory
//! whatever trial count it asks for.

use std::path::Path;

use proptest::prelude::*;

use super::spec::{MAX_TRIALS, SweepPlan};
use crate::alloc_meter::peak_during;

/// Far below what a billion trials would take, far above what a thousand need.
const MEMORY_BOUND: usize = 64 * 1024 * 1024;

fn number() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("0"),
        Just("1"),
        Just("-1"),
        Just("0.5"),
        Just("1e-320"),
        Just("1e308"),
        Just("-1e308"),
        Just("inf"),
        Just("-inf"),
        Just("nan"),
        Just("32"),
        Just("0.001"),
    ]
}

fn key() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("\"optimizer.lr\""),
        Just("\"optimizer.momentum\""),
        Just("\"data.batch_size\""),
        Just("epochs"),
        Just("\"model.activation\""),
        Just("\"no.such\""),
    ]
}

fn distribution() -> impl Strategy<Value = String> {
    prop_oneof![
        (number(), number()).prop_map(|(low, high)| format!("{{ uniform = [{low}, {high}] }}")),
        (number(), number()).prop_map(|(low, high)| format!("{{ log_uniform = [{low}, {high}] }}")),
        proptest::collection::vec(number(), 0..4)
            .prop_map(|values| format!("{{ choice = [{}] }}", values.join(", "))),
        Just("{ uniform = [1] }".to_string()),
    ]
}

fn sweep_file() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just(""),
        Just("name = \"ok\"\n"),
        Just("name = \"../up\"\n")
    ];
    let set = proptest::collection::vec((key(), number()), 0..3);
    let grid = proptest::collection::vec((key(), 0usize..40), 0..7);
    let trials = prop_oneof![
        Just("0"),
        Just("1"),
        Just("7"),
        Just("1000"),
        Just("1001"),
        Just("10000000000"),
        Just("9223372036854775807"),
        Just("-1"),
    ];
    let random = proptest::option::of((
        trials,
        any::<u16>(),
        proptest::collection::vec((key(), distribution()), 0..3),
    ));
    let prune = proptest::option::of((
        prop_oneof![Just("median"), Just("halving"), Just("quartile")],
        prop_oneof![
            Just(""),
            Just("metric = \"valid_loss\"\n"),
            Just("metric = \"test_acc\"\n")
        ],
        prop_oneof![
            Just(""),
            Just("after = 0\n"),
            Just("after = 1\n"),
            Just("after = 99\n")
        ],
        prop_oneof![
            Just(""),
            Just("min_trials = 0\n"),
            Just("reduction = 1\n"),
            Just("reduction = 3\n")
        ],
    ));
    (name, set, grid, random, prune).prop_map(|(name, set, grid, random, prune)| {
        let mut text = format!("base = \"base.toml\"\n{name}");
        text += "[set]\n";
        for (key, value) in set {
            text += &format!("{key} = {value}\n");
        }
        text += "[grid]\n";
        for (index, (key, count)) in grid.into_iter().enumerate() {
            let values: Vec<String> = (0..count).map(|n| format!("{}", n + index)).collect();
            text += &format!("{key} = [{}]\n", values.join(", "));
        }
        if let Some((trials, seed, keys)) = random {
            text += &format!("[random]\ntrials = {trials}\nseed = {seed}\n[random.keys]\n");
            for (key, distribution) in keys {
                text += &format!("{key} = {distribution}\n");
            }
        }
        if let Some((rule, metric, after, option)) = prune {
            text += &format!("[prune]\nrule = \"{rule}\"\n{metric}{after}{option}");
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_sweep_file_is_a_plan_or_one_line_per_mistake_in_bounded_memory(text in sweep_file()) {
        let dir = tempfile::tempdir().unwrap();
        // A validation split, so that a [prune] section can be valid too.
        std::fs::write(dir.path().join("base.toml"), "epochs = 1\n[data]\nvalidation = 100\n").unwrap();
        let path = dir.path().join("sweep.toml");
        std::fs::write(&path, &text).unwrap();
        let (plan, peak) = peak_during(|| SweepPlan::read(Path::new(&path)));
        prop_assert!(peak < MEMORY_BOUND, "{} bytes for\n{}", peak, text);
        match plan {
            Ok(plan) => prop_assert!(!plan.trials.is_empty() && plan.trials.len() <= MAX_TRIALS),
            Err(mistakes) => {
                prop_assert!(!mistakes.is_empty());
                for mistake in mistakes {
                    prop_assert_eq!(mistake.lines().count(), 1, "{}", mistake);
                }
            }
        }
    }
}

#[test]
fn ten_billion_trials_are_refused_before_any_is_built() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.toml"), "epochs = 1\n").unwrap();
    let path = dir.path().join("sweep.toml");
    std::fs::write(
        &path,
        "base = \"base.toml\"\n[random]\ntrials = 10000000000\n\
         [random.keys]\n\"optimizer.lr\" = { log_uniform = [1e-4, 1e-1] }\n",
    )
    .unwrap();
    let (plan, peak) = peak_during(|| SweepPlan::read(&path));
    let mistakes = plan.unwrap_err();
    assert_eq!(mistakes.len(), 1);
    assert!(
        mistakes[0].contains("10000000000 trials; a sweep may have at most 1000"),
        "{mistakes:?}"
    );
    assert!(peak < 1024 * 1024, "{peak} bytes");
}

#[test]
fn an_infinite_bound_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.toml"), "epochs = 1\n").unwrap();
    let path = dir.path().join("sweep.toml");
    std::fs::write(
        &path,
        "base = \"base.toml\"\n[random]\ntrials = 3\n\
         [random.keys]\n\"optimizer.momentum\" = { uniform = [0.0, inf] }\n",
    )
    .unwrap();
    let mistakes = SweepPlan::read(&path).unwrap_err();
    assert_eq!(mistakes.len(), 1);
    assert!(
        mistakes[0].contains("random.keys.\"optimizer.momentum\": uniform needs"),
        "{mistakes:?}"
    );
}
