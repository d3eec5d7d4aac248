//! The header and the Rust definitions agree: every struct's size and every
//! field's offset, as the C compiler and rustc lay them out, and the
//! constants.

use iterable_plugin_api::c;

#[test]
fn rust_and_c_lay_out_the_header_the_same() {
    let ours = c::layout();
    let theirs = iterable_test_cplugins::c_layout();
    assert!(ours.len() > 100, "{}", ours.len());
    let mut only_rust: Vec<_> = ours.iter().filter(|e| !theirs.contains(e)).collect();
    let mut only_c: Vec<_> = theirs.iter().filter(|e| !ours.contains(e)).collect();
    only_rust.sort();
    only_c.sort();
    assert!(
        only_rust.is_empty() && only_c.is_empty(),
        "the layouts differ:\n  Rust: {only_rust:?}\n  C:    {only_c:?}"
    );
}

#[test]
fn constants_agree() {
    assert_eq!(
        iterable_test_cplugins::c_abi_version(),
        (c::C_ABI_MAJOR, c::C_ABI_MINOR)
    );
    assert_eq!(
        c::C_ABI_VERSION,
        format!("{}.{}", c::C_ABI_MAJOR, c::C_ABI_MINOR)
    );
    assert_eq!(
        iterable_test_cplugins::c_level_default(),
        c::IDP_LEVEL_DEFAULT
    );
    assert!(c::HEADER.contains("#define IDP_ABI_MINOR 1"));
}
