//! A manifest against its library's own description: every point on which
//! they disagree.

use super::{LevelsDecl, Manifest, OptionDecl, to_hex};

/// How a library's self-description `found` differs from the manifest
/// `declared`. First what the manifest claims that the library does not do:
/// providers it lacks, then, provider by provider, every detail that
/// differs (extensions, magic bytes, read and write, URI schemes), then the
/// plugin's name. Then
/// providers the library has that the manifest does not declare (which
/// stay unused).
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
    let mut differ = |kind: &str, id: &str, what: &str, said: String, is: String| {
        if said != is {
            wrong.push(format!(
                "{kind} '{id}': the manifest says {what} {said}, the library {is}"
            ));
        }
    };
    for (m, l) in same_ids(&declared.formats, &found.formats, |d| &d.id) {
        differ(
            "format",
            &m.id,
            "extensions",
            ext_list(&m.extensions),
            ext_list(&l.extensions),
        );
        differ(
            "format",
            &m.id,
            "magic",
            magic_list(&m.magics()),
            magic_list(&l.magics()),
        );
        differ(
            "format",
            &m.id,
            "read =",
            m.read.to_string(),
            l.read.to_string(),
        );
        differ(
            "format",
            &m.id,
            "write =",
            m.write.to_string(),
            l.write.to_string(),
        );
    }
    for (m, l) in same_ids(&declared.codecs, &found.codecs, |d| &d.id) {
        differ(
            "codec",
            &m.id,
            "extensions",
            ext_list(&m.extensions),
            ext_list(&l.extensions),
        );
        differ(
            "codec",
            &m.id,
            "magic",
            magic_list(&m.magics()),
            magic_list(&l.magics()),
        );
    }
    for (m, l) in same_ids(&declared.drivers, &found.drivers, |d| &d.id) {
        differ(
            "driver",
            &m.id,
            "schemes",
            ext_list(&m.schemes),
            ext_list(&l.schemes),
        );
    }
    // What a hand-written manifest leaves out (options, levels) is not a
    // disagreement; what it states must be right. Descriptions are prose:
    // the listing shows the library's own once it is loaded.
    let options_text = |o: &[OptionDecl]| {
        o.iter()
            .map(|o| {
                let mut s = o.name.clone();
                if !o.choices.is_empty() {
                    s += &format!(" ({})", o.choices.join("|"));
                }
                if let Some(d) = &o.default {
                    s += &format!(" = {d}");
                }
                s
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut stated = |kind: &str, id: &str, what: &str, said: String, is: String| {
        if !said.is_empty() && said != is {
            wrong.push(format!(
                "{kind} '{id}': the manifest says {what} {said:?}, the library {is:?}"
            ));
        }
    };
    for (m, l) in same_ids(&declared.formats, &found.formats, |d| &d.id) {
        stated(
            "format",
            &m.id,
            "options",
            options_text(&m.options),
            options_text(&l.options),
        );
    }
    for (m, l) in same_ids(&declared.codecs, &found.codecs, |d| &d.id) {
        let levels = |v: &Option<LevelsDecl>| {
            v.map(|l| format!("{}..={} (default {})", l.min, l.max, l.default))
                .unwrap_or_default()
        };
        stated(
            "codec",
            &m.id,
            "levels",
            levels(&m.levels),
            levels(&l.levels),
        );
    }
    for (m, l) in same_ids(&declared.hooks, &found.hooks, |d| &d.id) {
        stated(
            "hook",
            &m.id,
            "options",
            options_text(&m.options),
            options_text(&l.options),
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
