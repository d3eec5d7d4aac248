//! Plugins written in C, for the tests of the C ABI: their library paths,
//! and the C compiler's layout of `iterabledata_plugin.h`.
//!
//! `build.rs` compiles them with the system C compiler from the header
//! alone. Each library is named after its plugin.

use std::ffi::{CStr, c_char};

/// The fixed-width plugin (`plugins-examples/fwf/fwf.c`), built against the
/// current header.
pub const FWF: &str = env!("IDP_LIB_FWF");
/// The same source built against the C ABI 1.0 header, as released.
pub const FWF_1_0: &str = env!("IDP_LIB_FWF_1_0");
/// The same source built against a future header (1.2) with more fields.
pub const FWF_FUTURE: &str = env!("IDP_LIB_FWF_FUTURE");
/// Formats that misbehave on purpose (`c/faults.c`).
pub const CFAULTS: &str = env!("IDP_LIB_CFAULTS");
/// A codec, a driver, a rule, an engine and a hook (`c/kinds.c`).
pub const CKINDS: &str = env!("IDP_LIB_CKINDS");
/// The benchmark's CSV reader in C (`tests/bench/ccsv/ccsv.c`).
pub const CCSV: &str = env!("IDP_LIB_CCSV");
/// The C example of `docs/plugin-guide.md` ("The entry point"), with stubs.
pub const GUIDE: &str = env!("IDP_LIB_GUIDE");

#[repr(C)]
struct Entry {
    name: *const c_char,
    value: usize,
}

unsafe extern "C" {
    fn idp_layout(n: *mut usize) -> *const Entry;
    static IDP_LAYOUT_ABI: [u32; 2];
    static IDP_LAYOUT_LEVEL_DEFAULT: i32;
}

/// Every struct's size and every field's offset, as the C compiler lays
/// out `iterabledata_plugin.h` (same names as
/// [`iterable_plugin_api::c::layout`]).
pub fn c_layout() -> Vec<(String, usize)> {
    let mut n = 0;
    // SAFETY: idp_layout returns a static table of `n` entries whose names
    // are static C strings.
    unsafe {
        let p = idp_layout(&mut n);
        std::slice::from_raw_parts(p, n)
            .iter()
            .map(|e| {
                (
                    CStr::from_ptr(e.name).to_string_lossy().into_owned(),
                    e.value,
                )
            })
            .collect()
    }
}

/// The header's `IDP_ABI_MAJOR` and `IDP_ABI_MINOR`.
pub fn c_abi_version() -> (u32, u32) {
    // SAFETY: a static array defined in layout.c.
    unsafe { (IDP_LAYOUT_ABI[0], IDP_LAYOUT_ABI[1]) }
}

/// The header's `IDP_LEVEL_DEFAULT`.
pub fn c_level_default() -> i32 {
    // SAFETY: a static defined in layout.c.
    unsafe { IDP_LAYOUT_LEVEL_DEFAULT }
}
