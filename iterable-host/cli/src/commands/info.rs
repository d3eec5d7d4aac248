//! `info NAME`: everything known about one plugin.

use std::io::Write;

use serde_json::Value as Json;

use iterable_core::{Error, ErrorKind};
use iterable_host::Host;

use crate::output::{CliResult, print_json, stdout};

use super::plugin_view::plugin_json;

/// `info NAME`.
pub fn run(host: &Host, name: &str, as_json: bool) -> CliResult {
    let Some(p) = host.plugin(name) else {
        let names: Vec<&str> = host.plugins().iter().map(|p| p.name()).collect();
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "no plugin named '{name}'; plugins: {}",
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ),
        )
        .into());
    };
    let j = plugin_json(p);
    if as_json {
        return print_json(&j);
    }
    let mut out = stdout();
    for key in [
        "name",
        "version",
        "api_version",
        "abi",
        "status",
        "isolation_detail",
        "reason",
        "description",
        "author",
        "license",
        "homepage",
        "source",
        "dir",
        "path",
        "library",
        "sha256",
    ] {
        match &j[key] {
            Json::Null => {}
            Json::String(s) if s.is_empty() => {}
            Json::String(s) => {
                let key = if key == "isolation_detail" {
                    "isolation"
                } else {
                    key
                };
                writeln!(out, "{key:<13} {s}")?
            }
            other => writeln!(out, "{key:<13} {other}")?,
        }
    }
    let deps = p
        .manifest()
        .map(|m| m.plugin.dependencies.join(", "))
        .unwrap_or_default();
    if !deps.is_empty() {
        writeln!(out, "{:<13} {deps}", "dependencies")?;
    }
    if let Some(m) = p.manifest() {
        for f in &m.formats {
            let magic = magic_text(&f.magic);
            writeln!(
                out,
                "format        {} (.{}{magic}) {}",
                f.id,
                f.extensions.join(", ."),
                f.description
            )?;
            for o in &f.options {
                writeln!(out, "  option      {}", option_text(o))?;
            }
        }
        for c in &m.codecs {
            let magic = magic_text(&c.magic);
            writeln!(
                out,
                "codec         {} (.{}{magic}) {}",
                c.id,
                c.extensions.join(", ."),
                c.description
            )?;
        }
        for d in &m.drivers {
            writeln!(
                out,
                "driver        {} (schemes {}) {}",
                d.id,
                d.schemes.join(", "),
                d.description
            )?;
        }
        for r in &m.rules {
            writeln!(out, "rule          {} {}", r.name, r.description)?;
        }
        for e in &m.engines {
            writeln!(out, "engine        {} {}", e.id, e.description)?;
        }
        for h in &m.hooks {
            writeln!(out, "hook          {} {}", h.id, h.description)?;
        }
        if !m.supports_hooks() {
            writeln!(
                out,
                "hooks         unsupported (built for plugin ABI {}; hooks came with 1.1)",
                m.plugin.api_version
            )?;
        }
    }
    for w in p.warnings() {
        writeln!(out, "warning       {w}")?;
    }
    out.flush()?;
    Ok(())
}

/// `, magic 04 22 4d 18 | ...`, or nothing when there is none.
fn magic_text(magics: &[Vec<u8>]) -> String {
    if magics.is_empty() {
        return String::new();
    }
    let hex: Vec<String> = magics
        .iter()
        .map(|m| iterable_host::manifest::to_hex(m))
        .collect();
    format!(", magic {}", hex.join(" | "))
}

/// `name (a|b, default a): what it does`.
fn option_text(o: &iterable_core::OptionSpec) -> String {
    let mut kind = match &o.kind {
        iterable_core::OptionType::Choice(c) => c.join("|"),
        iterable_core::OptionType::Text => String::new(),
        iterable_core::OptionType::Char => "a character".into(),
        iterable_core::OptionType::Bool => "true|false".into(),
        iterable_core::OptionType::Int { min, max } => format!("{min}..={max}"),
    };
    if let Some(d) = &o.default {
        if !kind.is_empty() {
            kind.push_str(", ");
        }
        kind.push_str(&format!("default {d}"));
    }
    if kind.is_empty() {
        format!("{}: {}", o.name, o.description)
    } else {
        format!("{} ({kind}): {}", o.name, o.description)
    }
}
