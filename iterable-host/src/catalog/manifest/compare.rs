//! A manifest against its library's own description: every point on which
//! they disagree.

use iterable_core::describe::to_hex;
use iterable_core::{OptionSpec, OptionType};

use super::Manifest;

/// How a library's self-description `found` differs from the manifest
/// `declared`. First what the manifest claims that the library does not do:
/// providers it lacks, then, provider by provider, every detail that
/// differs (extensions, magic bytes, read and write, options, levels, URI
/// schemes), then the plugin's name. Then providers the library has that
/// the manifest does not declare (which stay unused).
pub fn differences(declared: &Manifest, found: &Manifest) -> (Vec<String>, Vec<String>) {
    let (d, f) = (declared.provides(), found.provides());
    let mut wrong = Vec::new();
    let mut undeclared = Vec::new();
    for (kind, d, f) in [
        ("format", &d.formats, &f.formats),
        ("codec", &d.codecs, &f.codecs),
        ("driver", &d.drivers, &f.drivers),
        ("rule", &d.rules, &f.rules),
        ("engine", &d.engines, &f.engines),
        ("hook", &d.hooks, &f.hooks),
    ] {
        for id in d.iter().filter(|id| !f.contains(id)) {
            wrong.push(format!(
                "the manifest declares {kind} '{id}' but the library does not provide it"
            ));
        }
        for id in f.iter().filter(|id| !d.contains(id)) {
            undeclared.push(format!(
                "the library provides {kind} '{id}', which the manifest does not declare (unused)"
            ));
        }
    }
    // Lists (extensions, magic, schemes) and read/write must agree. What a
    // hand-written manifest may leave out (options, levels) is compared
    // only when it is stated. Descriptions are prose: the listing shows the
    // library's own once it is loaded.
    let mut check = |kind: &str, id: &str, what: &str, point: Point| match point {
        Point::Listed(said, is) if said != is => wrong.push(format!(
            "{kind} '{id}': the manifest says {what} {said}, the library {is}"
        )),
        Point::IfStated(said, is) if !said.is_empty() && said != is => wrong.push(format!(
            "{kind} '{id}': the manifest says {what} {said:?}, the library {is:?}"
        )),
        _ => {}
    };
    for (m, l) in same_ids(&declared.formats, &found.formats, |d| &d.id) {
        let id = &m.id;
        check(
            "format",
            id,
            "extensions",
            Point::lists(&m.extensions, &l.extensions),
        );
        check(
            "format",
            id,
            "magic",
            Point::Listed(magic_list(&m.magic), magic_list(&l.magic)),
        );
        check(
            "format",
            id,
            "read =",
            Point::Listed(m.can_read.to_string(), l.can_read.to_string()),
        );
        check(
            "format",
            id,
            "write =",
            Point::Listed(m.can_write.to_string(), l.can_write.to_string()),
        );
        check(
            "format",
            id,
            "options",
            Point::options(&m.options, &l.options),
        );
        check(
            "format",
            id,
            "reads_paths =",
            Point::Listed(m.reads_paths.to_string(), l.reads_paths.to_string()),
        );
    }
    for (m, l) in same_ids(&declared.codecs, &found.codecs, |d| &d.id) {
        let id = &m.id;
        check(
            "codec",
            id,
            "extensions",
            Point::lists(&m.extensions, &l.extensions),
        );
        check(
            "codec",
            id,
            "magic",
            Point::Listed(magic_list(&m.magic), magic_list(&l.magic)),
        );
        check(
            "codec",
            id,
            "levels",
            Point::IfStated(levels_text(&m.levels), levels_text(&l.levels)),
        );
    }
    for (m, l) in same_ids(&declared.drivers, &found.drivers, |d| &d.id) {
        check(
            "driver",
            &m.id,
            "schemes",
            Point::lists(&m.schemes, &l.schemes),
        );
    }
    for (m, l) in same_ids(&declared.hooks, &found.hooks, |d| &d.id) {
        check(
            "hook",
            &m.id,
            "options",
            Point::options(&m.options, &l.options),
        );
    }
    if declared.plugin.name != found.plugin.name {
        wrong.push(format!(
            "the library calls itself '{}' but the manifest says '{}'",
            found.plugin.name, declared.plugin.name
        ));
    }
    (wrong, undeclared)
}

/// One point of a provider's description: what the manifest says, what the
/// library says.
enum Point {
    /// Must agree.
    Listed(String, String),
    /// Must agree when the manifest states it (is not empty).
    IfStated(String, String),
}

impl Point {
    fn lists(said: &[String], is: &[String]) -> Point {
        Point::Listed(ext_list(said), ext_list(is))
    }
    fn options(said: &[OptionSpec], is: &[OptionSpec]) -> Point {
        Point::IfStated(options_text(said), options_text(is))
    }
}

/// Options as one line: `name (a|b) = default, ...`.
fn options_text(options: &[OptionSpec]) -> String {
    options
        .iter()
        .map(|o| {
            let mut s = o.name.clone();
            match &o.kind {
                OptionType::Choice(choices) => s += &format!(" ({})", choices.join("|")),
                OptionType::Text => {}
                OptionType::Char => s += " (char)",
                OptionType::Bool => s += " (bool)",
                OptionType::Int { min, max } => s += &format!(" ({min}..={max})"),
            }
            if let Some(d) = &o.default {
                s += &format!(" = {d}");
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Levels as `min..=max (default d)`, or empty when not stated.
fn levels_text(levels: &Option<(i32, i32, i32)>) -> String {
    levels
        .map(|(min, max, default)| format!("{min}..={max} (default {default})"))
        .unwrap_or_default()
}

/// A list as a manifest shows it, compared without case, order or dots.
fn ext_list(items: &[String]) -> String {
    let mut v: Vec<String> = items
        .iter()
        .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
        .collect();
    v.sort();
    v.dedup();
    format!("[{}]", v.join(", "))
}

/// Magic prefixes as canonical hex, or "none".
fn magic_list(magics: &[Vec<u8>]) -> String {
    if magics.is_empty() {
        return "none".into();
    }
    magics
        .iter()
        .map(|m| to_hex(m))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The first thing `declared` claims that `found` does not do, as a message.
pub fn first_missing(declared: &Manifest, found: &Manifest) -> Option<String> {
    differences(declared, found).0.into_iter().next()
}

/// Pairs each declared entry with the found entry of the same id; with an id
/// declared twice, the first with the first, the second with the second.
fn same_ids<'a, T>(
    declared: &'a [T],
    found: &'a [T],
    id: impl Fn(&T) -> &String,
) -> Vec<(&'a T, &'a T)> {
    let mut pairs = Vec::new();
    for (i, m) in declared.iter().enumerate() {
        let nth = declared[..i].iter().filter(|d| id(d) == id(m)).count();
        if let Some(l) = found.iter().filter(|f| id(f) == id(m)).nth(nth) {
            pairs.push((m, l));
        }
    }
    pairs
}
