//! How a format fills the columns (logkit/formats' `_Compiled`): its `[fields]` rows in
//! front of the generic names, its `[fields_last]` (and generic's) after them, each row
//! with its options; what a per-record plan cannot express (a default, a nanoseconds
//! field, a message template) runs after the normalizer as "post" steps.

use super::levels::LevelTable;
use super::spec::{python_regex, FieldSpec, FormatSpec};
use crate::errors::CoreError;
use crate::json::{dumps_value, view, Record};
use crate::normalize::{
    field_index, group, lookup, split_path, AliasTable, Conv, Event, Keep, Normalizer, Out, Plan,
    Row,
};
use crate::tree::{from_value, obj_get, J};
use std::sync::OnceLock;

/// A step after the normalizer, for one column of a row with options.
pub struct Post {
    field: usize,
    conv: Conv,
    pattern: Option<usize>,
    default: Option<J<'static>>,
    nanos: Option<String>,
    template: Option<String>,
}

/// A format ready to run on records.
pub struct Compiled {
    pub name: String,
    pub normalizer: Normalizer,
    post: Vec<Post>,
    patterns: Vec<Vec<regex::Regex>>,
}

/// Compile `spec`; `generic` is the loaded generic format (its `[fields_last]` is every
/// format's last resort), `builtin` the built-in alias table (normalize.BUILTIN_ALIASES).
pub fn compile(
    spec: &FormatSpec,
    generic: &FormatSpec,
    user: &AliasTable,
    builtin: &AliasTable,
) -> Result<Compiled, CoreError> {
    let where_ = |e: CoreError| match e {
        CoreError::Config(m) => CoreError::Config(format!("format {:?}: {m}", spec.name)),
        other => other,
    };
    let levels = spec.levels.as_ref().map(LevelTable::new);
    let is_generic = spec.name == "generic";
    let own: Vec<&FieldSpec> = spec
        .fields
        .iter()
        // Generic's plain [fields] are the built-in aliases themselves.
        .filter(|fs| !is_generic || has_options(fs) || !fs.pattern.is_empty() || fs.keep)
        .collect();
    let mut last: Vec<&FieldSpec> = spec.fields_last.iter().collect();
    if !is_generic {
        last.extend(generic.fields_last.iter());
    }
    let mut patterns: Vec<Vec<regex::Regex>> = Vec::new();
    let mut post = Vec::new();
    let mut extra: Vec<Row> = Vec::new();
    let mut late: Vec<Row> = Vec::new();
    for (specs, into) in [(&own, &mut extra), (&last, &mut late)] {
        for fs in specs.iter() {
            let rows = group(&fs.group).ok_or_else(|| {
                CoreError::Config(format!("format {:?}: no column {:?}", spec.name, fs.group))
            })?;
            let pattern = if fs.pattern.is_empty() {
                None
            } else {
                let compiled = fs
                    .pattern
                    .iter()
                    .map(|p| python_regex(p))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(where_)?;
                patterns.push(compiled);
                Some(patterns.len() - 1)
            };
            for &(column, conv, keep) in rows {
                let field = field_index(column).expect("a canonical field");
                let conv = if column == "level" && levels.is_some() {
                    Conv::FormatLevel
                } else if conv == Conv::Ident && matches!(column, "trace_id" | "span_id") {
                    Conv::TraceIdent // an all-zero id is no id
                } else {
                    conv
                };
                let keep = if fs.keep { Keep::IfDifferent } else { keep };
                for path in &fs.paths {
                    into.push((field, path.clone(), conv, keep, pattern));
                }
                if has_options(fs) {
                    post.push(Post {
                        field,
                        conv,
                        pattern,
                        default: fs.default.clone().map(from_value),
                        nanos: fs.nanos.clone(),
                        template: fs.template.clone(),
                    });
                }
            }
        }
    }
    if levels.is_some() && !spec.fields.iter().any(|fs| fs.group == "level") {
        // The format's level spellings also read the generic level names.
        let level = field_index("level").expect("a canonical field");
        for (group_name, names) in builtin {
            if group_name == "level" {
                for name in names {
                    extra.push((
                        level,
                        name.clone(),
                        Conv::FormatLevel,
                        Keep::IfDifferent,
                        None,
                    ));
                }
                break;
            }
        }
    }
    // Errors of the user's [aliases] are theirs, not the format's: no format named.
    let normalizer = Normalizer::build(user, extra, builtin, late, patterns.clone(), levels)?;
    Ok(Compiled {
        name: spec.name.clone(),
        normalizer,
        post,
        patterns,
    })
}

fn has_options(fs: &FieldSpec) -> bool {
    fs.default.as_ref().is_some_and(|d| !d.is_null()) || fs.nanos.is_some() || fs.template.is_some()
}

impl Compiled {
    /// A format that is only this normalizer.
    pub fn plain(name: &str, normalizer: Normalizer) -> Compiled {
        Compiled {
            name: name.to_string(),
            normalizer,
            post: Vec::new(),
            patterns: Vec::new(),
        }
    }

    /// The event of `record` by this format (`_Compiled.__call__`).
    pub fn run<'a>(&self, record: Record<'a>) -> Event<'a> {
        self.run_planned(record, None)
    }

    /// `run`, with the normalizer's plan for the record's shape kept in `plan`.
    pub fn run_planned<'a>(&self, record: Record<'a>, plan: Option<&OnceLock<Plan>>) -> Event<'a> {
        if self.post.is_empty() {
            return self.normalizer.normalize_planned(record, plan);
        }
        let original = record.clone();
        let mut event = self.normalizer.normalize_planned(record, plan);
        for post in &self.post {
            self.apply(post, &original, &mut event);
        }
        event
    }

    fn apply(&self, post: &Post, original: &Record<'_>, event: &mut Event<'_>) {
        let column = &mut event.fields[post.field];
        if let (Some(nanos), Some(Out::Int(us))) = (&post.nanos, column.as_mut()) {
            let value = match obj_get(original, nanos) {
                Some(v) => Some(v),
                // A path with no step (a lone quote) looks at the record itself: no int.
                None => match split_path(nanos).split_first() {
                    Some((head, rest)) => lookup(obj_get(original, head), rest),
                    None => None,
                },
            };
            if let Some(crate::json::Py::Int(Some(n), _)) = value.map(view) {
                if (0..1_000_000_000).contains(&n) {
                    *us += (n / 1000) as i64;
                    if let Some(at) = event.attrs.iter().position(|(k, _)| k == nanos) {
                        event.attrs.remove(at);
                    }
                }
            }
        }
        let column = &mut event.fields[post.field];
        if column.is_none() {
            if let Some(template) = &post.template {
                if let Some(J::Str(text)) = obj_get(original, template) {
                    *column = Some(Out::Str(render(text, original).into()));
                }
            }
        }
        if column.is_none() {
            if let Some(default) = &post.default {
                let value = view(default);
                *column = match post.pattern {
                    Some(p) => crate::normalize::found(value, &self.patterns[p]).and_then(|part| {
                        self.normalizer
                            .convert(post.conv, crate::json::Py::Str(part))
                    }),
                    None => self.normalizer.convert(post.conv, value),
                }
                .map(Out::into_owned);
            }
        }
    }
}

/// A message template (Serilog's `{Name}`, `{@Obj}`, `{N:000}`) with the record's
/// properties filled in; a hole with no property stays as written (`_render`).
pub fn render(template: &str, record: &Record<'_>) -> String {
    static HOLE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let hole = HOLE.get_or_init(|| {
        regex::Regex::new(r"\{([@$]?)([A-Za-z0-9_]+)(?:[,:][^}]*)?\}").expect("a regex")
    });
    let text = template.replace("{{", "\x00").replace("}}", "\x01");
    let filled = hole.replace_all(&text, |caps: &regex::Captures<'_>| {
        match obj_get(record, &caps[2]) {
            None | Some(J::Null) => caps[0].to_string(),
            Some(J::Str(s)) => s.to_string(),
            Some(other) => dumps_value(other),
        }
    });
    filled.replace('\x00', "{").replace('\x01', "}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_record;

    #[test]
    fn a_template_is_rendered_with_the_records_properties() {
        let record =
            parse_record(br#"{"Amount": 12.5, "Order": {"Id": 7}, "N": null, "S": "x"}"#).unwrap();
        assert_eq!(
            r#"Charged 12.5 for {"Id":7} {N} {Missing:0} x {{S}}"#.replace("{{S}}", "{S}"),
            render(
                "Charged {Amount:0.00} for {@Order} {N} {Missing:0} {S} {{S}}",
                &record
            )
        );
    }
}
