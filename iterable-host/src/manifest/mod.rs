//! `plugin.toml`: what a plugin provides, known without loading it.
//!
//! The key names are fixed (see `docs/manifest.md`); unknown keys are
//! accepted so that newer manifests still parse in older hosts.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{PluginErrorExt, PluginErrorKind};
use iterable_core::Error;

mod compare;

pub use compare::{differences, first_missing};

/// The manifest file name inside a plugin's directory.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// A parsed manifest, or what examining a library without one found out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The `[plugin]` table.
    pub plugin: PluginSection,
    /// `[[format]]` entries.
    #[serde(default, rename = "format", skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<FormatDecl>,
    /// `[[codec]]` entries.
    #[serde(default, rename = "codec", skip_serializing_if = "Vec::is_empty")]
    pub codecs: Vec<CodecDecl>,
    /// `[[driver]]` entries.
    #[serde(default, rename = "driver", skip_serializing_if = "Vec::is_empty")]
    pub drivers: Vec<DriverDecl>,
    /// `[[rule]]` entries.
    #[serde(default, rename = "rule", skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleDecl>,
    /// `[[engine]]` entries.
    #[serde(default, rename = "engine", skip_serializing_if = "Vec::is_empty")]
    pub engines: Vec<EngineDecl>,
    /// `[[hook]]` entries (ABI 1.1; a 1.0 host ignores them).
    #[serde(default, rename = "hook", skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookDecl>,
}

/// The `[plugin]` table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginSection {
    /// The plugin's name.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// The version of `iterable-plugin-api` it was built against.
    pub api_version: String,
    /// The library file, relative to the manifest's directory.
    pub library: String,
    /// One line about the plugin.
    #[serde(default)]
    pub description: String,
    /// Who wrote it.
    #[serde(default)]
    pub author: String,
    /// Its license (an SPDX expression).
    #[serde(default)]
    pub license: String,
    /// Where to learn more.
    #[serde(default)]
    pub homepage: String,
    /// Other plugins or system libraries it needs.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// The sha256 of the library file, hex; checked before loading when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// A `[[format]]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatDecl {
    /// The format id.
    pub id: String,
    /// File extensions, without the dot.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// Magic bytes as hex (`"04 22 4D 18"`), if files start with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magic: Option<String>,
    /// One line about the format.
    #[serde(default)]
    pub description: String,
    /// Further magic bytes, as hex, after `magic` (a 1.0 host reads only
    /// `magic`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_magic: Vec<String>,
    /// The options its reader and writer accept.
    #[serde(default, rename = "option", skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OptionDecl>,
    /// Whether it reads (default true).
    #[serde(default = "yes")]
    pub read: bool,
    /// Whether it writes. Unset, it is false, the SDK's default
    /// (`FormatSpec` is readable, not writable); in a manifest for ABI 1.0,
    /// whose default was true, it stays true.
    #[serde(default)]
    pub write: bool,
}

fn yes() -> bool {
    true
}

/// One option of a provider (`[[format.option]]`, `[[hook.option]]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionDecl {
    /// The key, as given with `--option KEY=VALUE`.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// The values allowed; empty means any text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// The value used when it is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A codec's compression levels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelsDecl {
    /// The lowest level.
    pub min: i32,
    /// The highest level.
    pub max: i32,
    /// The level used when none is given.
    pub default: i32,
}

/// A `[[codec]]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodecDecl {
    /// The codec id.
    pub id: String,
    /// File extensions, without the dot.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// Magic bytes as hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magic: Option<String>,
    /// Further magic bytes, as hex, after `magic`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_magic: Vec<String>,
    /// The compression levels it accepts (`levels = { min = 1, max = 12, default = 1 }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<LevelsDecl>,
    /// One line about the codec.
    #[serde(default)]
    pub description: String,
}

/// A `[[driver]]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverDecl {
    /// The driver id.
    pub id: String,
    /// The URI schemes it handles.
    #[serde(default)]
    pub schemes: Vec<String>,
    /// One line about the driver.
    #[serde(default)]
    pub description: String,
}

/// A `[[rule]]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleDecl {
    /// The rule's name, such as `iban`.
    pub name: String,
    /// What it checks.
    #[serde(default)]
    pub description: String,
}

/// An `[[engine]]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineDecl {
    /// The engine id.
    pub id: String,
    /// One line about the engine.
    #[serde(default)]
    pub description: String,
}

/// A `[[hook]]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookDecl {
    /// The hook id.
    pub id: String,
    /// One line about the hook.
    #[serde(default)]
    pub description: String,
    /// The options it accepts (`--hook-option ID.KEY=VALUE`).
    #[serde(default, rename = "option", skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OptionDecl>,
}

impl FormatDecl {
    /// Every magic prefix, in order (`magic` then `more_magic`), as bytes.
    pub fn magics(&self) -> Vec<Vec<u8>> {
        all_magic(&self.magic, &self.more_magic)
    }
}

impl CodecDecl {
    /// Every magic prefix, in order, as bytes.
    pub fn magics(&self) -> Vec<Vec<u8>> {
        all_magic(&self.magic, &self.more_magic)
    }
}

fn all_magic(first: &Option<String>, more: &[String]) -> Vec<Vec<u8>> {
    first
        .iter()
        .chain(more)
        .filter_map(|h| parse_hex(h))
        .collect()
}

/// Splits magic prefixes into the manifest's `magic` and `more_magic`.
pub fn split_magic(magics: &[Vec<u8>]) -> (Option<String>, Vec<String>) {
    let mut hex = magics.iter().map(|m| to_hex(m));
    (hex.next(), hex.collect())
}

/// Expands a library stem (a name without a dot) to this system's file
/// name for it; a name with a dot is a file name already.
pub fn library_file_name(library: &str) -> String {
    if library.contains('.') {
        library.to_owned()
    } else {
        format!(
            "{}{library}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )
    }
}

/// A 1.0 manifest's `[[format]]` without `write` meant a writable format;
/// from 1.1 on the defaults are the SDK's (not writable), and manifests
/// that `install` writes always say it.
fn legacy_write_default(m: &mut Manifest, text: &str) {
    if parse_version(&m.plugin.api_version).is_none_or(|(major, minor, _)| (major, minor) != (1, 0))
    {
        return;
    }
    let Ok(raw) = text.parse::<toml::Table>() else {
        return;
    };
    let Some(formats) = raw.get("format").and_then(|f| f.as_array()) else {
        return;
    };
    for (decl, raw) in m.formats.iter_mut().zip(formats) {
        if raw.get("write").is_none() {
            decl.write = true;
        }
    }
}

/// Parses hex bytes such as `"04 22 4D 18"` or `"04224d18"`.
pub fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let digits = digits.strip_prefix("0x").unwrap_or(&digits);
    if digits.is_empty() || digits.len() % 2 != 0 {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok())
        .collect()
}

/// Writes bytes as spaced hex, as manifests show them.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Manifest {
    /// Reads and checks a manifest file. Every problem is a
    /// [`PluginErrorKind::BadManifest`] error that names the file.
    pub fn from_file(path: &Path) -> Result<Manifest, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::plugin(
                PluginErrorKind::BadManifest,
                "?",
                format!("cannot read manifest: {e}"),
            )
            .with_path(path)
        })?;
        Manifest::parse(&text).map_err(|e| e.with_path(path))
    }

    /// Parses and checks manifest text.
    pub fn parse(text: &str) -> Result<Manifest, Error> {
        let bad = |msg: String| Error::plugin(PluginErrorKind::BadManifest, "?", msg);
        let m: Manifest = toml::from_str(text).map_err(|e| {
            // toml's message spans several lines with a source excerpt; keep the first.
            let msg = e
                .message()
                .lines()
                .next()
                .unwrap_or("invalid TOML")
                .to_owned();
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            bad(format!("invalid manifest: {msg}{at}"))
        })?;
        let mut m = m;
        legacy_write_default(&mut m, text);
        let p = &m.plugin;
        for (key, value) in [
            ("name", &p.name),
            ("version", &p.version),
            ("api_version", &p.api_version),
            ("library", &p.library),
        ] {
            if value.trim().is_empty() {
                return Err(bad(format!(
                    "invalid manifest: [plugin] {key} must not be empty"
                )));
            }
        }
        if parse_version(&p.api_version).is_none() {
            return Err(bad(format!(
                "invalid manifest: api_version {:?} is not a version like 1.0.0",
                p.api_version
            )));
        }
        if Path::new(&p.library).components().count() != 1 {
            return Err(bad(format!(
                "invalid manifest: library {:?} must be a file name in the manifest's directory",
                p.library
            )));
        }
        let magics = m
            .formats
            .iter()
            .flat_map(|f| f.magic.iter().chain(&f.more_magic).map(move |h| (&f.id, h)))
            .chain(
                m.codecs
                    .iter()
                    .flat_map(|c| c.magic.iter().chain(&c.more_magic).map(move |h| (&c.id, h))),
            );
        for (id, hex) in magics {
            {
                if parse_hex(hex).is_none() {
                    return Err(bad(format!(
                        "invalid manifest: magic {hex:?} of '{id}' is not hex bytes"
                    )));
                }
            }
        }
        let err_named = |e: Error| {
            Error::plugin(
                PluginErrorKind::BadManifest,
                &m.plugin.name,
                e.message().to_owned(),
            )
        };
        for id in m
            .formats
            .iter()
            .map(|f| &f.id)
            .chain(m.codecs.iter().map(|c| &c.id))
            .chain(m.drivers.iter().map(|d| &d.id))
            .chain(m.rules.iter().map(|r| &r.name))
            .chain(m.engines.iter().map(|e| &e.id))
            .chain(m.hooks.iter().map(|h| &h.id))
        {
            if id.trim().is_empty() {
                return Err(err_named(bad(
                    "invalid manifest: a provider has an empty id".into(),
                )));
            }
        }
        Ok(m)
    }

    /// The library path, next to the manifest at `manifest_path`.
    pub fn library_path(&self, manifest_path: &Path) -> PathBuf {
        manifest_path
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(self.library_file())
    }

    /// Whether the plugin can provide hooks: it was built for ABI 1.1 or
    /// later. A 1.0 plugin loads and works, without them.
    pub fn supports_hooks(&self) -> bool {
        parse_version(&self.plugin.api_version)
            .is_some_and(|(major, minor, _)| (major, minor) >= (1, 1))
    }

    /// The library's file name on this system: `library` as written, or,
    /// when it is a bare stem such as `ltsv` (no dot), `libltsv.so` on
    /// Linux and the BSDs, `libltsv.dylib` on macOS, `ltsv.dll` on Windows.
    pub fn library_file(&self) -> String {
        library_file_name(&self.plugin.library)
    }

    /// The ids this manifest declares, per kind.
    pub fn provides(&self) -> Provides {
        Provides {
            formats: self.formats.iter().map(|f| f.id.clone()).collect(),
            codecs: self.codecs.iter().map(|c| c.id.clone()).collect(),
            drivers: self.drivers.iter().map(|d| d.id.clone()).collect(),
            rules: self.rules.iter().map(|r| r.name.clone()).collect(),
            engines: self.engines.iter().map(|e| e.id.clone()).collect(),
            hooks: self.hooks.iter().map(|h| h.id.clone()).collect(),
        }
    }

    /// Renders the manifest as TOML (for `install` and the scan cache).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

/// The ids a plugin provides, per kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provides {
    /// Format ids.
    pub formats: Vec<String>,
    /// Codec ids.
    pub codecs: Vec<String>,
    /// Driver ids.
    pub drivers: Vec<String>,
    /// Rule names.
    pub rules: Vec<String>,
    /// Engine ids.
    pub engines: Vec<String>,
    /// Hook ids.
    #[serde(default)]
    pub hooks: Vec<String>,
}

impl Provides {
    /// True when nothing is provided.
    pub fn is_empty(&self) -> bool {
        self.formats.is_empty()
            && self.codecs.is_empty()
            && self.drivers.is_empty()
            && self.rules.is_empty()
            && self.engines.is_empty()
            && self.hooks.is_empty()
    }
}

/// Parses `MAJOR.MINOR.PATCH` (pre-release and build parts ignored).
pub fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.trim().split(['-', '+']).next()?;
    let mut it = core.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().map_or(Some(0), |s| s.parse().ok())?;
    let patch = it.next().map_or(Some(0), |s| s.parse().ok())?;
    if it.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[plugin]
name = "ltsv"
version = "0.1.0"
api_version = "1.0.0"
library = "libiterable_plugin_ltsv.so"
description = "LTSV"
future_key = "ignored"

[[format]]
id = "ltsv"
extensions = ["ltsv"]

[[codec]]
id = "lz4"
extensions = ["lz4"]
magic = "04 22 4D 18"
"#;

    #[test]
    fn a_manifest_with_an_id_declared_twice_agrees_with_itself() {
        // Found by the fuzzer: the second `kvdir` was compared with the first.
        let text = "[plugin]\nname = \"t\"\nversion = \"1\"\napi_version = \"1.1\"\nlibrary = \"t\"\n\
                    [[driver]]\nid = \"kvdir\"\n\n[[driver]]\nid = \"kvdir\"\nschemes = [\"kvdir\"]\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(first_missing(&m, &m), None);
        assert_eq!(differences(&m, &m), (Vec::new(), Vec::new()));
    }

    #[test]
    fn format_defaults_follow_the_manifests_abi() {
        // 1.0 manifests meant "writable" when `write` was left out; from 1.1
        // on the defaults are the SDK's (FormatSpec): readable, not writable.
        let v11 = GOOD.replace("api_version = \"1.0.0\"", "api_version = \"1.1\"");
        let m = Manifest::parse(&v11).unwrap();
        assert!(m.formats[0].read && !m.formats[0].write);
        let explicit = GOOD.replace(
            "extensions = [\"ltsv\"]",
            "extensions = [\"ltsv\"]\nwrite = false",
        );
        assert!(!Manifest::parse(&explicit).unwrap().formats[0].write);
    }

    #[test]
    fn parses_a_good_manifest() {
        let m = Manifest::parse(GOOD).unwrap();
        assert_eq!(m.plugin.name, "ltsv");
        assert_eq!(m.formats[0].extensions, ["ltsv"]);
        assert!(m.formats[0].read && m.formats[0].write);
        assert_eq!(
            parse_hex(m.codecs[0].magic.as_deref().unwrap()),
            Some(vec![0x04, 0x22, 0x4d, 0x18])
        );
        assert_eq!(m.provides().codecs, ["lz4"]);
        assert_eq!(Manifest::parse(&m.to_toml()).unwrap(), m);
    }

    #[test]
    fn bad_manifests_are_bad_manifest_errors() {
        for (text, needle) in [
            ("[plugin\nname=1", "invalid manifest"),
            (
                "[plugin]\nname = \"x\"\nversion = \"1\"\napi_version = \"1.0.0\"",
                "missing field `library`",
            ),
            (
                "[plugin]\nname = \"x\"\nversion = \"1\"\napi_version = \"one\"\nlibrary = \"a.so\"",
                "not a version",
            ),
            (
                "[plugin]\nname = \"x\"\nversion = \"1\"\napi_version = \"1.0.0\"\nlibrary = \"../a.so\"",
                "must be a file name",
            ),
            (
                "[plugin]\nname = \"x\"\nversion = \"1\"\napi_version = \"1.0.0\"\nlibrary = \"a.so\"\n[[codec]]\nid = \"c\"\nmagic = \"zz\"",
                "not hex",
            ),
        ] {
            let e = Manifest::parse(text).unwrap_err();
            assert_eq!(
                e.plugin_kind(),
                Some(PluginErrorKind::BadManifest),
                "{text}"
            );
            assert!(e.message().contains(needle), "{e} should contain {needle}");
        }
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("1.2.3"), Some((1, 2, 3)));
        assert_eq!(parse_version("2"), Some((2, 0, 0)));
        assert_eq!(parse_version("1.0.0-beta.1"), Some((1, 0, 0)));
        assert_eq!(parse_version("x"), None);
    }
}
