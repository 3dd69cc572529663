//! Alias groups: which column each `[aliases]` group (and a format's `[fields]` row) feeds,
//! with which converter, and whether the original value also stays in attrs.

use crate::errors::CoreError;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Conv {
    Ts,
    /// An epoch number in a known unit, to microseconds: (multiply, divide).
    Epoch(i128, i128),
    Level,
    Text,
    Message,
    Ident,
    /// A trace or span id a format names: an id of zeros only is none (`trace_ident`).
    TraceIdent,
    /// A level read by the format's own spellings and scales first (`Normalizer::levels`).
    FormatLevel,
    TraceparentTrace,
    TraceparentSpan,
    /// An AWS X-Ray trace id or `X-Amzn-Trace-Id` header, as the W3C trace id.
    XrayTrace,
    Count,
    Status,
    Cost,
    /// Milliseconds for an alias whose unitless numbers are in a unit: (multiply, divide).
    Duration(f64, f64),
    HttpMethod,
    Path,
    CacheHit,
}

/// Whether the original value also stays in attrs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Keep {
    No,
    /// When it differs from the canonical value.
    IfDifferent,
    /// Always (a value read through a list).
    Always,
}

/// What an `[aliases]` group name feeds: (field, converter, keep) rows.
pub(crate) fn group(name: &str) -> Option<&'static [(&'static str, Conv, Keep)]> {
    use Conv::*;
    use Keep::*;
    Some(match name {
        "ts" => &[("ts", Ts, No)],
        // Epoch numbers in a known unit (zap's float seconds, journald's µs strings).
        "ts_s" => &[("ts", Epoch(1_000_000, 1), No)],
        "ts_ms" => &[("ts", Epoch(1_000, 1), No)],
        "ts_us" => &[("ts", Epoch(1, 1), No)],
        "ts_ns" => &[("ts", Epoch(1, 1_000), No)],
        "level" => &[("level", Level, IfDifferent)],
        "service" => &[("service", Text, No)],
        "logger" => &[("logger", Text, No)],
        "message" => &[("message", Message, No)],
        "trace_id" => &[("trace_id", Ident, No)],
        "span_id" => &[("span_id", Ident, No)],
        // Version and flags have no column, so the header itself always stays in attrs.
        "traceparent" => &[
            ("trace_id", TraceparentTrace, IfDifferent),
            ("span_id", TraceparentSpan, IfDifferent),
        ],
        // An X-Ray id or header: the original stays in attrs (the header has more than the id).
        "xray_trace" => &[("trace_id", XrayTrace, IfDifferent)],
        "request_id" => &[("request_id", Ident, No)],
        "user_id" => &[("user_id", Ident, No)],
        "job_id" => &[("job_id", Ident, No)],
        "batch_id" => &[("batch_id", Ident, No)],
        "duration_ms" => &[("duration_ms", Duration(1.0, 1.0), No)],
        "duration_s" => &[("duration_ms", Duration(1e3, 1.0), No)],
        "duration_us" => &[("duration_ms", Duration(1.0, 1e3), No)],
        "duration_ns" => &[("duration_ms", Duration(1.0, 1e6), No)],
        "status_code" => &[("status_code", Status, No)],
        "error_type" => &[("error_type", Text, No)],
        "http_method" => &[("http_method", HttpMethod, No)],
        "path" => &[("path", Path, IfDifferent)],
        "job_type" => &[("job_type", Text, No)],
        "model" => &[("model", Text, No)],
        "input_tokens" => &[("input_tokens", Count, No)],
        "output_tokens" => &[("output_tokens", Count, No)],
        "cost_usd" => &[("cost_usd", Cost, No)],
        "cache_hit" => &[("cache_hit", CacheHit, No)],
        "host" => &[("host", Text, No)],
        _ => return None,
    })
}

/// Every group `group` knows, sorted: the groups a format's `[fields]` and logkit.toml's
/// `[aliases]` may name (`alias_groups` hands them to Python, as normalize.ALIAS_GROUPS).
pub const GROUP_NAMES: [&str; 32] = [
    "batch_id",
    "cache_hit",
    "cost_usd",
    "duration_ms",
    "duration_ns",
    "duration_s",
    "duration_us",
    "error_type",
    "host",
    "http_method",
    "input_tokens",
    "job_id",
    "job_type",
    "level",
    "logger",
    "message",
    "model",
    "output_tokens",
    "path",
    "request_id",
    "service",
    "span_id",
    "status_code",
    "trace_id",
    "traceparent",
    "ts",
    "ts_ms",
    "ts_ns",
    "ts_s",
    "ts_us",
    "user_id",
    "xray_trace",
];

/// Every alias group as (group, field, keep) rows, `keep` true when the original value can
/// stay in attrs: Python's normalize.ALIAS_GROUPS, which checks the names formats give.
pub fn alias_groups() -> Vec<(&'static str, &'static str, bool)> {
    let mut rows = Vec::new();
    for name in GROUP_NAMES {
        for &(field, _, keep) in group(name).expect("GROUP_NAMES are groups") {
            rows.push((name, field, keep != Keep::No));
        }
    }
    rows
}

/// An alias table: (group, record keys) rows, best first; a group may appear more than once.
pub type AliasTable = Vec<(String, Vec<String>)>;

/// The alias table of a format file (logkit/formats/*.toml): its `[fields]` rows whose value
/// is a record key or a list of them, in file order (which is rank order); with a
/// `[context]` table (generic's), two rows more: `CONTEXT_OBJECTS`, the objects whose keys are
/// read by the table's names too, and `CONTEXT_SKIP`, the groups not read there (the
/// normalizer applies them: `Normalizer::build`).
///
/// Only the plain forms are read: a row written as a table (`{ from = ..., pattern = ... }`),
/// `[match]` and the rest of the formats engine are not in the core; the generic format's
/// `[fields_last]` comes from logkit/core.py as `LateField` rows (Python reads the file).
pub fn alias_table_from_toml(text: &str) -> Result<AliasTable, CoreError> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| CoreError::Config(format!("format file: {e}")))?;
    let Some(toml::Value::Table(fields)) = doc.get("fields") else {
        return Err(CoreError::Config(
            "format file has no [fields] table".into(),
        ));
    };
    let mut table = AliasTable::new();
    for (name, value) in fields {
        let names = match value {
            toml::Value::String(key) => vec![key.clone()],
            toml::Value::Array(keys) => keys
                .iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect(),
            _ => continue,
        };
        table.push((name.clone(), names));
    }
    if let Some(context) = doc.get("context") {
        let (objects, skip) = context_table(context)?;
        table.push((CONTEXT_OBJECTS.to_string(), objects));
        table.push((CONTEXT_SKIP.to_string(), skip));
    }
    Ok(table)
}

/// The alias table's rows that carry generic's `[context]` (no group has such a name).
pub const CONTEXT_OBJECTS: &str = "[context] objects";
pub const CONTEXT_SKIP: &str = "[context] skip";

/// A `[context]` table's `objects` and `skip` lists.
fn context_table(context: &toml::Value) -> Result<(Vec<String>, Vec<String>), CoreError> {
    let list = |key: &str| -> Result<Vec<String>, CoreError> {
        let bad = || CoreError::Config(format!("[context] {key} must be a list of names"));
        match context.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|item| match item.as_str() {
                    Some(name) if !name.is_empty() => Ok(name.to_string()),
                    _ => Err(bad()),
                })
                .collect(),
            Some(_) => Err(bad()),
        }
    };
    let skip = list("skip")?;
    if let Some(unknown) = skip.iter().find(|name| group(name).is_none()) {
        return Err(CoreError::Config(format!(
            "[context] skip names no column '{unknown}'"
        )));
    }
    Ok((list("objects")?, skip))
}
