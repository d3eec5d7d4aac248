//! `formats`, `codecs`, `rules`, `drivers`, `engines`: one generic listing,
//! and what each kind adds to it.

use std::collections::HashMap;
use std::io::Write;

use iterable_core::{Error, ErrorKind, ProviderSource};
use iterable_host::{Host, Status};

use crate::output::{CliResult, stdout};
use iterable_core::Entry;
use serde_json::{Map, Value as Json, json};

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What one provider adds to the common columns: its description, its
/// own JSON fields, and its own table cells.
struct Row {
    description: String,
    json: Vec<(&'static str, Json)>,
    cells: Vec<String>,
}

/// Lists every entry of a kind, shadowed ones included: as JSON objects
/// (`id_key`, source, status, shadowed_by, description, then the kind's
/// own fields), or as a table (ID, SOURCE, STATUS, the kind's `columns`,
/// DESCRIPTION).
fn listing<T: ?Sized>(
    host: &Host,
    entries: &[Entry<T>],
    as_json: bool,
    id_key: &str,
    columns: &[&str],
    row: impl Fn(&T) -> Row,
) -> CliResult {
    let rows: Vec<(&Entry<T>, Row)> = entries.iter().map(|e| (e, row(&e.provider))).collect();
    // An entry of a plugin that failed or is disabled stays listed (its
    // files are refused with its name): it says so. The first plugin of a
    // name is the one that serves it.
    let mut plugins: HashMap<&str, Status> = HashMap::new();
    for p in host.plugins() {
        plugins.entry(p.name()).or_insert_with(|| p.status());
    }
    let status = |e: &Entry<T>| -> &'static str {
        if e.shadowed_by.is_some() {
            return "shadowed";
        }
        let plugin = match &e.source {
            ProviderSource::External(o) => plugins.get(o.name.as_str()),
            _ => None,
        };
        match plugin {
            Some(Status::Failed) => "failed",
            Some(Status::Disabled) => "disabled",
            _ => "active",
        }
    };
    if as_json {
        let items: Vec<Json> = rows
            .into_iter()
            .map(|(e, r)| {
                let mut m = Map::new();
                m.insert(id_key.into(), json!(e.id));
                m.insert("source".into(), json!(e.source.to_string()));
                m.insert("status".into(), json!(status(e)));
                m.insert(
                    "shadowed_by".into(),
                    json!(e.shadowed_by.as_ref().map(|s| s.to_string())),
                );
                m.insert("description".into(), json!(r.description));
                m.extend(r.json.into_iter().map(|(k, v)| (k.to_owned(), v)));
                Json::Object(m)
            })
            .collect();
        let mut out = stdout();
        serde_json::to_writer_pretty(&mut out, &items)
            .map_err(|e| Error::new(ErrorKind::Other, e.to_string()))?;
        out.write_all(b"\n")?;
        out.flush()?;
        return Ok(());
    }
    let first = id_key.to_ascii_uppercase();
    let mut header = vec![first.as_str(), "SOURCE", "STATUS"];
    header.extend(columns);
    header.push("DESCRIPTION");
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(e, r)| {
            let status = match &e.shadowed_by {
                Some(by) => format!("shadowed by {by}"),
                None => status(e).into(),
            };
            let mut c = vec![e.id.clone(), e.source.to_string(), status];
            c.extend(r.cells);
            c.push(r.description);
            c
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &cells {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = stdout();
    for r in std::iter::once(header.iter().map(|h| h.to_string()).collect()).chain(cells) {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    out.flush()?;
    Ok(())
}

pub fn formats(host: &Host, as_json: bool) -> CliResult {
    listing(
        host,
        host.registry().format_entries(),
        as_json,
        "id",
        &["MODE", "EXTENSIONS"],
        |p| {
            let i = p.info();
            let mode = match (i.can_read, i.can_write) {
                (true, true) => "rw",
                (true, false) => "r",
                (false, true) => "w",
                _ => "-",
            };
            Row {
            description: i.description.clone(),
            json: vec![
                ("extensions", json!(i.extensions)),
                ("magic", json!(i.magic.iter().map(|m| hex(m)).collect::<Vec<_>>())),
                ("read", json!(i.can_read)),
                ("write", json!(i.can_write)),
                ("reads_paths", json!(i.reads_paths)),
                (
                    "options",
                    json!(i
                        .options
                        .iter()
                        .map(|o| json!({"name": o.name, "description": o.description, "default": o.default}))
                        .collect::<Vec<_>>()),
                ),
            ],
            cells: vec![mode.into(), i.extensions.join(",")],
        }
        },
    )
}

pub fn codecs(host: &Host, as_json: bool) -> CliResult {
    listing(
        host,
        host.registry().codec_entries(),
        as_json,
        "id",
        &["EXTENSIONS", "MAGIC"],
        |p| {
            let i = p.info();
            let magic: Vec<String> = i.magic.iter().map(|m| hex(m)).collect();
            Row {
            description: i.description.clone(),
            json: vec![
                ("extensions", json!(i.extensions)),
                ("magic", json!(magic)),
                (
                    "levels",
                    json!(i.levels.map(|(min, max, default)| json!({"min": min, "max": max, "default": default}))),
                ),
            ],
            cells: vec![i.extensions.join(","), magic.join(" | ")],
        }
        },
    )
}

pub fn drivers(host: &Host, as_json: bool) -> CliResult {
    listing(
        host,
        host.registry().driver_entries(),
        as_json,
        "id",
        &["SCHEMES"],
        |p| {
            let i = p.info();
            Row {
                description: i.description.clone(),
                json: vec![("schemes", json!(i.schemes))],
                cells: vec![i.schemes.join(",")],
            }
        },
    )
}

pub fn rules(host: &Host, as_json: bool) -> CliResult {
    listing(
        host,
        host.registry().rule_entries(),
        as_json,
        "name",
        &[],
        |p| Row {
            description: p.info().description.clone(),
            json: vec![],
            cells: vec![],
        },
    )
}

pub fn engines(host: &Host, as_json: bool) -> CliResult {
    listing(
        host,
        host.registry().engine_entries(),
        as_json,
        "id",
        &[],
        |p| Row {
            description: p.info().description.clone(),
            json: vec![],
            cells: vec![],
        },
    )
}

/// `hooks`: each hook, where it comes from, and its options.
pub fn hooks(host: &Host, as_json: bool) -> CliResult {
    listing(
        host,
        host.registry().hook_entries(),
        as_json,
        "id",
        &["OPTIONS"],
        |p| {
            let i = p.info();
            Row {
            description: i.description.clone(),
            json: vec![(
                "options",
                json!(
                    i.options
                        .iter()
                        .map(|o| json!({"name": o.name, "description": o.description, "default": o.default}))
                        .collect::<Vec<_>>()
                ),
            )],
            cells: vec![i.options.iter().map(|o| o.name.clone()).collect::<Vec<_>>().join(",")],
        }
        },
    )
}
