//! The core's one error type: what can go wrong building a pipeline or its Arrow output.
//! Per-line problems are not errors but reject reasons (see `lines.rs`).

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CoreError {
    /// An `[aliases]` entry or alias table the normaliser cannot use.
    #[error("{0}")]
    Config(String),
    /// A column of logkit/schema.py the core does not know how to fill.
    #[error("the core cannot fill column {name:?} of type {type_:?}")]
    Schema { name: String, type_: String },
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}
