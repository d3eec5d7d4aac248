//! `audit`, a hook plugin (ABI 1.1): writes a JSON profile of the run it
//! observes to the file named by its `path` option.
//!
//! ```text
//! iterable-host convert rows.csv.gz rows.jsonl --hook audit --hook-option audit.path=profile.json
//! ```
//!
//! The profile holds the command, source, target and format of the run,
//! the records and bytes read, whether it succeeded (and the error when it
//! did not), and for each field, in the order first seen: how many records
//! had it null, how many had it empty (an empty string or byte string),
//! and the smallest and largest length of its text (in characters; other
//! values by their text form, as JSON output shows them). A record without
//! the field counts as null. The file appears whole, when the run ends, or
//! not at all.

use std::io::Write as _;
use std::path::PathBuf;

use iterable_plugin_api::prelude::*;
use serde_json::{Map, Value as Json, json};

/// The hook.
pub struct Audit;

impl Hook for Audit {
    fn info(&self) -> HookSpec {
        HookSpec::new("audit")
            .description("writes a JSON profile of the run to the file named by option path")
            .option("path", "where to write the profile (JSON); required")
    }

    fn open(&self, run: &RunInfo, options: &Options) -> Result<Box<dyn RunWatcher>> {
        let path = options.get("path").ok_or_else(|| {
            Error::invalid_option(
                "path",
                "missing; give it with --hook-option audit.path=FILE",
            )
        })?;
        Ok(Box::new(Profile {
            path: PathBuf::from(path),
            run: json!({
                "command": run.command.as_str(),
                "source": run.source.as_str(),
                "target": (!run.target.is_empty()).then(|| run.target.as_str()),
                "format": run.format.as_str(),
            }),
            fields: Vec::new(),
            seen: 0,
            error: None,
        }))
    }
}

/// What is known of one field so far.
#[derive(Default)]
struct Field {
    name: String,
    nulls: u64,
    empties: u64,
    min_len: Option<u64>,
    max_len: Option<u64>,
    /// Records seen before this field first appeared (they lacked it).
    missing_before: u64,
}

struct Profile {
    path: PathBuf,
    run: Json,
    fields: Vec<Field>,
    /// Records seen so far.
    seen: u64,
    error: Option<String>,
}

impl Profile {
    fn field(&mut self, name: &str, seen: u64) -> usize {
        match self.fields.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.fields.push(Field {
                    name: name.to_owned(),
                    missing_before: seen,
                    ..Field::default()
                });
                self.fields.len() - 1
            }
        }
    }
}

/// The length of a cell's text, and whether it is empty; `None` for null.
fn measure(cell: &CellRef<'_>) -> Option<(u64, bool)> {
    match cell {
        CellRef::Absent | CellRef::Null => None,
        CellRef::Str(s) => Some((s.chars().count() as u64, s.is_empty())),
        CellRef::Bytes(b) => Some((b.len() as u64, b.is_empty())),
        other => Some((other.to_string().chars().count() as u64, false)),
    }
}

impl RunWatcher for Profile {
    fn batch(&mut self, rows: BatchView<'_>) -> Result<()> {
        let seen = self.seen;
        let slots: Vec<usize> = rows
            .field_names()
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .iter()
            .map(|name| self.field(name, seen))
            .collect();
        let fields_here: Vec<bool> = {
            let mut here = vec![false; self.fields.len()];
            for &s in &slots {
                here[s] = true;
            }
            here
        };
        let n = rows.len() as u64;
        for row in rows {
            for (j, &slot) in slots.iter().enumerate() {
                let f = &mut self.fields[slot];
                match measure(&row.get(j)) {
                    None => f.nulls += 1,
                    Some((len, empty)) => {
                        if empty {
                            f.empties += 1;
                        }
                        f.min_len = Some(f.min_len.map_or(len, |m| m.min(len)));
                        f.max_len = Some(f.max_len.map_or(len, |m| m.max(len)));
                    }
                }
            }
        }
        // Fields known from earlier batches that this batch lacks: null here.
        for (f, here) in self.fields.iter_mut().zip(fields_here) {
            if !here {
                f.nulls += n;
            }
        }
        self.seen += n;
        Ok(())
    }

    fn error(&mut self, message: &str) -> Result<()> {
        self.error = Some(message.to_owned());
        Ok(())
    }

    fn close(&mut self, summary: &RunSummary) -> Result<()> {
        let mut fields = Map::new();
        for f in &self.fields {
            fields.insert(
                f.name.clone(),
                json!({
                    "nulls": f.nulls + f.missing_before,
                    "empties": f.empties,
                    "min_length": f.min_len,
                    "max_length": f.max_len,
                }),
            );
        }
        let mut profile = self.run.clone();
        let obj = profile.as_object_mut().expect("an object");
        obj.insert("ok".into(), json!(summary.ok));
        obj.insert("error".into(), json!(self.error));
        obj.insert("records".into(), json!(summary.records));
        obj.insert("bytes_read".into(), json!(summary.bytes_read));
        obj.insert("fields".into(), Json::Object(fields));
        let text = serde_json::to_string_pretty(&profile)
            .map_err(|e| Error::other(format!("cannot render the profile: {e}")))?;
        write_whole(&self.path, text.as_bytes())
            .map_err(|e| Error::other(format!("cannot write {}: {e}", self.path.display())))
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it, so
/// that `path` is either whole or absent.
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "profile".into());
    let tmp = path.with_file_name(format!(".{name}.partial"));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

export_plugin! {
    name: "audit",
    version: env!("CARGO_PKG_VERSION"),
    description: "A JSON profile of every run it observes",
    author: "IterableData for Rust contributors",
    license: "MIT OR Apache-2.0",
    homepage: "https://example.invalid/iterabledata-rs",
    hooks: [Audit],
}
