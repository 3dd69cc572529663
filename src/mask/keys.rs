//! Key rules: sensitive names, in dict keys at any depth and in text pairs such as
//! `password=hunter2`, `"api_key": "..."` or `?token=abc`.
//!
//! A key is sensitive when its normalised name (lowercased, without `-`, `_` and `.`) ends with
//! one of the sensitive words. In text the same words are found letter by letter with `-_.`
//! allowed between letters, then the value after `:` or `=` is masked whole.

use std::collections::BTreeMap;

use super::pseudonym::Protect;

/// Normalised names whose values are masked; a key matches when its normalised name ends with
/// one of these (`SENSITIVE_KEYS` in logkit/mask.py).
pub const SENSITIVE_KEYS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "pwd",
    "passphrase",
    "passwordhash",
    "secret",
    "secrets",
    "secretkey",
    "secretaccesskey",
    "token",
    "apikey",
    "apikeys",
    "privatekey",
    "credential",
    "credentials",
    "signature",
    "jwt",
    "otp",
    "authorization",
    "cookie",
    "cookies",
    "session",
    "sessionid",
    "sessid",
    "creditcard",
    "cardnumber",
    "ccnumber",
    "cvv",
    "cvc",
    "ssn",
    "iban",
    "cvv2",
    "cvc2",
    "securitycode",
    // Keys of other kinds, one-time codes, a capability URL.
    "passcode",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "hmackey",
    "mfacode",
    "verificationcode",
    "webhookurl",
    // Identity and bank details.
    "dateofbirth",
    "birthdate",
    "taxid",
    "nationalid",
    "passportnumber",
    "driverslicense",
    "driverlicense",
    "bankaccount",
    "accountnumber",
    "routingnumber",
    "sortcode",
    // Azure: storage account keys, Service Bus and Event Hubs keys, and connection strings
    // (which hold them: `DefaultEndpointsProtocol=...;AccountKey=...`).
    "accountkey",
    "sharedaccesskey",
    "connectionstring",
    "connectionstrings",
];

/// Names too generic to be sensitive as keys, but credentials as query or form parameters
/// (`?key=...`, `&sig=...`): matched only right after `?`, `&`, `;` or at the start.
pub const PARAM_NAMES: &[&str] = &["key", "sig", "auth", "pass"];

/// Authorisation schemes kept together with their credential when a value is masked whole.
const AUTH_SCHEMES: &[&str] = &[
    "bearer",
    "basic",
    "token",
    "digest",
    "negotiate",
    "ntlm",
    "bot",
    "apikey",
    "aws4-hmac-sha256",
];

/// The form key rules compare: lowercased, without `-`, `_` and `.`.
pub fn normalise_key(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .collect()
}

pub fn is_sep(byte: u8) -> bool {
    matches!(byte, b'-' | b'_' | b'.')
}

/// Python's `\s` with re.ASCII.
pub fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The characters a key name in text is made of, to find where it starts.
fn is_key_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || is_sep(byte)
}

#[derive(Default)]
struct Node {
    /// In code point order, as the regex alternation of logkit/mask.py tries them.
    children: BTreeMap<char, Node>,
    terminal: bool,
}

/// The sensitive words: a suffix test for dict keys, and a letter-by-letter matcher for text
/// that tries words in the order a backtracking regex of the same trie would.
pub struct Words {
    words: Vec<String>,
    root: Node,
    suffixes: Suffixes,
}

/// The words reversed, as a trie over `a-z0-9`: a name ends with a word when reading its
/// bytes from the last reaches a word's end. A few steps whatever the number of words, where
/// testing each word's suffix in turn cost every key of every masked event more with each
/// word added (23 more words: masked lines 1.07-1.12x the core's CPU).
struct Suffixes {
    next: Vec<[u32; 36]>,
    terminal: Vec<bool>,
    /// Words with other characters (a user's `keys` beyond ASCII, an empty one), tested as
    /// suffixes one by one.
    others: Vec<String>,
}

/// A byte's place among a trie node's children: `a-z`, then `0-9`.
fn suffix_class(byte: u8) -> Option<usize> {
    match byte {
        b'a'..=b'z' => Some(usize::from(byte - b'a')),
        b'0'..=b'9' => Some(26 + usize::from(byte - b'0')),
        _ => None,
    }
}

impl Suffixes {
    fn new(words: &[String]) -> Suffixes {
        let mut trie = Suffixes {
            next: vec![[0; 36]],
            terminal: vec![false],
            others: Vec::new(),
        };
        for word in words {
            let classes: Option<Vec<usize>> = word.bytes().rev().map(suffix_class).collect();
            let Some(classes) = classes.filter(|c| !c.is_empty()) else {
                trie.others.push(word.clone());
                continue;
            };
            let mut node = 0;
            for class in classes {
                if trie.next[node][class] == 0 {
                    trie.next.push([0; 36]);
                    trie.terminal.push(false);
                    let last = u32::try_from(trie.next.len() - 1).expect("fewer nodes than u32");
                    trie.next[node][class] = last;
                }
                node = trie.next[node][class] as usize;
            }
            trie.terminal[node] = true;
        }
        trie
    }

    fn ends(&self, name: &str) -> bool {
        let mut node = 0;
        for &byte in name.as_bytes().iter().rev() {
            let Some(class) = suffix_class(byte) else {
                break;
            };
            node = self.next[node][class] as usize;
            if node == 0 {
                break;
            }
            if self.terminal[node] {
                return true;
            }
        }
        self.others.iter().any(|word| name.ends_with(word.as_str()))
    }
}

/// A text pair found at a position: the end of the name's word, the quote before the colon
/// (`"`, `\"`...), and where the value starts.
pub struct Pair {
    pub word_end: usize,
    pub quote: (usize, usize),
    pub value_start: usize,
}

impl Words {
    pub fn new(words: impl IntoIterator<Item = String>) -> Words {
        let mut words: Vec<String> = words.into_iter().collect();
        words.sort();
        words.dedup();
        let mut root = Node::default();
        for word in &words {
            let mut node = &mut root;
            for ch in word.chars() {
                node = node.children.entry(ch).or_default();
            }
            node.terminal = true;
        }
        let suffixes = Suffixes::new(&words);
        Words {
            words,
            root,
            suffixes,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(String::as_str)
    }

    /// Whether a normalised name ends with one of the words.
    pub fn ends(&self, name: &str) -> bool {
        self.suffixes.ends(name)
    }

    /// `name[-_.]*(\\*["'])?[ \t]*[:=][ \t]*` followed by a value character, at `at`.
    pub fn pair_at(&self, s: &str, at: usize) -> Option<Pair> {
        self.root.children.iter().find_map(|(&ch, child)| {
            let len = char_at(s, at, ch)?;
            walk(s, child, at + len)
        })
    }
}

/// The length of `ch` at `at` in `s`, compared as re.IGNORECASE | re.ASCII does.
fn char_at(s: &str, at: usize, ch: char) -> Option<usize> {
    let c = s.get(at..)?.chars().next()?;
    (c == ch || (c.is_ascii() && ch.is_ascii() && c.eq_ignore_ascii_case(&ch)))
        .then(|| c.len_utf8())
}

fn walk(s: &str, node: &Node, at: usize) -> Option<Pair> {
    if !node.children.is_empty() {
        let bytes = s.as_bytes();
        let mut next = at;
        while next < bytes.len() && is_sep(bytes[next]) {
            next += 1;
        }
        for (&ch, child) in &node.children {
            if let Some(len) = char_at(s, next, ch) {
                if let Some(pair) = walk(s, child, next + len) {
                    return Some(pair);
                }
            }
        }
    }
    if node.terminal {
        return pair_tail(s, at);
    }
    None
}

/// `[-_.]*(\\*["'])?[ \t]*[:=][ \t]*(?=[^\s,;&<>)\]}])` at `at`: it has one way to match.
fn pair_tail(s: &str, word_end: usize) -> Option<Pair> {
    let bytes = s.as_bytes();
    let mut i = word_end;
    while i < bytes.len() && is_sep(bytes[i]) {
        i += 1;
    }
    let mut quote = (i, i);
    let mut k = i;
    while k < bytes.len() && bytes[k] == b'\\' {
        k += 1;
    }
    if k < bytes.len() && matches!(bytes[k], b'"' | b'\'') {
        quote = (i, k + 1);
        i = k + 1;
    }
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
        i += 1;
    }
    if !matches!(bytes.get(i), Some(b':' | b'=')) {
        return None;
    }
    i += 1;
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
        i += 1;
    }
    match bytes.get(i) {
        Some(&b)
            if !is_space(b)
                && !matches!(b, b',' | b';' | b'&' | b'<' | b'>' | b')' | b']' | b'}') =>
        {
            Some(Pair {
                word_end,
                quote,
                value_start: i,
            })
        }
        _ => None,
    }
}

/// PWD, OLDPWD: in an environment dump these are working directories, not passwords. A value
/// under a name ending in `pwd` that is an absolute path of plain path characters is left as it
/// is; any other value, and every value under password/passwd, is still masked.
pub fn is_working_dir(name: &str, value: &str) -> bool {
    name.ends_with("pwd") && is_path(value)
}

/// `~?(?:/[\w.@+~-]*)+` in full (Python's Unicode `\w`: letters, digits, `_`).
fn is_path(value: &str) -> bool {
    let rest = value.strip_prefix('~').unwrap_or(value);
    rest.starts_with('/')
        && rest
            .chars()
            .all(|c| c.is_alphabetic() || c.is_numeric() || "/_.@+~-".contains(c))
}

/// Where the key name ending at `word_end` starts: back over letters, digits and `-_.`.
pub fn name_start(s: &str, at: usize) -> usize {
    let bytes = s.as_bytes();
    let mut start = at;
    while start > 0 && is_key_char(bytes[start - 1]) {
        start -= 1;
    }
    start
}

/// `(?:(?<=[?&;])|^)(?i:key|sig|auth|pass)=(?=[^\s&#;])` at `at`: where the value starts.
pub fn param_at(s: &str, at: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    if at > 0 && !matches!(bytes[at - 1], b'?' | b'&' | b';') {
        return None;
    }
    let rest = &bytes[at..];
    let name = PARAM_NAMES.iter().find(|name| {
        rest.len() > name.len() && rest[..name.len()].eq_ignore_ascii_case(name.as_bytes())
    })?;
    let eq = at + name.len();
    if bytes[eq] != b'=' {
        return None;
    }
    match bytes.get(eq + 1) {
        Some(&b) if !is_space(b) && !matches!(b, b'&' | b'#' | b';') => Some(eq + 1),
        _ => None,
    }
}

/// The value of a text pair starting at `start`: (start, end, quoted). A quoted value's span
/// is what is inside the quotes; a JSON object or array is taken whole; an unterminated value
/// runs to the end of the text; a bare `null`, `true` or `false` hides nothing (None).
pub fn text_value_span(
    s: &str,
    start: usize,
    to_line_end: bool,
    protect: &Protect,
) -> Option<(usize, usize, bool)> {
    let bytes = s.as_bytes();
    if start >= bytes.len() {
        return None;
    }
    if let Some(end) = protect.match_at(s, start) {
        return Some((start, end, true));
    }
    let ch = bytes[start];
    if ch == b'\\' || ch == b'"' {
        let mut quote_end = start;
        while quote_end < bytes.len() && bytes[quote_end] == b'\\' {
            quote_end += 1;
        }
        if quote_end < bytes.len() && bytes[quote_end] == b'"' {
            let inner = quote_end + 1;
            let end = if quote_end == start {
                json_string_end(bytes, inner)
            } else {
                let quote = &s[start..=quote_end];
                s[inner..].find(quote).map_or(bytes.len(), |i| inner + i)
            };
            return Some((inner, end, true));
        }
    } else if ch == b'\'' {
        let end = memchr::memchr(b'\'', &bytes[start + 1..]).map_or(bytes.len(), |i| start + 1 + i);
        return Some((start + 1, end, true));
    } else if ch == b'{' || ch == b'[' {
        return Some((start, json_value_end(bytes, start), false));
    }
    let end = if to_line_end {
        let n = bytes[start..]
            .iter()
            .take_while(|&&b| !matches!(b, b'\r' | b'\n' | b'"'))
            .count();
        start + n
    } else {
        bare_value_end(bytes, start)
    };
    if end == start || matches!(&s[start..end], "null" | "true" | "false") {
        return None;
    }
    Some((start, end, false))
}

fn is_bare(byte: u8) -> bool {
    !is_space(byte)
        && !matches!(
            byte,
            b',' | b';' | b'&' | b'"' | b'\'' | b'<' | b'>' | b')' | b']' | b'}'
        )
}

/// `(?:SCHEME[ \t]+)?[^\s,;&"'<>)\]}]+`: a credential keeps its scheme (`Bearer abc`).
fn bare_value_end(bytes: &[u8], start: usize) -> usize {
    let run = |from: usize| from + bytes[from..].iter().take_while(|&&b| is_bare(b)).count();
    let rest = &bytes[start..];
    for scheme in AUTH_SCHEMES {
        if rest.len() >= scheme.len()
            && rest[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
        {
            let mut i = start + scheme.len();
            let spaces = i;
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            if i > spaces {
                let end = run(i);
                if end > i {
                    return end;
                }
            }
        }
    }
    run(start)
}

/// The index of the closing quote of a JSON string whose content starts at `i` (or the end).
pub fn json_string_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return i,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The end of the JSON object or array starting at `i`; the end of the text if it never closes.
fn json_value_end(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0i64;
    while i < bytes.len() {
        let Some(found) = bytes[i..]
            .iter()
            .position(|b| matches!(b, b'"' | b'\\' | b'{' | b'}' | b'[' | b']'))
        else {
            return bytes.len();
        };
        let ch = bytes[i + found];
        i += found + 1;
        match ch {
            b'"' => i = json_string_end(bytes, i) + 1,
            b'\\' => i += 1,
            b'{' | b'[' => depth += 1,
            _ => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Words {
        Words::new(SENSITIVE_KEYS.iter().map(|w| w.to_string()))
    }

    #[test]
    fn normalised_names() {
        assert_eq!("xapikey", normalise_key("X-Api.Key_"));
        assert_eq!("token", normalise_key("TO\u{212a}EN"));
    }

    #[test]
    fn suffix_rule() {
        let words = words();
        assert!(words.ends("dbpassword"));
        assert!(words.ends("awssecretaccesskey"));
        assert!(!words.ends("inputtokens"));
        assert!(!words.ends("key"));
        assert!(words.ends("customerdateofbirth") && words.ends("cvv2") && !words.ends("cvv3"));
        // A word beyond a-z0-9 (a user's), and an empty one, tested as plain suffixes.
        let odd = Words::new(["geheimwört".to_string(), "token".to_string()]);
        assert!(odd.ends("meingeheimwört") && odd.ends("xtoken") && !odd.ends("wört"));
        assert!(Words::new([String::new()]).ends("anything"));
    }

    proptest::proptest! {
        #[test]
        fn the_suffix_trie_answers_as_each_word_in_turn(
            name in "[a-z0-9é_]{0,24}",
            extra in proptest::collection::vec("[a-z0-9é]{0,6}", 0..4),
        ) {
            let mut list: Vec<String> = SENSITIVE_KEYS.iter().map(|w| w.to_string()).collect();
            list.extend(extra);
            let words = Words::new(list.clone());
            let each = list.iter().any(|word| name.ends_with(word.as_str()));
            proptest::prop_assert_eq!(each, words.ends(&name));
        }
    }

    #[test]
    fn pairs_in_text() {
        let words = words();
        let s = "login password=hunter2";
        let pair = words.pair_at(s, 6).unwrap();
        assert_eq!((14, 15), (pair.word_end, pair.value_start));
        let s = r#"{"session_id" : "x"}"#;
        let pair = words.pair_at(s, 2).unwrap();
        assert_eq!(
            (12, (12, 13), 16),
            (pair.word_end, pair.quote, pair.value_start)
        );
        assert!(words.pair_at("password= ;x", 0).is_none());
        assert_eq!(10, words.pair_at("password= x", 0).unwrap().value_start);
        assert!(words.pair_at("tokens_x=1", 0).is_none());
    }

    #[test]
    fn values_of_pairs() {
        let protect = Protect::new(Vec::new());
        assert_eq!(
            Some((1, 8, true)),
            text_value_span(r#""hunter2" x"#, 0, false, &protect)
        );
        assert_eq!(
            Some((0, 10, false)),
            text_value_span("Bearer abc, x", 0, false, &protect)
        );
        assert_eq!(
            Some((0, 6, false)),
            text_value_span("Bearer", 0, false, &protect)
        );
        assert_eq!(None, text_value_span("null,", 0, false, &protect));
        assert_eq!(
            Some((0, 10, false)),
            text_value_span(r#"{"a": [1]}, x"#, 0, false, &protect)
        );
        assert_eq!(
            Some((2, 5, true)),
            text_value_span(r#"\"abc\""#, 0, false, &protect)
        );
        assert_eq!(
            Some((0, 14, true)),
            text_value_span("[MASKED:key]~2 x", 0, false, &protect)
        );
    }

    #[test]
    fn working_directories() {
        assert!(is_working_dir("pwd", "/home/ann"));
        assert!(is_working_dir("oldpwd", "~/src/ü-1.2"));
        assert!(!is_working_dir("pwd", "hunter2"));
        assert!(!is_working_dir("pwd", "~"));
        assert!(!is_working_dir("pwd", "/home/ann x"));
        assert!(!is_working_dir("password", "/home/ann"));
    }

    #[test]
    fn params() {
        assert_eq!(Some(11), param_at("GET /x?key=abc", 7));
        assert_eq!(Some(4), param_at("key=abc", 0));
        assert_eq!(None, param_at("xkey=abc", 1));
        assert_eq!(None, param_at("key=&a", 0));
    }
}
