//! `plugin.toml`: what a plugin provides, known without loading it.
//!
//! The key names are fixed (see `docs/manifest.md`); unknown keys are
//! accepted so that newer manifests still parse in older hosts.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{PluginErrorExt, PluginErrorKind};
use iterable_core::{CodecInfo, DriverInfo, EngineInfo, Error, FormatInfo, HookInfo, RuleInfo};

pub use iterable_core::describe::{parse_hex, to_hex};

mod compare;

pub use compare::{differences, first_missing};

/// The manifest file name inside a plugin's directory.
pub const MANIFEST_FILE: &str = "plugin.toml";

/// A parsed manifest, or what examining a library without one found out.
///
/// Each provider's description is the core's own type ([`FormatInfo`],
/// [`CodecInfo`], ...), carried whole: the manifest's tables are their text
/// form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The `[plugin]` table.
    pub plugin: PluginSection,
    /// `[[format]]` entries.
    #[serde(default, rename = "format", skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<FormatInfo>,
    /// `[[codec]]` entries.
    #[serde(default, rename = "codec", skip_serializing_if = "Vec::is_empty")]
    pub codecs: Vec<CodecInfo>,
    /// `[[driver]]` entries.
    #[serde(default, rename = "driver", skip_serializing_if = "Vec::is_empty")]
    pub drivers: Vec<DriverInfo>,
    /// `[[rule]]` entries.
    #[serde(default, rename = "rule", skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleInfo>,
    /// `[[engine]]` entries.
    #[serde(default, rename = "engine", skip_serializing_if = "Vec::is_empty")]
    pub engines: Vec<EngineInfo>,
    /// `[[hook]]` entries (ABI 1.1; a 1.0 host ignores them).
    #[serde(default, rename = "hook", skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookInfo>,
    /// `[adbc]`: how to load an ADBC driver (`abi = "adbc"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adbc: Option<AdbcSection>,
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
    /// Which ABI the library speaks: `"rust"` (abi_stable, the default) or
    /// `"c"` (`iterabledata_plugin.h`; `api_version` is then the C ABI's).
    #[serde(default, skip_serializing_if = "Abi::is_rust")]
    pub abi: Abi,
    /// Where the plugin asks to run: `"process"` for a runner process of
    /// its own (the user's configuration has the last word).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation: Option<crate::policy::Isolation>,
}

/// The `[adbc]` table of an ADBC driver's manifest (`abi = "adbc"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdbcSection {
    /// The driver's init function, when it is not the one the library's
    /// name implies (`AdbcDriverInit`, or `AdbcDriverSqliteInit` for
    /// `libadbc_driver_sqlite`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<String>,
    /// What the driver is given as its `uri`: `"as-is"` (the default: the
    /// URI the user wrote, `postgresql://user@host/db`), or `"path"` (only the
    /// path of `SCHEME:///abs/path.db`: a file database such as SQLite's).
    #[serde(default, skip_serializing_if = "UriStyle::is_as_is")]
    pub uri: UriStyle,
}

/// What an ADBC driver is given as its `uri`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UriStyle {
    /// The URI as the user wrote it.
    #[default]
    AsIs,
    /// The path of `SCHEME:///abs/path`.
    Path,
}

impl UriStyle {
    /// Whether it is the default.
    pub fn is_as_is(&self) -> bool {
        *self == UriStyle::AsIs
    }
}

/// The flavour of a plugin library.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Abi {
    /// Built in Rust against `iterable-plugin-api` (abi_stable).
    #[default]
    Rust,
    /// Built in any language against `iterabledata_plugin.h`.
    C,
    /// An ADBC driver (Arrow Database Connectivity), used as it is:
    /// `api_version` is the ADBC API's, and `[adbc]` says how to load it.
    Adbc,
}

impl Abi {
    /// Whether it is the default, Rust.
    pub fn is_rust(&self) -> bool {
        *self == Abi::Rust
    }

    /// Its name in a manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Abi::Rust => "rust",
            Abi::C => "c",
            Abi::Adbc => "adbc",
        }
    }
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
    for (info, raw) in m.formats.iter_mut().zip(formats) {
        if raw.get("write").is_none() {
            info.can_write = true;
        }
    }
}

impl Manifest {
    /// Reads and checks a manifest file. Every problem is a
    /// [`PluginErrorKind::BadManifest`] error that names the file.
    pub fn from_file(path: &Path) -> Result<Manifest, Error> {
        Manifest::read(path).map(|(m, _)| m)
    }

    /// [`Manifest::from_file`], with the file's metadata, read from the
    /// open file (no second lookup of the path).
    pub(crate) fn read(path: &Path) -> Result<(Manifest, std::fs::Metadata), Error> {
        use std::io::Read as _;
        let cannot = |e: std::io::Error| {
            Error::plugin(
                PluginErrorKind::BadManifest,
                "?",
                format!("cannot read manifest: {e}"),
            )
            .with_path(path)
        };
        let mut file = std::fs::File::open(path).map_err(cannot)?;
        let meta = file.metadata().map_err(cannot)?;
        // Read to the end with the size already known (`read_to_string`
        // would ask the file for its size and position again).
        let mut bytes = vec![0; meta.len() as usize + 1];
        let mut len = 0;
        loop {
            if len == bytes.len() {
                bytes.resize(len * 2, 0);
            }
            match file.read(&mut bytes[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(cannot(e)),
            }
        }
        bytes.truncate(len);
        let text = String::from_utf8(bytes).map_err(|e| {
            cannot(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                e.utf8_error(),
            ))
        })?;
        let m = Manifest::parse(&text).map_err(|e| e.with_path(path))?;
        Ok((m, meta))
    }

    /// Parses the description a library carries (a C plugin's manifest
    /// text, without `library`): `library`, `abi` and, unless given,
    /// `api_version` are filled in from the library itself.
    pub fn parse_embedded(
        text: &str,
        library: &str,
        api_version: &str,
        abi: Abi,
    ) -> Result<Manifest, Error> {
        let bad = |msg: String| Error::plugin(PluginErrorKind::BadManifest, "?", msg);
        let mut table: toml::Table = toml::from_str(text).map_err(|e| {
            bad(format!(
                "invalid description: {}",
                e.message().lines().next().unwrap_or("invalid TOML")
            ))
        })?;
        let plugin = table
            .entry("plugin")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(plugin) = plugin.as_table_mut() else {
            return Err(bad("invalid description: [plugin] is not a table".into()));
        };
        plugin.insert("library".into(), library.into());
        plugin.insert("abi".into(), abi.as_str().into());
        plugin
            .entry("api_version")
            .or_insert_with(|| api_version.into());
        let text = toml::to_string(&table).map_err(|e| bad(format!("invalid description: {e}")))?;
        Manifest::parse(&text)
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
        // The C ABI had all six kinds from its first version.
        self.plugin.abi == Abi::C
            || parse_version(&self.plugin.api_version)
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
        assert!(m.formats[0].can_read && !m.formats[0].can_write);
        let explicit = GOOD.replace(
            "extensions = [\"ltsv\"]",
            "extensions = [\"ltsv\"]\nwrite = false",
        );
        assert!(!Manifest::parse(&explicit).unwrap().formats[0].can_write);
    }

    #[test]
    fn parses_a_good_manifest() {
        let m = Manifest::parse(GOOD).unwrap();
        assert_eq!(m.plugin.name, "ltsv");
        assert_eq!(m.formats[0].extensions, ["ltsv"]);
        assert!(m.formats[0].can_read && m.formats[0].can_write);
        assert_eq!(m.codecs[0].magic, [vec![0x04, 0x22, 0x4d, 0x18]]);
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
    fn every_detail_survives_a_round_trip() {
        let text = "[plugin]\nname = \"x\"\nversion = \"1\"\napi_version = \"1.1\"\nlibrary = \"x\"\n\
                    [[format]]\nid = \"f\"\nmagic = \"50 41\"\nmore_magic = [\"00 01\"]\nwrite = true\n\
                    [[format.option]]\nname = \"sep\"\nchoices = [\"a\", \"b\"]\ndefault = \"a\"\n\
                    [[codec]]\nid = \"c\"\nlevels = { min = 1, max = 3, default = 2 }\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.formats[0].magic, [vec![0x50, 0x41], vec![0, 1]]);
        assert_eq!(
            m.formats[0].options[0].kind,
            iterable_core::OptionType::Choice(vec!["a".into(), "b".into()])
        );
        assert_eq!(m.codecs[0].levels, Some((1, 3, 2)));
        let again = m.to_toml();
        assert!(again.contains("more_magic = [\"00 01\"]"), "{again}");
        assert!(again.contains("[[format.option]]"), "{again}");
        assert_eq!(Manifest::parse(&again).unwrap(), m);
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("1.2.3"), Some((1, 2, 3)));
        assert_eq!(parse_version("2"), Some((2, 0, 0)));
        assert_eq!(parse_version("1.0.0-beta.1"), Some((1, 0, 0)));
        assert_eq!(parse_version("x"), None);
    }
}
