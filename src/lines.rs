//! A block of raw bytes as lines, and the reasons a line cannot become an event.
//!
//! The reasons and the order they are told apart in are kept as they were when Python
//! read lines: the quarantine's `reason` column is a stable interface.

/// Why a line went to `rejects` rather than `events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    NulByte,
    InvalidUtf8,
    BlankLine,
    NotObject,
    NotJson,
    TooDeep,
    InvalidJson,
    LineTooLong,
    InternalError,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NulByte => "nul_byte",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::BlankLine => "blank_line",
            Reason::NotObject => "not_object",
            Reason::NotJson => "not_json",
            Reason::TooDeep => "too_deep",
            Reason::InvalidJson => "invalid_json",
            Reason::LineTooLong => "line_too_long",
            Reason::InternalError => "internal_error",
        }
    }
}

pub const BOM: &[u8] = b"\xef\xbb\xbf";

/// The lines of a block (complete lines; the last may lack its newline), with their byte
/// offsets relative to the block's start. A trailing empty piece after the final newline is
/// not a line, as `bytes.split(b"\n")` followed by dropping a last `b""` gives.
pub fn split_lines(data: &[u8]) -> Vec<(usize, &[u8])> {
    let mut lines = Vec::with_capacity(data.len() / 200 + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', data) {
        lines.push((start, &data[start..end]));
        start = end + 1;
    }
    if start < data.len() {
        lines.push((start, &data[start..]));
    }
    lines
}

/// How many newlines `data` holds: memchr's vector count (AVX2 where the CPU has it).
pub fn count_newlines(data: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', data).count()
}

/// The line as the JSON parser sees it: without a leading BOM and one trailing CR.
pub fn trim_line(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_prefix(BOM).unwrap_or(raw);
    raw.strip_suffix(b"\r").unwrap_or(raw)
}

/// Python's `str.isspace` (what `str.strip()` removes): Unicode White_Space plus the
/// information separators U+001C..U+001F, which Python counts and Rust does not.
pub fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The reason for a line the JSON parser refused (`raw` already trimmed); `deep` says that
/// the parser stopped at the nesting limit rather than at a syntax error.
pub fn classify(raw: &[u8], deep: bool) -> Reason {
    if memchr::memchr(0, raw).is_some() {
        return Reason::NulByte;
    }
    let Ok(text) = std::str::from_utf8(raw) else {
        return Reason::InvalidUtf8;
    };
    let stripped = text.trim_matches(py_isspace);
    let Some(first) = stripped.chars().next() else {
        return Reason::BlankLine;
    };
    if first != '{' && first != '[' {
        // Valid JSON that is not an object never gets here (the parser says not_object): a
        // line that only begins like a number ("2026 is a year") is plain text.
        if first == '"' || matches!(stripped, "true" | "false" | "null") {
            return Reason::NotObject;
        }
        return Reason::NotJson;
    }
    if deep {
        return Reason::TooDeep;
    }
    Reason::InvalidJson
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_final_newline_does_not_make_an_empty_line() {
        let lines = split_lines(b"a\n\nb\n");
        assert_eq!(vec![(0, &b"a"[..]), (2, &b""[..]), (3, &b"b"[..])], lines);
        assert_eq!(vec![(0, &b"a"[..]), (2, &b"b"[..])], split_lines(b"a\nb"));
        assert!(split_lines(b"").is_empty());
    }

    #[test]
    fn newlines_are_counted_in_any_length_and_alignment() {
        let text: Vec<u8> = (0..20_000u32)
            .map(|i| if i % 7 == 0 { b'\n' } else { b'x' })
            .collect();
        for start in (0..40).chain([8000, 8159, 8160, 8161]) {
            let part = &text[start..];
            let expected = part.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(count_newlines(part), expected);
        }
        assert_eq!(count_newlines(b""), 0);
    }

    #[test]
    fn reasons_are_told_apart_in_pythons_order() {
        assert_eq!(Reason::NulByte, classify(b"{\"a\":\x00\xff", false));
        assert_eq!(Reason::InvalidUtf8, classify(b"{\xff", true));
        assert_eq!(Reason::BlankLine, classify(b" \t\x1c\xc2\xa0", false));
        assert_eq!(Reason::NotJson, classify(b"42 x", false));
        assert_eq!(Reason::NotObject, classify(b"\"a\" x", false));
        assert_eq!(Reason::NotObject, classify(b" true ", false));
        assert_eq!(Reason::NotJson, classify(b"Traceback", false));
        assert_eq!(Reason::TooDeep, classify(b"[[[", true));
        assert_eq!(Reason::InvalidJson, classify(b"{\"a\"", false));
    }
}
