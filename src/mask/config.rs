//! The `[mask]` table of logkit.toml as the core receives it (already read from TOML and
//! type-checked by the Python side), and the errors a masker can refuse it with.

use std::collections::BTreeMap;

use thiserror::Error;

/// Settings of one masker: the `[mask]` table, the store's key, and where `fields` come from.
#[derive(Debug, Clone)]
pub struct MaskConfig {
    pub enabled: bool,
    /// "placeholder" or "pseudonymize".
    pub mode: String,
    /// Extra sensitive key names, matched like the built-in ones.
    pub keys: Vec<String>,
    /// Keys never masked by name.
    pub allow_keys: Vec<String>,
    /// Built-in detectors switched off.
    pub disable: Vec<String>,
    /// `[mask.detectors]`: name = regex, in table order (the order they run in).
    pub detectors: Vec<(String, String)>,
    /// Detectors that use pseudonyms in placeholder mode.
    pub pseudonymize: Vec<String>,
    /// Fields pseudonymised whole.
    pub fields: Vec<String>,
    /// The store's HMAC key, for pseudonyms.
    pub key: Option<Vec<u8>>,
    /// The record keys each of `fields` may come from (the normaliser's aliases); without
    /// them, `needs_masking` cannot rule out a line and answers true for every line.
    pub field_aliases: Option<BTreeMap<String, Vec<String>>>,
}

impl Default for MaskConfig {
    fn default() -> MaskConfig {
        MaskConfig {
            enabled: true,
            mode: "placeholder".to_string(),
            keys: Vec::new(),
            allow_keys: Vec::new(),
            disable: Vec::new(),
            detectors: Vec::new(),
            pseudonymize: Vec::new(),
            fields: Vec::new(),
            key: None,
            field_aliases: None,
        }
    }
}

/// Why a masker cannot be built; the messages are those of logkit/mask.py.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MaskError {
    /// A setting is invalid (Python raises ValueError).
    #[error("{0}")]
    Invalid(String),
    /// Pseudonyms were asked for but no key was given (Python's MaskKeyMissing).
    #[error("pseudonym mode needs a key: set $LOGKIT_MASK_KEY or create one with 'logkit keygen'")]
    KeyMissing,
}

/// Python's `repr` of a plain string, for messages.
pub fn quoted(text: &str) -> String {
    if text.contains('\'') && !text.contains('"') {
        format!("\"{text}\"")
    } else {
        format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// `[a-z][a-z0-9_]*`: what a custom detector may be called.
pub fn valid_detector_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
