//! A sweep file: the base config, keys fixed for every trial, a grid of values and random
//! draws; and the trials it stands for, each checked as a whole config before any starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::prune::PruneSpec;
use mnist_config::ExperimentConfig;

/// The most trials one sweep may stand for (a typo in a grid should not start 10,000 runs).
pub const MAX_TRIALS: usize = 1000;

/// `SWEEP.toml`, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    /// The config every trial starts from, relative to the sweep file.
    pub base: PathBuf,
    /// Names the sweep folder (default: the sweep file's name).
    pub name: Option<String>,
    /// Keys set to the same value in every trial.
    #[serde(default)]
    pub set: BTreeMap<String, toml::Value>,
    /// Keys and the values to try: every combination is a trial.
    #[serde(default)]
    pub grid: BTreeMap<String, Vec<toml::Value>>,
    /// Random search: `trials` draws from the distributions in `keys`.
    pub random: Option<RandomSearch>,
    /// Stops trials that fall behind the earlier ones (`prune.rs`).
    pub prune: Option<PruneSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSearch {
    pub trials: usize,
    /// Makes the draws reproducible.
    #[serde(default)]
    pub seed: u64,
    pub keys: BTreeMap<String, Distribution>,
}

/// Where a random key's values come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Distribution {
    Uniform([f64; 2]),
    /// Uniform in the logarithm: as likely 0.001..0.01 as 0.01..0.1.
    LogUniform([f64; 2]),
    Choice(Vec<toml::Value>),
}

/// One trial: its folder name and the values it sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    pub id: String,
    /// The varied keys' values, in key order.
    pub values: BTreeMap<String, toml::Value>,
}

impl Trial {
    /// The `--set` assignments of this trial (after the sweep's fixed ones).
    pub fn overrides(&self) -> Vec<String> {
        self.values
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect()
    }
}

/// A sweep ready to run: everything it needs, independent of where the sweep file was.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepPlan {
    pub name: String,
    /// The base config's text, so a resumed sweep does not depend on the original file.
    pub base_config: String,
    pub fixed: Vec<String>,
    /// Varied keys whose axis is logarithmic in the results picture.
    pub log_keys: Vec<String>,
    pub trials: Vec<Trial>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<PruneSpec>,
}

impl SweepPlan {
    /// Reads a sweep file and expands it into trials; every mistake is one line naming the
    /// sweep file (and, for a config that does not validate, the trial and its values).
    pub fn read(path: &Path) -> Result<Self, Vec<String>> {
        let at = |message: String| vec![format!("{}: {message}", path.display())];
        let text = mnist_config::read_text(path).map_err(|error| at(error.to_string()))?;
        let file: SweepFile =
            toml::from_str(&text).map_err(|error| at(error.message().trim().replace('\n', " ")))?;
        let base_path = path.parent().unwrap_or(Path::new(".")).join(&file.base);
        let base_config = mnist_config::read_text(&base_path)
            .map_err(|error| at(format!("base = {}: {error}", base_path.display())))?;
        if let Some(name) = &file.name {
            check_name(name).map_err(at)?;
        }
        let trials = expand(&file).map_err(at)?;
        let fixed: Vec<String> = file
            .set
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        let plan = Self {
            name: file.name.clone().unwrap_or_else(|| {
                path.file_stem()
                    .map(|stem| stem.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "sweep".into())
            }),
            base_config,
            fixed,
            log_keys: log_keys(&file),
            trials,
            prune: file.prune,
        };
        let mut mistakes: Vec<String> = Vec::new();
        for trial in &plan.trials {
            let refused = match plan.config(trial, &base_path) {
                Err(error) => format!(
                    "{}: {} ({}): {error}",
                    path.display(),
                    trial.id,
                    trial.overrides().join(" ")
                ),
                Ok(config) => match plan.prune.as_ref().map(|prune| prune.check(&config)) {
                    // Said once for the sweep, however many trials it concerns.
                    Some(Err(why)) => format!("{}: {why}", path.display()),
                    _ => continue,
                },
            };
            if !mistakes.contains(&refused) {
                mistakes.push(refused);
            }
        }
        if mistakes.is_empty() {
            Ok(plan)
        } else {
            Err(mistakes)
        }
    }

    /// The complete config of `trial`; `base_path` names the base in errors.
    pub fn config(&self, trial: &Trial, base_path: &Path) -> anyhow::Result<ExperimentConfig> {
        let overrides: Vec<String> = self
            .fixed
            .iter()
            .cloned()
            .chain(trial.overrides())
            .collect();
        Ok(ExperimentConfig::parse(
            &self.base_config,
            base_path,
            &overrides,
        )?)
    }

    /// The keys that differ between trials.
    pub fn varied_keys(&self) -> Vec<String> {
        self.trials
            .first()
            .map(|trial| trial.values.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// Grid points times random draws, numbered `trial-001`, `trial-002`, ...; everything is
/// checked, the trial count first, before anything is built.
fn expand(file: &SweepFile) -> Result<Vec<Trial>, String> {
    if file.grid.is_empty() && file.random.is_none() {
        return Err("nothing to vary: add a [grid] or a [random] table".into());
    }
    check_values(file)?;
    let count = trial_count(file)?;
    let mut points = vec![BTreeMap::new()];
    for (key, values) in &file.grid {
        points = points
            .into_iter()
            .flat_map(|point| {
                values.iter().map(move |value| {
                    let mut point = point.clone();
                    point.insert(key.clone(), value.clone());
                    point
                })
            })
            .collect();
    }
    let draws = match &file.random {
        None => vec![BTreeMap::new()],
        Some(random) => draw(random),
    };
    let width = count.to_string().len().max(3);
    Ok(points
        .iter()
        .flat_map(|point| draws.iter().map(move |draw| (point, draw)))
        .enumerate()
        .map(|(index, (point, draw))| Trial {
            id: format!("trial-{:0width$}", index + 1),
            values: point
                .iter()
                .chain(draw)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
        .collect())
}

/// A sweep's name becomes a folder name under `runs/`: one plain name, nothing that leads
/// elsewhere.
fn check_name(name: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| !c.is_control() && !matches!(c, '/' | '\\' | ':'));
    if plain {
        return Ok(());
    }
    Err(format!(
        "name = {name:?}: a sweep's name must be a plain folder name (no slashes, at most 100 \
         characters)"
    ))
}

/// The number of trials the file stands for, refused beyond [`MAX_TRIALS`] (computed without
/// building them, so a typo cannot ask for billions).
fn trial_count(file: &SweepFile) -> Result<usize, String> {
    let draws = file.random.as_ref().map_or(1, |random| random.trials);
    let count = file.grid.values().fold(draws as u128, |count, values| {
        count.saturating_mul(values.len() as u128)
    });
    match usize::try_from(count) {
        Ok(count) if count <= MAX_TRIALS => Ok(count),
        _ if count == u128::MAX => Err(format!(
            "more than 10^38 trials; a sweep may have at most {MAX_TRIALS}"
        )),
        _ => Err(format!(
            "{count} trials; a sweep may have at most {MAX_TRIALS}"
        )),
    }
}

/// Every key's values and bounds: finite numbers, non-empty lists, ranges that can be drawn
/// from, and no key varied twice.
fn check_values(file: &SweepFile) -> Result<(), String> {
    let finite = |table: &str, key: &str, value: &toml::Value| match value {
        toml::Value::Float(float) if !float.is_finite() => {
            Err(format!("{table}.\"{key}\": {float} is not a finite number"))
        }
        _ => Ok(()),
    };
    for (key, value) in &file.set {
        finite("set", key, value)?;
    }
    for (key, values) in &file.grid {
        if values.is_empty() {
            return Err(format!("grid.\"{key}\": no values to try"));
        }
        if file.set.contains_key(key) {
            return Err(format!("\"{key}\" is both in [set] and in [grid]"));
        }
        values
            .iter()
            .try_for_each(|value| finite("grid", key, value))?;
    }
    let Some(random) = &file.random else {
        return Ok(());
    };
    if random.trials == 0 {
        return Err("random.trials must be at least 1".into());
    }
    if random.keys.is_empty() {
        return Err("random.keys: no keys to draw".into());
    }
    for (key, distribution) in &random.keys {
        if file.grid.contains_key(key) || file.set.contains_key(key) {
            return Err(format!(
                "\"{key}\" is in [random.keys] and also in [grid] or [set]"
            ));
        }
        let bad = |why: &str| Err(format!("random.keys.\"{key}\": {why}"));
        match distribution {
            Distribution::Uniform([low, high]) if !drawable(*low, *high) => {
                return bad("uniform needs [low, high], finite numbers with low < high");
            }
            Distribution::LogUniform([low, high]) if *low <= 0.0 || !drawable(*low, *high) => {
                return bad("log_uniform needs [low, high], finite numbers with 0 < low < high");
            }
            Distribution::Choice(values) if values.is_empty() => return bad("choice: no values"),
            Distribution::Choice(values) => values
                .iter()
                .try_for_each(|value| finite("random.keys", key, value))?,
            _ => {}
        }
    }
    Ok(())
}

/// Whether a uniform draw from `low..high` is defined: finite bounds, in order, with a finite
/// width (rand refuses a range wider than the largest float).
fn drawable(low: f64, high: f64) -> bool {
    low.is_finite() && high.is_finite() && low < high && (high - low).is_finite()
}

/// `random.trials` draws from `random.keys` (checked by [`check_values`]), reproducible from
/// `random.seed`; numbers are kept to four significant digits so that the tables read well.
fn draw(random: &RandomSearch) -> Vec<BTreeMap<String, toml::Value>> {
    let mut rng = StdRng::seed_from_u64(random.seed);
    (0..random.trials)
        .map(|_| {
            random
                .keys
                .iter()
                .map(|(key, distribution)| {
                    let value = match distribution {
                        Distribution::Uniform([low, high]) => {
                            toml::Value::Float(significant(rng.random_range(*low..*high)))
                        }
                        Distribution::LogUniform([low, high]) => toml::Value::Float(significant(
                            rng.random_range(low.ln()..high.ln()).exp(),
                        )),
                        Distribution::Choice(values) => {
                            values[rng.random_range(0..values.len())].clone()
                        }
                    };
                    (key.clone(), value)
                })
                .collect()
        })
        .collect()
}

/// `value` to four significant digits.
fn significant(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let scale = 10f64.powi(3 - value.abs().log10().floor() as i32);
    let rounded = (value * scale).round() / scale;
    // Below about 1e-305 the scale itself overflows: such a value is kept as drawn.
    if rounded.is_finite() { rounded } else { value }
}

/// Keys drawn log-uniformly, or gridded over positive values spanning a decade or more.
fn log_keys(file: &SweepFile) -> Vec<String> {
    let random = file.random.iter().flat_map(|random| &random.keys);
    let drawn = random
        .filter(|(_, distribution)| matches!(distribution, Distribution::LogUniform(_)))
        .map(|(key, _)| key.clone());
    let gridded = file.grid.iter().filter_map(|(key, values)| {
        let numbers: Vec<f64> = values.iter().filter_map(number).collect();
        let positive = numbers.len() == values.len() && numbers.iter().all(|&n| n > 0.0);
        let (low, high) = numbers
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &n| (lo.min(n), hi.max(n)));
        (positive && high / low >= 10.0).then(|| key.clone())
    });
    drawn.chain(gridded).collect()
}

/// A TOML number as `f64`.
pub fn number(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Float(float) => Some(*float),
        toml::Value::Integer(integer) => Some(*integer as f64),
        _ => None,
    }
}
