//! What the fuzz target (fuzz/) and the property test below run the core with: the pipeline
//! as an ingest builds it (logkit/schema.py's columns, the generic format file's aliases,
//! with or without a masker), and the line accounting every block must keep. Built for tests
//! and with the `harness` feature only (fuzz/Cargo.toml turns it on); not in the extension.

use std::sync::{Arc, OnceLock};

use arrow_array::{Array, Int64Array, RecordBatch};

use crate::arrow_out::{Columns, StreamId};
use crate::block::{BlockInput, BlockOutput, Pipeline};
use crate::formats::Formats;
use crate::mask::{MaskConfig, Masker};
use crate::normalize::{alias_table_from_toml, LateField, Normalizer};

/// The generic format's file, which logkit/core.py hands the core its alias table from.
const GENERIC: &str = include_str!("../logkit/formats/generic.toml");

/// logkit/schema.py's EVENT_COLUMNS.
const EVENT_COLUMNS: [(&str, &str); 27] = [
    ("ts", "TIMESTAMPTZ"),
    ("level", "VARCHAR"),
    ("service", "VARCHAR"),
    ("logger", "VARCHAR"),
    ("message", "VARCHAR"),
    ("trace_id", "VARCHAR"),
    ("trace_key", "UINTEGER"),
    ("span_id", "VARCHAR"),
    ("request_id", "VARCHAR"),
    ("user_id", "VARCHAR"),
    ("job_id", "VARCHAR"),
    ("batch_id", "VARCHAR"),
    ("duration_ms", "DOUBLE"),
    ("status_code", "INTEGER"),
    ("error_type", "VARCHAR"),
    ("http_method", "VARCHAR"),
    ("path", "VARCHAR"),
    ("job_type", "VARCHAR"),
    ("model", "VARCHAR"),
    ("input_tokens", "BIGINT"),
    ("output_tokens", "BIGINT"),
    ("cost_usd", "DOUBLE"),
    ("cache_hit", "BOOLEAN"),
    ("host", "VARCHAR"),
    ("attrs", "JSON"),
    ("source", "VARCHAR"),
    ("line", "BIGINT"),
];

/// logkit/core.py's REJECT_SCHEMA.
const REJECT_COLUMNS: [(&str, &str); 5] = [
    ("source", "VARCHAR"),
    ("line", "BIGINT"),
    ("byte_offset", "BIGINT"),
    ("reason", "VARCHAR"),
    ("raw", "VARCHAR"),
];

/// How a block is masked: not at all, placeholders, or pseudonyms with `fields` and a
/// user-defined detector (every masking path the configuration can open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Masking {
    None,
    Placeholder,
    Pseudonyms,
}

/// The pipeline for `masking`, built once.
pub fn pipeline(masking: Masking) -> &'static Pipeline {
    static PIPELINES: [OnceLock<Pipeline>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    PIPELINES[masking as usize].get_or_init(|| build(masking))
}

fn build(masking: Masking) -> Pipeline {
    let columns = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    };
    let table = alias_table_from_toml(GENERIC).expect("the generic format file reads");
    let normalizer = Normalizer::with_late(&Vec::new(), &table, &late_fields())
        .expect("the generic format's aliases are valid");
    let masker = match masking {
        Masking::None => None,
        Masking::Placeholder => Some(MaskConfig::default()),
        Masking::Pseudonyms => Some(MaskConfig {
            mode: "pseudonymize".into(),
            fields: vec!["user_id".into(), "message".into()],
            keys: vec!["pin".into()],
            detectors: vec![
                ("order".into(), r"ORD-\d{6}".into()),
                ("tenant".into(), r"tenant/(?P<value>\w+)".into()),
            ],
            key: Some(b"harness-key".to_vec()),
            ..MaskConfig::default()
        }),
    }
    .map(|config| {
        Arc::new(Masker::from_config(&config).expect("a valid [mask] table"))
            as Arc<dyn crate::block::EventMasker>
    });
    Pipeline {
        formats: Formats::plain(normalizer),
        events: Columns::new(&columns(&EVENT_COLUMNS), false).expect("schema.py's columns"),
        rejects: Columns::new(&columns(&REJECT_COLUMNS), true).expect("the reject columns"),
        masker,
    }
}

/// The generic format's `[fields_last]`, as logkit/core.py's `late_table` reads it.
fn late_fields() -> Vec<LateField> {
    let doc: toml::Table = GENERIC.parse().expect("the generic format file reads");
    let strings = |value: Option<&toml::Value>| -> Vec<String> {
        match value {
            Some(toml::Value::String(s)) => vec![s.clone()],
            Some(toml::Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let Some(toml::Value::Table(last)) = doc.get("fields_last") else {
        return Vec::new();
    };
    last.iter()
        .map(|(group, row)| LateField {
            group: group.clone(),
            paths: strings(row.get("from")),
            patterns: strings(row.get("pattern")),
            keep: row.get("keep").and_then(toml::Value::as_bool) == Some(true),
        })
        .collect()
}

/// A block of `data` as the reader hands it over: from line 1, with or without a line limit,
/// a private key block open before it and one line the reader refused.
pub fn input(data: &[u8], max_line: Option<usize>, in_key: usize, extra: bool) -> BlockInput<'_> {
    let lines = crate::lines::split_lines(data).len() as i64;
    BlockInput {
        data,
        source: "fuzz",
        stream: StreamId::Int(1),
        first_line: 1,
        first_offset: 0,
        max_line,
        extra_rejects: if extra {
            vec![(
                lines + 1,
                data.len() as i64,
                "line_too_long".into(),
                data.to_vec(),
            )]
        } else {
            Vec::new()
        },
        in_key,
    }
}

/// Line accounting: each line of the block and each line the reader refused ends as exactly
/// one event or one reject, under its own line number, and none as `internal_error` (a panic
/// caught in the core: a bug, which the fuzzer and the tests must see).
pub fn check_accounting(input: &BlockInput<'_>, out: &BlockOutput) -> Result<(), String> {
    let mut expected: Vec<i64> = (0..crate::lines::split_lines(input.data).len() as i64)
        .map(|i| input.first_line + i)
        .chain(input.extra_rejects.iter().map(|r| r.0))
        .collect();
    expected.sort_unstable();
    let mut seen = Vec::new();
    for batch in &out.events {
        seen.extend(line_numbers(batch)?);
    }
    let rejected = line_numbers(&out.rejects)?;
    seen.extend(&rejected);
    seen.sort_unstable();
    if seen != expected {
        return Err(format!("line numbers {seen:?}, expected {expected:?}"));
    }
    if out.lines != expected.len() as u64 {
        return Err(format!("{} lines counted of {}", out.lines, expected.len()));
    }
    let reasons: u64 = out.reasons.values().sum();
    if reasons != rejected.len() as u64 {
        return Err(format!("{reasons} reasons for {} rejects", rejected.len()));
    }
    if let Some(n) = out.reasons.get("internal_error") {
        return Err(format!("{n} lines rejected as internal_error"));
    }
    Ok(())
}

fn line_numbers(batch: &RecordBatch) -> Result<Vec<i64>, String> {
    let column = batch
        .column_by_name("line")
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        .ok_or("no BIGINT line column")?;
    if column.null_count() > 0 {
        return Err("a row without its line number".into());
    }
    Ok(column.values().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pieces lines are made of: JSON's punctuation and escapes, the values the normaliser
    /// and the masker look for, and the bytes the line checks are about.
    #[rustfmt::skip]
    const WORDS: &[&[u8]] = &[
        b"{", b"}", b"[", b"]", b",", b":", b"\"", b"\\", b"\\u", b"\\ud800", b"\\udc00",
        b"\"ts\":", b"\"level\":", b"\"msg\":", b"\"trace_id\":", b"\"user_id\":",
        b"\"password\":", b"\"stack\":", b"\"duration\":", b"\"usage\":{\"prompt_tokens\":",
        b"1", b"-0", b"1e400", b"99999999999999999999", b"-1.5e-7", b"NaN", b"Infinity",
        b"true", b"null", b"\"2026-12-06T10:00:00Z\"", b"\"bob@example.com\"",
        b"\"4111 1111 1111 1111\"", b"\"Bearer abcdefghijklmnop12345\"", b"\"ORD-123456\"",
        b"\"tenant/acme\"", b"\"fe80::1%eth0\"", b"-----BEGIN RSA PRIVATE KEY-----",
        b"-----END RSA PRIVATE KEY-----", b"\"TypeError: x\\n    at f (a.js:1:1)\"",
        b"\"1-5759e988-bd862e3fe1be46a994272793\"", b"\n", b"\r", b"\0", b"\xef\xbb\xbf",
        b"\xff", b"\xc3", b"\xe9", b" ", "\u{e9}\u{18d09}".as_bytes(),
    ];

    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            3 => proptest::sample::select(WORDS).prop_map(<[u8]>::to_vec),
            1 => proptest::collection::vec(any::<u8>(), 0..8),
            1 => "[a-z0-9 ]{0,6}".prop_map(String::into_bytes),
        ]
    }

    fn block() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(proptest::collection::vec(piece(), 0..24), 0..12).prop_map(
            |lines| {
                let lines: Vec<Vec<u8>> = lines.into_iter().map(|l| l.concat()).collect();
                lines.join(&b'\n')
            },
        )
    }

    proptest! {
        // Bounded for `cargo test`; the fuzz target (fuzz/) is for long runs.
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn every_line_of_any_block_is_one_event_or_one_reject(
            data in block(),
            masking in prop_oneof![Just(Masking::None), Just(Masking::Placeholder),
                                   Just(Masking::Pseudonyms)],
            max_line in proptest::option::of(8usize..64),
            in_key in prop_oneof![Just(0usize), Just(40usize)],
            extra in any::<bool>(),
        ) {
            let input = input(&data, max_line, in_key, extra);
            let out = pipeline(masking).process(&input).map_err(|e| TestCaseError::fail(e.to_string()))?;
            check_accounting(&input, &out).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn a_block_with_a_panic_fails_the_accounting() {
        let data = crate::block::tests::PANIC_LINE.to_vec();
        let input = input(&data, None, 0, false);
        let out = pipeline(Masking::None).process(&input).unwrap();
        let error = check_accounting(&input, &out).unwrap_err();
        assert_eq!("1 lines rejected as internal_error", error);
    }
}
