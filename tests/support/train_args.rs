//! The arguments of one `mnist-burn train`, built the way a person types them, so that a test
//! says what it changes (`.set("epochs=2")`) rather than spelling out the whole line.
use std::path::Path;

use super::config;

#[derive(Clone, Debug)]
pub struct TrainArgs(Vec<String>);

impl TrainArgs {
    /// `train --config configs/NAME.toml`
    pub fn shipped(name: &str) -> Self {
        Self::config(config(name))
    }

    /// `train --config PATH`
    pub fn config(path: impl AsRef<Path>) -> Self {
        Self::bare().flag("--config").path(path)
    }

    /// `train --resume RUN`
    pub fn resume(run: impl AsRef<Path>) -> Self {
        Self::bare().flag("--resume").path(run)
    }

    /// `train` and nothing else: the shipped default config.
    pub fn bare() -> Self {
        Self(vec!["train".into()])
    }

    /// `--set KEY=VALUE`
    pub fn set(self, assignment: &str) -> Self {
        self.flag("--set").flag(assignment)
    }

    /// `--set A` for each assignment, in order.
    pub fn sets<'a>(self, assignments: impl IntoIterator<Item = &'a str>) -> Self {
        assignments.into_iter().fold(self, Self::set)
    }

    /// `--backend NAME`
    pub fn backend(self, name: &str) -> Self {
        self.flag("--backend").flag(name)
    }

    /// `--out DIR`
    pub fn out(self, dir: impl AsRef<Path>) -> Self {
        self.flag("--out").path(dir)
    }

    /// `--plain`: lines instead of the dashboard.
    pub fn plain(self) -> Self {
        self.flag("--plain")
    }

    /// Any other argument, as typed.
    pub fn flag(mut self, argument: impl Into<String>) -> Self {
        self.0.push(argument.into());
        self
    }

    /// Each of `arguments`, as typed (none for `None`).
    pub fn flags<S: Into<String>>(self, arguments: impl IntoIterator<Item = S>) -> Self {
        arguments.into_iter().fold(self, Self::flag)
    }

    fn path(self, path: impl AsRef<Path>) -> Self {
        let text = path
            .as_ref()
            .to_str()
            .expect("test paths are UTF-8")
            .to_owned();
        self.flag(text)
    }

    /// The arguments, for [`super::run_in`] and friends.
    pub fn list(&self) -> Vec<&str> {
        self.0.iter().map(String::as_str).collect()
    }
}
