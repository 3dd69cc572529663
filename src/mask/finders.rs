//! The finders of the value detectors: each gives the first place at or after `from` where
//! its Python pattern would match, spelling out around a candidate (that a plain regex, a
//! literal search or a byte scan proposes) the lookarounds the `regex` crate cannot express.
//! `detectors::Scanner` takes the leftmost, and validates what needs more (Luhn, base64, an
//! IPv6 parse).

use memchr::memmem;
use regex::Regex;

use super::detectors::{Alt, Found};
use super::keys::is_space;

pub(super) fn next_char(s: &str, at: usize) -> usize {
    let mut next = at + 1;
    while next < s.len() && !s.is_char_boundary(next) {
        next += 1;
    }
    next
}

/// The first place at or after `from` where `start` (a pattern without lookarounds that
/// matches wherever the detector could) matches and `verify` accepts it.
pub(super) fn candidates(
    start: &Regex,
    s: &str,
    mut from: usize,
    verify: impl Fn(usize) -> Option<Found>,
) -> Option<Found> {
    while from <= s.len() {
        let p = start.find_at(s, from)?.start();
        if let Some(found) = verify(p) {
            return Some(found);
        }
        from = next_char(s, p);
    }
    None
}

fn is_alnum_or(b: &[u8], at: usize, extra: &[u8]) -> bool {
    b.get(at)
        .is_some_and(|&c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

fn run(b: &[u8], from: usize, class: impl Fn(u8) -> bool) -> usize {
    from + b[from.min(b.len())..]
        .iter()
        .take_while(|&&c| class(c))
        .count()
}

fn is_scheme_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-')
}

/// `(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://(?P<v>[^\s/?#@:"'<>\[\]]*:[^\s/?#"'<>]*)@`:
/// the scheme is a whole run of scheme characters, so each `://` has one place to start.
pub(super) fn url_creds(s: &str, from: usize) -> Option<Found> {
    let b = s.as_bytes();
    let finder = memmem::Finder::new(b"://");
    let mut at = from;
    while let Some(i) = finder.find(&b[at.min(b.len())..]) {
        let colon = at + i;
        at = colon + 1;
        let mut p = colon;
        while p > 0 && is_scheme_char(b[p - 1]) {
            p -= 1;
        }
        if p < from || p == colon || !b[p].is_ascii_alphabetic() {
            continue;
        }
        let v = colon + 3;
        let user = run(b, v, |c| !is_space(c) && !b"/?#@:\"'<>[]".contains(&c));
        if b.get(user) != Some(&b':') {
            continue;
        }
        let rest = run(b, user + 1, |c| !is_space(c) && !b"/?#\"'<>".contains(&c));
        if let Some(k) = memchr::memrchr(b'@', &b[user + 1..rest]) {
            let at_sign = user + 1 + k;
            return Some(Found {
                alt: Alt::UrlCreds,
                start: p,
                end: at_sign + 1,
                a: 0,
                b: v,
                c: at_sign,
            });
        }
    }
    None
}

fn is_jwt_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// `(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`
pub(super) fn jwt(s: &str, from: usize) -> Option<Found> {
    let b = s.as_bytes();
    let finder = memmem::Finder::new(b"eyJ");
    let mut at = from;
    while let Some(i) = finder.find(&b[at.min(b.len())..]) {
        let p = at + i;
        at = p + 1;
        if p > 0 && is_jwt_char(b[p - 1]) {
            continue;
        }
        let one = run(b, p + 3, is_jwt_char);
        if one - (p + 3) < 8 || b.get(one) != Some(&b'.') {
            continue;
        }
        let two = run(b, one + 1, is_jwt_char);
        if two - (one + 1) < 2 || b.get(two) != Some(&b'.') {
            continue;
        }
        return Some(Found::new(Alt::Jwt, p, run(b, two + 1, is_jwt_char)));
    }
    None
}

/// The alternatives of `api_key` at `p`, in order, each a whole run of its characters.
pub(super) fn api_key(b: &[u8], p: usize) -> Option<usize> {
    if p > 0 && is_jwt_char(b[p - 1]) {
        return None;
    }
    let rest = &b[p..];
    let key_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    let alnum_us = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let alnum_dash = |c: u8| c.is_ascii_alphanumeric() || c == b'-';
    let path_char = |c: u8| key_char(c) || c == b'/';
    let try_body =
        |prefix: usize, class: &dyn Fn(u8) -> bool, min: usize, exact: bool| -> Option<usize> {
            let end = run(b, p + prefix, class);
            // Backtracking to a shorter body leaves a body character next, which the
            // lookahead refuses; so only the whole run can match (for AIza: exactly 35 of it).
            if end - (p + prefix) < min {
                return None;
            }
            let end = if exact { p + prefix + min } else { end };
            (!b.get(end).is_some_and(|&c| key_char(c))).then_some(end)
        };
    if rest.starts_with(b"sk-") {
        if let Some(end) = try_body(3, &key_char, 20, false) {
            return Some(end);
        }
    }
    if rest.len() >= 4 && rest.starts_with(b"gh") && b"pousr".contains(&rest[2]) && rest[3] == b'_'
    {
        if let Some(end) = try_body(4, &alnum, 30, false) {
            return Some(end);
        }
    }
    if rest.starts_with(b"github_pat_") {
        if let Some(end) = try_body(11, &alnum_us, 30, false) {
            return Some(end);
        }
    }
    if rest.len() >= 4
        && rest.starts_with(b"xox")
        && b"abprs".contains(&rest[3])
        && rest.get(4) == Some(&b'-')
    {
        if let Some(end) = try_body(5, &alnum_dash, 10, false) {
            return Some(end);
        }
    }
    if rest.starts_with(b"AIza") {
        if let Some(end) = try_body(4, &key_char, 35, true) {
            return Some(end);
        }
    }
    if rest.starts_with(b"glpat-") {
        if let Some(end) = try_body(6, &key_char, 20, false) {
            return Some(end);
        }
    }
    if rest.len() >= 8
        && (rest[0] == b's' || rest[0] == b'r')
        && (rest[1..].starts_with(b"k_live_") || rest[1..].starts_with(b"k_test_"))
    {
        if let Some(end) = try_body(8, &alnum, 16, false) {
            return Some(end);
        }
    }
    for &(prefix, min, body) in PREFIXED {
        if rest.starts_with(prefix) {
            let body: &dyn Fn(u8) -> bool = match body {
                Body::Alnum => &alnum,
                Body::Word => &alnum_us,
                Body::Key => &key_char,
                Body::Path => &path_char,
            };
            if let Some(end) = try_body(prefix.len(), body, min, false) {
                return Some(end);
            }
        }
    }
    if rest.starts_with(b"SG.") {
        // SendGrid: SG.<22>.<43>, both parts base64url.
        let first = run(b, p + 3, key_char);
        if first - (p + 3) == 22 && b.get(first) == Some(&b'.') {
            let end = run(b, first + 1, key_char);
            if end - (first + 1) >= 43 {
                return Some(end);
            }
        }
    }
    None
}

/// What a token's body is made of: letters and digits, and `_`, and `-`, and `/`.
#[derive(Clone, Copy)]
enum Body {
    Alnum,
    Word,
    Key,
    Path,
}

/// Tokens known by a prefix (each in API_KEY_GATE), the fewest body characters they have
/// (real ones have more), and what those are: Hugging Face, Replicate, Groq, npm, PyPI
/// (base64url), xAI, Perplexity; Stripe's webhook secrets, LangSmith, Pinecone, Tavily,
/// Fireworks, HashiCorp Vault, Google's OAuth access tokens and client secrets, Docker Hub,
/// Grafana service accounts, Notion and Linear; and the paths of Slack's and Discord's webhook
/// URLs, which are their credentials.
const PREFIXED: &[(&[u8], usize, Body)] = &[
    (b"hf_", 30, Body::Alnum),
    (b"r8_", 30, Body::Alnum),
    (b"gsk_", 40, Body::Alnum),
    (b"npm_", 30, Body::Alnum),
    (b"pypi-", 50, Body::Key),
    (b"xai-", 60, Body::Alnum),
    (b"pplx-", 40, Body::Alnum),
    (b"whsec_", 24, Body::Alnum),
    (b"lsv2_pt_", 32, Body::Word),
    (b"lsv2_sk_", 32, Body::Word),
    (b"pcsk_", 40, Body::Word),
    (b"tvly-", 20, Body::Key),
    (b"fw_", 20, Body::Alnum),
    (b"hvs.", 24, Body::Key),
    (b"ya29.", 20, Body::Key),
    (b"GOCSPX-", 24, Body::Key),
    (b"dckr_pat_", 24, Body::Key),
    (b"glsa_", 32, Body::Word),
    (b"ntn_", 40, Body::Alnum),
    (b"lin_api_", 32, Body::Alnum),
    (b"hooks.slack.com/services/", 20, Body::Path),
    (b"hooks.slack.com/workflows/", 20, Body::Path),
    (b"hooks.slack.com/triggers/", 20, Body::Path),
    (b"discord.com/api/webhooks/", 60, Body::Path),
    (b"discordapp.com/api/webhooks/", 60, Body::Path),
];

fn is_local(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_label(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-'
}

/// `(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![A-Za-z0-9-])` at `i`: the most labels that still leave
/// a top-level domain, as the greedy repeat backtracks.
fn domain(b: &[u8], i: usize) -> Option<usize> {
    let mut dots = Vec::new();
    let mut j = i;
    loop {
        let k = run(b, j, is_label);
        if k > j && b.get(k) == Some(&b'.') {
            dots.push(k + 1);
            j = k + 1;
        } else {
            break;
        }
    }
    for &t in dots.iter().rev() {
        let end = run(b, t, |c| c.is_ascii_alphabetic());
        if end - t >= 2 && !b.get(end).is_some_and(|&c| is_label(c)) {
            return Some(end);
        }
    }
    None
}

/// An address whose local part starts at `p` (the start of a run of local-part characters):
/// the longest local part first, `@` before `%40`, as the backtracking regex tries them.
fn email_at(b: &[u8], p: usize, run_end: usize) -> Option<usize> {
    if b.get(run_end) == Some(&b'@') && run_end > p {
        if let Some(end) = domain(b, run_end + 1) {
            return Some(end);
        }
    }
    // "%40" is made of local-part characters: it can sit anywhere in the run, latest first.
    let last = run_end.checked_sub(3)?;
    for e in (p + 1..=last).rev() {
        if &b[e..e + 3] == b"%40" {
            if let Some(end) = domain(b, e + 3) {
                return Some(end);
            }
        }
    }
    None
}

/// `(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+(?:@|%40)` then a domain: candidates are the runs of
/// local-part characters that end at an `@` or hold a `%40`.
pub(super) fn email(s: &str, from: usize) -> Option<Found> {
    let b = s.as_bytes();
    let mut at = from;
    while at < b.len() {
        let i = at + memchr::memchr2(b'@', b'%', &b[at..])?;
        if b[i] == b'%' && !b[i..].starts_with(b"%40") {
            at = i + 1;
            continue;
        }
        let mut r = i;
        while r > 0 && is_local(b[r - 1]) {
            r -= 1;
        }
        let run_end = if b[i] == b'@' { i } else { run(b, i, is_local) };
        if r >= from && r < run_end {
            if let Some(end) = email_at(b, r, run_end) {
                return Some(Found::new(Alt::Email, r, end));
            }
        }
        at = run_end + 1;
    }
    None
}

/// `(?<![A-Za-z0-9_.-])(?!000|666|9)[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![A-Za-z0-9_]|-[0-9])`
pub(super) fn ssn(b: &[u8], p: usize) -> bool {
    if p > 0 && is_alnum_or(b, p - 1, b"_.-") {
        return false;
    }
    let area = &b[p..p + 3];
    if area == b"000"
        || area == b"666"
        || area[0] == b'9'
        || &b[p + 4..p + 6] == b"00"
        || &b[p + 7..p + 11] == b"0000"
    {
        return false;
    }
    let e = p + 11;
    !(is_alnum_or(b, e, b"_")
        || (b.get(e) == Some(&b'-') && b.get(e + 1).is_some_and(u8::is_ascii_digit)))
}

/// `phone` at `p`: `+` and 8-15 digits, or a US number.
pub(super) fn phone(b: &[u8], p: usize) -> Option<usize> {
    if b[p] == b'+' {
        if p > 0 && is_alnum_or(b, p - 1, b"_+") {
            return None;
        }
        return phone_groups(b, 0, p + 2);
    }
    if p > 0 && is_alnum_or(b, p - 1, b"_.+-") {
        return None;
    }
    if b[p] == b'1' && b.get(p + 1).is_some_and(|c| b" .-".contains(c)) {
        if let Some(end) = us_number(b, p + 2) {
            return Some(end);
        }
    }
    us_number(b, p)
}

/// `(?:[ .-]?\(?[0-9]\)?){7,14}(?![0-9])` from `at`, searched as the regex backtracks: as many
/// groups as possible, each taking its `)` if there is one, then fewer.
fn phone_groups(b: &[u8], count: usize, at: usize) -> Option<usize> {
    if count < 14 {
        let mut j = at;
        if b.get(j).is_some_and(|c| b" .-".contains(c)) {
            j += 1;
        }
        if b.get(j) == Some(&b'(') {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
            if b.get(j) == Some(&b')') {
                if let Some(end) = phone_groups(b, count + 1, j + 1) {
                    return Some(end);
                }
            }
            if let Some(end) = phone_groups(b, count + 1, j) {
                return Some(end);
            }
        }
    }
    (count >= 7 && !b.get(at).is_some_and(u8::is_ascii_digit)).then_some(at)
}

fn digits(b: &[u8], at: usize, n: usize, first: std::ops::RangeInclusive<u8>) -> bool {
    b.len() >= at + n && first.contains(&b[at]) && b[at + 1..at + n].iter().all(u8::is_ascii_digit)
}

/// `(?:\([2-9]dd\) ?[2-9]dd[-. ]|[2-9]dd-[2-9]dd-|[2-9]dd\.[2-9]dd\.)dddd(?![A-Za-z0-9_]|[.-][0-9])`
fn us_number(b: &[u8], at: usize) -> Option<usize> {
    let mut heads = Vec::with_capacity(2);
    if b.get(at) == Some(&b'(') && digits(b, at + 1, 3, b'2'..=b'9') && b.get(at + 4) == Some(&b')')
    {
        let mut j = at + 5;
        if b.get(j) == Some(&b' ') && digits(b, j + 1, 3, b'2'..=b'9') {
            j += 1;
        }
        if digits(b, j, 3, b'2'..=b'9') && b.get(j + 3).is_some_and(|c| b"-. ".contains(c)) {
            heads.push(j + 4);
        }
    }
    for sep in [b'-', b'.'] {
        if digits(b, at, 3, b'2'..=b'9')
            && b.get(at + 3) == Some(&sep)
            && digits(b, at + 4, 3, b'2'..=b'9')
            && b.get(at + 7) == Some(&sep)
        {
            heads.push(at + 8);
        }
    }
    heads.into_iter().find_map(|j| {
        if !digits(b, j, 4, b'0'..=b'9') {
            return None;
        }
        let e = j + 4;
        let glued = is_alnum_or(b, e, b"_")
            || (b.get(e).is_some_and(|c| b".-".contains(c))
                && b.get(e + 1).is_some_and(u8::is_ascii_digit));
        (!glued).then_some(e)
    })
}

/// An octet without leading zeros, at most 255, as the whole run of digits at `at`: its end.
fn octet(b: &[u8], at: usize) -> Option<usize> {
    let end = run(b, at, |c| c.is_ascii_digit());
    let text = &b[at..end];
    let ok = match text.len() {
        1 => true,
        2 => text[0] != b'0',
        3 => {
            text[0] != b'0'
                && (text[0] < b'2'
                    || (text[0] == b'2'
                        && (text[1] < b'5' || (text[1] == b'5' && text[2] <= b'5'))))
        }
        _ => false,
    };
    ok.then_some(end)
}

/// `(?<![A-Za-z0-9_.])(?:OCTET\.){3}OCTET(?![A-Za-z0-9_]|\.[0-9])`
pub(super) fn ipv4(b: &[u8], p: usize) -> Option<usize> {
    if p > 0 && is_alnum_or(b, p - 1, b"_.") {
        return None;
    }
    let mut j = p;
    for k in 0..4 {
        j = octet(b, j)?;
        if k < 3 {
            if b.get(j) != Some(&b'.') {
                return None;
            }
            j += 1;
        }
    }
    let glued = is_alnum_or(b, j, b"_")
        || (b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit));
    (!glued).then_some(j)
}

/// `(?<![A-Za-z0-9_])(?<![0-9][ -])[0-9](?:[ -]?[0-9]){12,}`, possessive: the whole run of
/// digit groups from `p`.
pub(super) fn card(b: &[u8], p: usize) -> Option<usize> {
    if p > 0 && is_alnum_or(b, p - 1, b"_") {
        return None;
    }
    if p > 1 && b" -".contains(&b[p - 1]) && b[p - 2].is_ascii_digit() {
        return None;
    }
    let mut i = p + 1;
    let mut count = 1;
    loop {
        if b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        } else if b.get(i).is_some_and(|c| b" -".contains(c))
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            i += 2;
        } else {
            break;
        }
        count += 1;
    }
    (count >= 13).then_some(i)
}

fn is_hex_colon(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b':'
}

/// `ipv6` at the start of each run of hex digits and colons: a run holding `::` or starting
/// with seven `hex:` groups; an embedded IPv4 tail, else the whole run; then a zone.
pub(super) fn ipv6(s: &str, from: usize) -> Option<Found> {
    let b = s.as_bytes();
    let mut p = from;
    // A run that began before `from` has no place to start after it.
    while p > 0 && p < b.len() && is_hex_colon(b[p - 1]) {
        p += 1;
    }
    while p < b.len() {
        if !is_hex_colon(b[p]) {
            p += 1;
            continue;
        }
        let end_of_run = run(b, p, is_hex_colon);
        if let Some(found) = ipv6_at(b, p, end_of_run) {
            return Some(found);
        }
        p = end_of_run;
    }
    None
}

fn ipv6_at(b: &[u8], p: usize, he: usize) -> Option<Found> {
    if p > 0 && is_alnum_or(b, p - 1, b"_:.%") {
        return None;
    }
    let body = &b[p..he];
    let seven = || {
        let mut j = p;
        for _ in 0..7 {
            let k = run(b, j, |c| c.is_ascii_hexdigit());
            if k == j || k - j > 4 || b.get(k) != Some(&b':') {
                return false;
            }
            j = k + 1;
        }
        true
    };
    if memmem::find(body, b"::").is_none() && !seven() {
        return None;
    }
    let mut end = None;
    if let Some(q) = memchr::memrchr(b':', body).map(|k| p + k) {
        let first = he - (q + 1);
        if (1..=3).contains(&first)
            && b[q + 1..he].iter().all(u8::is_ascii_digit)
            && b.get(he) == Some(&b'.')
        {
            let mut j = he + 1;
            let mut ok = true;
            for _ in 0..2 {
                let k = run(b, j, |c| c.is_ascii_digit());
                if k == j || k - j > 3 || b.get(k) != Some(&b'.') {
                    ok = false;
                    break;
                }
                j = k + 1;
            }
            if ok {
                let k = run(b, j, |c| c.is_ascii_digit());
                if k > j {
                    end = Some(j + (k - j).min(3));
                }
            }
        }
    }
    let mut end = match end {
        Some(end) => end,
        None if he - p >= 2 => he,
        None => return None,
    };
    if b.get(end) == Some(&b'%') {
        let zone = run(b, end + 1, |c| {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
        });
        if zone > end + 1 {
            end = zone;
        }
    }
    Some(Found::new(Alt::Ipv6, p, end))
}
