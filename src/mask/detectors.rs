//! The value detectors and the scan that applies them to one string.
//!
//! logkit/mask.py combines its detectors into one backtracking regex with lookarounds; the
//! `regex` crate has none (it runs in linear time instead). So each detector is a finder
//! (finders.rs): `find(s, from)` returns the first place at or after `from` where the Python
//! pattern would match, lookarounds included, written as explicit checks around a candidate
//! that a plain regex, a literal search or a byte scan proposes. Where Python's backtracking
//! could pick among several matches at one place, the finder tries them in the same order.
//! The scan here then takes the leftmost match, the earlier detector where two start at one
//! place (the priority order), exactly as the alternation does, and a candidate that fails
//! validation (Luhn, base64, an IPv6 parse) gives up its place to the search from the next
//! character, as in Python.

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

/// Room for each lazy DFA's states (the regex crate's default is 2 MB; too little for the
/// larger alternations, which were then built again and again). Each detector's, the gates'
/// and the prefilter's DFA fills towards it as the input varies: at 16 MB they grew the core by
/// ~45 MB over 9M lines of four services' logs, at 8 MB by ~17, at 4 MB by ~5; but rejected
/// lines, masked whole as text, keep the DFAs building states: 500k lines of plain text took
/// 7.9 s at 16 MB, 9.8 s at 8, 11.6 s at 4.
pub const DFA_BYTES: usize = 8 << 20;

use super::base64::decode_strict;
use super::finders::{
    api_key, candidates, card, email, ipv4, ipv6, jwt, next_char, phone, ssn, url_creds,
};
use super::iban::iban_at;
use super::ipv6::Ipv6;
use super::keys::{is_working_dir, name_start, normalise_key, param_at, text_value_span, Words};
use super::luhn::cards_in_run;
use super::pseudonym::Protect;
use super::Counts;

/// Built-in detector names, in priority order (earlier wins where two start at one place).
pub const BUILTIN_DETECTORS: [&str; 14] = [
    "key",
    "private_key",
    "url_creds",
    "jwt",
    "auth",
    "aws_key",
    "api_key",
    "email",
    "ssn",
    "phone",
    "ipv4",
    "card",
    "ipv6",
    "iban",
];

/// The alternatives of the combined search, in the order they are tried at one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alt {
    Protect,
    Kv,
    Kvp,
    PrivateKey,
    UrlCreds,
    Jwt,
    Auth,
    AwsKey,
    ApiKey,
    Email,
    Ssn,
    Phone,
    Ipv4,
    Card,
    Ipv6,
    Iban,
}

impl Alt {
    pub fn name(self) -> &'static str {
        match self {
            Alt::Protect => "protect",
            Alt::Kv | Alt::Kvp => "key",
            Alt::PrivateKey => "private_key",
            Alt::UrlCreds => "url_creds",
            Alt::Jwt => "jwt",
            Alt::Auth => "auth",
            Alt::AwsKey => "aws_key",
            Alt::ApiKey => "api_key",
            Alt::Email => "email",
            Alt::Ssn => "ssn",
            Alt::Phone => "phone",
            Alt::Ipv4 => "ipv4",
            Alt::Card => "card",
            Alt::Ipv6 => "ipv6",
            Alt::Iban => "iban",
        }
    }
}

/// How many alternatives there are.
const ALTS: usize = Alt::Iban as usize + 1;

/// A match of one alternative: its span, and the places its handler needs (the value of a
/// pair, the credential after a scheme).
#[derive(Clone, Copy, Debug)]
pub struct Found {
    pub(super) alt: Alt,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) a: usize,
    pub(super) b: usize,
    pub(super) c: usize,
}

impl Found {
    pub(super) fn new(alt: Alt, start: usize, end: usize) -> Found {
        Found {
            alt,
            start,
            end,
            a: 0,
            b: 0,
            c: 0,
        }
    }
}

/// What a handler needs from the masker: the replacement of a value, and the rules.
pub trait Replace {
    fn replace(&self, detector: &str, value: &str, counts: &mut Counts) -> String;
    fn protect(&self) -> &Protect;
    fn allowed(&self, name: &str) -> bool;
}

/// The finders of the enabled detectors, compiled once per masker.
pub struct Scanner {
    alts: Vec<Alt>,
    words: Option<Words>,
    kv_start: Option<Regex>,
    kvp_start: Regex,
    private_key: Regex,
    auth_start: Regex,
    aws_start: Regex,
    api_start: Regex,
    ssn_start: Regex,
    phone_start: Regex,
    ipv4_start: Regex,
    card_start: Regex,
    iban_start: Regex,
    unicode_word: Regex,
    /// Per alternative, a necessary condition (cheap, one pass for all of them): only the
    /// alternatives whose gate matches somewhere in a string are searched in it.
    gate: RegexSet,
    /// All the gates as one regex: most strings match none, which one pass tells fastest.
    gate_any: Regex,
    /// Each gate by itself, asked instead of the two above of a string made mostly of
    /// digits (`DIGIT_SHARE`).
    gate_each: Vec<Regex>,
    gate_alts: Vec<Alt>,
}

/// A string at least a third of whose bytes are digits (a table of numbers, `vmstat`, a
/// rejected line of figures) keeps several counting gates (card, phone, SSN, IPv4, IPv6)
/// partly matched at many places at once: the set's and the alternation's lazy DFAs, which
/// track every gate together, build states without end, clear their caches and fall back
/// to the PikeVM (~20 µs a short line of `vmstat`, 0.75 MB/s over long runs of figures).
/// Each gate's own DFA stays small there. Elsewhere the one pass of the set is faster (each
/// gate by itself: 1.2-3x slower on ordinary text).
const DIGIT_SHARE: usize = 3;

/// What a byte can do towards a match of some gate (`Scanner::new`'s gates).
/// In this order: the two kinds most bytes are come first, so that `no_gate_possible` branches
/// only on the rare ones.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Towards {
    /// Most letters and punctuation: nothing by itself.
    Nothing,
    /// Digits: a card needs thirteen; SSN, phone and IPv4 a `-` or `.` after one.
    Digit,
    /// A byte some gates need and few strings hold: `:` or `=` (text pairs, `://`, IPv6),
    /// `@` and `%` (email), `+` and `(` (phone), `J` (`eyJ`), `B` (`Bearer`, `Basic`,
    /// `-----BEGIN`), `A` (`AKIA`, `AIza`); and every byte beyond ASCII, which
    /// case-insensitive names could match.
    Opens,
    /// `.` after a digit (IPv4, phone, `ya29.`) or ending `SG.`, `hvs.`, `hooks.`, `discord.`,
    /// `discordapp.`.
    Dot,
    /// `-` after a digit (SSN, phone), or ending `sk-`, `glpat-`, `xox[abprs]-`, `pypi-`,
    /// `xai-`, `pplx-`, `tvly-`, `GOCSPX-`.
    Dash,
    /// `_` ending `[sr]k_`, `gh[pousr]_`, `github_pat_`, `hf_`, `r8_`, `npm_`, `whsec_`,
    /// `lsv2_`, `fw_`, `glsa_`, `ntn_`, `lin_api_`.
    Underscore,
}

static TOWARDS: [Towards; 256] = {
    let mut table = [Towards::Nothing; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            0x80..=0xff | b':' | b'=' | b'@' | b'%' | b'+' | b'(' | b'J' | b'B' | b'A' => {
                Towards::Opens
            }
            b'0'..=b'9' => Towards::Digit,
            b'.' => Towards::Dot,
            b'-' => Towards::Dash,
            b'_' => Towards::Underscore,
            _ => Towards::Nothing,
        };
        b += 1;
    }
    table
};

/// Two capitals and two digits, as an IBAN begins (IBAN_GATE).
fn iban_start(w: &[u8]) -> bool {
    w[0].is_ascii_uppercase()
        && w[1].is_ascii_uppercase()
        && w[2].is_ascii_digit()
        && w[3].is_ascii_digit()
}

/// Digits a card needs (`[2-6](?:[ -]?[0-9]){12}`, the card gate).
const CARD_DIGITS: usize = 13;

fn rx(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .dfa_size_limit(DFA_BYTES)
        .build()
        .expect("built-in patterns compile")
}

/// A word as text may spell it: ASCII letters in either case, `-_.` between any two letters.
pub fn spread(word: &str) -> String {
    let mut out = String::new();
    for (i, ch) in word.chars().enumerate() {
        if i > 0 {
            out.push_str("[-_.]*");
        }
        if ch.is_ascii_alphabetic() {
            out.push('[');
            out.push(ch.to_ascii_lowercase());
            out.push(ch.to_ascii_uppercase());
            out.push(']');
        } else {
            out.push_str(&regex::escape(ch.encode_utf8(&mut [0; 4])));
        }
    }
    out
}

/// Where an API key may start: its service's prefix (finders.rs `api_key` checks the rest).
/// A webhook URL's slashes may be escaped (`\/`) in a raw JSON line, which the prefilter reads.
pub const API_KEY_GATE: &str = r"sk-|[sr]k_(?:live|test)_|gh[pousr]_|github_pat_|glpat-|xox[abprs]-|AIza|hf_|r8_|gsk_|npm_|pypi-|xai-|pplx-|SG\.|whsec_|lsv2_(?:pt|sk)_|pcsk_|tvly-|fw_|hvs\.|ya29\.|GOCSPX-|dckr_pat_|glsa_|ntn_|lin_api_|hooks\.slack\.com\\?/(?:services|workflows|triggers)\\?/|discord(?:app)?\.com\\?/api\\?/webhooks\\?/";

/// Where an IBAN may start: a country's letters, the check digits, the account's first group.
pub const IBAN_GATE: &str = "[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4}";

const PRIVATE_KEY: &str = r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*)";

impl Scanner {
    /// `enabled`: the built-in detectors switched on; `words`: the sensitive words (key rule).
    pub fn new(enabled: &[&str], words: Option<Words>) -> Scanner {
        let on = |name: &str| enabled.contains(&name);
        let mut alts = vec![Alt::Protect];
        let mut gates: Vec<(String, Alt)> = Vec::new();
        let kv_start = words.as_ref().map(|words| {
            let alternatives: Vec<String> =
                words.iter().filter(|w| !w.is_empty()).map(spread).collect();
            let names = if alternatives.is_empty() {
                "[^\\s\\S]".to_string()
            } else {
                alternatives.join("|")
            };
            rx(&format!(r#"(?:{names})[-_.]*(?:\\*["'])?[ \t]*[:=]"#))
        });
        if let Some(start) = &kv_start {
            alts.extend([Alt::Kv, Alt::Kvp]);
            gates.push((start.as_str().to_string(), Alt::Kv));
            gates.push((r"(?i:key|sig|auth|pass)=".to_string(), Alt::Kvp));
        }
        let table: [(&str, Alt, &str); 13] = [
            ("private_key", Alt::PrivateKey, "-----BEGIN"),
            ("url_creds", Alt::UrlCreds, "://"),
            ("jwt", Alt::Jwt, "eyJ"),
            ("auth", Alt::Auth, "B(?:earer|EARER|asic|ASIC) "),
            ("aws_key", Alt::AwsKey, "A[KS]IA"),
            ("api_key", Alt::ApiKey, API_KEY_GATE),
            (
                "email",
                Alt::Email,
                r"(?:@|%40)(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2}",
            ),
            ("ssn", Alt::Ssn, "[0-9]{3}-[0-9]{2}-[0-9]{4}"),
            (
                "phone",
                Alt::Phone,
                r"\+[1-9]|\([2-9][0-9]{2}\)|[2-9][0-9]{2}[-.][2-9][0-9]{2}[-.][0-9]{4}",
            ),
            ("ipv4", Alt::Ipv4, r"[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]"),
            ("card", Alt::Card, "[2-6](?:[ -]?[0-9]){12}"),
            (
                "ipv6",
                Alt::Ipv6,
                "::|[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:",
            ),
            ("iban", Alt::Iban, IBAN_GATE),
        ];
        for (name, alt, gate) in table {
            if on(name) {
                alts.push(alt);
                gates.push((gate.to_string(), alt));
            }
        }
        // A lazy DFA for many patterns at once needs room, or it rebuilds its states per string.
        let gate = RegexSetBuilder::new(gates.iter().map(|(pattern, _)| pattern))
            .dfa_size_limit(DFA_BYTES)
            .build()
            .expect("gates compile");
        let any = gates
            .iter()
            .map(|(pattern, _)| pattern.as_str())
            .collect::<Vec<_>>()
            .join("|");
        let gate_any = rx(if any.is_empty() { "[^\\s\\S]" } else { &any });
        let gate_each = gates.iter().map(|(pattern, _)| rx(pattern)).collect();
        let gate_alts = gates.into_iter().map(|(_, alt)| alt).collect();
        Scanner {
            alts,
            words,
            kv_start,
            kvp_start: rx("[kK][eE][yY]=|[sS][iI][gG]=|[aA][uU][tT][hH]=|[pP][aA][sS][sS]="),
            private_key: rx(PRIVATE_KEY),
            auth_start: rx("(?:Bearer|BEARER|Basic|BASIC) +[A-Za-z0-9._~+/-]"),
            aws_start: rx("A[KS]IA[A-Z0-9]{16}"),
            api_start: rx(API_KEY_GATE),
            ssn_start: rx("[0-9]{3}-[0-9]{2}-[0-9]{4}"),
            phone_start: rx(
                r"\+[1-9]|(?:1[ .-])?(?:\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[-. ]|[2-9][0-9]{2}-[2-9][0-9]{2}-|[2-9][0-9]{2}\.[2-9][0-9]{2}\.)[0-9]{4}",
            ),
            ipv4_start: rx(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]"),
            card_start: rx("[0-9](?:[ -]?[0-9]){12}"),
            iban_start: rx("[A-Z]{2}[0-9]{2}"),
            unicode_word: rx(r"\A[\p{L}\p{N}_]"),
            gate,
            gate_any,
            gate_each,
            gate_alts,
        }
    }

    /// Whether no gate can match in `s`, by its bytes and their neighbours alone
    /// (`Towards`): a necessary condition of every gate, so never true where one matches.
    /// Cheaper than the clean strings' table, and most repeated values (levels, services,
    /// loggers, messages) pass it, and so do ids with a few digits and `_` (`req_c1e5`,
    /// `u_10335`, `/v1/jobs/0a5d`), which were looked up, gated and remembered each time
    /// when every digit and `_` counted (`mask_str` of a request id 98 -> 42 ns).
    pub fn no_gate_possible(s: &str) -> bool {
        let b = s.as_bytes();
        if b.iter()
            .all(|&c| TOWARDS[usize::from(c)] == Towards::Nothing)
        {
            return true; // most strings: one lookup a byte, no branch on the kind
        }
        let before = |i: usize, back: usize| if i >= back { b[i - back] } else { 0 };
        let mut digits = 0;
        for (i, &c) in b.iter().enumerate() {
            let kind = TOWARDS[usize::from(c)];
            // Counted without a branch: in a hex id, digits and letters come in no order a
            // processor can predict, and a branch on each was most of this function's time.
            digits += usize::from(kind == Towards::Digit);
            if kind <= Towards::Digit {
                continue;
            }
            let opens = match kind {
                Towards::Nothing | Towards::Digit => false,
                Towards::Opens => true,
                Towards::Dot => {
                    let (one, two) = (before(i, 1), before(i, 2));
                    // SG., hvs., hooks.slack, discord., discordapp. (and ya29.: after a digit)
                    one.is_ascii_digit()
                        || matches!(
                            (two, one),
                            (b'S', b'G')
                                | (b'v', b's')
                                | (b'k', b's')
                                | (b'r', b'd')
                                | (b'p', b'p')
                        )
                }
                Towards::Dash => {
                    let (one, two) = (before(i, 1), before(i, 2));
                    one.is_ascii_digit()
                        || matches!((two, one), (b's', b'k') | (b'a', b't'))
                        || (two == b'x' && matches!(one, b'a' | b'b' | b'p' | b'r' | b's'))
                        // pypi-, xai-, pplx-, tvly-, GOCSPX-
                        || matches!(
                            (two, one),
                            (b'p' | b'a', b'i') | (b'l', b'x') | (b'l', b'y') | (b'P', b'X')
                        )
                }
                Towards::Underscore => {
                    let (one, two) = (before(i, 1), before(i, 2));
                    (matches!(two, b's' | b'r') && one == b'k')
                        || (two, one) == (b'a', b't')
                        || (two == b'h' && matches!(one, b'p' | b'o' | b'u' | b's' | b'r'))
                        // hf_, r8_, npm_ (gsk_ and pcsk_ are sk_'s, dckr_pat_ github_pat_'s);
                        // whsec_, lsv2_, fw_, glsa_, ntn_, lin_api_
                        || matches!(
                            (two, one),
                            (b'h', b'f') | (b'r', b'8') | (b'p', b'm') | (b'e', b'c') | (b'v', b'2')
                                | (b'f', b'w') | (b's', b'a') | (b't', b'n') | (b'p', b'i')
                        )
                }
            };
            if opens {
                return false;
            }
        }
        // An IBAN's first letters are no rare byte: its two check digits after two capitals.
        digits < CARD_DIGITS && (digits < 2 || !b.windows(4).any(iban_start))
    }

    /// What `scan` makes of `s` when the whole of it is one IPv4 address (`203.0.113.82`,
    /// a client's address in most request logs), without the gates and the searches
    /// (`mask_str` of one 330 -> 75 ns); None for any other string, which `scan` is for.
    /// Exactly `scan`'s answer: a string of digits and dots opens no other gate (each needs
    /// a byte or a run of digits an address lacks), nor holds a placeholder or pseudonym, so
    /// the one match is the address, from its first byte to its last.
    pub fn whole_ipv4<R: Replace>(
        &self,
        rules: &R,
        s: &str,
        counts: &mut Counts,
    ) -> Option<String> {
        let whole = self.alts.contains(&Alt::Ipv4) && ipv4(s.as_bytes(), 0) == Some(s.len());
        whole.then(|| rules.replace(Alt::Ipv4.name(), s, counts))
    }

    /// The alternatives that may match somewhere in `s` (placeholders always), as a set of
    /// bits `1 << alt`; None if no built-in detector can.
    pub fn may_match(&self, s: &str) -> Option<u32> {
        let digits = s.bytes().filter(u8::is_ascii_digit).count();
        if digits * DIGIT_SHARE >= s.len() && !s.is_empty() {
            self.may_match_each(s)
        } else {
            self.may_match_by_set(s)
        }
    }

    /// `may_match` a gate at a time (see DIGIT_SHARE): the same answer as the set's.
    pub(crate) fn may_match_each(&self, s: &str) -> Option<u32> {
        let bits = self
            .gate_each
            .iter()
            .zip(&self.gate_alts)
            .filter(|(gate, _)| gate.is_match(s))
            .fold(0, |bits, (_, alt)| bits | 1 << *alt as u32);
        (bits != 0).then_some(bits | 1 << Alt::Protect as u32)
    }

    /// `may_match` by the alternation of every gate, then their set.
    pub(crate) fn may_match_by_set(&self, s: &str) -> Option<u32> {
        if !self.gate_any.is_match(s) {
            return None;
        }
        let matched = self.gate.matches(s);
        if !matched.matched_any() {
            return None;
        }
        let bits = matched.iter().fold(1 << Alt::Protect as u32, |bits, i| {
            bits | 1 << self.gate_alts[i] as u32
        });
        Some(bits)
    }

    /// Python's `c.isalnum() or c == "_"` for the character at `at` (false at the end).
    fn word_char_at(&self, s: &str, at: usize) -> bool {
        at < s.len() && self.unicode_word.is_match(&s[at..])
    }

    /// The built-in detectors over `s`; None if nothing was found (not even a placeholder).
    pub fn scan<R: Replace>(
        &self,
        rules: &R,
        s: &str,
        open: u32,
        counts: &mut Counts,
    ) -> Option<String> {
        // Per alternative, its next match at or after `from` once looked for.
        let mut cache: [Option<Option<Found>>; ALTS] = [None; ALTS];
        let alts = self
            .alts
            .iter()
            .copied()
            .filter(|alt| open & (1 << *alt as u32) != 0);
        let mut out = String::new();
        let mut hits = 0usize;
        let (mut pos, mut from) = (0usize, 0usize);
        loop {
            let mut best: Option<Found> = None;
            for (slot, alt) in cache.iter_mut().zip(alts.clone()) {
                let stale = match slot {
                    None => true,
                    Some(Some(found)) => found.start < from,
                    Some(None) => false,
                };
                if stale {
                    *slot = Some(self.find(rules, alt, s, from));
                }
                if let Some(Some(found)) = slot {
                    if best.is_none_or(|b| found.start < b.start) {
                        best = Some(*found);
                    }
                }
            }
            let Some(found) = best else { break };
            match self.handle(rules, s, &found, counts) {
                Some((start, end, replacement)) => {
                    out.push_str(&s[pos..start]);
                    out.push_str(&replacement);
                    hits += 1;
                    pos = end;
                    from = end;
                }
                None => from = next_char(s, found.start),
            }
        }
        if hits == 0 {
            return None;
        }
        out.push_str(&s[pos..]);
        Some(out)
    }

    fn find<R: Replace>(&self, rules: &R, alt: Alt, s: &str, from: usize) -> Option<Found> {
        let b = s.as_bytes();
        match alt {
            Alt::Protect => rules
                .protect()
                .find(s, from)
                .map(|(start, end)| Found::new(alt, start, end)),
            Alt::Kv => {
                let words = self.words.as_ref()?;
                candidates(self.kv_start.as_ref()?, s, from, |p| {
                    let pair = words.pair_at(s, p)?;
                    Some(Found {
                        alt,
                        start: p,
                        end: pair.value_start,
                        a: pair.word_end,
                        b: pair.quote.0,
                        c: pair.quote.1,
                    })
                })
            }
            Alt::Kvp => candidates(&self.kvp_start, s, from, |p| {
                param_at(s, p).map(|end| Found::new(alt, p, end))
            }),
            Alt::PrivateKey => self
                .private_key
                .find_at(s, from)
                .map(|m| Found::new(alt, m.start(), m.end())),
            Alt::UrlCreds => url_creds(s, from),
            Alt::Jwt => jwt(s, from),
            Alt::Auth => candidates(&self.auth_start, s, from, |p| {
                if p > 0 && (b[p - 1].is_ascii_alphanumeric() || matches!(b[p - 1], b'_' | b'-')) {
                    return None;
                }
                let basic = b[p + 1] == b'a' || b[p + 1] == b'A';
                let mut i = p + if basic { 5 } else { 6 };
                while b[i] == b' ' {
                    i += 1;
                }
                let v = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || matches!(b[i], b'.' | b'_' | b'~' | b'+' | b'/' | b'-'))
                {
                    i += 1;
                }
                while i < b.len() && b[i] == b'=' {
                    i += 1;
                }
                Some(Found {
                    alt,
                    start: p,
                    end: i,
                    a: usize::from(basic),
                    b: v,
                    c: i,
                })
            }),
            Alt::AwsKey => candidates(&self.aws_start, s, from, |p| {
                let before = p > 0 && b[p - 1].is_ascii_alphanumeric();
                let after = b.get(p + 20).is_some_and(u8::is_ascii_alphanumeric);
                (!before && !after).then(|| Found::new(alt, p, p + 20))
            }),
            Alt::ApiKey => candidates(&self.api_start, s, from, |p| {
                api_key(b, p).map(|end| Found::new(alt, p, end))
            }),
            Alt::Email => email(s, from),
            Alt::Ssn => candidates(&self.ssn_start, s, from, |p| {
                ssn(b, p).then(|| Found::new(alt, p, p + 11))
            }),
            Alt::Phone => candidates(&self.phone_start, s, from, |p| {
                phone(b, p).map(|end| Found::new(alt, p, end))
            }),
            Alt::Ipv4 => candidates(&self.ipv4_start, s, from, |p| {
                ipv4(b, p).map(|end| Found::new(alt, p, end))
            }),
            Alt::Card => candidates(&self.card_start, s, from, |p| {
                card(b, p).map(|end| Found::new(alt, p, end))
            }),
            Alt::Ipv6 => ipv6(s, from),
            Alt::Iban => candidates(&self.iban_start, s, from, |p| {
                iban_at(b, p).map(|end| Found::new(alt, p, end))
            }),
        }
    }

    /// The replacement for a match: (start, end, text), or None for a candidate that fails
    /// validation.
    fn handle<R: Replace>(
        &self,
        rules: &R,
        s: &str,
        f: &Found,
        counts: &mut Counts,
    ) -> Option<(usize, usize, String)> {
        match f.alt {
            Alt::Protect => Some((f.start, f.end, s[f.start..f.end].to_string())),
            Alt::Kv => {
                let name = normalise_key(&s[name_start(s, f.start)..f.a]);
                if rules.allowed(&name) {
                    return None;
                }
                if name.ends_with("pwd") {
                    let span = text_value_span(s, f.end, false, rules.protect());
                    if span.is_some_and(|(a, b, _)| is_working_dir(&name, &s[a..b])) {
                        return None;
                    }
                }
                let cookie = name.ends_with("cookie") || name.ends_with("cookies");
                self.text_value(rules, s, f.end, cookie, &s[f.b..f.c], counts)
            }
            Alt::Kvp => self.text_value(rules, s, f.end, false, "", counts),
            Alt::UrlCreds | Alt::Auth => {
                let credential = &s[f.b..f.c];
                if f.alt == Alt::Auth && !credential_ok(credential, f.a == 1) {
                    return None;
                }
                Some((f.b, f.c, rules.replace(f.alt.name(), credential, counts)))
            }
            Alt::Phone => {
                let text = &s[f.start..f.end];
                let digits = text.bytes().filter(u8::is_ascii_digit).count();
                if text.starts_with('+') && !(8..=15).contains(&digits) {
                    return None;
                }
                Some((f.start, f.end, rules.replace("phone", text, counts)))
            }
            Alt::Card => {
                if self.word_char_at(s, f.end) {
                    return None; // digits glued to letters: part of an id, not a card
                }
                let run = &s[f.start..f.end];
                let cards = cards_in_run(run);
                if cards.is_empty() {
                    return None;
                }
                let mut out = String::with_capacity(run.len());
                let mut pos = 0;
                for (first, last) in cards {
                    out.push_str(&run[pos..first]);
                    out.push_str(&rules.replace("card", &run[first..last], counts));
                    pos = last;
                }
                out.push_str(&run[pos..]);
                Some((f.start, f.end, out))
            }
            Alt::Ipv6 => {
                let text = &s[f.start..f.end];
                for candidate in [text, text.trim_end_matches(':')] {
                    if !candidate.bytes().any(|c| c.is_ascii_hexdigit())
                        || Ipv6::parse(candidate).is_none()
                    {
                        continue;
                    }
                    let end = f.start + candidate.len();
                    if self.word_char_at(s, end) {
                        return None;
                    }
                    return Some((f.start, end, rules.replace("ipv6", candidate, counts)));
                }
                None
            }
            _ => Some((
                f.start,
                f.end,
                rules.replace(f.alt.name(), &s[f.start..f.end], counts),
            )),
        }
    }
}

/// A Bearer credential: 8+ characters with a digit, or 20+; a Basic one: base64 of `user:pass`.
fn credential_ok(credential: &str, basic: bool) -> bool {
    if basic {
        return decode_strict(credential.as_bytes()).is_some_and(|bytes| bytes.contains(&b':'));
    }
    credential.len() >= 20
        || (credential.len() >= 8 && credential.bytes().any(|c| c.is_ascii_digit()))
}

/// The most bytes a value printed in groups is looked for in after a sensitive name (a card,
/// an IBAN or a phone number in groups is at most ~45).
const GROUPED: usize = 128;

impl Scanner {
    /// Mask the value of a text pair starting at `start`; after a quoted name (JSON), a bare
    /// or structured value becomes a quoted placeholder, so JSON text stays JSON.
    fn text_value<R: Replace>(
        &self,
        rules: &R,
        s: &str,
        start: usize,
        to_line_end: bool,
        quote: &str,
        counts: &mut Counts,
    ) -> Option<(usize, usize, String)> {
        let (vstart, mut vend, quoted) = text_value_span(s, start, to_line_end, rules.protect())?;
        if !quoted && !to_line_end {
            // A bare value ends at a space, but a card, an IBAN or a phone number printed in
            // groups goes on past it: `card_number=4111 1111 1111 1111` kept three groups.
            // Looked for in the next GROUPED bytes only: searched to the end of the string for
            // every pair, a line of many pairs would cost the square of its length.
            let mut window = s.len().min(vstart + GROUPED);
            while !s.is_char_boundary(window) {
                window -= 1;
            }
            for alt in [Alt::Card, Alt::Iban, Alt::Phone] {
                if self.alts.contains(&alt) {
                    let grouped = self.find(rules, alt, &s[..window], vstart);
                    if let Some(found) = grouped.filter(|found| found.start == vstart) {
                        vend = vend.max(found.end);
                    }
                }
            }
        }
        let value = &s[vstart..vend];
        let mut replacement = rules.replace("key", value, counts);
        if !quote.is_empty() && !quoted && replacement != value {
            replacement = format!("{quote}{replacement}{quote}");
        }
        Some((vstart, vend, replacement))
    }
}
