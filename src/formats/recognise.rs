//! Which format a record is:
//! a format's `[match]` says which keys a record must have, decided once per shape (the
//! record's keys in order), and which values it must hold, checked per record.

use rustc_hash::{FxHashMap as HashMap, FxHasher};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::spec::{python_regex, FormatSpec};
use crate::errors::CoreError;
use crate::json::{view, Py, Record};
use crate::normalize::{lookup, split_path, Plan};
use crate::tree::{obj_get, J};

/// The value shapes `[match.shapes]` may name, as the Python types a JSON value has.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Number,
    Integer,
    String,
    Object,
    Array,
    Boolean,
}

impl Shape {
    fn of(name: &str) -> Result<Shape, CoreError> {
        Ok(match name {
            "number" => Shape::Number,
            "integer" => Shape::Integer,
            "string" => Shape::String,
            "object" => Shape::Object,
            "array" => Shape::Array,
            "boolean" => Shape::Boolean,
            other => return Err(CoreError::Config(format!("no value shape {other:?}"))),
        })
    }

    fn holds(self, value: Py<'_>) -> bool {
        matches!(
            (self, value),
            (Shape::Number, Py::Int(..) | Py::Float(_))
                | (Shape::Integer, Py::Int(..))
                | (Shape::String, Py::Str(_))
                | (Shape::Object, Py::Dict(_))
                | (Shape::Array, Py::List(_))
                | (Shape::Boolean, Py::Bool(_))
        )
    }
}

#[derive(Debug, Clone)]
enum Test {
    Shape(Shape),
    Equals(Value),
    Pattern(regex::Regex),
}

/// Where a path is in records of a shape: the literal key, or the value under its first step.
type Place = (String, Option<Vec<String>>);

#[derive(Debug, Clone)]
enum Check {
    Present(Place),
    /// One of several nested values must be present.
    Any(Vec<Place>),
    Test(Place, Test),
}

/// A format's `[match]`, compiled.
pub struct Signature {
    pub format: usize,
    keys: Vec<String>,
    any_keys: Vec<String>,
    tests: Vec<(String, Test)>,
    /// Each path of `keys`, then of `tests`, as a record must hold it: the literal key, or
    /// its first step when it is a nested path.
    needed: Vec<(String, Option<String>)>,
    /// The same for `any_keys`, of which one is enough.
    any_needed: Vec<(String, Option<String>)>,
    /// (priority, conditions): the most specific format wins.
    pub rank: (i64, usize),
}

impl Signature {
    pub fn new(format: usize, spec: &FormatSpec) -> Result<Signature, CoreError> {
        let mut tests = Vec::new();
        for (path, shape) in &spec.shapes {
            tests.push((path.clone(), Test::Shape(Shape::of(shape)?)));
        }
        for (path, literal) in &spec.equals {
            tests.push((path.clone(), Test::Equals(literal.clone())));
        }
        for (path, pattern) in &spec.patterns {
            tests.push((path.clone(), Test::Pattern(python_regex(pattern)?)));
        }
        let conditions = spec.keys.len() + tests.len() + usize::from(!spec.any_keys.is_empty());
        let heads = |paths: &mut dyn Iterator<Item = &String>| {
            paths
                .map(|path| {
                    let steps = split_path(path);
                    let head = (steps.len() >= 2).then(|| steps[0].clone());
                    (path.clone(), head)
                })
                .collect::<Vec<_>>()
        };
        Ok(Signature {
            format,
            needed: heads(&mut spec.keys.iter().chain(tests.iter().map(|(p, _)| p))),
            any_needed: heads(&mut spec.any_keys.iter()),
            keys: spec.keys.clone(),
            any_keys: spec.any_keys.clone(),
            tests,
            rank: (spec.priority, conditions),
        })
    }

    /// Whether records with these keys can hold every path the format needs (one of its
    /// `any` paths too), as `place` finds them, but without building a check: most formats
    /// are ruled out so for most shapes, and a stream of ever-new shapes (keys that vary
    /// from line to line) decides one per line against every format.
    fn may_match(&self, keys: &[&str]) -> bool {
        let held = |(path, head): &(String, Option<String>)| {
            keys.contains(&path.as_str()) || head.as_deref().is_some_and(|h| keys.contains(&h))
        };
        self.needed.iter().all(held)
            && (self.any_needed.is_empty() || self.any_needed.iter().any(held))
    }

    /// The per-record checks for records with these keys, or None if they cannot match.
    fn checks_for(&self, keys: &[&str]) -> Option<Vec<Check>> {
        if !self.may_match(keys) {
            return None;
        }
        let mut checks = Vec::new();
        for path in &self.keys {
            if keys.contains(&path.as_str()) {
                continue;
            }
            checks.push(Check::Present(place(path, keys)?));
        }
        if !self.any_keys.is_empty() && !self.any_keys.iter().any(|p| keys.contains(&p.as_str())) {
            let mut nested: Vec<Place> = self
                .any_keys
                .iter()
                .filter_map(|p| place(p, keys))
                .collect();
            match nested.len() {
                0 => return None,
                1 => checks.push(Check::Present(nested.remove(0))),
                _ => checks.push(Check::Any(nested)),
            }
        }
        for (path, test) in &self.tests {
            checks.push(Check::Test(place(path, keys)?, test.clone()));
        }
        Some(checks)
    }
}

fn place(path: &str, keys: &[&str]) -> Option<Place> {
    if keys.contains(&path) {
        return Some((path.to_string(), None));
    }
    let mut steps = split_path(path);
    if steps.len() < 2 || !keys.contains(&steps[0].as_str()) {
        return None;
    }
    let head = steps.remove(0);
    Some((head, Some(steps)))
}

fn value_at<'r, 'a>(record: &'r Record<'a>, (key, path): &Place) -> Option<&'r J<'a>> {
    let value = obj_get(record, key);
    match path {
        None => value,
        Some(path) => lookup(value, path),
    }
    .filter(|v| !matches!(v, J::Null))
}

fn passes(record: &Record<'_>, checks: &[Check]) -> bool {
    checks.iter().all(|check| match check {
        Check::Present(at) => value_at(record, at).is_some(),
        Check::Any(places) => places.iter().any(|at| value_at(record, at).is_some()),
        Check::Test(at, test) => {
            let value = value_at(record, at).map_or(Py::None, view);
            match test {
                Test::Shape(shape) => shape.holds(value),
                Test::Equals(literal) => equals(value, literal),
                Test::Pattern(pattern) => matches!(value, Py::Str(s) if pattern.is_match(s)),
            }
        }
    })
}

/// Python's `type(value) is type(literal) and value == literal`.
fn equals(value: Py<'_>, literal: &Value) -> bool {
    match (value, literal) {
        (Py::Str(a), Value::String(b)) => a == b,
        (Py::Bool(a), Value::Bool(b)) => a == *b,
        (Py::Int(a, _), Value::Number(b)) if crate::json::is_int_text(b.as_str()) => {
            a.is_some() && a == b.as_str().parse::<i128>().ok()
        }
        (Py::Float(a), Value::Number(b)) if !crate::json::is_int_text(b.as_str()) => {
            b.as_str().parse::<f64>().is_ok_and(|b| a == b)
        }
        (Py::List(items), Value::Array(_)) | (Py::List(items), Value::Object(_)) => {
            let mine = crate::tree::to_value(J::Arr(items.to_vec()));
            mine == *literal
        }
        (Py::Dict(map), Value::Object(_)) => crate::tree::to_value(J::Obj(map.clone())) == *literal,
        _ => false,
    }
}

/// What records of one shape are: candidates best first, each with the checks its values
/// need; the last needs none (or is generic).
pub struct Decision {
    candidates: Vec<(Vec<Check>, usize)>,
    /// Per candidate, its format's normalizer plan for records of this shape, once made.
    plans: Vec<OnceLock<Plan>>,
}

impl Decision {
    fn new(candidates: Vec<(Vec<Check>, usize)>) -> Decision {
        let plans = candidates.iter().map(|_| OnceLock::new()).collect();
        Decision { candidates, plans }
    }

    /// The format of this record, and which candidate it is (for `plan`).
    pub fn format(&self, record: &Record<'_>) -> (usize, usize) {
        for (at, (checks, format)) in self.candidates.iter().enumerate() {
            if checks.is_empty() || passes(record, checks) {
                return (*format, at);
            }
        }
        let last = self.candidates.len().saturating_sub(1);
        (self.candidates.last().map_or(0, |c| c.1), last)
    }

    /// Where a candidate's format keeps its normalizer plan for records of this shape.
    pub fn plan(&self, candidate: usize) -> Option<&OnceLock<Plan>> {
        self.plans.get(candidate)
    }
}

/// Decide a shape: every signature that its keys allow, most specific first, up to the
/// first that needs no value check; generic last.
pub fn decide(signatures: &[Signature], generic: usize, keys: &[&str]) -> Decision {
    let mut candidates = Vec::new();
    for signature in signatures {
        if let Some(checks) = signature.checks_for(keys) {
            let last = checks.is_empty();
            candidates.push((checks, signature.format));
            if last {
                return Decision::new(candidates);
            }
        }
    }
    candidates.push((Vec::new(), generic));
    Decision::new(candidates)
}

/// Decisions per shape, for one run of records (a slice of a block): the cost of a
/// record whose shape was seen is one hash of its keys.
/// The shapes of one hash: (keys in order, their decision).
type Bucket = Vec<(Vec<String>, Arc<Decision>)>;

#[derive(Default)]
pub struct Decisions {
    by_hash: HashMap<u64, Bucket>,
    size: usize,
}

/// Shapes remembered before the cache is cleared (a stream of ever-new shapes).
const MAX_SHAPES: usize = 1024;

impl Decisions {
    pub fn get(
        &mut self,
        record: &Record<'_>,
        signatures: &[Signature],
        generic: usize,
    ) -> Arc<Decision> {
        let mut hasher = FxHasher::default();
        for (key, _) in record {
            key.as_ref().hash(&mut hasher);
        }
        let hash = hasher.finish();
        if let Some(bucket) = self.by_hash.get(&hash) {
            for (keys, decision) in bucket {
                if keys.len() == record.len() && keys.iter().zip(record).all(|(a, (b, _))| a == b) {
                    return decision.clone();
                }
            }
        }
        let keys: Vec<&str> = record.iter().map(|(k, _)| k.as_ref()).collect();
        let decision = Arc::new(decide(signatures, generic, &keys));
        if self.size >= MAX_SHAPES {
            self.by_hash.clear();
            self.size = 0;
        }
        self.size += 1;
        self.by_hash.entry(hash).or_default().push((
            keys.iter().map(|k| k.to_string()).collect(),
            decision.clone(),
        ));
        decision
    }
}

/// Signatures most specific first: (-priority, -conditions, name).
pub fn ordered(mut signatures: Vec<Signature>, names: &[String]) -> Vec<Signature> {
    signatures.sort_by(|a, b| {
        (-a.rank.0, std::cmp::Reverse(a.rank.1), &names[a.format]).cmp(&(
            -b.rank.0,
            std::cmp::Reverse(b.rank.1),
            &names[b.format],
        ))
    });
    signatures
}
