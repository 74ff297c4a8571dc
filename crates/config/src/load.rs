//! Reading a config: TOML text, `--set` overrides, defaults underneath, unknown keys and
//! wrong types reported with their line.

use std::path::Path;

use super::suggest::closest_known_key;
use super::{ConfigError, ExperimentConfig, Hint, Location};

impl ExperimentConfig {
    /// Reads `path`, applies `overrides` (`section.key=value`), fills in defaults and checks
    /// every value.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self, ConfigError> {
        let text = crate::read_text(path).map_err(|cause| ConfigError::Read {
            path: at(path, None),
            cause,
        })?;
        Self::parse(&text, path, overrides)
    }

    /// [`load`](Self::load) for text already read; `path` names it in errors.
    pub fn parse(text: &str, path: &Path, overrides: &[String]) -> Result<Self, ConfigError> {
        let mut table: toml::Table = text.parse().map_err(|error: toml::de::Error| {
            let line = error.span().map(|span| line_of_offset(text, span.start));
            ConfigError::Syntax {
                path: at(path, line),
                message: error.message().trim().replace('\n', " "),
            }
        })?;
        if table.is_empty() {
            return Err(ConfigError::Empty {
                path: at(path, None),
            });
        }
        for assignment in overrides {
            apply_override(&mut table, assignment)?;
        }
        let mut merged = toml::Table::try_from(Self::new()).expect("defaults serialise");
        merge(&mut merged, table);

        let locate = |key: &str| at(path, line_of_key(text, key));
        let mut unknown = Vec::new();
        let config: Self = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
            toml::Value::Table(merged),
            &mut |ignored| unknown.push(ignored.to_string()),
        ))
        .map_err(|error| {
            let key = error.path().to_string();
            ConfigError::WrongType {
                path: locate(&key),
                message: error.into_inner().message().trim().to_string(),
                key,
            }
        })?;
        if let Some(key) = unknown.into_iter().next() {
            return Err(ConfigError::UnknownKey {
                path: locate(&key),
                hint: Hint(closest_known_key(&key)),
                key,
            });
        }
        config
            .validate()
            .map_err(|(key, reason)| ConfigError::Invalid {
                path: locate(&key),
                key,
                reason,
            })?;
        Ok(config)
    }
}

fn at(file: &Path, line: Option<usize>) -> Location {
    Location {
        file: file.to_path_buf(),
        line,
    }
}

/// Lays `overlay` over `base`, table by table.
fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(overlay_table)) => {
                merge(base_table, overlay_table)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Applies `section.key=value` to the file's table. The value is read as TOML (`0.01`,
/// `true`, `"cosine"`); a bare word that is not TOML is taken as a string (`cosine`).
fn apply_override(table: &mut toml::Table, assignment: &str) -> Result<(), ConfigError> {
    let bad = |reason: &str| ConfigError::BadOverride {
        assignment: assignment.to_string(),
        reason: reason.to_string(),
    };
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| bad("expected KEY=VALUE, e.g. optimizer.lr=0.01"))?;
    let key = key.trim();
    let raw = raw.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(bad("the key is empty"));
    }
    let value = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut parsed| parsed.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().expect("split yields at least one part");
    let mut target = table;
    for part in parts {
        target = target
            .entry(part)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| bad(&format!("`{part}` is not a section")))?;
    }
    target.insert(last.to_string(), value);
    Ok(())
}

/// 1-based line of a byte offset.
fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `key` (dotted) is written in `text`, if it is.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let document = toml::de::DeTable::parse(text).ok()?;
    let mut table = document.get_ref();
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        let (name, value) = table.iter().find(|(name, _)| name.get_ref() == part)?;
        if parts.peek().is_none() {
            return Some(line_of_offset(text, name.span().start));
        }
        table = value.get_ref().as_table()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LrSchedule, OptimizerConfig, OptimizerKind};

    fn parse(text: &str) -> Result<ExperimentConfig, ConfigError> {
        ExperimentConfig::parse(text, Path::new("configs/x.toml"), &[])
    }

    fn message(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn every_shipped_config_loads() {
        let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(configs).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "toml") {
                ExperimentConfig::load(&path, &[]).unwrap_or_else(|error| panic!("{error}"));
                names.push(path.file_stem().unwrap().to_string_lossy().into_owned());
            }
        }
        names.sort();
        assert!(names.starts_with(&["default".to_string()]), "{names:?}");
        assert!(names.contains(&"seed".to_string()) && names.contains(&"smoke".to_string()));
    }

    #[test]
    fn the_seed_config_is_the_tutorial() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/seed.toml");
        let seed = ExperimentConfig::load(&path, &[]).unwrap();
        assert_eq!(seed.epochs, 50);
        assert_eq!(
            seed.model.activation,
            mnist_model::OutputActivation::Sigmoid
        );
        assert_eq!((seed.model.n_inputs, seed.model.n_outputs), (784, 10));
        assert_eq!(seed.data.batch_size, 32);
        assert!(seed.data.shuffle);
        assert_eq!((seed.data.mean, seed.data.std), (0.0, 1.0));
        assert_eq!(seed.optimizer.name, OptimizerKind::Sgd);
        assert_eq!(seed.optimizer.lr, 0.001);
        assert_eq!(seed.optimizer.momentum, 0.0);
        assert_eq!(seed.optimizer.schedule, LrSchedule::Constant);
    }

    #[test]
    fn omitted_keys_take_their_defaults() {
        let config = parse("epochs = 3\n[optimizer]\nlr = 0.5\n").unwrap();
        let expected = ExperimentConfig::new()
            .with_epochs(3)
            .with_optimizer(OptimizerConfig::new().with_lr(0.5));
        assert_eq!(config, expected);
    }

    #[test]
    fn a_config_round_trips_through_its_record() {
        let config =
            parse("[data]\ntrain_limit = 100\n[model]\nactivation = \"sigmoid\"\n").unwrap();
        assert_eq!(parse(&config.to_toml()).unwrap(), config);
    }

    #[test]
    fn a_typo_is_an_unknown_key_with_a_suggestion() {
        assert_eq!(
            message("[optimizer]\nlearning_rat = 0.1\n"),
            "configs/x.toml:2: unknown key `optimizer.learning_rat`"
        );
        assert_eq!(
            message("seed = 1\n\n[optimizer]\nlr = 0.1\nmomentun = 0.9\n"),
            "configs/x.toml:5: unknown key `optimizer.momentun` (did you mean `optimizer.momentum`?)"
        );
        assert_eq!(
            message("[dta]\nbatch_size = 1\n"),
            "configs/x.toml:1: unknown key `dta` (did you mean `data`?)"
        );
    }

    #[test]
    fn a_wrong_type_names_the_key_and_line() {
        assert_eq!(
            message("epochs = 2\n[optimizer]\nlr = \"fast\"\n"),
            "configs/x.toml:3: `optimizer.lr`: invalid type: string \"fast\", expected f64"
        );
        assert_eq!(
            message("[model]\nactivation = \"relu\"\n"),
            "configs/x.toml:2: `model.activation`: unknown variant `relu`, expected `none` or `sigmoid`"
        );
    }

    #[test]
    fn impossible_values_are_refused() {
        for (text, expected) in [
            (
                "[optimizer]\nlr = 0.0",
                "configs/x.toml:2: `optimizer.lr` must be a finite number above 0",
            ),
            (
                "[optimizer]\nlr = -1.0",
                "configs/x.toml:2: `optimizer.lr` must be a finite number above 0",
            ),
            (
                "[optimizer]\nlr = nan",
                "configs/x.toml:2: `optimizer.lr` must be a finite number above 0",
            ),
            (
                "[data]\nbatch_size = 0",
                "configs/x.toml:2: `data.batch_size` must be at least 1",
            ),
            (
                "epochs = 0",
                "configs/x.toml:1: `epochs` must be at least 1",
            ),
            (
                "[data]\nstd = 0.0",
                "configs/x.toml:2: `data.std` must be a finite number above 0",
            ),
            (
                "[optimizer]\nmomentum = 1.0",
                "configs/x.toml:2: `optimizer.momentum` must be at least 0 and below 1",
            ),
        ] {
            assert_eq!(message(text), expected, "for {text:?}");
        }
        assert!(matches!(
            parse("[data]\nbatch_size = -3"),
            Err(ConfigError::WrongType { .. })
        ));
    }

    #[test]
    fn a_syntax_error_gives_the_line() {
        let error = message("seed = 1\nepochs = \n");
        assert!(
            error.starts_with("configs/x.toml:2: TOML syntax error: "),
            "{error}"
        );
        assert_eq!(error.lines().count(), 1);
    }

    #[test]
    fn an_empty_or_missing_file_is_explained() {
        assert_eq!(
            message("  \n# nothing\n"),
            "configs/x.toml: the file sets nothing; start from configs/default.toml"
        );
        let error = ExperimentConfig::load(Path::new("configs/absent.toml"), &[]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("configs/absent.toml: cannot read: "),
            "{error}"
        );
    }

    #[test]
    fn overrides_replace_single_keys_and_are_checked() {
        let set = |overrides: &[&str]| {
            let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
            ExperimentConfig::parse("epochs = 2\n", Path::new("x.toml"), &overrides)
        };
        let config = set(&["optimizer.lr=0.25", "optimizer.schedule=cosine", "epochs=4"]).unwrap();
        assert_eq!(config.optimizer.lr, 0.25);
        assert_eq!(config.optimizer.schedule, LrSchedule::Cosine);
        assert_eq!(config.epochs, 4);
        assert_eq!(
            set(&["optimizer.lr=-1"]).unwrap_err().to_string(),
            "x.toml: `optimizer.lr` must be a finite number above 0"
        );
        assert_eq!(
            set(&["optimizer.lr"]).unwrap_err().to_string(),
            "--set optimizer.lr: expected KEY=VALUE, e.g. optimizer.lr=0.01"
        );
        assert!(matches!(
            set(&["optimizer.learning_rate=0.1"]),
            Err(ConfigError::UnknownKey { .. })
        ));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn parse(text: &str, overrides: &[String]) -> Result<ExperimentConfig, ConfigError> {
        ExperimentConfig::parse(text, Path::new("fuzz.toml"), overrides)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1_000))]

        /// Any text and any overrides: a config or one line of error, never a panic.
        #[test]
        fn arbitrary_text_never_panics(
            text in "\\PC{0,200}",
            overrides in proptest::collection::vec("\\PC{0,30}", 0..3),
        ) {
            if let Err(error) = parse(&text, &overrides) {
                prop_assert_eq!(error.to_string().lines().count(), 1);
            }
        }

        /// TOML-shaped text from the config's own vocabulary: same guarantee, deeper paths.
        #[test]
        fn config_shaped_text_never_panics(
            lines in proptest::collection::vec(
                (
                    prop_oneof![
                        Just("[model]"), Just("[data]"), Just("[optimizer]"), Just("[other]"),
                        Just("seed"), Just("epochs"), Just("lr"), Just("batch_size"),
                        Just("activation"), Just("momentum"), Just("std"), Just("name"),
                        Just("train_limit"), Just("schedule"),
                    ],
                    prop_oneof![
                        Just("= 0"), Just("= -1"), Just("= 1e400"), Just("= nan"), Just("= 0.5"),
                        Just("= \"sgd\""), Just("= \"cosine\""), Just("= true"), Just("= [1, 2]"),
                        Just("= { a = 1 }"), Just(""), Just("= 18446744073709551615"),
                    ],
                ),
                0..12,
            ),
        ) {
            let text: String = lines
                .iter()
                .map(|(key, value)| format!("{key} {value}\n"))
                .collect();
            if let Err(error) = parse(&text, &[]) {
                prop_assert_eq!(error.to_string().lines().count(), 1, "{}", error);
            }
        }

        /// A value set through --set is the value the config holds, or is refused with its key.
        #[test]
        fn overrides_reach_the_config_or_name_the_key(lr in -1.0e3f64..1.0e3, batch in 0usize..5_000) {
            let overrides = vec![format!("optimizer.lr={lr:?}"), format!("data.batch_size={batch}")];
            match parse("epochs = 1\n", &overrides) {
                Ok(config) => {
                    prop_assert_eq!(config.optimizer.lr, lr);
                    prop_assert_eq!(config.data.batch_size, batch);
                }
                Err(ConfigError::Invalid { key, .. }) => {
                    prop_assert!(
                        (key == "optimizer.lr" && lr <= 0.0) || (key == "data.batch_size" && batch == 0),
                        "{} refused for lr {} batch {}", key, lr, batch
                    );
                }
                Err(other) => prop_assert!(false, "{}", other),
            }
        }
    }
}
