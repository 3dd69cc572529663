//! One string through the value detectors: the rounds of the built-in scan and the
//! user-defined detectors until nothing changes, and the strings each thread remembers as
//! clean (a string that repeats, such as a message template, is scanned once).

use std::cell::RefCell;
use std::collections::HashSet;

use super::detectors::{Replace, Scanner};
use super::{Count, Counts, Masker, ERROR, MAX_ROUNDS};

/// Strings remembered as clean, per thread and generation, and the longest remembered.
const CLEAN_ENTRIES: usize = 4_096;
const CLEAN_LONGEST: usize = 256;

/// FxHash: eight bytes a step, where FNV-1a took one (three hashes of each string looked up
/// and remembered). Nothing hostile can do more than fill a table, which is bounded.
type CleanSet = HashSet<Box<str>, rustc_hash::FxBuildHasher>;

/// Clean strings seen on one thread, in two generations, and the id of the masker that saw
/// them. A full generation becomes the older one, and a string found there moves up: the
/// strings that repeat stay, those seen once (ids, paths) leave. One table of 64K strings,
/// cleared when full, was mostly such strings, and each look-up in it a cache miss.
#[derive(Default)]
struct CleanStrings {
    masker: u64,
    now: CleanSet,
    before: CleanSet,
}

thread_local! {
    static CLEAN: RefCell<CleanStrings> = RefCell::default();
}

impl CleanStrings {
    fn add(&mut self, string: Box<str>) {
        if self.now.len() >= CLEAN_ENTRIES {
            // The older generation's table, emptied, is the new one: no growing it again from
            // nothing (a rehash at every doubling, 5% of masking a unique string).
            std::mem::swap(&mut self.now, &mut self.before);
            self.now.clear();
        }
        self.now.insert(string);
    }
}

impl Masker {
    /// Value detectors over one string until nothing changes (masking one thing can give its
    /// neighbour the boundary it lacked); None if nothing changed.
    pub(super) fn mask_str(&self, s: &str, counts: &mut Counts) -> Option<String> {
        if self.custom.is_empty() && Scanner::no_gate_possible(s) {
            return None; // no built-in detector can match, and there is no other
        }
        if s.len() <= CLEAN_LONGEST && self.known_clean(s) {
            return None;
        }
        let masked = self.mask_str_rounds(s, counts);
        if masked.is_none() && s.len() <= CLEAN_LONGEST {
            self.remember_clean(s);
        }
        masked
    }

    pub(super) fn mask_str_rounds(&self, s: &str, counts: &mut Counts) -> Option<String> {
        let mut current: Option<String> = None;
        for _ in 0..MAX_ROUNDS {
            let text = current.as_deref().unwrap_or(s);
            let mut next = match self.scanner.whole_ipv4(self, text, counts) {
                Some(address) => Some(address),
                None => match self.scanner.may_match(text) {
                    Some(open) => self.scanner.scan(self, text, open, counts),
                    None => None,
                },
            };
            if !self.custom.is_empty() {
                if let Some(after) = self.scan_custom(next.as_deref().unwrap_or(text), counts) {
                    next = Some(after);
                }
            }
            match next {
                Some(masked) if masked != text => {
                    // A value masked whole is one placeholder now, which nothing masks again.
                    let whole = self.protect.fullmatch(&masked);
                    current = Some(masked);
                    if whole {
                        break;
                    }
                }
                _ => break,
            }
        }
        current.filter(|masked| masked != s)
    }

    /// Whether `s` was masked before on this thread and nothing changed: field values repeat
    /// (service, logger, host, keys), and most are clean.
    fn known_clean(&self, s: &str) -> bool {
        CLEAN.with(|clean| {
            let mut clean = clean.borrow_mut();
            if clean.masker != self.id {
                return false;
            }
            if clean.now.contains(s) {
                return true;
            }
            match clean.before.take(s) {
                Some(string) => {
                    clean.add(string);
                    true
                }
                None => false,
            }
        })
    }

    fn remember_clean(&self, s: &str) {
        CLEAN.with(|clean| {
            let mut clean = clean.borrow_mut();
            if clean.masker != self.id {
                clean.masker = self.id;
                clean.now.clear();
                clean.before.clear();
            }
            clean.add(s.into());
        });
    }

    /// The custom detectors, in order, over the text between placeholders (so none can re-mask
    /// a placeholder or match across one); None if none matched.
    fn scan_custom(&self, s: &str, counts: &mut Counts) -> Option<String> {
        let mut current: Option<String> = None;
        for custom in &self.custom {
            let text = current.as_deref().unwrap_or(s);
            let mut out = String::new();
            let mut pos = 0;
            let mut hits = 0;
            for (start, end) in self.protect.unprotected(text) {
                let part = &text[start..end];
                let spans: Vec<(usize, usize)> = match custom.value_group {
                    Some(group) => custom
                        .regex
                        .captures_iter(part)
                        .map(|caps| {
                            let m = caps
                                .get(group)
                                .unwrap_or_else(|| caps.get(0).expect("group 0 always matches"));
                            (m.start(), m.end())
                        })
                        .collect(),
                    None => custom
                        .regex
                        .find_iter(part)
                        .map(|m| (m.start(), m.end()))
                        .collect(),
                };
                for (a, b) in spans {
                    if a == b {
                        continue;
                    }
                    out.push_str(&text[pos..start + a]);
                    out.push_str(&self.replace(&custom.name, &part[a..b], counts));
                    pos = start + b;
                    hits += 1;
                }
            }
            if hits > 0 {
                out.push_str(&text[pos..]);
                current = Some(out);
            }
        }
        current
    }

    pub(super) fn error(&self, counts: &mut Counts) -> String {
        counts.add(ERROR);
        format!("[MASKED:{ERROR}]")
    }
}

impl Masker {
    /// Whether `s` has `shortest` characters (Python's `len(str)`) or more, counted only when
    /// its length in bytes leaves it open (a character is one to four bytes): most strings
    /// are much longer, and some (stack traces) long enough to count for a while.
    pub(super) fn long_enough(&self, s: &str) -> bool {
        let n = self.shortest;
        s.len() >= n && (s.len() >= 4 * n || char_len(s) >= n)
    }
}

/// Length in characters, as Python's `len(str)`.
fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}
