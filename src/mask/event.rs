//! `mask_event` on the core's own event (its columns and the `attrs` tree it parsed), in
//! place: what `Masker::mask_event` does to `Event::into_map`'s serde map, read back by
//! `Event::from_map`, without copying the event into that map and back (a masked line's every
//! key and value allocated, hashed and freed twice: 6% of a masked block's time, in perf).
//!
//! Same walk, same order, same results: strings are masked by the same `mask_str`; the rare
//! places that work on a whole value (a value under a sensitive key, a `fields` value) turn
//! just that value into serde's form and use the serde walk's own code. A number that
//! `to_value` makes a string (a float beyond f64, stored as "Infinity") is masked as that
//! string, as the serde walk sees it.

use std::borrow::Cow;

use serde_json::Value;

use super::detectors::Replace;
use super::pyvalue::int_digits;
use super::{is_id_shape, keys, luhn, normalise_key, Counts, Masker, TooDeep};
use super::{DEEPEST, ID_COLUMNS};
use crate::json::{view, Py};
use crate::normalize::column;
use crate::normalize::{Out, FIELDS};
use crate::tree::{from_value, to_value, Obj, J};

/// ID_COLUMNS by their places among the columns.
const ID_PLACES: [usize; 2] = [column(ID_COLUMNS[0]), column(ID_COLUMNS[1])];

impl Masker {
    /// `mask_event` over an event's columns (store order, as `into_map` lists them) and its
    /// `attrs`, with `from_map`'s reading back: a column that would come back empty (a float
    /// that is not finite, which serde_json holds as null) is emptied.
    pub fn mask_columns_and_attrs(
        &self,
        fields: &mut [Option<Out<'_>>; FIELDS.len()],
        attrs: &mut Obj<'_>,
        counts: &mut Counts,
    ) {
        for field in fields.iter_mut() {
            if matches!(field, Some(Out::Float(f)) if !f.is_finite()) {
                *field = None;
            }
        }
        if !self.enabled {
            return;
        }
        for (column, (name, field)) in FIELDS.iter().zip(fields.iter_mut()).enumerate() {
            let Some(Out::Str(s)) = field else {
                continue; // numeric and boolean columns are never touched
            };
            if !self.fields.is_empty() && self.fields.contains(*name) {
                // `field` reads serde's form: the string is moved there and back (copied once if
                // it is the line's own).
                let whole = Value::String(std::mem::take(s).into_owned());
                match (self.field(name, &whole, counts), whole) {
                    (Some(new), _) => *s = Cow::Owned(new),
                    (None, Value::String(kept)) => *s = Cow::Owned(kept),
                    (None, _) => unreachable!("a string was given"),
                }
                continue;
            }
            if !self.long_enough(s) || (ID_PLACES.contains(&column) && is_id_shape(s)) {
                continue; // an all-digit span id is a valid card number one time in twenty
            }
            if let Some(masked) = self.mask_str(s, counts) {
                *s = Cow::Owned(masked);
            }
        }
        self.tree_dict(attrs, true, 1, counts);
    }

    fn tree_value(
        &self,
        value: &mut J<'_>,
        depth: usize,
        counts: &mut Counts,
    ) -> Result<(), TooDeep> {
        match value {
            J::Str(s) => {
                if self.long_enough(s) {
                    if let Some(masked) = self.mask_str(s, counts) {
                        *value = J::Str(Cow::Owned(masked));
                    }
                }
            }
            J::Obj(pairs) => {
                if depth >= DEEPEST && pairs.iter().any(|(_, v)| is_container(v)) {
                    return Err(TooDeep);
                }
                self.tree_dict(pairs, false, depth, counts);
            }
            J::Arr(items) => {
                if depth >= DEEPEST && items.iter().any(is_container) {
                    return Err(TooDeep);
                }
                let mut named = false;
                for item in items.iter_mut() {
                    if std::mem::take(&mut named) && matches!(item, J::Str(_) | J::Num(_)) {
                        let mut whole = to_value(std::mem::replace(item, J::Null));
                        self.by_key(&mut whole, counts);
                        *item = from_value(whole);
                        continue;
                    }
                    named = matches!(item, J::Str(s) if self.names_next(s));
                    if self.tree_value(item, depth + 1, counts).is_err() {
                        *item = J::Str(Cow::Owned(self.error(counts)));
                    }
                }
            }
            J::Num(text) => {
                let infinity = match view(&J::Num(Cow::Borrowed(text))) {
                    Py::Str(infinity) => Some(infinity.to_string()),
                    _ => None,
                };
                if let Some(infinity) = infinity {
                    // What `to_value` makes of a float beyond f64: a string, masked as one.
                    let mut string = J::Str(Cow::Owned(infinity));
                    self.tree_value(&mut string, depth, counts)?;
                    *value = string;
                } else if self.builtins.contains(&"card") {
                    // serde_json (arbitrary_precision) keeps an int's text as written, so
                    // these are the digits the serde walk looks at.
                    if let Some(digits) = int_digits(text) {
                        if digits.len() >= 13 && luhn::is_card_number(digits.as_bytes()) {
                            let replacement = self.replace("card", digits, counts);
                            *value = J::Str(Cow::Owned(replacement));
                        }
                    }
                }
            }
            J::Null | J::Bool(_) => {}
        }
        Ok(())
    }

    fn tree_dict(&self, pairs: &mut Obj<'_>, top: bool, depth: usize, counts: &mut Counts) {
        let mut renamed: Vec<(usize, String)> = Vec::new();
        for (index, (k, v)) in pairs.iter_mut().enumerate() {
            if top && !self.fields.is_empty() && self.fields.contains(k.as_ref()) {
                if !matches!(v, J::Null) {
                    // A whole value, pseudonymised: serde's form for `field`'s own writing.
                    let whole = to_value(std::mem::replace(v, J::Null));
                    match self.field(k, &whole, counts) {
                        Some(new) => *v = J::Str(Cow::Owned(new)),
                        None => *v = from_value(whole),
                    }
                }
            } else if self.key_rule && self.is_sensitive(k) && !working_dir(k, v) {
                let mut whole = to_value(std::mem::replace(v, J::Null));
                self.by_key(&mut whole, counts);
                *v = from_value(whole);
            } else if self.tree_value(v, depth + 1, counts).is_err() {
                *v = J::Str(Cow::Owned(self.error(counts)));
            }
            if self.long_enough(k) {
                if let Some(masked) = self.mask_str(k, counts) {
                    renamed.push((index, masked));
                }
            }
        }
        if !renamed.is_empty() {
            rename_pairs(pairs, renamed);
        }
    }
}

fn is_container(value: &J<'_>) -> bool {
    matches!(value, J::Obj(_) | J::Arr(_))
}

/// `working_dir` of the serde walk: a string under a sensitive `*pwd` key that is a path.
fn working_dir(key: &str, value: &J<'_>) -> bool {
    match value {
        J::Str(s) => keys::is_working_dir(&normalise_key(key), s),
        _ => false,
    }
}

/// `rename_keys` of the serde walk on pairs: keys renamed in order; a name an earlier pair
/// holds already gets `~2`, `~3`...
fn rename_pairs(pairs: &mut Obj<'_>, renamed: Vec<(usize, String)>) {
    let old = std::mem::take(pairs);
    let mut renamed = renamed.into_iter().peekable();
    let mut suffixes: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let taken = |pairs: &Obj<'_>, name: &str| pairs.iter().any(|(k, _)| k == name);
    for (index, (k, v)) in old.into_iter().enumerate() {
        let mut new: Cow<'_, str> = match renamed.peek() {
            Some((i, _)) if *i == index => {
                Cow::Owned(renamed.next().map(|(_, name)| name).expect("peeked"))
            }
            _ => k,
        };
        if taken(pairs, &new) {
            let mut n = suffixes.get(new.as_ref()).copied().unwrap_or(2);
            while taken(pairs, &format!("{new}~{n}")) {
                n += 1;
            }
            suffixes.insert(new.to_string(), n + 1);
            new = Cow::Owned(format!("{new}~{n}"));
        }
        pairs.push((new, v));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::json::dumps_record;
    use crate::mask::MaskConfig;
    use crate::normalize::Event;

    const KEYS: &[&str] = &[
        "password",
        "api_key",
        "PWD",
        "user",
        "email",
        "bob@example.com",
        "[MASKED:email]",
        "[MASKED:email]~2",
        "x",
        "card",
        "ab",
    ];
    const STRINGS: &[&str] = &[
        "bob@example.com",
        "ann@example.org and bob@example.com",
        "4111 1111 1111 1111",
        "203.0.113.82",
        "2001:db8::1",
        "/home/ann",
        "Bearer abcdefghijklmnop",
        "[MASKED:email]",
        "email:0123456789ab",
        "user:0123456789ab",
        "Infinity",
        "plain text",
        "ok",
        "",
        "k\u{212a}y",
    ];
    const NUMBERS: &[&str] = &[
        "4111111111111111",
        "-4111111111111111",
        "1e400",
        "-1e400",
        "1.5",
        "1E5",
        "123456789012345678901234567890",
        "-0",
        "0",
        "17",
    ];

    fn leaf() -> impl Strategy<Value = J<'static>> {
        prop_oneof![
            Just(J::Null),
            any::<bool>().prop_map(J::Bool),
            proptest::sample::select(STRINGS).prop_map(|s| J::Str(Cow::Borrowed(s))),
            proptest::sample::select(NUMBERS).prop_map(|n| J::Num(Cow::Borrowed(n))),
        ]
    }

    /// Objects as the parser makes them: no key twice.
    fn tree() -> impl Strategy<Value = J<'static>> {
        leaf().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(J::Arr),
                proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6).prop_map(
                    |pairs| {
                        let mut obj: Obj<'static> = Vec::new();
                        for (k, v) in pairs {
                            if !obj.iter().any(|(key, _)| key == k) {
                                obj.push((Cow::Borrowed(k), v));
                            }
                        }
                        J::Obj(obj)
                    }
                ),
            ]
        })
    }

    fn columns() -> impl Strategy<Value = [Option<Out<'static>>; FIELDS.len()]> {
        let column = prop_oneof![
            Just(None),
            proptest::sample::select(STRINGS).prop_map(|s| Some(Out::Str(s.to_string().into()))),
            Just(Some(Out::Str("4111111111111111".into()))),
            Just(Some(Out::Int(4111111111111111))),
            Just(Some(Out::Float(f64::NAN))),
            Just(Some(Out::Float(1.5e16))),
            any::<bool>().prop_map(|b| Some(Out::Bool(b))),
        ];
        proptest::collection::vec(column, FIELDS.len())
            .prop_map(|v| v.try_into().expect("one per column"))
    }

    /// Built once for every case: a masker's regexes take ~60 ms to build in a debug build,
    /// three per case were most of `cargo test`'s time.
    fn maskers() -> &'static [Masker] {
        static MASKERS: std::sync::OnceLock<Vec<Masker>> = std::sync::OnceLock::new();
        MASKERS.get_or_init(built_maskers)
    }

    fn built_maskers() -> Vec<Masker> {
        let key = Some(b"test-key-for-logkit-masking-0001".to_vec());
        let configs = [
            MaskConfig::default(),
            MaskConfig {
                fields: vec!["user".into(), "user_id".into()],
                key: key.clone(),
                ..MaskConfig::default()
            },
            MaskConfig {
                mode: "pseudonymize".into(),
                key,
                allow_keys: vec!["api_key".into()],
                ..MaskConfig::default()
            },
        ];
        configs
            .iter()
            .map(|c| Masker::from_config(c).unwrap())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn masking_the_event_in_place_is_masking_its_serde_map(
            fields in columns(),
            attrs in proptest::collection::vec((proptest::sample::select(KEYS), tree()), 0..6),
        ) {
            let mut obj: Obj<'static> = Vec::new();
            for (k, v) in attrs {
                if !obj.iter().any(|(key, _)| key == k) {
                    obj.push((Cow::Borrowed(k), v));
                }
            }
            for masker in maskers() {
                let event = Event { fields: fields.clone(), attrs: obj.clone() };
                let mut map = event.into_map();
                let mut by_map = Counts::new();
                masker.mask_event(&mut map, &mut by_map);
                let want = Event::from_map(map);
                let mut got = Event { fields: fields.clone(), attrs: obj.clone() };
                let mut in_place = Counts::new();
                masker.mask_columns_and_attrs(&mut got.fields, &mut got.attrs, &mut in_place);
                prop_assert_eq!(&want.fields, &got.fields);
                prop_assert_eq!(dumps_record(&want.attrs), dumps_record(&got.attrs));
                prop_assert_eq!(by_map, in_place);
            }
        }
    }

    #[test]
    fn serde_json_keeps_an_ints_text_as_written() {
        // The in-place walk reads an int's digits (the card check) from its text, the serde
        // walk from `Number::as_str`: the same while arbitrary_precision keeps them. A float's
        // text it may respell (1E5 is 1e+5), which `dumps_record` writes as the same float.
        for text in [
            "-0",
            "0",
            "17",
            "-4111111111111111",
            "123456789012345678901234567890",
        ] {
            let number: serde_json::Number = serde_json::from_str(text).unwrap();
            assert_eq!(text, number.as_str());
        }
        let number: serde_json::Number = serde_json::from_str("1E5").unwrap();
        assert!(!crate::json::is_int_text(number.as_str()));
    }
}
