//! The library's choices as clap arguments: each name with its one-line description in
//! `--help`, parsed through the library's own `FromStr`.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use mnist_runs::RunOrder;
use mnist_train::{BackendKind, Format};

/// `--backend NAME`.
pub fn backend() -> impl TypedValueParser<Value = BackendKind> {
    let names = BackendKind::ALL.map(|kind| PossibleValue::new(kind.name()).help(kind.describe()));
    PossibleValuesParser::new(names).try_map(|name| name.parse::<BackendKind>())
}

/// `--format NAME`.
pub fn format() -> impl TypedValueParser<Value = Format> {
    let names =
        Format::ALL.map(|format| PossibleValue::new(format.extension()).help(format.describe()));
    PossibleValuesParser::new(names).try_map(|name| name.parse::<Format>())
}

/// `runs --sort COLUMN`.
pub fn run_order() -> impl TypedValueParser<Value = RunOrder> {
    let names = RunOrder::ALL.map(|order| PossibleValue::new(order.name()));
    PossibleValuesParser::new(names).try_map(|name| name.parse::<RunOrder>())
}
