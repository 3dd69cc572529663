//! A JSON record as a tree that borrows from its line: strings without escapes and every
//! number are slices of the line, objects are vectors of pairs in dict order. Parsing into it
//! costs a third of serde_json's `Value` (no allocation per key, value or number, no hashing
//! into a map per key), which was two thirds of the core's time per line.
//!
//! It reads what logkit's Python reader read (orjson, then the standard library for what
//! orjson refuses): strict JSON plus `NaN`, `Infinity` and `-Infinity` in value
//! places (kept as those strings), lone UTF-16 surrogate escapes (each
//! U+FFFD), integers of any size up to Python's 4300 digits; duplicate keys keep the last
//! value at the first key's place, as a Python dict does.

use std::borrow::Cow;

use serde_json::Value;

use crate::json::Py;

/// orjson's nesting limit: the 1025th open bracket is an error.
pub const MAX_DEPTH: usize = 1024;
/// Python refuses to turn longer digit strings into an int (`sys.get_int_max_str_digits`).
const PY_INT_MAX_DIGITS: usize = 4300;
/// Objects with more keys than this find a duplicate key through a hash index, not a scan.
const SCAN_KEYS: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub enum J<'a> {
    Null,
    Bool(bool),
    /// A number as written (the grammar checked): its meaning is decided where it is used.
    Num(Cow<'a, str>),
    Str(Cow<'a, str>),
    Arr(Vec<J<'a>>),
    Obj(Obj<'a>),
}

/// An object's pairs in dict order, no key twice.
pub type Obj<'a> = Vec<(Cow<'a, str>, J<'a>)>;

/// Why a line is not a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON (or not what the standard library reads either).
    Syntax,
    /// Nested beyond `MAX_DEPTH` before any syntax error.
    Depth,
}

/// Parse a whole line (valid UTF-8: the caller checks) as one JSON value.
pub fn parse(text: &str) -> Result<J<'_>, ParseError> {
    parse_reusing(text, None)
}

/// `parse`, an object at the top (a record's own) made in `spare`'s room if given (emptied).
pub fn parse_reusing<'a>(text: &'a str, spare: Option<Obj<'a>>) -> Result<J<'a>, ParseError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        at: 0,
        depth: 0,
        spare,
    };
    let mut value = J::Null;
    parser.value(&mut value)?;
    parser.space();
    if parser.at != parser.bytes.len() {
        return Err(ParseError::Syntax);
    }
    Ok(value)
}

pub fn obj_get<'o, 'a>(obj: &'o Obj<'a>, key: &str) -> Option<&'o J<'a>> {
    obj.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: usize,
    /// Room for the top-level object's pairs.
    spare: Option<Obj<'a>>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &str, value: J<'a>) -> Result<J<'a>, ParseError> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(ParseError::Syntax)
        }
    }

    /// The value here, written into `slot`, its place in the tree. Returned instead, each
    /// value was copied out of the call that made it, read back at once in wider pieces
    /// than it had been written in, which the processor cannot forward from its stores:
    /// those loads were half of the parser's own time.
    fn value(&mut self, slot: &mut J<'a>) -> Result<(), ParseError> {
        self.space();
        *slot = match self.peek().ok_or(ParseError::Syntax)? {
            b'{' => return self.object(slot),
            b'[' => return self.array(slot),
            b'"' => {
                *slot = J::Str(Cow::Borrowed(""));
                if let J::Str(text) = slot {
                    self.string(text)?;
                }
                return Ok(());
            }
            b't' => self.literal("true", J::Bool(true))?,
            b'f' => self.literal("false", J::Bool(false))?,
            b'n' => self.literal("null", J::Null)?,
            b'N' => self.literal("NaN", J::Str(Cow::Borrowed("NaN")))?,
            b'I' => self.literal("Infinity", J::Str(Cow::Borrowed("Infinity")))?,
            b'-' if self.bytes.get(self.at + 1) == Some(&b'I') => {
                self.literal("-Infinity", J::Str(Cow::Borrowed("-Infinity")))?
            }
            b'-' | b'0'..=b'9' => J::Num(Cow::Borrowed(self.number()?)),
            _ => return Err(ParseError::Syntax),
        };
        Ok(())
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::Depth);
        }
        self.at += 1;
        Ok(())
    }

    fn array(&mut self, slot: &mut J<'a>) -> Result<(), ParseError> {
        self.enter()?;
        let mut items = Vec::new();
        self.space();
        if self.peek() == Some(b']') {
            self.at += 1;
            self.depth -= 1;
            *slot = J::Arr(items);
            return Ok(());
        }
        loop {
            items.push(J::Null);
            self.value(items.last_mut().expect("an item"))?;
            self.space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    self.depth -= 1;
                    *slot = J::Arr(items);
                    return Ok(());
                }
                _ => return Err(ParseError::Syntax),
            }
        }
    }

    fn object(&mut self, slot: &mut J<'a>) -> Result<(), ParseError> {
        self.enter()?;
        // A record's own object has a dozen keys or more: room for them at once rather than
        // grown (and copied) four times over, the previous record's room where it is given.
        let mut pairs: Obj<'a> = match self.spare.take() {
            Some(mut spare) if self.depth == 1 => {
                spare.clear();
                spare
            }
            _ => Vec::with_capacity(if self.depth == 1 { 16 } else { 0 }),
        };
        // For objects too big to scan for a duplicate key: key -> place.
        let mut index: Option<rustc_hash::FxHashMap<String, usize>> = None;
        self.space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            self.depth -= 1;
            *slot = J::Obj(pairs);
            return Ok(());
        }
        loop {
            self.space();
            if self.peek() != Some(b'"') {
                return Err(ParseError::Syntax);
            }
            // The key is read into a new last pair, in place, and the pair dropped again if
            // the key is there already: built on the stack and then copied in, each pair's
            // narrow stores were read back by wider loads, which the processor cannot
            // forward from them (a third of this function's own time in perf).
            let last = pairs.len();
            pairs.resize_with(last + 1, || (Cow::Borrowed(""), J::Null));
            self.string(&mut pairs[last].0)?;
            self.space();
            if self.peek() != Some(b':') {
                return Err(ParseError::Syntax);
            }
            self.at += 1;
            let (before, key) = pairs.split_at(last);
            let key = &key[0].0;
            let place = match &index {
                Some(index) => index.get(key.as_ref()).copied(),
                None => before.iter().position(|(k, _)| same_key(k, key)),
            };
            match place {
                // The last value, at the first key's place.
                Some(place) => {
                    pairs.pop();
                    self.value(&mut pairs[place].1)?
                }
                None => {
                    if let Some(index) = &mut index {
                        index.insert(pairs[last].0.to_string(), last);
                    }
                    self.value(&mut pairs[last].1)?;
                    if index.is_none() && pairs.len() > SCAN_KEYS {
                        index = Some(
                            pairs
                                .iter()
                                .enumerate()
                                .map(|(i, (k, _))| (k.to_string(), i))
                                .collect(),
                        );
                    }
                }
            }
            self.space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    self.depth -= 1;
                    *slot = J::Obj(pairs);
                    return Ok(());
                }
                _ => return Err(ParseError::Syntax),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<&'a str, ParseError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let int_start = self.at;
        let int_digits = self.digits();
        if int_digits == 0 || (int_digits > 1 && self.bytes[int_start] == b'0') {
            return Err(ParseError::Syntax);
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(ParseError::Syntax);
            }
            float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(ParseError::Syntax);
            }
            float = true;
        }
        if !float && int_digits > PY_INT_MAX_DIGITS {
            return Err(ParseError::Syntax);
        }
        Ok(&self.text[start..self.at])
    }

    /// A string at the opening quote, into `slot`; borrowed from the line unless it has
    /// escapes.
    fn string(&mut self, slot: &mut Cow<'a, str>) -> Result<(), ParseError> {
        self.at += 1;
        let start = self.at;
        // Eight bytes at a time while none of them ends the run (a string's bytes were
        // read one by one: 5% of a block's time); the loop below reads the last ones.
        while let Some(chunk) = self.bytes.get(self.at..self.at + 8) {
            let ends = run_ends(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
            if ends != 0 {
                // Straight to the byte that ends the run, not one by one up to it.
                self.at += ends.trailing_zeros() as usize / 8;
                break;
            }
            self.at += 8;
        }
        loop {
            match self.peek() {
                None => return Err(ParseError::Syntax),
                Some(b'"') => {
                    self.at += 1;
                    *slot = Cow::Borrowed(&self.text[start..self.at - 1]);
                    return Ok(());
                }
                Some(b'\\') => break,
                Some(0..=0x1f) => return Err(ParseError::Syntax),
                Some(_) => self.at += 1,
            }
        }
        let mut out = String::with_capacity(self.at - start + 16);
        out.push_str(&self.text[start..self.at]);
        loop {
            let run = self.at;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            out.push_str(&self.text[run..self.at]);
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    *slot = Cow::Owned(out);
                    return Ok(());
                }
                Some(b'\\') => self.escape(&mut out)?,
                _ => return Err(ParseError::Syntax),
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.bytes.get(at..at + 4)?;
        digits
            .iter()
            .try_fold(0u32, |n, &b| Some(n * 16 + (b as char).to_digit(16)?))
    }

    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let kind = self
            .bytes
            .get(self.at + 1)
            .copied()
            .ok_or(ParseError::Syntax)?;
        self.at += 2;
        let c = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4(self.at).ok_or(ParseError::Syntax)?;
                self.at += 4;
                if (0xD800..0xDC00).contains(&unit)
                    && self.bytes.get(self.at) == Some(&b'\\')
                    && self.bytes.get(self.at + 1) == Some(&b'u')
                {
                    if let Some(low) = self
                        .hex4(self.at + 2)
                        .filter(|l| (0xDC00..0xE000).contains(l))
                    {
                        self.at += 6;
                        let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        return Ok(());
                    }
                }
                // A lone surrogate: what `_exact` makes of it.
                char::from_u32(unit).unwrap_or('\u{fffd}')
            }
            _ => return Err(ParseError::Syntax),
        };
        out.push(c);
        Ok(())
    }
}

/// `a == b` for two keys of an object, the length and the first byte compared before the
/// rest: keys of the same length mostly differ there, and each full compare is a call.
fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.first() == b.first() && a == b
}

/// Which of a word's eight bytes end a string's run: a quote, a backslash or a control
/// byte (below 0x20), as the high bits of a mask, nonzero exactly when there is one. The
/// classic tests "some byte is zero" (`x - 0x01.. & !x & 0x80..`) and "some byte is below
/// n", n <= 128 (`x - n.. & !x & 0x80..`) have no false answers as to whether there is
/// one, and a byte's borrow only reaches the bytes above it: the lowest set bit is that of
/// the first such byte in memory order (bits above it may be set falsely).
pub(crate) fn run_ends(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zeros = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let quote = zeros(word ^ (ONES * u64::from(b'"')));
    let backslash = zeros(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    quote | backslash | control
}

// --- to and from serde_json, for the masker -------------------------------------------

pub fn to_value(j: J<'_>) -> Value {
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(b),
        J::Num(text) => match crate::json::view(&J::Num(Cow::Borrowed(&text))) {
            // A float beyond f64 (1e400): the standard library reads it as inf, which
            // `_exact` stores as text, and the Python masker sees that text.
            Py::Str(infinity) => Value::String(infinity.to_string()),
            _ => serde_json::from_str::<serde_json::Number>(&text)
                .map_or_else(|_| Value::String(text.into_owned()), Value::Number),
        },
        J::Str(s) => Value::String(s.into_owned()),
        J::Arr(items) => Value::Array(items.into_iter().map(to_value).collect()),
        J::Obj(pairs) => Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into_owned(), to_value(v)))
                .collect(),
        ),
    }
}

pub fn from_value(value: Value) -> J<'static> {
    match value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(b),
        Value::Number(n) => J::Num(Cow::Owned(n.as_str().to_string())),
        Value::String(s) => J::Str(Cow::Owned(s)),
        Value::Array(items) => J::Arr(items.into_iter().map(from_value).collect()),
        Value::Object(map) => J::Obj(
            map.into_iter()
                .map(|(k, v)| (Cow::Owned(k), from_value(v)))
                .collect(),
        ),
    }
}

/// For tests: the pairs of a JSON object's text (panics on anything else).
#[cfg(test)]
pub(crate) fn test_object(text: &str) -> Obj<'_> {
    match parse(text).unwrap() {
        J::Obj(pairs) => pairs,
        _ => panic!("an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_borrow_unless_escaped_and_surrogates_pair_or_become_replacement() {
        let J::Obj(pairs) =
            parse(r#"{"a": "plain", "b": "x\ud800y\ud83d\ude00\u0041", "a": 2}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(2, pairs.len());
        assert_eq!(J::Num(Cow::Borrowed("2")), pairs[0].1);
        assert_eq!(J::Str(Cow::Owned("x\u{fffd}y😀A".into())), pairs[1].1);
    }

    #[test]
    fn the_standard_librarys_extras_and_strict_json_elsewhere() {
        assert!(parse(r#"[NaN, Infinity, -Infinity, 1e400, -0, 0.5e-3]"#).is_ok());
        for bad in [
            "{NaN: 1}",
            "[01]",
            "[1.]",
            "[.5]",
            "[+1]",
            "[1,]",
            "{\"a\" 1}",
            "\"\t\"",
            "-",
            "[-NaN]",
            "",
            "1 2",
            "[\"\\x\"]",
            "[\"\\ud800\\uZZZZ\"]",
        ] {
            assert_eq!(Err(ParseError::Syntax), parse(bad), "{bad}");
        }
        assert_eq!(Err(ParseError::Depth), parse(&"[".repeat(1025)));
        assert!(parse(&format!("{}{}", "[".repeat(1024), "]".repeat(1024))).is_ok());
    }

    #[test]
    fn a_float_beyond_f64_is_the_masker_s_infinity_text() {
        // As `_exact` stores the standard library's inf: what the Python masker hashes.
        let value = to_value(parse("[1e400, -1e400, 1e16, 100000000000000000000]").unwrap());
        assert_eq!(
            r#"["Infinity","-Infinity",1e+16,100000000000000000000]"#,
            value.to_string()
        );
    }

    #[test]
    fn a_word_ends_a_run_exactly_when_a_byte_of_it_would() {
        // Every byte value in every place of a word, among bytes that end nothing.
        for place in 0..8 {
            for byte in 0..=255u8 {
                let mut bytes = [b'a', 0xc3, 0xa9, b'z', 0x7f, 0x80, 0xff, b' '];
                bytes[place] = byte;
                let ends = |b: &u8| *b == b'"' || *b == b'\\' || *b < 0x20;
                let want = bytes.iter().any(ends);
                assert_eq!(want, run_ends(u64::from_le_bytes(bytes)) != 0, "{bytes:?}");
                // And where: the first such byte, whatever comes after it.
                let first = bytes.iter().position(ends);
                let mask = run_ends(u64::from_le_bytes(bytes));
                let found = (mask != 0).then(|| mask.trailing_zeros() as usize / 8);
                assert_eq!(first, found, "{bytes:?}");
                let mut second = bytes;
                second[7] = b'"';
                let first = second.iter().position(ends);
                let mask = run_ends(u64::from_le_bytes(second));
                assert_eq!(
                    first,
                    Some(mask.trailing_zeros() as usize / 8),
                    "{second:?}"
                );
            }
        }
        let long = r#"{"k": "0123456789abcdefghij\"q\u00e9 café 0123456789", "t": "x\ty"}"#;
        let J::Obj(pairs) = parse(long).unwrap() else {
            panic!()
        };
        let want = "0123456789abcdefghij\"q\u{e9} caf\u{e9} 0123456789";
        assert_eq!(J::Str(Cow::Owned(want.into())), pairs[0].1);
        assert_eq!(J::Str(Cow::Borrowed("x\ty")), pairs[1].1);
        assert_eq!(
            Err(ParseError::Syntax),
            parse("[\"0123456789\n0123456789\"]")
        );
    }

    #[test]
    fn a_big_object_keeps_the_last_duplicate_in_the_first_place() {
        let mut text = String::from("{");
        for i in 0..100 {
            text.push_str(&format!("\"k{i}\": {i},"));
        }
        text.push_str("\"k5\": \"last\"}");
        let J::Obj(pairs) = parse(&text).unwrap() else {
            panic!()
        };
        assert_eq!(100, pairs.len());
        assert_eq!(J::Str(Cow::Borrowed("last")), pairs[5].1);
    }
}
