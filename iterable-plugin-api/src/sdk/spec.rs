//! Author-side descriptions of providers ([`FormatSpec`], [`CodecSpec`], ...),
//! turned into the wire descriptions.

use abi_stable::std_types::{RString, RVec, Tuple2};

use crate::abi::hooks::HookInfo;
use crate::abi::{CodecInfo, DriverInfo, EngineInfo, FormatInfo, OptionSpec, RuleInfo};

pub(crate) fn rstrings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> RVec<RString> {
    items
        .into_iter()
        .map(|s| RString::from(s.as_ref()))
        .collect()
}

fn rextra(extra: Vec<(String, String)>) -> crate::abi::RExtra {
    extra
        .into_iter()
        .map(|(k, v)| Tuple2(RString::from(k), RString::from(v)))
        .collect()
}

/// Declares an option, replacing an earlier one of the same name.
fn push_option(
    options: &mut Vec<OptionSpec>,
    name: &str,
    description: &str,
    choices: &[&str],
    default: Option<&str>,
) {
    options.retain(|o| o.name.as_str() != name);
    options.push(OptionSpec {
        name: name.into(),
        description: description.into(),
        choices: rstrings(choices),
        default: default.map(RString::from).into(),
    });
}

/// Describes a [`Format`]:
/// `FormatSpec::new("ltsv").description("..").extensions(["ltsv"]).option("x", "..")`.
///
/// By default a format is read-only ([`read_write`](Self::read_write),
/// [`write_only`](Self::write_only) change that) and options are strict:
/// keys not declared with `option*` are rejected with `INVALID_OPTION`
/// ([`lenient_options`](Self::lenient_options) turns that off).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatSpec {
    id: String,
    description: String,
    extensions: Vec<String>,
    magic: Vec<Vec<u8>>,
    can_read: bool,
    can_write: bool,
    options: Vec<OptionSpec>,
    pub(crate) lenient: bool,
    extra: Vec<(String, String)>,
}

impl FormatSpec {
    /// A readable format with id `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            description: String::new(),
            extensions: Vec::new(),
            magic: Vec::new(),
            can_read: true,
            can_write: false,
            options: Vec::new(),
            lenient: false,
            extra: Vec::new(),
        }
    }
    /// One line of description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// File extensions without the dot.
    pub fn extensions<S: AsRef<str>>(mut self, exts: impl IntoIterator<Item = S>) -> Self {
        self.extensions.extend(
            exts.into_iter()
                .map(|s| s.as_ref().trim_start_matches('.').to_string()),
        );
        self
    }
    /// A byte prefix files of this format start with (may be called repeatedly).
    pub fn magic(mut self, prefix: impl AsRef<[u8]>) -> Self {
        self.magic.push(prefix.as_ref().to_vec());
        self
    }
    /// Declares a free-text option without default.
    pub fn option(self, name: &str, description: &str) -> Self {
        self.push_option(name, description, &[], None)
    }
    /// Declares a free-text option with a default (filled in when not given).
    pub fn option_default(self, name: &str, description: &str, default: &str) -> Self {
        self.push_option(name, description, &[], Some(default))
    }
    /// Declares an option restricted to `choices`, with a default.
    pub fn option_choices(
        self,
        name: &str,
        description: &str,
        choices: &[&str],
        default: &str,
    ) -> Self {
        self.push_option(name, description, choices, Some(default))
    }
    fn push_option(
        mut self,
        name: &str,
        description: &str,
        choices: &[&str],
        default: Option<&str>,
    ) -> Self {
        push_option(&mut self.options, name, description, choices, default);
        self
    }
    /// The format can be read and written.
    pub fn read_write(mut self) -> Self {
        self.can_read = true;
        self.can_write = true;
        self
    }
    /// The format can only be written.
    pub fn write_only(mut self) -> Self {
        self.can_read = false;
        self.can_write = true;
        self
    }
    /// Accept any option key (undeclared keys are passed through unchecked).
    pub fn lenient_options(mut self) -> Self {
        self.lenient = true;
        self
    }
    /// An extra key for descriptions added after 1.0.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
    /// The format reads plain files by their path ([`Format::path_reader`],
    /// the files capability of ABI 1.1); a host asks it only when this is
    /// said (the `extra` key [`READS_PATHS`] = `true`).
    ///
    /// [`Format::path_reader`]: crate::sdk::traits::Format::path_reader
    pub fn reads_paths(self) -> Self {
        self.extra(READS_PATHS, "true")
    }
    /// The wire-level description.
    pub fn into_info(self) -> FormatInfo {
        FormatInfo {
            id: self.id.into(),
            description: self.description.into(),
            extensions: rstrings(&self.extensions),
            magic: self.magic.into_iter().map(RVec::from).collect(),
            can_read: self.can_read,
            can_write: self.can_write,
            options: self.options.into_iter().collect(),
            extra: rextra(self.extra),
        }
    }
}

/// The `extra` key of a format that reads plain files by path (ABI 1.1).
pub const READS_PATHS: &str = "reads_paths";

/// Describes a [`Codec`]: `CodecSpec::new("zstd").extensions(["zst"]).magic(..).levels(1, 22, 3)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecSpec {
    id: String,
    description: String,
    extensions: Vec<String>,
    magic: Vec<Vec<u8>>,
    levels: (i32, i32, i32),
    extra: Vec<(String, String)>,
}

impl CodecSpec {
    /// A codec with id `id` (levels default to 0..=0, default 0).
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            description: String::new(),
            extensions: Vec::new(),
            magic: Vec::new(),
            levels: (0, 0, 0),
            extra: Vec::new(),
        }
    }
    /// One line of description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// File extensions without the dot.
    pub fn extensions<S: AsRef<str>>(mut self, exts: impl IntoIterator<Item = S>) -> Self {
        self.extensions.extend(
            exts.into_iter()
                .map(|s| s.as_ref().trim_start_matches('.').to_string()),
        );
        self
    }
    /// A byte prefix of compressed streams (may be called repeatedly).
    pub fn magic(mut self, prefix: impl AsRef<[u8]>) -> Self {
        self.magic.push(prefix.as_ref().to_vec());
        self
    }
    /// The accepted compression levels and the default.
    pub fn levels(mut self, min: i32, max: i32, default: i32) -> Self {
        self.levels = (min, max, default);
        self
    }
    /// An extra key for descriptions added after 1.0.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
    /// The wire-level description.
    pub fn into_info(self) -> CodecInfo {
        CodecInfo {
            id: self.id.into(),
            description: self.description.into(),
            extensions: rstrings(&self.extensions),
            magic: self.magic.into_iter().map(RVec::from).collect(),
            level_min: self.levels.0,
            level_max: self.levels.1,
            level_default: self.levels.2,
            extra: rextra(self.extra),
        }
    }
}

/// Describes a [`Driver`]: `DriverSpec::new("sqlite").schemes(["sqlite"])`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverSpec {
    id: String,
    description: String,
    schemes: Vec<String>,
    extra: Vec<(String, String)>,
}

impl DriverSpec {
    /// A driver with id `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            description: String::new(),
            schemes: Vec::new(),
            extra: Vec::new(),
        }
    }
    /// One line of description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// URI schemes handled (without `://`).
    pub fn schemes<S: AsRef<str>>(mut self, schemes: impl IntoIterator<Item = S>) -> Self {
        self.schemes
            .extend(schemes.into_iter().map(|s| s.as_ref().to_string()));
        self
    }
    /// An extra key for descriptions added after 1.0.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
    /// The wire-level description.
    pub fn into_info(self) -> DriverInfo {
        DriverInfo {
            id: self.id.into(),
            description: self.description.into(),
            schemes: rstrings(&self.schemes),
            extra: rextra(self.extra),
        }
    }
}

/// Describes a [`Rule`]: `RuleSpec::new("common.email").description("..")`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSpec {
    name: String,
    description: String,
    extra: Vec<(String, String)>,
}

impl RuleSpec {
    /// A rule named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: String::new(),
            extra: Vec::new(),
        }
    }
    /// One line of description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// An extra key for descriptions added after 1.0.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
    /// The wire-level description.
    pub fn into_info(self) -> RuleInfo {
        RuleInfo {
            name: self.name.into(),
            description: self.description.into(),
            extra: rextra(self.extra),
        }
    }
}

/// Describes an [`Engine`]: `EngineSpec::new("sql").description("..")`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineSpec {
    id: String,
    description: String,
    extra: Vec<(String, String)>,
}

impl EngineSpec {
    /// An engine with id `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            description: String::new(),
            extra: Vec::new(),
        }
    }
    /// One line of description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// An extra key for descriptions added after 1.0.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
    /// The wire-level description.
    pub fn into_info(self) -> EngineInfo {
        EngineInfo {
            id: self.id.into(),
            description: self.description.into(),
            extra: rextra(self.extra),
        }
    }
}

/// Describes a [`Hook`](crate::Hook): `HookSpec::new("audit").description("..").option("path", "..")`.
///
/// Options are strict: keys not declared are rejected with `INVALID_OPTION`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookSpec {
    id: String,
    description: String,
    options: Vec<OptionSpec>,
    extra: Vec<(String, String)>,
}

impl HookSpec {
    /// A hook with id `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            description: String::new(),
            options: Vec::new(),
            extra: Vec::new(),
        }
    }
    /// One line of description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// Declares a free-text option without default.
    pub fn option(mut self, name: &str, description: &str) -> Self {
        push_option(&mut self.options, name, description, &[], None);
        self
    }
    /// Declares a free-text option with a default (filled in when not given).
    pub fn option_default(mut self, name: &str, description: &str, default: &str) -> Self {
        push_option(&mut self.options, name, description, &[], Some(default));
        self
    }
    /// An extra key for descriptions added later.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
    /// The wire-level description.
    pub fn into_info(self) -> HookInfo {
        HookInfo {
            id: self.id.into(),
            description: self.description.into(),
            options: self.options.into(),
            extra: rextra(self.extra),
        }
    }
}
