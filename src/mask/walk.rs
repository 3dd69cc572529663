//! The masker's walk through a JSON value (serde_json's, as `logkit mask` and the Python API
//! hand it over): key rules and value detectors at every depth, dict keys included, the
//! `fields` pseudonymised whole, too deep a value masked whole (fail-closed).

use serde_json::{Map, Value};

use super::detectors::Replace;
use super::pseudonym::hmac12;
use super::pyvalue::{dump_sorted, int_digits, number_str};
use super::{keys, luhn, normalise_key, Count, Counts, Masker, TooDeep, DEEPEST};

impl Masker {
    pub(super) fn value(
        &self,
        value: &mut Value,
        depth: usize,
        counts: &mut Counts,
    ) -> Result<(), TooDeep> {
        match value {
            Value::String(s) => {
                if self.long_enough(s) {
                    if let Some(masked) = self.mask_str(s, counts) {
                        *s = masked;
                    }
                }
            }
            Value::Object(map) => {
                if depth >= DEEPEST && map.values().any(is_container) {
                    return Err(TooDeep);
                }
                self.dict(map, false, depth, counts);
            }
            Value::Array(items) => {
                if depth >= DEEPEST && items.iter().any(is_container) {
                    return Err(TooDeep);
                }
                let mut named = false;
                for item in items.iter_mut() {
                    if std::mem::take(&mut named)
                        && matches!(item, Value::String(_) | Value::Number(_))
                    {
                        self.by_key(item, counts);
                        continue;
                    }
                    named = matches!(item, Value::String(s) if self.names_next(s));
                    if self.value(item, depth + 1, counts).is_err() {
                        *item = Value::String(self.error(counts));
                    }
                }
            }
            Value::Number(n) => {
                if self.builtins.contains(&"card") {
                    if let Some(digits) = int_digits(n.as_str()) {
                        if digits.len() >= 13 && luhn::is_card_number(digits.as_bytes()) {
                            let replacement = self.replace("card", digits, counts);
                            *value = Value::String(replacement);
                        }
                    }
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
        Ok(())
    }

    pub(super) fn dict(
        &self,
        map: &mut Map<String, Value>,
        top: bool,
        depth: usize,
        counts: &mut Counts,
    ) {
        let mut renamed: Vec<(usize, String)> = Vec::new();
        for (index, (k, v)) in map.iter_mut().enumerate() {
            if top && !self.fields.is_empty() && self.fields.contains(k) {
                if !v.is_null() {
                    if let Some(new) = self.field(k, v, counts) {
                        *v = Value::String(new);
                    }
                }
            } else if self.key_rule && self.is_sensitive(k) && !working_dir(k, v) {
                self.by_key(v, counts);
            } else if self.value(v, depth + 1, counts).is_err() {
                *v = Value::String(self.error(counts));
            }
            if self.long_enough(k) {
                if let Some(masked) = self.mask_str(k, counts) {
                    renamed.push((index, masked));
                }
            }
        }
        if !renamed.is_empty() {
            rename_keys(map, renamed);
        }
    }

    pub(super) fn is_sensitive(&self, key: &str) -> bool {
        // Most keys are short and ASCII: normalised on the stack, without an allocation.
        let mut buffer = [0u8; 64];
        if key.is_ascii() && key.len() <= buffer.len() {
            let mut n = 0;
            for b in key.bytes().filter(|b| !matches!(b, b'-' | b'_' | b'.')) {
                buffer[n] = b.to_ascii_lowercase();
                n += 1;
            }
            let name = std::str::from_utf8(&buffer[..n]).expect("ASCII");
            return self.words.ends(name) && !self.allow.contains(name);
        }
        let name = normalise_key(key);
        self.words.ends(&name) && !self.allow.contains(&name)
    }

    /// Whether an array's element names a secret its next element holds, as a key would:
    /// a header pair (`["X-Api-Key", "..."]`), Node's `rawHeaders`, an argument vector
    /// (`["--password", "..."]`). A name, not text: one word of at most 64 bytes.
    pub(super) fn names_next(&self, item: &str) -> bool {
        self.key_rule
            && item.len() <= 64
            && !item.bytes().any(keys::is_space)
            && self.is_sensitive(item)
    }

    /// A value under a sensitive key: masked whole, except null and booleans.
    pub(super) fn by_key(&self, value: &mut Value, counts: &mut Counts) {
        let text = match value {
            Value::Null | Value::Bool(_) => return,
            Value::String(s) => std::mem::take(s),
            Value::Number(n) => number_str(n.as_str()),
            Value::Object(_) | Value::Array(_) => dump_sorted(value),
        };
        *value = Value::String(self.replace("key", &text, counts));
    }

    /// A value listed in `fields`: pseudonymised whole, unless it already is (None: kept).
    pub(super) fn field(&self, name: &str, value: &Value, counts: &mut Counts) -> Option<String> {
        let text = match value {
            Value::String(s) => {
                if s.starts_with(name)
                    && s[name.len()..].starts_with(':')
                    && self.protect.fullmatch(s)
                {
                    return None;
                }
                s.clone()
            }
            Value::Object(_) | Value::Array(_) => dump_sorted(value),
            Value::Number(n) => number_str(n.as_str()),
            Value::Bool(b) => (if *b { "True" } else { "False" }).to_string(),
            Value::Null => "None".to_string(),
        };
        counts.add(name);
        let key = self.key.as_deref().unwrap_or_default();
        Some(format!("{name}:{}", hmac12(key, &text)))
    }
}

/// Whether `value` under the sensitive `key` is a working directory (PWD=/home/ann).
fn working_dir(key: &str, value: &Value) -> bool {
    match value {
        Value::String(s) => keys::is_working_dir(&normalise_key(key), s),
        _ => false,
    }
}

fn is_container(value: &Value) -> bool {
    matches!(value, Value::Object(_) | Value::Array(_))
}

/// `map` with keys renamed, in order; a name taken already gets `~2`, `~3`...
fn rename_keys(map: &mut Map<String, Value>, renamed: Vec<(usize, String)>) {
    let old = std::mem::take(map);
    let mut renamed = renamed.into_iter().peekable();
    let mut suffixes: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (index, (k, v)) in old.into_iter().enumerate() {
        let mut new = match renamed.peek() {
            Some((i, _)) if *i == index => renamed.next().map(|(_, name)| name).unwrap_or(k),
            _ => k,
        };
        if map.contains_key(&new) {
            let mut n = suffixes.get(&new).copied().unwrap_or(2);
            while map.contains_key(&format!("{new}~{n}")) {
                n += 1;
            }
            suffixes.insert(new.clone(), n + 1);
            new = format!("{new}~{n}");
        }
        map.insert(new, v);
    }
}
