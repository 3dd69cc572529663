//! Placeholders and pseudonyms: making them (`[MASKED:email]`, `email:3fa1c2d4e5b6`, the start
//! of HMAC-SHA-256 over the value with the store's key) and recognising them, so masked output
//! is never masked again.

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use regex::Regex;
use sha2::Sha256;

use super::ipv6::Ipv6;

/// Hex digits of the HMAC kept in a pseudonym.
pub const HEX_CHARS: usize = 12;

/// The first 12 hex digits of HMAC-SHA-256(key, text).
pub fn hmac12(key: &[u8], text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(text.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(HEX_CHARS);
    for byte in &digest[..HEX_CHARS / 2] {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    out
}

/// The form of a value that is pseudonymised, so one address or number gets one pseudonym
/// whichever rule or spelling found it: emails lowercased (with `%40` as `@`), digits only for
/// cards, phones and SSNs, IBANs without their groups' spaces, IPv6 addresses compressed.
pub fn canonical<'a>(detector: &str, value: &'a str) -> Cow<'a, str> {
    match detector {
        "email" => Cow::Owned(value.to_lowercase().replace("%40", "@")),
        "card" | "phone" | "ssn" => {
            Cow::Owned(value.chars().filter(char::is_ascii_digit).collect())
        }
        "iban" => Cow::Owned(value.replace(' ', "")),
        "ipv6" => match Ipv6::parse(value) {
            Some(address) => Cow::Owned(address.to_string()),
            None => Cow::Borrowed(value),
        },
        _ => Cow::Borrowed(value),
    }
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// What masking wrote: `[MASKED:name]` (with a `~2` collision suffix on keys), or
/// `prefix:<12 hex>` for the detectors and fields that pseudonymise, standing alone.
pub struct Protect {
    /// Pseudonym prefixes, longest first.
    prefixes: Vec<String>,
    /// Where one may start: `[MASKED:` or a prefix and its colon.
    candidates: Regex,
}

impl Protect {
    pub fn new(prefixes: impl IntoIterator<Item = String>) -> Protect {
        let mut prefixes: Vec<String> = prefixes.into_iter().collect();
        prefixes.sort();
        prefixes.dedup();
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
        let mut pattern = String::from(r"\[MASKED:");
        for prefix in &prefixes {
            pattern.push('|');
            pattern.push_str(&regex::escape(prefix));
            pattern.push(':');
        }
        let candidates = Regex::new(&pattern).expect("escaped literals always compile");
        Protect {
            prefixes,
            candidates,
        }
    }

    /// The end of a placeholder or pseudonym starting at `at`, if one does.
    pub fn match_at(&self, s: &str, at: usize) -> Option<usize> {
        let bytes = s.as_bytes();
        if let Some(end) = placeholder_at(bytes, at) {
            return Some(end);
        }
        if self.prefixes.is_empty() || (at > 0 && is_word(bytes[at - 1])) {
            return None;
        }
        let rest = &s[at..];
        for prefix in &self.prefixes {
            let Some(tail) = rest.strip_prefix(prefix.as_str()) else {
                continue;
            };
            let tail = tail.as_bytes();
            if tail.len() > HEX_CHARS
                && tail[0] == b':'
                && tail[1..=HEX_CHARS]
                    .iter()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                && !tail.get(HEX_CHARS + 1).is_some_and(|&b| is_word(b))
            {
                return Some(at + prefix.len() + 1 + HEX_CHARS);
            }
        }
        None
    }

    /// The first placeholder or pseudonym at or after `from`: (start, end).
    pub fn find(&self, s: &str, from: usize) -> Option<(usize, usize)> {
        let mut at = from;
        while at <= s.len() {
            let start = self.candidates.find_at(s, at)?.start();
            if let Some(end) = self.match_at(s, start) {
                return Some((start, end));
            }
            at = start + 1;
            while !s.is_char_boundary(at) {
                at += 1;
            }
        }
        None
    }

    /// Whether the whole of `s` is one placeholder or pseudonym.
    pub fn fullmatch(&self, s: &str) -> bool {
        placeholder_at(s.as_bytes(), 0) == Some(s.len()) || self.pseudonym_whole(s)
    }

    fn pseudonym_whole(&self, s: &str) -> bool {
        // A prefix may be the start of a longer one that does not match; try each.
        self.prefixes.iter().any(|prefix| {
            s.len() == prefix.len() + 1 + HEX_CHARS
                && s.starts_with(prefix.as_str())
                && s.as_bytes()[prefix.len()] == b':'
                && s.as_bytes()[prefix.len() + 1..]
                    .iter()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
    }

    /// The spans of `s` between placeholders and pseudonyms.
    pub fn unprotected(&self, s: &str) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        let mut pos = 0;
        let mut from = 0;
        while let Some((start, end)) = self.find(s, from) {
            if start > pos {
                spans.push((pos, start));
            }
            pos = end;
            from = if end > start { end } else { end + 1 };
        }
        if pos < s.len() {
            spans.push((pos, s.len()));
        }
        spans
    }
}

/// `\[MASKED:[a-z0-9_]+\](?:~[0-9]+)?` at `at`: its end.
fn placeholder_at(bytes: &[u8], at: usize) -> Option<usize> {
    let rest = bytes.get(at..)?;
    let name = rest.strip_prefix(b"[MASKED:")?;
    let len = name
        .iter()
        .take_while(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
        .count();
    if len == 0 || name.get(len) != Some(&b']') {
        return None;
    }
    let mut end = at + 8 + len + 1;
    if bytes.get(end) == Some(&b'~') {
        let digits = bytes[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 {
            end += 1 + digits;
        }
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_twelve_hex_of_the_hmac() {
        // hmac.digest(b"k", b"42", "sha256").hex()[:12]
        assert_eq!("7955074f5116", hmac12(b"k", "42"));
    }

    #[test]
    fn canonical_forms() {
        assert_eq!("jane@example.com", canonical("email", "Jane%40Example.com"));
        assert_eq!("4111111111111111", canonical("card", "4111 1111-1111 1111"));
        assert_eq!("2001:db8::1", canonical("ipv6", "2001:0DB8:0:0::1"));
        assert_eq!("x", canonical("key", "x"));
    }

    #[test]
    fn placeholders_and_pseudonyms_are_recognised_standing_alone() {
        let protect = Protect::new(["email".to_string(), "user_id".to_string()]);
        assert!(protect.fullmatch("[MASKED:email]"));
        assert!(protect.fullmatch("[MASKED:email]~2"));
        assert!(protect.fullmatch("email:0123456789ab"));
        assert!(!protect.fullmatch("email:0123456789AB"));
        assert!(!protect.fullmatch("[MASKED:email]x"));
        assert_eq!(None, protect.match_at("xemail:0123456789ab", 1));
        assert_eq!(None, protect.match_at("email:0123456789abc", 0));
        assert_eq!(
            vec![(0, 3), (17, 21)],
            protect.unprotected("to [MASKED:email] now")
        );
    }
}
