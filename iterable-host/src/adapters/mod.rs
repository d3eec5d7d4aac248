//! Plugin providers behind the core's traits, loaded on first use.
//!
//! Each adapter knows its provider's description from the manifest and
//! loads the library only when the provider is really used. Records cross
//! the boundary in flat batches that the host owns and reuses: one call per
//! batch, never per record or per field.

use std::sync::{Arc, OnceLock};

use iterable_core::{
    CodecInfo, DriverInfo, EngineInfo, Error, FormatInfo, HookInfo, Provider, Result, RuleInfo,
};

use crate::catalog::manifest::Manifest;

use crate::error::{PluginErrorExt, PluginErrorKind};
use crate::loader::{Flavour, Library, RustLib};
use crate::plugin::Plugin;

/// Rows per batch asked of, and sent to, plugins ([`iterable_core::BATCH_ROWS`]).
pub const BATCH_ROWS: u32 = iterable_core::BATCH_ROWS as u32;

/// Rows asked of a plugin's reader the first time, so that the first record
/// does not wait for a whole batch.
pub const FIRST_BATCH_ROWS: u32 = 32;

/// What a lazy adapter needs to know of a kind of provider description.
pub trait Declared: Clone + Send + Sync + 'static {
    /// The kind, as a word for messages.
    const KIND: &'static str;
    /// The id (a rule's name).
    fn id(&self) -> &str;
    /// The descriptions of this kind a loaded library gives, in its order.
    fn listed(lib: &Library) -> Vec<&Self>;
    /// The descriptions of this kind a manifest declares, as the registry
    /// matches them (extensions lower case, without a dot).
    fn declared(m: &Manifest) -> Vec<Self>;
    /// A lazy provider of this kind, for the registry.
    fn provider(lazy: Lazy<Self>) -> Provider;
}

/// Extensions as the registry matches them: lower case, without a dot.
fn normalized(extensions: &[String]) -> Vec<String> {
    extensions
        .iter()
        .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
        .collect()
}

/// Every provider `plugin`'s manifest declares, lazy, of every kind.
pub(crate) fn declared_providers(plugin: &Arc<Plugin>) -> Vec<Provider> {
    fn of<I: Declared>(plugin: &Arc<Plugin>, m: &Manifest, out: &mut Vec<Provider>) {
        out.extend(
            I::declared(m)
                .into_iter()
                .map(|info| I::provider(Lazy::new(Arc::clone(plugin), info))),
        );
    }
    let Some(m) = plugin.manifest() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    of::<FormatInfo>(plugin, m, &mut out);
    of::<CodecInfo>(plugin, m, &mut out);
    of::<DriverInfo>(plugin, m, &mut out);
    of::<RuleInfo>(plugin, m, &mut out);
    of::<EngineInfo>(plugin, m, &mut out);
    of::<HookInfo>(plugin, m, &mut out);
    out
}

macro_rules! declared {
    ($info:ty, $kind:literal, $field:ident, $list:ident, $variant:ident, |$d:ident| $normal:expr) => {
        impl Declared for $info {
            const KIND: &'static str = $kind;
            fn id(&self) -> &str {
                &self.$field
            }
            fn listed(lib: &Library) -> Vec<&Self> {
                lib.description.$list.iter().collect()
            }
            fn declared(m: &Manifest) -> Vec<Self> {
                m.$list.iter().map(|$d| $normal).collect()
            }
            fn provider(lazy: Lazy<Self>) -> Provider {
                Provider::$variant(Arc::new(lazy))
            }
        }
    };
}

declared!(FormatInfo, "format", id, formats, Format, |f| FormatInfo {
    id: f.id.to_ascii_lowercase(),
    extensions: normalized(&f.extensions),
    ..f.clone()
});
declared!(CodecInfo, "codec", id, codecs, Codec, |c| CodecInfo {
    id: c.id.to_ascii_lowercase(),
    extensions: normalized(&c.extensions),
    ..c.clone()
});
declared!(DriverInfo, "driver", id, drivers, Driver, |d| d.clone());
declared!(RuleInfo, "rule", name, rules, Rule, |r| r.clone());
declared!(EngineInfo, "engine", id, engines, Engine, |e| e.clone());

impl Declared for HookInfo {
    const KIND: &'static str = "hook";
    fn id(&self) -> &str {
        &self.id
    }
    fn listed(lib: &Library) -> Vec<&Self> {
        // A library whose hooks cannot be read lists none; using one then
        // says the library does not provide it.
        lib.hook_infos().unwrap_or_default()
    }
    fn declared(m: &Manifest) -> Vec<Self> {
        m.hooks.clone()
    }
    fn provider(lazy: Lazy<Self>) -> Provider {
        Provider::Hook(Arc::new(lazy))
    }
}

/// A plugin provider known from its manifest, loaded on first use. Its
/// description is the manifest's until the library is loaded, then the
/// library's own.
pub struct Lazy<I> {
    plugin: Arc<Plugin>,
    declared: I,
    loaded: OnceLock<(I, usize)>,
}

impl<I: Declared> Lazy<I> {
    /// A provider declared by `plugin`'s manifest.
    pub fn new(plugin: Arc<Plugin>, declared: I) -> Self {
        Lazy {
            plugin,
            declared,
            loaded: OnceLock::new(),
        }
    }

    fn current(&self) -> &I {
        self.loaded.get().map_or(&self.declared, |(i, _)| i)
    }

    /// Loads the library (once) and finds this provider in it, or says the
    /// manifest lied.
    fn provider(&self) -> Result<(Arc<Library>, usize)> {
        let lib = self.plugin.library()?;
        if let Some((_, i)) = self.loaded.get() {
            return Ok((lib, *i));
        }
        let id = self.declared.id();
        let found = I::listed(&lib)
            .into_iter()
            .enumerate()
            .find(|(_, i)| i.id() == id);
        match found {
            Some((i, info)) => {
                let _ = self.loaded.set((info.clone(), i));
                Ok((lib, i))
            }
            None => Err(Error::plugin(
                PluginErrorKind::ManifestMismatch,
                self.plugin.name(),
                format!(
                    "the manifest declares {} '{id}' but the library does not provide it",
                    I::KIND
                ),
            )),
        }
    }
}

/// Which flavour of provider index `i` of `lib` is: a Rust plugin's (to
/// call through abi_stable) or one that stands behind the core's traits
/// itself (a C plugin's, an ADBC driver).
pub(crate) enum Which<'a, T: ?Sized> {
    Rust(&'a RustLib),
    Native(&'a T),
}

/// Picks the flavour of a library's provider: `pick` chooses among the
/// native providers of its kind.
pub(crate) fn which<'a, T: ?Sized>(
    lib: &'a Library,
    i: usize,
    pick: impl FnOnce(&'a crate::cabi::Native) -> &'a [Box<T>],
) -> Which<'a, T> {
    match &lib.flavour {
        Flavour::Rust(r) => Which::Rust(r),
        Flavour::Native(n) => Which::Native(&*pick(n)[i]),
    }
}

// ---------------------------------------------------------------------------

mod codec;
mod driver;
mod engine;
mod format;
mod hook;
mod records;
mod rule;

pub use codec::LazyCodec;
pub use driver::LazyDriver;
pub use engine::LazyEngine;
pub use format::LazyFormat;
pub(crate) use format::Opened;
pub use hook::LazyHook;
pub(crate) use records::PluginReader;
pub use rule::LazyRule;
