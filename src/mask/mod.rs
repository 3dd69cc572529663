//! Masking: secrets and personal data out of every event before it is stored; the native
//! port of logkit/mask.py, behaviour for behaviour (see that module's docstring for the
//! rules and the choices behind each detector).
//!
//! * Key rules: a value whose key's normalised name ends with a sensitive word is masked
//!   whole (`keys.rs`), in dicts at any depth and in text pairs (`password=hunter2`).
//! * Value detectors over every string, dict keys included (`detectors.rs`, each one's
//!   finder in `finders.rs`, Luhn in `luhn.rs`, IPv6 and base64 validation in `ipv6.rs` and
//!   `base64.rs`), then the user-defined ones (`[mask.detectors]`, plain regexes: linear
//!   time, so none can hang).
//! * A masked value becomes `[MASKED:detector]`, or `detector:<12 hex>` in pseudonym mode
//!   (`pseudonym.rs`); `fields` are pseudonymised whole.
//! * Fail closed: a value that cannot be walked (nesting too deep) becomes `[MASKED:error]`.
//! * The walk through an event's columns and attrs (`event.rs`, on the core's tree) or a
//!   serde_json value (`walk.rs`, for `logkit mask` and the Python API).
//! * Idempotent: placeholders and pseudonyms are recognised and never masked again; a string
//!   is masked until nothing changes (at most eight rounds, `strings.rs`, which remembers
//!   per thread the strings found clean).
//! * `needs_masking` (`prefilter.rs`) answers false only where nothing would change.
//! * A private key printed over several lines is followed from line to line
//!   (`key_blocks.rs`); the caller carries the state from block to block.
//!
//! One masker serves every thread (it is `Sync`); counts go to the caller's `Counts`:
//!
//! ```
//! use _core::mask::{Count, Counts, MaskConfig, Masker};
//!
//! let masker = Masker::from_config(&MaskConfig::default()).unwrap();
//! let raw = br#"{"msg": "login by bob@example.com", "password": "hunter2"}"#;
//! assert!(masker.needs_masking(raw));
//! let mut event: serde_json::Map<String, serde_json::Value> =
//!     serde_json::from_str(r#"{"message": "login by bob@example.com", "attrs": {"password": "hunter2"}}"#).unwrap();
//! let mut counts = Counts::default();
//! masker.mask_event(&mut event, &mut counts);
//! assert_eq!(r#"{"message":"login by [MASKED:email]","attrs":{"password":"[MASKED:key]"}}"#, serde_json::to_string(&event).unwrap());
//! assert_eq!((1, 1), (counts.of("email"), counts.of("key")));
//! ```

mod base64;
mod config;
mod detectors;
mod event;
mod finders;
mod iban;
mod ipv6;
mod key_blocks;
mod keys;
mod luhn;
mod prefilter;
mod pseudonym;
mod pyvalue;
mod stream;
mod strings;
mod walk;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use regex::Regex;
use serde_json::{Map, Value};

pub use config::{MaskConfig, MaskError};
pub use detectors::BUILTIN_DETECTORS;
pub use key_blocks::{
    key_block_after, key_block_lines, key_block_lines_of, KEY_BLOCK_BYTES, KEY_LINE, KEY_MARK,
};
pub use keys::{normalise_key, PARAM_NAMES, SENSITIVE_KEYS};

use config::{quoted, valid_detector_name};
use detectors::{Replace, Scanner};
use keys::Words;
use prefilter::{Prefilter, PrefilterSpec};
use pseudonym::{canonical, hmac12, Protect};

/// Masks counted per detector (`key`, `email`... `error`, and each field of `fields`): the
/// same map the core's blocks report.
pub type Counts = BTreeMap<String, u64>;

/// Counting into `Counts` without allocating a name already counted.
pub trait Count {
    fn add(&mut self, name: &str);
    /// The count for one name, 0 if none.
    fn of(&self, name: &str) -> u64;
}

impl Count for Counts {
    fn add(&mut self, name: &str) {
        match self.get_mut(name) {
            Some(n) => *n += 1,
            None => {
                self.insert(name.to_string(), 1);
            }
        }
    }

    fn of(&self, name: &str) -> u64 {
        self.get(name).copied().unwrap_or(0)
    }
}

const ERROR: &str = "error";
const MAX_ROUNDS: usize = 8;
/// The built-in detectors need three characters ("::1"); a custom pattern may need one.
const SHORTEST_MATCH: usize = 3;
/// Where Python's recursion limit stops a walk through nested values (measured: a container
/// 499 levels below `attrs` turns the value holding it, 498 levels down, into
/// `[MASKED:error]`). Deeper values are masked whole, fail-closed.
const DEEPEST: usize = 498;
const ID_COLUMNS: [&str; 2] = ["trace_id", "span_id"];
/// Ids for maskers, so a thread's clean strings are never used by another masker.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct Custom {
    name: String,
    regex: Regex,
    value_group: Option<usize>,
}

/// A value nested deeper than the walk goes.
struct TooDeep;

/// Masks events, text and raw lines; counts what it masked into the `Counts` it is given.
/// Immutable once built, so one masker serves every thread.
pub struct Masker {
    id: u64,
    enabled: bool,
    builtins: Vec<&'static str>,
    key_rule: bool,
    custom: Vec<Custom>,
    shortest: usize,
    fields: HashSet<String>,
    pseudo: HashSet<String>,
    key: Option<Vec<u8>>,
    words: Words,
    allow: HashSet<String>,
    protect: Protect,
    scanner: Scanner,
    prefilter: Prefilter,
}

impl Masker {
    /// A masker from the `[mask]` table; the errors logkit/mask.py raises, with its messages.
    pub fn from_config(config: &MaskConfig) -> Result<Masker, MaskError> {
        if !config.enabled {
            // A switched-off masker needs no key and validates nothing more.
            return Ok(Masker::build(
                false,
                &MaskConfig::default(),
                Vec::new(),
                HashSet::new(),
            ));
        }
        if config.mode != "placeholder" && config.mode != "pseudonymize" {
            return Err(MaskError::Invalid(format!(
                "[mask] mode must be 'placeholder' or 'pseudonymize', not {}",
                quoted(&config.mode)
            )));
        }
        for name in &config.disable {
            if !BUILTIN_DETECTORS.contains(&name.as_str()) {
                return Err(MaskError::Invalid(format!(
                    "[mask] disable: unknown detector {}; built-in detectors are {}",
                    quoted(name),
                    BUILTIN_DETECTORS.join(", ")
                )));
            }
        }
        let mut custom = Vec::new();
        for (name, pattern) in &config.detectors {
            if !valid_detector_name(name) {
                return Err(MaskError::Invalid(format!(
                    "[mask.detectors] {}: a detector name is lowercase letters, digits and _",
                    quoted(name)
                )));
            }
            if BUILTIN_DETECTORS.contains(&name.as_str()) || name == ERROR {
                return Err(MaskError::Invalid(format!(
                    "[mask.detectors] {} is a built-in detector name",
                    quoted(name)
                )));
            }
            let regex = Regex::new(pattern).map_err(|error| {
                MaskError::Invalid(format!(
                    "[mask.detectors] {}: invalid regex: {error}",
                    quoted(name)
                ))
            })?;
            let value_group = regex.capture_names().position(|n| n == Some("value"));
            custom.push(Custom {
                name: name.clone(),
                regex,
                value_group,
            });
        }
        let mut names: Vec<String> = BUILTIN_DETECTORS.iter().map(|n| n.to_string()).collect();
        names.extend(custom.iter().map(|c| c.name.clone()));
        let pseudo: HashSet<String> = if config.mode == "pseudonymize" {
            names.iter().cloned().collect()
        } else {
            for name in &config.pseudonymize {
                if !names.contains(name) {
                    return Err(MaskError::Invalid(format!(
                        "[mask] pseudonymize: unknown detector {}",
                        quoted(name)
                    )));
                }
            }
            config.pseudonymize.iter().cloned().collect()
        };
        let has_key = config.key.as_ref().is_some_and(|k| !k.is_empty());
        if (!pseudo.is_empty() || !config.fields.is_empty()) && !has_key {
            return Err(MaskError::KeyMissing);
        }
        Ok(Masker::build(true, config, custom, pseudo))
    }

    fn build(
        enabled: bool,
        config: &MaskConfig,
        custom: Vec<Custom>,
        pseudo: HashSet<String>,
    ) -> Masker {
        let builtins: Vec<&'static str> = BUILTIN_DETECTORS
            .iter()
            .copied()
            .filter(|d| !config.disable.iter().any(|x| x == d))
            .collect();
        let key_rule = builtins.contains(&"key");
        let words: Vec<String> = SENSITIVE_KEYS
            .iter()
            .map(|w| w.to_string())
            .chain(config.keys.iter().map(|k| normalise_key(k)))
            .collect();
        let fields: HashSet<String> = config.fields.iter().cloned().collect();
        let protect = Protect::new(pseudo.iter().chain(fields.iter()).cloned());
        let always = !custom.is_empty() || (!fields.is_empty() && config.field_aliases.is_none());
        let mut field_names: Vec<String> = Vec::new();
        for field in &config.fields {
            let aliases = config.field_aliases.as_ref().and_then(|a| a.get(field));
            for name in std::iter::once(field).chain(aliases.into_iter().flatten()) {
                // A dotted alias arrives nested (`user.id` as {"user": {"id": ...}}): its last part.
                let last = name.rsplit('.').next().unwrap_or(name);
                field_names.push(normalise_key(last));
            }
        }
        field_names.sort();
        field_names.dedup();
        let prefilter = Prefilter::new(PrefilterSpec {
            enabled: &builtins,
            key_rule,
            words: {
                let mut w = words.clone();
                w.sort();
                w.dedup();
                w
            },
            field_names,
            always,
        });
        let scanner = Scanner::new(&builtins, key_rule.then(|| Words::new(words.clone())));
        Masker {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            enabled,
            key_rule,
            shortest: if custom.is_empty() { SHORTEST_MATCH } else { 1 },
            custom,
            fields,
            pseudo,
            key: config.key.clone().filter(|k| !k.is_empty()),
            words: Words::new(words),
            allow: config.allow_keys.iter().map(|k| normalise_key(k)).collect(),
            protect,
            scanner,
            prefilter,
            builtins,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Whether every line is masked: `needs_masking` cannot rule a line out.
    pub fn always(&self) -> bool {
        self.enabled && self.prefilter.always()
    }

    /// Whether private keys printed over several lines are masked (`key_block_lines`).
    pub fn masks_key_blocks(&self) -> bool {
        self.enabled && self.builtins.contains(&"private_key")
    }

    /// False only if nothing in this raw JSON line can be masked.
    pub fn needs_masking(&self, raw: &[u8]) -> bool {
        self.enabled && self.prefilter.needs_masking(raw)
    }

    /// `needs_masking` of each line, in order (faster than one line at a time).
    pub fn needs_masking_all(&self, lines: &[&[u8]]) -> Vec<bool> {
        if !self.enabled {
            return vec![false; lines.len()];
        }
        self.prefilter.all(lines)
    }

    /// Mask a normalised event in place: string columns get the value detectors (or are
    /// pseudonymised whole if listed in `fields`); `attrs` gets key rules and value detectors
    /// at every depth, dict keys included. Numeric columns are never touched.
    pub fn mask_event(&self, event: &mut Map<String, Value>, counts: &mut Counts) {
        if !self.enabled {
            return;
        }
        for (name, value) in event.iter_mut() {
            match value {
                Value::String(s) => {
                    if !self.fields.is_empty() && self.fields.contains(name) {
                        if let Some(new) = self.field(name, value, counts) {
                            *value = Value::String(new);
                        }
                        continue;
                    }
                    if !self.long_enough(s)
                        || (ID_COLUMNS.contains(&name.as_str()) && is_id_shape(s))
                    {
                        continue; // an all-digit span id is a valid card number one time in twenty
                    }
                    if let Some(masked) = self.mask_str(s, counts) {
                        *s = masked;
                    }
                }
                Value::Null => {}
                _ if name == "attrs" => self.mask_top(value, counts),
                _ => {}
            }
        }
    }

    /// Mask a whole record (attrs, or a line for `logkit mask`): like any value, plus `fields`
    /// among its top-level keys.
    pub fn mask_top(&self, value: &mut Value, counts: &mut Counts) {
        let result = match value {
            Value::Object(map) => {
                self.dict(map, true, 1, counts);
                Ok(())
            }
            _ => self.value(value, 1, counts),
        };
        if result.is_err() {
            *value = Value::String(self.error(counts));
        }
    }

    /// Mask free text: value detectors plus sensitive `name=value` / `"name": value`; for raw
    /// lines that are not (valid) JSON, such as rejects.
    pub fn mask_text(&self, text: &str, counts: &mut Counts) -> String {
        if !self.enabled {
            return text.to_string();
        }
        self.mask_str(text, counts)
            .unwrap_or_else(|| text.to_string())
    }

    /// The pseudonym stored for `value` under this field or detector (`logkit user RAW_ID`).
    pub fn pseudonym(&self, field_or_detector: &str, value: &str) -> Result<String, MaskError> {
        let key = self.key.as_ref().ok_or(MaskError::KeyMissing)?;
        Ok(format!(
            "{field_or_detector}:{}",
            hmac12(key, &canonical(field_or_detector, value))
        ))
    }
}

impl Replace for Masker {
    fn replace(&self, detector: &str, value: &str, counts: &mut Counts) -> String {
        if self.protect.fullmatch(value) {
            return value.to_string();
        }
        counts.add(detector);
        match (&self.key, self.pseudo.contains(detector)) {
            (Some(key), true) => format!("{detector}:{}", hmac12(key, &canonical(detector, value))),
            _ => format!("[MASKED:{detector}]"),
        }
    }

    fn protect(&self) -> &Protect {
        &self.protect
    }

    fn allowed(&self, name: &str) -> bool {
        self.allow.contains(name)
    }
}

/// What trace and span ids look like, and nothing else: hex of 8 to 64 digits, a UUID, a W3C
/// traceparent. Hex with dashes anywhere else (4111-1111-1111-1111) is scanned like any string.
fn is_id_shape(s: &str) -> bool {
    ((8..=64).contains(&s.len()) && crate::hex::all_hex(s.as_bytes()))
        || crate::hex::is_uuid(s)
        || crate::hex::traceparent(s).is_some()
}

#[cfg(test)]
mod tests;
