//! `needs_masking`: the raw-line prefilter. It answers false only where `mask_event` would
//! change nothing in the event made from the line, and it is cheap enough for every line.
//!
//! The checks are those of logkit/mask.py, each a necessary condition of a detector, as two
//! multi-pattern regexes (one lazy DFA each, linear in the line):
//! * over the raw bytes: the telltales of each enabled detector (`@`, `eyJ`, `BEGIN`, `AKIA`,
//!   `+1...`, `(415)`, API key prefixes, `\u` escapes, which could hide anything) and the
//!   shapes of digits (a card run, 4-4-4-4, an SSN, a US phone, a dotted quad, an IBAN's
//!   start);
//! * over the line lowercased, without `-`, `_` and `.` (what key normalisation removes): a
//!   sensitive name or a `fields` name before a `:` (JSON keys, text pairs) or `=`, a query
//!   parameter (`?key=`), and the colons of an IPv6 address.

use std::sync::Mutex;

use regex::bytes::{Regex, RegexBuilder};
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::util::syntax;
use regex_automata::Input;

use super::detectors::{API_KEY_GATE, DFA_BYTES, IBAN_GATE};
use super::keys::{normalise_key, PARAM_NAMES};

pub struct Prefilter {
    /// True for every line: custom detectors, or fields without their aliases.
    always: bool,
    /// Every check, over the raw line.
    raw: Option<Regex>,
    /// The same patterns as a lazy DFA stepped by hand, for many lines at once (`all`).
    lanes: Option<Lanes>,
    /// The name checks again over the folded line, for lines beyond ASCII.
    folded: Option<Regex>,
}

/// A name as a raw line may spell it before key normalisation: -_. after every character.
fn spread_name(name: &str) -> String {
    name.chars()
        .map(|c| format!("{}[-_.]*", regex::escape(c.encode_utf8(&mut [0; 4]))))
        .collect()
}

pub struct PrefilterSpec<'a> {
    pub enabled: &'a [&'a str],
    pub key_rule: bool,
    pub words: Vec<String>,
    pub field_names: Vec<String>,
    pub always: bool,
}

fn compile(parts: &[String]) -> Option<Regex> {
    (!parts.is_empty()).then(|| {
        RegexBuilder::new(&parts.join("|"))
            .dfa_size_limit(DFA_BYTES)
            .build()
            .expect("prefilter patterns compile")
    })
}

impl Prefilter {
    pub fn new(spec: PrefilterSpec<'_>) -> Prefilter {
        let on = |name: &str| spec.enabled.contains(&name);
        // An escape could hide anything: always looked for, as in logkit/mask.py.
        let mut raw = vec![r"\\u".to_string()];
        let telltales: [(&str, &[&str]); 8] = [
            ("private_key", &["BEGIN"]),
            (
                "url_creds",
                &[
                    r#"//[^/?#@\t\n\x0B\x0C\r "]*@"#,
                    r#"\\/\\/[^/?#@\t\n\x0B\x0C\r "]*@"#,
                ],
            ),
            ("jwt", &["eyJ"]),
            ("auth", &["B(?:earer|EARER|asic|ASIC) "]),
            ("aws_key", &["A[KS]IA"]),
            // An API key's prefixes are the detector's own gate.
            ("api_key", &[API_KEY_GATE]),
            (
                "email",
                &[
                    r"@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2}",
                    r"%40(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2}",
                ],
            ),
            (
                "phone",
                &[r"\+[1-9](?:[ .()-]{0,3}[0-9]){7}", r"\([0-9]{3}\)"],
            ),
        ];
        for (name, patterns) in telltales {
            if on(name) {
                raw.extend(patterns.iter().map(|p| p.to_string()));
            }
        }
        if ["card", "ssn", "phone", "ipv4"].iter().any(|d| on(d)) {
            // A card's digits never follow a letter, except the one ending an escape (\n4111).
            raw.push(r"(?:^|[^0-9A-Za-z_]|\\[bfnrt])[2-6][0-9]{12,18}(?:[^0-9]|$)".to_string());
            raw.push(
                r"[- ](?:[0-9]{2}[- ][0-9]{4}|[0-9]{3}[- ][0-9]{4}|[0-9]{4}[- ][0-9]{4}[- ][0-9]{1,4}|[0-9]{6}[- ][0-9]{4,5})(?:[^0-9A-Za-z_]|$)"
                    .to_string(),
            );
            raw.push(r"\.(?:[0-9]{1,3}\.[0-9]{1,3}\.[0-9]|[0-9]{3}\.[0-9]{4})".to_string());
        }
        if on("iban") {
            raw.push(IBAN_GATE.to_string());
        }
        // (?-u): the line may not be UTF-8; these patterns are ASCII.
        let mut raw: Vec<String> = raw.into_iter().map(|p| format!("(?-u:{p})")).collect();

        let mut names: Vec<String> = if spec.key_rule {
            spec.words.clone()
        } else {
            Vec::new()
        };
        names.extend(spec.field_names.iter().cloned());
        let mut always = spec.always;
        if names.iter().any(String::is_empty) {
            always = true; // a name that is a suffix of every key
        }
        // Over the folded line (lowercased, without -_.), for lines beyond ASCII; over the raw
        // line the same with -_. allowed anywhere and either case (a superset, with no copy).
        let mut folded = Vec::new();
        let mut spread_parts = Vec::new();
        if !names.is_empty() {
            let plain = names
                .iter()
                .map(|n| regex::escape(n))
                .collect::<Vec<_>>()
                .join("|");
            let spread = names
                .iter()
                .map(|n| spread_name(n))
                .collect::<Vec<_>>()
                .join("|");
            folded.push(format!(r#"(?:{plain})(?:\\*"|')?(?:[ \t\r]|\\t)*:"#));
            spread_parts.push(format!(r#"(?i:{spread})[-_.\\"' \t\rt]*:"#));
            if spec.key_rule {
                folded.push(format!(r#"(?:{plain})[ \\"'t]*="#));
                folded.push(r#"[?&;"](?:key|sig|auth|pass)="#.to_string());
                spread_parts.push(format!(r#"(?i:{spread})[-_.\\"' t]*="#));
                let params = PARAM_NAMES
                    .iter()
                    .map(|p| spread_name(p))
                    .collect::<Vec<_>>()
                    .join("|");
                spread_parts.push(format!(r#"[?&;"][-_.]*(?i:{params})="#));
                // A sensitive name as an array's element, its value next (`Masker::names_next`).
                folded.push(format!(r#"(?:{plain})\\*"[ \t]*,"#));
                spread_parts.push(format!(r#"(?i:{spread})\\*"[ \t]*,"#));
            }
        }
        if on("ipv6") {
            folded.push("::|:[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:".to_string());
            spread_parts
                .push(":[-_.]*:|:[-_.]*(?:(?:[0-9a-fA-F][-_.]*){1,4}:[-_.]*){3}".to_string());
        }
        raw.extend(spread_parts);
        Prefilter {
            always,
            lanes: Lanes::new(&raw),
            raw: compile(&raw),
            folded: compile(&folded),
        }
    }

    /// `needs_masking` of each line, in order: the raw check `LANES` lines at a time.
    pub fn all(&self, lines: &[&[u8]]) -> Vec<bool> {
        if self.always {
            return vec![true; lines.len()];
        }
        let raw: Vec<bool> = match (&self.lanes, &self.raw) {
            (Some(lanes), Some(regex)) => lanes.all(lines, regex),
            (None, Some(regex)) => lines.iter().map(|line| regex.is_match(line)).collect(),
            (_, None) => vec![false; lines.len()],
        };
        lines
            .iter()
            .zip(raw)
            .map(|(line, raw)| raw || self.folded_match(line))
            .collect()
    }

    pub fn always(&self) -> bool {
        self.always
    }

    pub fn needs_masking(&self, raw: &[u8]) -> bool {
        if self.always {
            return true;
        }
        if self.raw.as_ref().is_some_and(|rx| rx.is_match(raw)) {
            return true;
        }
        self.folded_match(raw)
    }

    fn folded_match(&self, raw: &[u8]) -> bool {
        // Beyond ASCII, lowercasing as key normalisation does: the Kelvin sign is a 'k'.
        match &self.folded {
            Some(names) if !raw.is_ascii() => {
                names.is_match(normalise_key(&String::from_utf8_lossy(raw)).as_bytes())
            }
            _ => false,
        }
    }
}

/// The raw patterns as one lazy DFA (what `Regex::is_match` runs, minus its pools and
/// checks), stepped over `LANES` lines at once. A DFA search waits on each transition's load
/// before the next (the prefilter was a sixth of a masked block's time, about 1.6 ns a
/// byte, whether the DFA was lazy or fully built); independent lines keep several loads in
/// flight. The lines share one cache, so the states they all pass through are in memory
/// once: a lazy DFA's state is only good until its cache is cleared (full, when a new state
/// is needed), and a line whose state was made before the last clear is asked of the regex
/// (`revalidate`). Exactly the regex's answer: the same patterns and syntax, the same DFA;
/// where the DFA cannot go on (an error, a quit state), the line is asked of the regex
/// instead.
struct Lanes {
    dfa: DFA,
    /// A cache for each thread running blocks, taken per call of `all`: one for all lanes,
    /// so each state's transitions are in memory once (see `revalidate`).
    caches: Mutex<Vec<Cache>>,
}

/// Lines stepped at once. Four independent loads in flight hide more of each one's latency
/// than two; six were slower again (registers run out). The prefilter alone
/// (`examples/prefilter.rs`, `logkit sample` lines): two lanes with a cache each 0.48 µs a
/// line, four with a cache each 0.36, four sharing one cache 0.25-0.28.
const LANES: usize = 4;

/// Where a line's search stands.
#[derive(Clone, Copy)]
enum Scan {
    At(LazyStateID),
    Done(bool),
}

/// The DFA cannot answer for this line (the regex does).
struct Unanswered;

/// A line being read by one lane of `Lanes::all`: its index, the bytes read, its state.
struct Lane<'l> {
    index: usize,
    line: &'l [u8],
    pos: usize,
    /// The state after `pos` bytes, while `scan` is `At`.
    at: LazyStateID,
    scan: Result<Scan, Unanswered>,
    /// The cache's clear count when `at` was made: a state is only good until the next clear.
    epoch: usize,
}

impl<'l> Lane<'l> {
    fn rest(&self) -> &'l [u8] {
        &self.line[self.pos..]
    }
}

impl Lanes {
    fn new(parts: &[String]) -> Option<Lanes> {
        Lanes::with_cache(parts, DFA_BYTES)
    }

    fn with_cache(parts: &[String], bytes: usize) -> Option<Lanes> {
        if parts.is_empty() {
            return None;
        }
        // regex::bytes's syntax: Unicode on, matches need not be UTF-8.
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .cache_capacity(bytes)
                    .skip_cache_capacity_check(true),
            )
            .syntax(syntax::Config::new().utf8(false))
            .thompson(regex_automata::nfa::thompson::Config::new().utf8(false))
            .build(&parts.join("|"))
            .ok()?;
        Some(Lanes {
            dfa,
            caches: Mutex::new(Vec::new()),
        })
    }

    fn all(&self, lines: &[&[u8]], regex: &Regex) -> Vec<bool> {
        let taken = self.caches.lock().map(|mut caches| caches.pop());
        let mut cache = match taken {
            Ok(Some(cache)) => cache,
            _ => self.dfa.create_cache(),
        };
        let mut out = vec![false; lines.len()];
        let mut queue = lines.iter().copied().enumerate();
        // Each lane takes the next line as soon as its own is answered, so all stay busy
        // to the last lines: pairing lines 0-1, 2-3... left the longer line of each pair,
        // and the rest of a line whose answer came early, stepped alone (a fifth of the
        // prefilter's samples in perf).
        let mut lanes: [Option<Lane<'_>>; LANES] =
            std::array::from_fn(|_| self.next_line(&mut cache, &mut queue, &mut out, regex));
        loop {
            self.revalidate(&mut cache, &mut lanes, &mut queue, &mut out, regex);
            let [Some(a), Some(b), Some(c), Some(d)] = &mut lanes else {
                break;
            };
            let (steps, at) = self.four(
                &cache,
                [a.rest(), b.rest(), c.rest(), d.rest()],
                [a.at, b.at, c.at, d.at],
            );
            for (lane, at) in [a, b, c, d].into_iter().zip(at) {
                lane.at = at;
                lane.pos += steps;
            }
            // Where the fast loop stopped: a line read to its end, or a tagged transition
            // (a match, a dead state, one not yet computed) on some line at this byte.
            for slot in lanes.iter_mut() {
                let Some(lane) = slot else { continue };
                if lane.epoch != cache.clear_count() {
                    continue; // cleared by an earlier lane's step: `revalidate` answers it
                }
                if !self.settle(&mut cache, lane) {
                    self.finish(&mut cache, lane, &mut out, regex);
                    *slot = self.next_line(&mut cache, &mut queue, &mut out, regex);
                }
            }
        }
        // Three lines left, at most: the rest of each alone.
        for mut lane in lanes.into_iter().flatten() {
            if lane.epoch != cache.clear_count() {
                lane.scan = Err(Unanswered);
            }
            while self.settle(&mut cache, &mut lane) {}
            self.finish(&mut cache, &mut lane, &mut out, regex);
        }
        if let Ok(mut pool) = self.caches.lock() {
            pool.push(cache);
        }
        out
    }

    /// Lanes whose state is from before the cache was last cleared (by another lane's new
    /// state) are answered by the regex and give their place to the next lines, until every
    /// lane's state is good. Each round answers a line, so this ends however often the
    /// cache is cleared.
    fn revalidate<'l>(
        &self,
        cache: &mut Cache,
        lanes: &mut [Option<Lane<'l>>; LANES],
        queue: &mut impl Iterator<Item = (usize, &'l [u8])>,
        out: &mut [bool],
        regex: &Regex,
    ) {
        loop {
            let mut stale = false;
            for slot in lanes.iter_mut() {
                let Some(lane) = slot else { continue };
                if lane.epoch != cache.clear_count() {
                    stale = true;
                    lane.scan = Err(Unanswered);
                    self.finish(cache, lane, out, regex);
                    *slot = self.next_line(cache, queue, out, regex);
                }
            }
            if !stale {
                return;
            }
        }
    }

    /// Four lines stepped in turn while no transition is tagged, up to the end of the
    /// shortest: the steps taken and where each line stands. The shared cache and plain state
    /// ids, so that the loop keeps all it needs in registers; written out by hand, since a
    /// generic version over an array of lanes was slower than two lanes (fourth session).
    fn four(
        &self,
        cache: &Cache,
        [a, b, c, d]: [&[u8]; LANES],
        [mut sa, mut sb, mut sc, mut sd]: [LazyStateID; LANES],
    ) -> (usize, [LazyStateID; LANES]) {
        let n = a.len().min(b.len()).min(c.len()).min(d.len());
        let (a, b, c, d) = (&a[..n], &b[..n], &c[..n], &d[..n]);
        for i in 0..n {
            let na = self.dfa.next_state_untagged(cache, sa, a[i]);
            let nb = self.dfa.next_state_untagged(cache, sb, b[i]);
            let nc = self.dfa.next_state_untagged(cache, sc, c[i]);
            let nd = self.dfa.next_state_untagged(cache, sd, d[i]);
            if na.is_tagged() || nb.is_tagged() || nc.is_tagged() || nd.is_tagged() {
                return (i, [sa, sb, sc, sd]);
            }
            sa = na;
            sb = nb;
            sc = nc;
            sd = nd;
        }
        (n, [sa, sb, sc, sd])
    }

    /// One step of a lane by the general transition, unless its line is read; whether the
    /// lane goes on (false: its line is read, answered, or left to the regex).
    fn settle(&self, cache: &mut Cache, lane: &mut Lane<'_>) -> bool {
        if !matches!(lane.scan, Ok(Scan::At(_))) || lane.pos >= lane.line.len() {
            return false;
        }
        lane.scan = self.step(cache, Ok(Scan::At(lane.at)), lane.line[lane.pos]);
        lane.pos += 1;
        lane.epoch = cache.clear_count();
        match lane.scan {
            Ok(Scan::At(sid)) => {
                lane.at = sid;
                true
            }
            _ => false,
        }
    }

    /// A lane's answer, into `out`.
    fn finish(&self, cache: &mut Cache, lane: &mut Lane<'_>, out: &mut [bool], regex: &Regex) {
        let scan = std::mem::replace(&mut lane.scan, Err(Unanswered));
        let answer = match scan {
            Ok(Scan::At(_)) => self.end(cache, Ok(Scan::At(lane.at))),
            other => self.end(cache, other),
        };
        out[lane.index] = answer.unwrap_or_else(|Unanswered| regex.is_match(lane.line));
    }

    /// The next line needing steps, started; lines answered by their start state alone are
    /// answered on the way.
    fn next_line<'l>(
        &self,
        cache: &mut Cache,
        queue: &mut impl Iterator<Item = (usize, &'l [u8])>,
        out: &mut [bool],
        regex: &Regex,
    ) -> Option<Lane<'l>> {
        for (index, line) in queue.by_ref() {
            let scan = self.start(cache, line);
            let mut lane = Lane {
                index,
                line,
                pos: 0,
                at: match scan {
                    Ok(Scan::At(sid)) => sid,
                    _ => LazyStateID::default(),
                },
                scan,
                epoch: cache.clear_count(),
            };
            if matches!(lane.scan, Ok(Scan::At(_))) && !line.is_empty() {
                return Some(lane);
            }
            self.finish(cache, &mut lane, out, regex);
        }
        None
    }

    fn start(&self, cache: &mut Cache, line: &[u8]) -> Result<Scan, Unanswered> {
        self.dfa
            .start_state_forward(cache, &Input::new(line))
            .map_err(|_| Unanswered)
            .and_then(settled)
    }

    fn step(
        &self,
        cache: &mut Cache,
        scan: Result<Scan, Unanswered>,
        byte: u8,
    ) -> Result<Scan, Unanswered> {
        match scan? {
            Scan::At(sid) => self
                .dfa
                .next_state(cache, sid, byte)
                .map_err(|_| Unanswered)
                .and_then(settled),
            done => Ok(done),
        }
    }

    /// The answer for a line read to its end.
    fn end(&self, cache: &mut Cache, scan: Result<Scan, Unanswered>) -> Result<bool, Unanswered> {
        match scan? {
            Scan::Done(found) => Ok(found),
            Scan::At(sid) => {
                let last = self
                    .dfa
                    .next_eoi_state(cache, sid)
                    .map_err(|_| Unanswered)?;
                Ok(matches!(settled(last)?, Scan::Done(true)))
            }
        }
    }
}

/// A state after a transition: a match (found), dead (no match can follow), or go on.
fn settled(sid: LazyStateID) -> Result<Scan, Unanswered> {
    if !sid.is_tagged() {
        return Ok(Scan::At(sid));
    }
    if sid.is_match() {
        Ok(Scan::Done(true))
    } else if sid.is_dead() {
        Ok(Scan::Done(false))
    } else if sid.is_quit() || sid.is_unknown() {
        Err(Unanswered)
    } else {
        Ok(Scan::At(sid)) // a start state, tagged only when specialised
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::mask::{MaskConfig, Masker};

    /// Pieces of lines: secrets' telltales and shapes, near misses, JSON, bytes beyond ASCII.
    const PIECES: &[&str] = &[
        r#"{"ts":"2026-11-01T00:00:00.170Z","msg":"#,
        r#""client_ip":"203.0.113.82""#,
        "bob@example.com",
        "4111111111111111",
        "4111-1111-1111-1111",
        "123-45-6789",
        "(415) 555-0100",
        "+1 415 555 0100",
        "Bearer ",
        "eyJhbGciOi",
        "AKIA",
        "sk-",
        "ghp_",
        r"\u00e9",
        r"\n4111111111111111",
        r#""password":"#,
        "Pass-Word :",
        "?key=",
        "2001:db8::1",
        "fe80:0:0:1:",
        "https://u:p@h/",
        "\u{212a}ey:",
        "caf\u{e9}",
        " ",
        ",",
        ":",
        "\"",
        "-",
        "12",
        "1234",
        "x",
    ];

    fn line() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            4 => proptest::sample::select(PIECES).prop_map(|p| p.as_bytes().to_vec()),
            1 => proptest::collection::vec(any::<u8>(), 0..6),
        ];
        proptest::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
    }

    /// Built once for every case (a masker's regexes take ~60 ms to build in a debug build);
    /// the lazy DFAs' caches then carry over from case to case, as they do from block to
    /// block, and `a_cache_cleared_midway_changes_no_answer` clears a small one all along.
    fn maskers() -> &'static [Masker] {
        static MASKERS: std::sync::OnceLock<Vec<Masker>> = std::sync::OnceLock::new();
        MASKERS.get_or_init(built_maskers)
    }

    fn built_maskers() -> Vec<Masker> {
        let configs = [
            MaskConfig::default(),
            MaskConfig {
                keys: vec!["my key".into(), "x".into()],
                disable: vec!["email".into(), "ipv6".into()],
                ..MaskConfig::default()
            },
        ];
        configs
            .iter()
            .map(|c| Masker::from_config(c).unwrap())
            .collect()
    }

    #[test]
    fn lines_whose_cache_is_cleared_midway_get_the_regexs_answers() {
        let masker = Masker::from_config(&MaskConfig::default()).unwrap();
        let regex = masker.prefilter.raw.as_ref().unwrap();
        let small = Lanes::with_cache(&[regex.as_str().to_string()], 4096).unwrap();
        let owned: Vec<String> = (0..64)
            .map(|i| format!("{} {i}", PIECES[i % PIECES.len()..].concat()))
            .collect();
        let lines: Vec<&[u8]> = owned.iter().map(String::as_bytes).collect();
        let one: Vec<bool> = lines.iter().map(|l| regex.is_match(l)).collect();
        assert_eq!(one, small.all(&lines, regex));
        let caches = small.caches.lock().unwrap();
        assert!(caches[0].clear_count() > 0, "the cache was cleared");
        assert!(one.contains(&true) && one.contains(&false));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn lines_four_at_a_time_get_the_answers_of_one_at_a_time(
            lines in proptest::collection::vec(line(), 0..24),
        ) {
            let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
            for masker in maskers() {
                let one: Vec<bool> = lines.iter().map(|l| masker.needs_masking(l)).collect();
                prop_assert_eq!(&one, &masker.needs_masking_all(&lines));
            }
        }

        #[test]
        fn a_cache_cleared_midway_changes_no_answer(
            lines in proptest::collection::vec(line(), 0..24),
        ) {
            // A cache this small is cleared every few states, while the other line's search
            // goes on with its own.
            let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
            let prefilter = &maskers()[0].prefilter;
            let (Some(regex), Some(lanes)) = (&prefilter.raw, &prefilter.lanes) else {
                panic!("the default masker has raw checks");
            };
            let small = Lanes::with_cache(&[regex.as_str().to_string()], 4096).unwrap();
            let one: Vec<bool> = lines.iter().map(|l| regex.is_match(l)).collect();
            prop_assert_eq!(&one, &small.all(&lines, regex));
            prop_assert_eq!(&one, &lanes.all(&lines, regex));
        }
    }
}
