//! abi_stable's structural layout check, run in-process on the root module
//! and the wire types (the same check the loader runs at dlopen time).

use iterable_plugin_api::abi_stable::StableAbi;
use iterable_plugin_api::abi_stable::abi_stability::abi_checking::check_layout_compatibility;
use iterable_plugin_api::abi_stable::library::ROOT_MODULE_LOADER_NAME;
use iterable_plugin_api::abi_stable::type_layout::TypeLayout;
use iterable_plugin_api::{
    ByteSinkBox, ByteSourceBox, FormatInfo, PluginModule_Ref, RBatch, RError, RValue,
    RecordSinkBox, RecordSourceBox,
};

fn layout<T: StableAbi>() -> &'static TypeLayout {
    T::LAYOUT
}

#[test]
fn root_module_is_compatible_with_itself() {
    check_layout_compatibility(layout::<PluginModule_Ref>(), layout::<PluginModule_Ref>())
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn wire_types_are_compatible_with_themselves() {
    for l in [
        layout::<RBatch>(),
        layout::<RValue>(),
        layout::<RError>(),
        layout::<FormatInfo>(),
        layout::<ByteSourceBox>(),
        layout::<ByteSinkBox>(),
        layout::<RecordSourceBox>(),
        layout::<RecordSinkBox>(),
    ] {
        check_layout_compatibility(l, l).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn the_check_detects_a_different_layout() {
    assert!(check_layout_compatibility(layout::<RBatch>(), layout::<RError>()).is_err());
    assert!(check_layout_compatibility(layout::<RValue>(), layout::<RBatch>()).is_err());
}

#[test]
fn export_macro_uses_abi_stables_symbol_name() {
    // `export_plugin!` writes this static's name literally.
    assert_eq!(
        ROOT_MODULE_LOADER_NAME,
        "_1as_0lib_1header_0root_bmodule_bloader"
    );
}
