//! A format as logkit/formats has read and checked it (`FormatSpec`), handed over as JSON by
//! logkit/core.py (`format_data`): Python stays the one reader of the format files and their
//! error messages; this is only the shape of that data.

use serde::Deserialize;
use serde_json::Value;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::errors::CoreError;

/// One way a format fills a column group (logkit/formats' `FieldSpec`).
#[derive(Debug, Clone, Deserialize)]
pub struct FieldSpec {
    pub group: String,
    pub paths: Vec<String>,
    /// Python regexes (see `python_regex`): the value is what the first matching one finds.
    #[serde(default)]
    pub pattern: Vec<String>,
    #[serde(default)]
    pub keep: bool,
    #[serde(default)]
    pub default: Option<Value>,
    #[serde(default)]
    pub nanos: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
}

/// `[explode]`: the nested lists whose innermost items are the records of a line.
#[derive(Debug, Clone, Deserialize)]
pub struct ExplodeSpec {
    pub lists: Vec<Vec<String>>,
    /// (column name in each record, the enclosing item's level, path within that item)
    #[serde(default)]
    pub inherit: Vec<(String, usize, Vec<String>)>,
    /// (path in the record, encoding)
    #[serde(default)]
    pub decode: Vec<(Vec<String>, String)>,
}

/// `[partial]`: how a record that is one part of a longer one is told and joined.
#[derive(Debug, Clone, Deserialize)]
pub struct PartialSpec {
    pub text: String,
    pub by: Option<String>,
    pub continues_from: String,
    /// A Python regex.
    pub continues: String,
}

/// A format's `[levels]` as the file writes it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LevelsSpec {
    #[serde(default)]
    pub words: serde_json::Map<String, Value>,
    #[serde(default)]
    pub numbers: serde_json::Map<String, Value>,
    #[serde(default)]
    pub scale: Vec<(Value, String)>,
    #[serde(default)]
    pub offsets: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FormatSpec {
    pub name: String,
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub any_keys: Vec<String>,
    /// (path, shape) in file order.
    #[serde(default)]
    pub shapes: Vec<(String, String)>,
    #[serde(default)]
    pub equals: Vec<(String, Value)>,
    /// (path, Python regex)
    #[serde(default)]
    pub patterns: Vec<(String, String)>,
    #[serde(default)]
    pub priority: i64,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    #[serde(default)]
    pub fields_last: Vec<FieldSpec>,
    #[serde(default)]
    pub levels: Option<LevelsSpec>,
    #[serde(default)]
    pub inner: Option<String>,
    /// `[envelope] record`: the inner record itself, an object, rather than text holding it.
    #[serde(default)]
    pub record: Option<String>,
    #[serde(default)]
    pub explode: Option<ExplodeSpec>,
    #[serde(default)]
    pub partial: Option<PartialSpec>,
}

impl FormatSpec {
    /// Whether records can be recognised as this format (generic's has no `[match]`).
    pub fn matchable(&self) -> bool {
        !(self.keys.is_empty()
            && self.any_keys.is_empty()
            && self.shapes.is_empty()
            && self.equals.is_empty()
            && self.patterns.is_empty())
    }
}

/// Everything the core is told about formats: every known format by name, generic among
/// them, and the one `--log-format` forces.
#[derive(Debug, Clone, Deserialize)]
pub struct FormatsData {
    pub formats: Vec<FormatSpec>,
    #[serde(default)]
    pub forced: Option<String>,
}

pub fn from_json(text: &str) -> Result<FormatsData, CoreError> {
    serde_json::from_str(text).map_err(|e| CoreError::Config(format!("format data: {e}")))
}

/// A Python regex (`re`, as the format files are written for) as the `regex` crate's: `\Z`
/// is `\z`, `\s` also holds \x1c-\x1f (Python's str.isspace), and outside multi-line mode
/// `$` also matches before a final newline, as Python's does. A construct `regex` lacks (look-around, backreferences) is an error, and
/// the core refuses the formats rather than read them differently.
pub fn python_regex(pattern: &str) -> Result<regex::Regex, CoreError> {
    // Compiled once per process: every format carries generic's last-resort patterns (the
    // stack traces' error types, the largest), and a run's start-up compiled them once per
    // format, ~half the core's construction with fifty formats.
    static COMPILED: OnceLock<Mutex<HashMap<String, regex::Regex>>> = OnceLock::new();
    let compiled = COMPILED.get_or_init(Mutex::default);
    if let Some(regex) = compiled.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(regex);
    }
    let regex = translated(pattern)?;
    if let Ok(mut c) = compiled.lock() {
        c.insert(pattern.to_string(), regex.clone());
    }
    Ok(regex)
}

fn translated(pattern: &str) -> Result<regex::Regex, CoreError> {
    let multiline = pattern
        .strip_prefix("(?")
        .and_then(|rest| rest.split_once(')'))
        .is_some_and(|(flags, _)| {
            flags.chars().all(|c| c.is_ascii_alphabetic()) && flags.contains('m')
        });
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    let mut class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('Z') if !class => out.push_str(r"\z"),
                // Python's \s is str.isspace(), which also holds \x1c-\x1f.
                Some('s') if class => out.push_str(r"\s\x1c-\x1f"),
                Some('s') => out.push_str(r"[\s\x1c-\x1f]"),
                Some('S') if !class => out.push_str(r"[^\s\x1c-\x1f]"),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            '[' if !class => {
                class = true;
                out.push('[');
                // A `]` first in a class is a literal one.
                let mut ahead = chars.clone();
                match ahead.next() {
                    Some('^') if ahead.next() == Some(']') => {
                        out.push_str(r"^\]");
                        chars.next();
                        chars.next();
                    }
                    Some(']') => {
                        out.push_str(r"\]");
                        chars.next();
                    }
                    _ => {}
                }
            }
            ']' if class => {
                class = false;
                out.push(']');
            }
            '$' if !class && !multiline => out.push_str(r"(?:\n?\z)"),
            other => out.push(other),
        }
    }
    regex::Regex::new(&out).map_err(|e| {
        CoreError::Config(format!(
            "pattern {pattern:?} is not one the native core reads: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_anchors_read_as_python_reads_them() {
        let dollar = python_regex("^(info|warn)$").unwrap();
        assert!(dollar.is_match("info"));
        assert!(dollar.is_match("info\n"));
        assert!(!dollar.is_match("info\n\n"));
        let end = python_regex(r"[^\n]\Z").unwrap();
        assert!(end.is_match("abc"));
        assert!(!end.is_match("abc\n"));
        let lines = python_regex(r"(?sm)^x$").unwrap();
        assert!(lines.is_match("a\nx\nb"));
        let class = python_regex(r"[$]").unwrap();
        assert!(class.is_match("$"));
        assert!(python_regex(r"(?=x)").is_err());
        let space = python_regex(r"^\s[\s]\S$").unwrap();
        assert!(space.is_match("\x1c\x1fa"));
        assert!(!space.is_match("\x1c\x1f\x1e"));
    }
}
