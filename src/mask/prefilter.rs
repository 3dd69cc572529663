//! `needs_masking`: the raw-line prefilter. It answers false only where `mask_event` would
//! change nothing in the event made from the line, and it is cheap enough for every line.
//!
//! The checks are those of logkit/mask.py, each a necessary condition of a detector, as two
//! multi-pattern regexes (one lazy DFA each, linear in the line):
//! * over the raw bytes: the telltales of each enabled detector (`@`, `eyJ`, `BEGIN`, `AKIA`,
//!   `+1...`, `(415)`, API key prefixes, `\u` escapes, which could hide anything) and the
//!   shapes of digits (a card run, 4-4-4-4, an SSN, a US phone, a dotted quad);
//! * over the line lowercased, without `-`, `_` and `.` (what key normalisation removes): a
//!   sensitive name or a `fields` name before a `:` (JSON keys, text pairs) or `=`, a query
//!   parameter (`?key=`), and the colons of an IPv6 address.

use regex::bytes::{Regex, RegexBuilder};

use super::detectors::DFA_BYTES;
use super::keys::{normalise_key, PARAM_NAMES};

pub struct Prefilter {
    /// True for every line: custom detectors, or fields without their aliases.
    always: bool,
    /// Every check, over the raw line.
    raw: Option<Regex>,
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
            (
                "api_key",
                &[
                    "AIza",
                    "xox[abprs]-",
                    "sk-",
                    "[sr]k_(?:live|test)_",
                    "gh[pousr]_",
                    "github_pat_",
                    "glpat-",
                ],
            ),
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
            raw: compile(&raw),
            folded: compile(&folded),
        }
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
        // Beyond ASCII, lowercasing as key normalisation does: the Kelvin sign is a 'k'.
        match &self.folded {
            Some(names) if !raw.is_ascii() => {
                names.is_match(normalise_key(&String::from_utf8_lossy(raw)).as_bytes())
            }
            _ => false,
        }
    }
}
