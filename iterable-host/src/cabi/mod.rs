//! The C ABI flavour of plugins: libraries that export
//! `iterabledata_plugin_entry` (`iterabledata_plugin.h`).
//!
//! Loading reads the plugin's description (its manifest text) and pairs
//! each of its providers with a description entry. The providers then
//! stand behind the core's traits ([`kinds`]); records cross as Arrow
//! ([`stream`], [`crate::arrow`]) and bytes through callbacks ([`bytes`]).
//! Nothing here unwinds into a plugin: every host callback catches panics.
//! A C library is never unloaded, so the plugin's static structs are read
//! as `'static`.

use std::ffi::{CStr, CString, c_char};
use std::sync::Arc;

use iterable_core::{Error, ErrorKind, Options};
use iterable_plugin_api::c::{
    self as abi, C_ABI_MAJOR, C_ABI_MINOR, IdpEntryFn, IdpError, IdpOption, IdpOptions, IdpPlugin,
    IdpStatus,
};

use crate::catalog::manifest::{Abi, Manifest};
use crate::error::{PluginErrorExt, PluginErrorKind};

pub(crate) mod bytes;
pub(crate) mod kinds;
pub(crate) mod stream;

/// A provider struct of the plugin's (`IdpFormat`, `IdpCodec`, ...), with
/// the name of the plugin for errors and the size it was compiled with.
pub(crate) struct Raw<T: 'static> {
    pub raw: &'static T,
    pub size: u32,
    pub plugin: Arc<str>,
}

// SAFETY: the structs are the plugin's immutable descriptions; the C ABI
// lets the host call their functions from any thread (one call per object
// at a time, which the host's types ensure by `&mut self`).
unsafe impl<T> Send for Raw<T> {}
unsafe impl<T> Sync for Raw<T> {}

/// Providers that stand behind the core's traits themselves (a C plugin's,
/// an ADBC driver's), in their description's order.
#[derive(Default)]
pub(crate) struct Native {
    pub formats: Vec<Box<dyn iterable_core::Format>>,
    pub codecs: Vec<Box<dyn iterable_core::Codec>>,
    pub drivers: Vec<Box<dyn iterable_core::Driver>>,
    pub rules: Vec<Box<dyn iterable_core::Rule>>,
    pub engines: Vec<Box<dyn iterable_core::Engine>>,
    pub hooks: Vec<Box<dyn iterable_core::Hook>>,
}

/// Whether the library at `lib` is a C plugin, and its entry point.
pub(crate) fn entry(lib: &libloading::Library) -> Option<IdpEntryFn> {
    // SAFETY: the symbol, when present, is the header's entry function.
    unsafe { lib.get::<IdpEntryFn>(abi::C_ENTRY_SYMBOL.as_bytes()) }
        .ok()
        .map(|s| *s)
}

/// The smallest a struct may be: the size it had in C ABI 1.0.
macro_rules! size_1_0 {
    ($t:ty, $last:ident) => {
        std::mem::offset_of!($t, $last) + std::mem::size_of::<usize>()
    };
}

/// Reads a C plugin through its entry point: its description and
/// providers. `file_name` is the library's file name, for the description.
pub(crate) fn load(
    entry: IdpEntryFn,
    name: &str,
    file_name: &str,
) -> Result<(Manifest, Native), Error> {
    let fail = |kind, msg: String| Error::plugin(kind, name, msg);
    // SAFETY: the header's entry point; a C plugin cannot unwind.
    let plugin = unsafe { entry(C_ABI_MAJOR, C_ABI_MINOR) };
    // SAFETY: a non-null result points to the plugin's static IdpPlugin.
    let Some(plugin) = (unsafe { plugin.as_ref() }) else {
        return Err(fail(
            PluginErrorKind::VersionMismatch,
            format!(
                "the plugin declined this host (C ABI {}): it needs another version",
                abi::C_ABI_VERSION
            ),
        ));
    };
    let plugin: &'static IdpPlugin = plugin;
    if (plugin.struct_size as usize) < size_1_0!(IdpPlugin, hooks) {
        return Err(fail(
            PluginErrorKind::AbiMismatch,
            format!(
                "its IdpPlugin is {} bytes, smaller than C ABI 1.0's; rebuild it against iterabledata_plugin.h",
                plugin.struct_size
            ),
        ));
    }
    if plugin.abi_major != C_ABI_MAJOR {
        return Err(fail(
            PluginErrorKind::VersionMismatch,
            format!(
                "built for C ABI {}.{}, this host has {}; rebuild it against iterabledata_plugin.h {C_ABI_MAJOR}.x",
                plugin.abi_major,
                plugin.abi_minor,
                abi::C_ABI_VERSION
            ),
        ));
    }
    let version = format!("{}.{}", plugin.abi_major, plugin.abi_minor);
    // SAFETY: a NUL-terminated string of the plugin's, or null.
    let description_text = unsafe { text(plugin.description) }.ok_or_else(|| {
        fail(
            PluginErrorKind::BadManifest,
            "its description is missing or not UTF-8".into(),
        )
    })?;
    let mut description =
        Manifest::parse_embedded(description_text, file_name, &version, Abi::C)
            .map_err(|e| fail(PluginErrorKind::BadManifest, e.message().to_owned()))?;
    if description.plugin.name.is_empty() {
        description.plugin.name = name.to_owned();
    }
    let plugin_name: Arc<str> = Arc::from(description.plugin.name.as_str());
    let name = &*plugin_name;

    macro_rules! providers {
        ($ty:ty, $n:ident, $list:ident, $id:ident, $last:ident, $infos:expr, $info_id:ident, $kind:literal, $make:path) => {{
            // SAFETY: `$n` pointers to the plugin's static structs.
            let raws: Vec<&'static $ty> =
                unsafe { pointers(plugin.$n, plugin.$list) }.ok_or_else(|| {
                    fail(
                        PluginErrorKind::AbiMismatch,
                        format!("its {} list is null or holds a null pointer", $kind),
                    )
                })?;
            let mut out = Vec::new();
            for info in $infos.iter() {
                let found = raws.iter().find(|r| {
                    // SAFETY: the id is a NUL-terminated string, or null.
                    let id = unsafe { text(r.$id) };
                    id == Some(info.$info_id.as_str())
                });
                let Some(raw) = found else {
                    return Err(fail(
                        PluginErrorKind::ManifestMismatch,
                        format!(
                            "its description lists {} '{}' but it provides no such {}",
                            $kind, info.$info_id, $kind
                        ),
                    ));
                };
                if (raw.struct_size as usize) < size_1_0!($ty, $last) {
                    return Err(fail(
                        PluginErrorKind::AbiMismatch,
                        format!(
                            "its {} '{}' struct is {} bytes, smaller than C ABI 1.0's",
                            $kind, info.$info_id, raw.struct_size
                        ),
                    ));
                }
                out.push(Box::new($make(
                    info.clone(),
                    Raw {
                        raw: *raw,
                        size: raw.struct_size,
                        plugin: Arc::clone(&plugin_name),
                    },
                )) as Box<_>);
            }
            if raws.len() != out.len() {
                return Err(fail(
                    PluginErrorKind::ManifestMismatch,
                    format!(
                        "it provides {} {}s but its description lists {}",
                        raws.len(),
                        $kind,
                        out.len()
                    ),
                ));
            }
            out
        }};
    }
    let lib = Native {
        formats: providers!(
            abi::IdpFormat,
            n_formats,
            formats,
            id,
            open_writer,
            description.formats,
            id,
            "format",
            kinds::CFormat::new
        ),
        codecs: providers!(
            abi::IdpCodec,
            n_codecs,
            codecs,
            id,
            encoder,
            description.codecs,
            id,
            "codec",
            kinds::CCodec::new
        ),
        drivers: providers!(
            abi::IdpDriver,
            n_drivers,
            drivers,
            id,
            connect,
            description.drivers,
            id,
            "driver",
            kinds::CDriver::new
        ),
        rules: providers!(
            abi::IdpRule,
            n_rules,
            rules,
            name,
            check,
            description.rules,
            name,
            "rule",
            kinds::CRule::new
        ),
        engines: providers!(
            abi::IdpEngine,
            n_engines,
            engines,
            id,
            execute,
            description.engines,
            id,
            "engine",
            kinds::CEngine::new
        ),
        hooks: providers!(
            abi::IdpHook,
            n_hooks,
            hooks,
            id,
            open,
            description.hooks,
            id,
            "hook",
            kinds::CHook::new
        ),
    };
    tracing::debug!(plugin = name, abi = %version, "C plugin loaded");
    Ok((description, lib))
}

/// `n` non-null pointers from `list` (none when `n` is 0).
///
/// # Safety
/// `list` points to `n` pointers to `'static` values, or `n` is 0.
unsafe fn pointers<T>(n: usize, list: *const *const T) -> Option<Vec<&'static T>> {
    if n == 0 {
        return Some(Vec::new());
    }
    if list.is_null() {
        return None;
    }
    // SAFETY: the caller's promise.
    let ptrs = unsafe { std::slice::from_raw_parts(list, n) };
    ptrs.iter()
        // SAFETY: each is null or points to a static struct.
        .map(|p| unsafe { p.as_ref() })
        .collect()
}

/// A plugin's NUL-terminated UTF-8 string.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn text<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller's promise.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

/// Options as the C ABI lends them: the strings and the array, kept
/// together for as long as the plugin may read them.
pub(crate) struct COptions {
    _strings: Vec<(CString, CString)>,
    items: Vec<IdpOption>,
    raw: IdpOptions,
}

// SAFETY: the raw pointers point into `_strings` and `items`, owned here.
unsafe impl Send for COptions {}

impl COptions {
    pub fn new(options: &Options) -> Box<COptions> {
        // A NUL cannot be passed; it is cut there (options are short text).
        let c = |s: &str| CString::new(s.split('\0').next().unwrap_or("")).unwrap_or_default();
        let strings: Vec<(CString, CString)> = options.iter().map(|(k, v)| (c(k), c(v))).collect();
        let items: Vec<IdpOption> = strings
            .iter()
            .map(|(k, v)| IdpOption {
                key: k.as_ptr(),
                value: v.as_ptr(),
            })
            .collect();
        let mut b = Box::new(COptions {
            _strings: strings,
            items,
            raw: IdpOptions {
                count: 0,
                items: std::ptr::null(),
            },
        });
        b.raw = IdpOptions {
            count: b.items.len(),
            items: b.items.as_ptr(),
        };
        b
    }

    pub fn as_ptr(&self) -> *const IdpOptions {
        &self.raw
    }
}

/// A C string for a call (a NUL inside is cut there).
pub(crate) fn cstring(s: &str) -> CString {
    CString::new(s.split('\0').next().unwrap_or("")).unwrap_or_default()
}

/// The header's error codes and the core's kinds, in one table read both
/// ways: a code reads as the first kind listed with it; a kind is sent as
/// the code it is listed with (`IDP_ERR_OTHER` when it is not).
const CODES: &[(IdpStatus, &[ErrorKind])] = &[
    (abi::IDP_ERR_IO, &[ErrorKind::Io]),
    (
        abi::IDP_ERR_PARSE,
        &[
            ErrorKind::Parse,
            ErrorKind::Encoding,
            ErrorKind::Compression,
        ],
    ),
    (
        abi::IDP_ERR_INVALID_OPTION,
        &[ErrorKind::InvalidOption, ErrorKind::UnknownOption],
    ),
    (abi::IDP_ERR_UNSUPPORTED, &[ErrorKind::Unsupported]),
    (abi::IDP_ERR_SCHEMA, &[ErrorKind::Schema]),
    (abi::IDP_ERR_DRIVER, &[ErrorKind::Driver]),
    (abi::IDP_ERR_ENGINE, &[ErrorKind::Engine]),
    (abi::IDP_ERR_INVALID_INPUT, &[ErrorKind::InvalidInput]),
    (abi::IDP_ERR_HOOK, &[ErrorKind::Hook]),
    (abi::IDP_ERR_OTHER, &[ErrorKind::Other]),
];

/// A plugin's error of status `code`: a code this host does not know (from
/// a newer header) keeps its number in the error's kind name.
fn error_of(code: IdpStatus, message: String) -> Error {
    match CODES.iter().find(|(c, _)| *c == code) {
        Some((_, kinds)) => Error::new(kinds[0], message),
        None => Error::of_kind_named(&format!("c-code-{code}"), message),
    }
}

/// The status code for a core error (for host callbacks).
pub(crate) fn code_of(kind: ErrorKind) -> IdpStatus {
    CODES
        .iter()
        .find(|(_, kinds)| kinds.contains(&kind))
        .map_or(abi::IDP_ERR_OTHER, |(code, _)| *code)
}

/// Takes the plugin's error out of `e` (releasing it through its callback,
/// once) as a core error naming the plugin. A status without a message
/// says what was being done.
pub(crate) fn take_error(e: &mut IdpError, status: IdpStatus, plugin: &str, what: &str) -> Error {
    // SAFETY: the plugin's NUL-terminated message, or null.
    let message = unsafe { text(e.message) }
        .map(str::to_owned)
        .filter(|m| !m.is_empty());
    release(e);
    let code = if e.code != 0 { e.code } else { status };
    let message = message.unwrap_or_else(|| format!("{what} failed (status {status})"));
    error_of(code, message).with_plugin(plugin)
}

/// Calls a plugin function that reports through an `IdpError`.
pub(crate) fn call(
    plugin: &str,
    what: &str,
    f: impl FnOnce(*mut IdpError) -> IdpStatus,
) -> Result<(), Error> {
    let mut e = IdpError::empty();
    let status = f(&mut e);
    if status == abi::IDP_OK {
        // A message set on success is released all the same.
        release(&mut e);
        return Ok(());
    }
    Err(take_error(&mut e, status, plugin, what))
}

/// Fills a host-side `IdpError` for a plugin: the message is the host's,
/// freed by the release callback it sets.
pub(crate) fn set_error(e: *mut IdpError, err: &Error) -> IdpStatus {
    let code = code_of(err.kind());
    // SAFETY: the plugin passes its own IdpError, or null.
    if let Some(e) = unsafe { e.as_mut() } {
        e.code = code;
        e.message = cstring(&err.to_string()).into_raw();
        e.release = Some(free_error);
        e.private_data = std::ptr::null_mut();
    }
    code
}

unsafe extern "C" fn free_error(e: *mut IdpError) {
    // SAFETY: set by `set_error` with a CString the host made.
    if let Some(e) = unsafe { e.as_mut() } {
        if !e.message.is_null() {
            // SAFETY: made by CString::into_raw in `set_error`.
            drop(unsafe { CString::from_raw(e.message as *mut c_char) });
            e.message = std::ptr::null();
        }
        e.release = None;
    }
}

/// An error about Arrow data a plugin handed over that fails validation.
pub(crate) fn bad_arrow(plugin: &str, what: &str, e: impl std::fmt::Display) -> Error {
    Error::plugin(
        PluginErrorKind::BadArrow,
        plugin,
        format!("{what}: the plugin handed over malformed Arrow data, refused: {e}"),
    )
}

/// A struct of the header that carries its owner's release callback.
pub(crate) trait Owned: Sized {
    /// Its `release` field.
    fn release_fn(&mut self) -> &mut Option<unsafe extern "C" fn(*mut Self)>;
}

macro_rules! owned {
    ($($t:ty),*) => {$(
        impl Owned for $t {
            fn release_fn(&mut self) -> &mut Option<unsafe extern "C" fn(*mut Self)> {
                &mut self.release
            }
        }
    )*};
}

owned!(
    IdpError,
    abi::IdpByteSource,
    abi::IdpByteSink,
    abi::IdpBatchWriter,
    abi::IdpConnection,
    abi::IdpObserver
);

/// Calls `raw`'s release callback, once: it is taken out of the struct
/// first, so a second call finds none.
pub(crate) fn release<T: Owned>(raw: &mut T) {
    if let Some(f) = raw.release_fn().take() {
        // SAFETY: the owner's release callback, on its own struct, once.
        unsafe { f(raw) }
    }
}

/// A function a plugin's struct may leave NULL, or, when it did, an
/// `unsupported` error naming the plugin that says what cannot be done.
pub(crate) fn function<F>(
    f: Option<F>,
    plugin: &str,
    cannot: impl Into<String>,
) -> Result<F, Error> {
    f.ok_or_else(|| Error::new(ErrorKind::Unsupported, cannot).with_plugin(plugin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_kinds_read_both_ways_and_an_unknown_code_is_kept() {
        for (code, kinds) in CODES {
            assert_eq!(error_of(*code, "m".into()).kind(), kinds[0]);
            for &k in kinds.iter() {
                assert_eq!(code_of(k), *code, "{k}");
            }
        }
        assert_eq!(code_of(ErrorKind::Conflict), abi::IDP_ERR_OTHER);
        let e = error_of(42, "from a newer header".into());
        assert_eq!(e.kind(), ErrorKind::Other);
        assert_eq!(e.kind_name(), "c-code-42");
    }

    #[test]
    fn arrow_structs_match_arrow_rs() {
        use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
        use arrow_array::ffi_stream::FFI_ArrowArrayStream;
        use std::mem::{align_of, size_of};
        assert_eq!(size_of::<abi::ArrowArray>(), size_of::<FFI_ArrowArray>());
        assert_eq!(size_of::<abi::ArrowSchema>(), size_of::<FFI_ArrowSchema>());
        assert_eq!(
            size_of::<abi::ArrowArrayStream>(),
            size_of::<FFI_ArrowArrayStream>()
        );
        assert_eq!(align_of::<abi::ArrowArray>(), align_of::<FFI_ArrowArray>());
    }

    #[test]
    fn sizes_of_1_0() {
        // What a plugin built against the 1.0 header has: the 1.1 fields
        // are past its end.
        let format_1_0 = size_1_0!(abi::IdpFormat, open_writer) as u32;
        assert!(!abi::has_field(
            format_1_0,
            std::mem::offset_of!(abi::IdpFormat, flags),
            4
        ));
        assert!(abi::has_field(
            std::mem::size_of::<abi::IdpFormat>() as u32,
            std::mem::offset_of!(abi::IdpFormat, flags),
            4
        ));
    }
}
