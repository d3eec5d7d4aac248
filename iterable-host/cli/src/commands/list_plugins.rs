//! `list-plugins`: every plugin found, with its status; loads none of them.

use std::io::Write;

use serde_json::Value as Json;

use iterable_host::Host;

use crate::output::{CliResult, print_json, stdout};

use super::plugin_view::{plugin_json, provides_text};

/// `list-plugins`: exits 0 even when some plugins failed.
pub fn run(host: &Host, as_json: bool) -> CliResult {
    if as_json {
        return print_json(&Json::Array(
            host.plugins().iter().map(|p| plugin_json(p)).collect(),
        ));
    }
    let mut out = stdout();
    if host.plugins().is_empty() {
        writeln!(out, "no plugins found; searched:")?;
        for (d, origin) in host.search_path() {
            writeln!(out, "  {} ({origin})", d.display())?;
        }
        out.flush()?;
        return Ok(());
    }
    let rows: Vec<[String; 6]> = host
        .plugins()
        .iter()
        .map(|p| {
            [
                p.name().to_owned(),
                p.manifest()
                    .map(|m| m.plugin.version.clone())
                    .unwrap_or_else(|| "-".into()),
                p.status().to_string(),
                p.isolation().to_string(),
                provides_text(&p.provides()),
                p.path().display().to_string(),
            ]
        })
        .collect();
    let header = ["NAME", "VERSION", "STATUS", "ISOLATION", "PROVIDES", "PATH"];
    let mut w = header.map(str::len);
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: [&str; 6]| {
        format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {:<w4$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
            w4 = w[4]
        )
    };
    writeln!(out, "{}", line(header).trim_end())?;
    for (r, p) in rows.iter().zip(host.plugins()) {
        writeln!(
            out,
            "{}",
            line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]).trim_end()
        )?;
        if let Some(reason) = p.reason() {
            writeln!(out, "    {}: {reason}", p.status())?;
        }
        for warning in p.warnings() {
            writeln!(out, "    warning: {warning}")?;
        }
    }
    out.flush()?;
    Ok(())
}
