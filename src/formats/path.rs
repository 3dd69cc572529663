//! Field paths as the format files write them (normalize.py's `split_path` and `_lookup`):
//! dotted steps, a quoted step may hold dots (`attributes."http.request.method"`), a decimal
//! step indexes a list.

use crate::tree::{obj_get, Obj, J};

/// A dotted field name's steps: `split(".")` when nothing is quoted, else each `"quoted"`
/// step or run of plain characters, as normalize.py's `re.findall` reads them.
pub fn split_path(name: &str) -> Vec<String> {
    if !name.contains('"') {
        return name.split('.').map(str::to_string).collect();
    }
    // re.findall(r'"([^"]*)"\.?|([^."]+)\.?', name): a character neither alternative can
    // start with (a stray dot, an unclosed quote) is skipped.
    let mut steps = Vec::new();
    let mut rest = name;
    while let Some(first) = rest.chars().next() {
        if first == '"' {
            if let Some(close) = rest[1..].find('"') {
                steps.push(rest[1..1 + close].to_string());
                rest = &rest[close + 2..];
                rest = rest.strip_prefix('.').unwrap_or(rest);
                continue;
            }
            rest = &rest[1..];
            continue;
        }
        if first == '.' {
            rest = &rest[1..];
            continue;
        }
        let end = rest.find(['.', '"']).unwrap_or(rest.len());
        steps.push(rest[..end].to_string());
        rest = &rest[end..];
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    steps
}

/// The value at `path` inside a record, or None when a step is missing (`_lookup`).
pub fn lookup_in<'o, 'a>(record: &'o Obj<'a>, path: &[String]) -> Option<&'o J<'a>> {
    let (first, rest) = path.split_first()?;
    lookup(obj_get(record, first)?, rest)
}

/// The value at `path` inside `node`; a decimal step indexes a list.
pub fn lookup<'o, 'a>(mut node: &'o J<'a>, path: &[String]) -> Option<&'o J<'a>> {
    for name in path {
        node = match node {
            J::Obj(map) => obj_get(map, name)?,
            J::Arr(items) if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) => {
                items.get(name.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(name: &str) -> Vec<&str> {
        // Leaked for the comparison's convenience: tests only.
        split_path(name)
            .into_iter()
            .map(|s| &*Box::leak(s.into_boxed_str()))
            .collect()
    }

    #[test]
    fn a_quoted_step_keeps_its_dots_as_normalize_py_reads_it() {
        assert_eq!(vec!["a", "b"], steps("a.b"));
        assert_eq!(vec!["a", "", "b"], steps("a..b"));
        assert_eq!(
            vec!["attributes", "http.request.method"],
            steps("attributes.\"http.request.method\"")
        );
        assert_eq!(
            vec!["resource", "attributes", "service.name"],
            steps("resource.attributes.\"service.name\"")
        );
        // What re.findall makes of the odd ones: an unclosed quote and a stray dot skipped.
        assert_eq!(vec!["a", "b"], steps("a\"b"));
        assert_eq!(vec!["a", "b", "c"], steps("a..\"b\".c"));
        assert_eq!(vec!["", "x"], steps("\"\".x"));
    }

    #[test]
    fn a_decimal_step_indexes_a_list() {
        let J::Obj(record) = crate::tree::parse(r#"{"a": [{"b": 1}, {"b": 2}]}"#).unwrap() else {
            panic!("an object")
        };
        let path = split_path("a.1.b");
        assert_eq!(Some(&J::Num("2".into())), lookup_in(&record, &path));
        assert_eq!(None, lookup_in(&record, &split_path("a.2.b")));
        assert_eq!(None, lookup_in(&record, &split_path("a.b")));
    }
}
