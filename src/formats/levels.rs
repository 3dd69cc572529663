//! A format's `[levels]`: its own level spellings and numeric scales, tried before the
//! generic ones (logkit/formats' `_level_converter`).

use rustc_hash::FxHashMap as HashMap;
use serde_json::Value;

use super::spec::LevelsSpec;
use crate::json::Py;
use crate::lines::py_isspace;
use crate::normalize::normalize_level;

#[derive(Debug, Clone, Default)]
pub struct LevelTable {
    /// Lower-case word -> level.
    words: HashMap<String, String>,
    numbers: HashMap<i128, String>,
    /// (threshold, level), sorted: a number at or above a threshold has its level.
    scale: Vec<(i128, String)>,
    /// Lower-case name -> its number on the scale ("ERROR+4" is ERROR's plus 4).
    offsets: HashMap<String, i128>,
}

fn int_of(value: &Value) -> Option<i128> {
    match value {
        Value::Number(n) => n.as_str().parse().ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl LevelTable {
    pub fn new(spec: &LevelsSpec) -> LevelTable {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let mut scale: Vec<(i128, String)> = spec
            .scale
            .iter()
            .filter_map(|(n, level)| Some((int_of(n)?, level.clone())))
            .collect();
        // Python sorts (number, level) pairs.
        scale.sort();
        LevelTable {
            words: spec
                .words
                .iter()
                .map(|(k, v)| (k.to_lowercase(), text(v)))
                .collect(),
            numbers: spec
                .numbers
                .iter()
                .filter_map(|(k, v)| Some((k.trim().parse().ok()?, text(v))))
                .collect(),
            scale,
            offsets: spec
                .offsets
                .iter()
                .filter_map(|(k, v)| Some((k.to_lowercase(), int_of(v)?)))
                .collect(),
        }
    }

    fn on_scale(&self, number: i128) -> Option<String> {
        if let Some(level) = self.numbers.get(&number) {
            return Some(level.clone());
        }
        let mut found = None;
        for (threshold, level) in &self.scale {
            if number < *threshold {
                break;
            }
            found = Some(level);
        }
        found.cloned()
    }

    fn numeric(&self) -> bool {
        !self.numbers.is_empty() || !self.scale.is_empty()
    }

    /// The level of `value`: the format's words, offsets and numbers, else the generic reading.
    pub fn level(&self, value: Py<'_>) -> Option<String> {
        let generic = |value| normalize_level(value).map(str::to_string);
        match value {
            Py::Str(s) => {
                let text = s.trim_matches(py_isspace);
                if let Some(level) = self.words.get(&text.to_lowercase()) {
                    return Some(level.clone());
                }
                if !self.offsets.is_empty() {
                    if let Some((name, offset)) = offset(text) {
                        if let Some(base) = self.offsets.get(&name.to_lowercase()) {
                            return self.on_scale(base.saturating_add(offset));
                        }
                    }
                }
                let digits = text.trim_start_matches('-');
                if self.numeric()
                    && !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
                {
                    if let Ok(number) = text.parse::<i128>() {
                        return self.on_scale(number).or_else(|| generic(value));
                    }
                }
                generic(value)
            }
            Py::Int(Some(n), _) if self.numeric() => self.on_scale(n).or_else(|| generic(value)),
            Py::Float(f) if self.numeric() && f.is_finite() && f.fract() == 0.0 => {
                // int(f): exact for any float that fits 128 bits; beyond, past every threshold.
                self.on_scale(f as i128).or_else(|| generic(value))
            }
            _ => generic(value),
        }
    }
}

/// `([A-Za-z]+)\s*([+-]\s*\d+)` as a full match: slog's "ERROR+4" as ("ERROR", 4).
fn offset(text: &str) -> Option<(&str, i128)> {
    let name_len = text.bytes().take_while(u8::is_ascii_alphabetic).count();
    if name_len == 0 {
        return None;
    }
    let (name, rest) = text.split_at(name_len);
    let rest = rest.trim_start_matches(py_isspace);
    let (sign, rest) = match rest.chars().next()? {
        '+' => (1, &rest[1..]),
        '-' => (-1, &rest[1..]),
        _ => return None,
    };
    let digits = rest.trim_start_matches(py_isspace);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // Beyond 128 bits a level is past every threshold either way.
    let number = digits.parse::<i128>().unwrap_or(i128::MAX / 2);
    Some((name, sign * number))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(json: &str) -> LevelTable {
        LevelTable::new(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn offsets_words_and_scales_before_the_generic_names() {
        let slog = table(
            r#"{"offsets": {"DEBUG": -4, "INFO": 0, "WARN": 4, "ERROR": 8},
                "scale": [[-1000, "DEBUG"], [0, "INFO"], [4, "WARNING"], [8, "ERROR"], [12, "CRITICAL"]]}"#,
        );
        assert_eq!(Some("CRITICAL".into()), slog.level(Py::Str("ERROR+4")));
        assert_eq!(Some("WARNING".into()), slog.level(Py::Str("INFO + 5")));
        assert_eq!(Some("INFO".into()), slog.level(Py::Str("info")));
        assert_eq!(Some("WARNING".into()), slog.level(Py::Int(Some(5), "5")));
        let logback = table(r#"{"numbers": {"20000": "INFO"}, "words": {"Success": "INFO"}}"#);
        assert_eq!(Some("INFO".into()), logback.level(Py::Float(20000.0)));
        assert_eq!(Some("INFO".into()), logback.level(Py::Str(" success ")));
        assert_eq!(Some("ERROR".into()), logback.level(Py::Str("3")));
    }
}
