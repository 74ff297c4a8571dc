//! "did you mean" for a mistyped key.

use super::ExperimentConfig;

/// The known key nearest to a mistyped one (same section, small edit distance).
pub(super) fn closest_known_key(key: &str) -> Option<String> {
    // Optional keys are left out when unset, so list them from a config that sets them all.
    let mut every_key = ExperimentConfig::new();
    every_key.data.train_limit = Some(1);
    every_key.data.test_limit = Some(1);
    every_key.early_stopping = Some(super::EarlyStoppingConfig::default());
    every_key.augment = Some(mnist_data::AugmentConfig::default());
    let every_key = toml::Table::try_from(every_key).ok()?;
    let (section, name) = match key.rsplit_once('.') {
        Some((section, name)) => (Some(section), name),
        None => (None, key),
    };
    let known = match section {
        Some(section) => every_key.get(section)?.as_table()?,
        None => &every_key,
    };
    known
        .keys()
        .map(|candidate| (strsim::levenshtein(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
        .min()
        .map(|(_, candidate)| match section {
            Some(section) => format!("{section}.{candidate}"),
            None => candidate.clone(),
        })
}
