//! A shared library with an exported function but no plugin root module.

/// Adds two numbers; exported so the library is not empty.
#[unsafe(no_mangle)]
pub extern "C" fn iterable_nosymbol_add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}
