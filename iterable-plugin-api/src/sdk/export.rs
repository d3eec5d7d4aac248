//! The export macro and its (hidden) runtime support.

/// Exports the plugin's root module. Use it once, at the root of a `cdylib` crate.
///
/// ```text
/// iterable_plugin_api::export_plugin! {
///     name: "ltsv",                          // required, first
///     version: env!("CARGO_PKG_VERSION"),    // required, second
///     // optional, any order:
///     description: "Labeled Tab-separated Values",
///     author: "Jane Doe", license: "MIT", homepage: "https://example.org",
///     dependencies: ["other-plugin"],
///     extra: ["key" => "value"],
///     formats: [LtsvFormat],                 // expressions building `impl Format` values
///     codecs: [MyCodec::new()], drivers: [..], rules: [..], engines: [..],
///     hooks: [Audit],                        // ABI 1.1
/// }
/// ```
///
/// It expands to:
///
/// * `pub fn get_library() -> PluginModule_Ref` — the root module; it can be
///   called in-process (tests, static linking) without any dlopen;
/// * the `#[no_mangle]` `LibHeader` static abi_stable's loader looks up —
///   the same item `#[abi_stable::export_root_module]` generates, written
///   out with `$crate::abi_stable` paths, because that attribute hard-codes
///   `::abi_stable::...` paths and would force every plugin to depend on
///   `abi_stable` directly;
/// * `extern "C"` entry points (metadata and one per provider kind), each
///   panic-guarded: a panic while building providers is returned as a PANIC
///   error. Provider expressions are evaluated lazily, on every call of the
///   entry point for their kind; `api_version` is filled in with
///   [`ABI_VERSION`](crate::ABI_VERSION);
/// * the ABI 1.1 capability symbol `iterable_plugin_hooks_v1` (a
///   [`HooksHeader`](crate::abi::hooks::HooksHeader)), with the hooks listed
///   (possibly none). A 1.0 host never looks it up.
#[macro_export]
macro_rules! export_plugin {
    (name: $name:expr, version: $version:expr $(, $($rest:tt)*)?) => {
        #[doc(hidden)]
        struct __IterablePluginDef;

        impl $crate::__private::PluginDef for __IterablePluginDef {
            fn build(__builder: &mut $crate::__private::PluginBuilder) {
                __builder.name($name);
                __builder.version($version);
                $crate::__export_plugin_items!(__builder; $($($rest)*)?);
            }
        }

        /// The plugin's root module (usable in-process, without dlopen).
        pub fn get_library() -> $crate::PluginModule_Ref {
            // Built once: a module is leaked on purpose (the host keeps it
            // for the life of the process), so no more than one is built.
            static MODULE: ::std::sync::OnceLock<$crate::PluginModule_Ref> =
                ::std::sync::OnceLock::new();
            *MODULE.get_or_init($crate::__private::root_module::<__IterablePluginDef>)
        }

        #[doc(hidden)]
        extern "C" fn __iterable_hooks_module() -> $crate::abi::hooks::HooksModule_Ref {
            static MODULE: ::std::sync::OnceLock<$crate::abi::hooks::HooksModule_Ref> =
                ::std::sync::OnceLock::new();
            *MODULE.get_or_init(|| $crate::__private::hooks_module::<__IterablePluginDef>())
        }

        #[doc(hidden)]
        extern "C" fn __iterable_files_module() -> $crate::abi::files::FilesModule_Ref {
            static MODULE: ::std::sync::OnceLock<$crate::abi::files::FilesModule_Ref> =
                ::std::sync::OnceLock::new();
            *MODULE.get_or_init(|| $crate::__private::files_module::<__IterablePluginDef>())
        }

        /// Everything this plugin exports, for in-process use (the
        /// `testing` harness: `PluginTest::new(plugin_exports())`).
        pub fn plugin_exports() -> $crate::sdk::Exports {
            $crate::sdk::Exports {
                root: get_library,
                hooks: __iterable_hooks_module,
                files: __iterable_files_module,
            }
        }

        /// The library header abi_stable's loader looks up (fixed symbol name,
        /// `abi_stable::library::ROOT_MODULE_LOADER_NAME`).
        #[unsafe(no_mangle)]
        #[allow(non_upper_case_globals)]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::abi_stable::library::LibHeader = {
            extern "C" fn __iterable_erased_root_module()
                -> $crate::abi_stable::library::RootModuleResult
            {
                $crate::abi_stable::library::__call_root_module_loader(get_library)
            }
            // SAFETY: the constructor returns the root module of type
            // `PluginModule_Ref` erased by `__call_root_module_loader`, which is
            // exactly what `from_constructor::<PluginModule_Ref>` requires
            // (this is the expansion of `#[export_root_module]`).
            unsafe {
                $crate::abi_stable::library::LibHeader::from_constructor::<$crate::PluginModule_Ref>(
                    __iterable_erased_root_module,
                    $crate::abi_stable::library::CheckTypeLayout::Yes,
                )
            }
        };

        /// The hooks capability (ABI 1.1), looked up by name after the root
        /// module (`iterable_plugin_api::abi::hooks::HOOKS_SYMBOL`).
        #[unsafe(no_mangle)]
        #[allow(non_upper_case_globals)]
        pub static iterable_plugin_hooks_v1: $crate::abi::hooks::HooksHeader =
            $crate::abi::capability::CapabilityHeader::new(__iterable_hooks_module);

        /// The files capability (ABI 1.1): the formats' file-path entry
        /// points (`iterable_plugin_api::abi::files::FILES_SYMBOL`).
        #[unsafe(no_mangle)]
        #[allow(non_upper_case_globals)]
        pub static iterable_plugin_files_v1: $crate::abi::files::FilesHeader =
            $crate::abi::capability::CapabilityHeader::new(__iterable_files_module);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_plugin_items {
    ($b:ident;) => {};
    ($b:ident; description: $v:expr $(, $($rest:tt)*)?) => {
        $b.description($v);
        $crate::__export_plugin_items!($b; $($($rest)*)?);
    };
    ($b:ident; author: $v:expr $(, $($rest:tt)*)?) => {
        $b.author($v);
        $crate::__export_plugin_items!($b; $($($rest)*)?);
    };
    ($b:ident; license: $v:expr $(, $($rest:tt)*)?) => {
        $b.license($v);
        $crate::__export_plugin_items!($b; $($($rest)*)?);
    };
    ($b:ident; homepage: $v:expr $(, $($rest:tt)*)?) => {
        $b.homepage($v);
        $crate::__export_plugin_items!($b; $($($rest)*)?);
    };
    ($b:ident; dependencies: [$($v:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $( $b.dependency($v); )*
        $crate::__export_plugin_items!($b; $($($rest)*)?);
    };
    ($b:ident; extra: [$($k:expr => $v:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $( $b.extra($k, $v); )*
        $crate::__export_plugin_items!($b; $($($rest)*)?);
    };
    ($b:ident; formats: [$($v:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $( $b.format(|| $v); )*
        $crate::__export_plugin_items!($b; $($($rest)*)?);
    };
    ($b:ident; codecs: [$($v:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $( $b.codec(|| $v); )*
        $crate::__export_plugin_items!($b; $($($rest)*)?);
    };
    ($b:ident; drivers: [$($v:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $( $b.driver(|| $v); )*
        $crate::__export_plugin_items!($b; $($($rest)*)?);
    };
    ($b:ident; rules: [$($v:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $( $b.rule(|| $v); )*
        $crate::__export_plugin_items!($b; $($($rest)*)?);
    };
    ($b:ident; engines: [$($v:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $( $b.engine(|| $v); )*
        $crate::__export_plugin_items!($b; $($($rest)*)?);
    };
    ($b:ident; hooks: [$($v:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $( $b.hook(|| $v); )*
        $crate::__export_plugin_items!($b; $($($rest)*)?);
    };
}

/// What [`export_plugin!`] exports, reachable in-process through the
/// `plugin_exports()` function it generates.
#[derive(Clone, Copy, Debug)]
pub struct Exports {
    /// The root module (ABI 1.0).
    pub root: fn() -> crate::PluginModule_Ref,
    /// The hooks capability's module (ABI 1.1).
    pub hooks: extern "C" fn() -> crate::abi::hooks::HooksModule_Ref,
    /// The files capability's module (ABI 1.1).
    pub files: extern "C" fn() -> crate::abi::files::FilesModule_Ref,
}

/// Runtime support for [`export_plugin!`]; not a public API.
#[doc(hidden)]
pub mod __private {
    use abi_stable::prefix_type::PrefixTypeTrait;
    use abi_stable::std_types::{RResult, RString, RVec, Tuple2};

    use crate::abi::RError;
    use crate::abi::files::{FilesModule, FilesModule_Ref, PathFormatBox};
    use crate::abi::hooks::{HookProviderBox, HooksModule, HooksModule_Ref};
    use crate::abi::{
        CodecProviderBox, DriverProviderBox, EngineProviderBox, FormatProviderBox, PluginMetadata,
        PluginModule, PluginModule_Ref, RuleProviderBox,
    };
    use crate::sdk::adapt::{
        codec_provider, driver_provider, engine_provider, format_provider, rule_provider,
    };
    use crate::sdk::adapt::{hook_provider, path_format_provider};
    use crate::sdk::guard::{guard, install_panic_hook};
    use crate::sdk::traits::Hook;
    use crate::sdk::traits::{Codec, Driver, Engine, Format, Rule};

    /// What one entry-point call wants built.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub enum Want {
        /// Only metadata.
        Metadata,
        /// Format providers.
        Formats,
        /// Codec providers.
        Codecs,
        /// Driver providers.
        Drivers,
        /// Rule providers.
        Rules,
        /// Engine providers.
        Engines,
        /// Hook providers (ABI 1.1).
        Hooks,
        /// The files capability's formats.
        PathFormats,
    }

    /// Collects what `export_plugin!` declares, for one kind at a time.
    pub struct PluginBuilder {
        want: Want,
        meta: PluginMetadata,
        formats: RVec<FormatProviderBox>,
        codecs: RVec<CodecProviderBox>,
        drivers: RVec<DriverProviderBox>,
        rules: RVec<RuleProviderBox>,
        engines: RVec<EngineProviderBox>,
        hooks: RVec<HookProviderBox>,
        path_formats: RVec<PathFormatBox>,
        error: Option<RError>,
    }

    impl PluginBuilder {
        /// A builder for `want`.
        pub fn new(want: Want) -> Self {
            Self {
                want,
                meta: PluginMetadata {
                    api_version: crate::ABI_VERSION.into(),
                    ..PluginMetadata::default()
                },
                formats: RVec::new(),
                codecs: RVec::new(),
                drivers: RVec::new(),
                rules: RVec::new(),
                engines: RVec::new(),
                hooks: RVec::new(),
                path_formats: RVec::new(),
                error: None,
            }
        }
        /// Sets the plugin name.
        pub fn name(&mut self, v: impl AsRef<str>) {
            self.meta.name = v.as_ref().into();
        }
        /// Sets the plugin version.
        pub fn version(&mut self, v: impl AsRef<str>) {
            self.meta.version = v.as_ref().into();
        }
        /// Sets the description.
        pub fn description(&mut self, v: impl AsRef<str>) {
            self.meta.description = v.as_ref().into();
        }
        /// Sets the author.
        pub fn author(&mut self, v: impl AsRef<str>) {
            self.meta.author = v.as_ref().into();
        }
        /// Sets the license.
        pub fn license(&mut self, v: impl AsRef<str>) {
            self.meta.license = v.as_ref().into();
        }
        /// Sets the homepage.
        pub fn homepage(&mut self, v: impl AsRef<str>) {
            self.meta.homepage = v.as_ref().into();
        }
        /// Adds a dependency.
        pub fn dependency(&mut self, v: impl AsRef<str>) {
            self.meta.dependencies.push(v.as_ref().into());
        }
        /// Adds an extra metadata key.
        pub fn extra(&mut self, k: impl AsRef<str>, v: impl AsRef<str>) {
            self.meta
                .extra
                .push(Tuple2(RString::from(k.as_ref()), RString::from(v.as_ref())));
        }
        fn record<T>(&mut self, r: Result<T, RError>) -> Option<T> {
            match r {
                Ok(v) => Some(v),
                Err(e) => {
                    self.error.get_or_insert(e);
                    None
                }
            }
        }
        /// Adds a format (built only when formats are wanted).
        pub fn format<F: Format>(&mut self, make: impl FnOnce() -> F) {
            if self.want == Want::Formats && self.error.is_none() {
                if let Some(p) = self.record(format_provider(make())) {
                    self.formats.push(p);
                }
            } else if self.want == Want::PathFormats && self.error.is_none() {
                if let Some(p) = self.record(path_format_provider(make())) {
                    self.path_formats.push(p);
                }
            }
        }
        /// Adds a codec.
        pub fn codec<C: Codec>(&mut self, make: impl FnOnce() -> C) {
            if self.want == Want::Codecs && self.error.is_none() {
                if let Some(p) = self.record(codec_provider(make())) {
                    self.codecs.push(p);
                }
            }
        }
        /// Adds a driver.
        pub fn driver<D: Driver>(&mut self, make: impl FnOnce() -> D) {
            if self.want == Want::Drivers && self.error.is_none() {
                if let Some(p) = self.record(driver_provider(make())) {
                    self.drivers.push(p);
                }
            }
        }
        /// Adds a rule.
        pub fn rule<R: Rule>(&mut self, make: impl FnOnce() -> R) {
            if self.want == Want::Rules && self.error.is_none() {
                if let Some(p) = self.record(rule_provider(make())) {
                    self.rules.push(p);
                }
            }
        }
        /// Adds an engine.
        pub fn engine<E: Engine>(&mut self, make: impl FnOnce() -> E) {
            if self.want == Want::Engines && self.error.is_none() {
                if let Some(p) = self.record(engine_provider(make())) {
                    self.engines.push(p);
                }
            }
        }
        /// Adds a hook.
        pub fn hook<H: Hook>(&mut self, make: impl FnOnce() -> H) {
            if self.want == Want::Hooks && self.error.is_none() {
                if let Some(p) = self.record(hook_provider(make())) {
                    self.hooks.push(p);
                }
            }
        }
        fn check(&mut self) -> Result<(), RError> {
            match self.error.take() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
    }

    /// Implemented by the type `export_plugin!` generates.
    pub trait PluginDef {
        /// Declares everything (the builder keeps what it wants).
        fn build(builder: &mut PluginBuilder);
    }

    fn run<P: PluginDef, T>(
        want: Want,
        take: impl FnOnce(PluginBuilder) -> T,
    ) -> RResult<T, RError> {
        guard(|| {
            let mut b = PluginBuilder::new(want);
            P::build(&mut b);
            b.check()?;
            Ok(take(b))
        })
        .into()
    }

    extern "C" fn metadata<P: PluginDef>() -> RResult<PluginMetadata, RError> {
        guard(|| {
            let mut b = PluginBuilder::new(Want::Metadata);
            P::build(&mut b);
            b.check()?;
            if b.meta.name.is_empty() {
                return Err(RError::invalid_input("the plugin name is empty"));
            }
            Ok(b.meta)
        })
        .into()
    }
    extern "C" fn formats<P: PluginDef>() -> RResult<RVec<FormatProviderBox>, RError> {
        run::<P, _>(Want::Formats, |b| b.formats)
    }
    extern "C" fn codecs<P: PluginDef>() -> RResult<RVec<CodecProviderBox>, RError> {
        run::<P, _>(Want::Codecs, |b| b.codecs)
    }
    extern "C" fn drivers<P: PluginDef>() -> RResult<RVec<DriverProviderBox>, RError> {
        run::<P, _>(Want::Drivers, |b| b.drivers)
    }
    extern "C" fn rules<P: PluginDef>() -> RResult<RVec<RuleProviderBox>, RError> {
        run::<P, _>(Want::Rules, |b| b.rules)
    }
    extern "C" fn engines<P: PluginDef>() -> RResult<RVec<EngineProviderBox>, RError> {
        run::<P, _>(Want::Engines, |b| b.engines)
    }

    extern "C" fn hooks<P: PluginDef>() -> RResult<RVec<HookProviderBox>, RError> {
        run::<P, _>(Want::Hooks, |b| b.hooks)
    }

    extern "C" fn path_formats<P: PluginDef>() -> RResult<RVec<PathFormatBox>, RError> {
        run::<P, _>(Want::PathFormats, |b| b.path_formats)
    }

    /// Builds the files capability's module for `P` (ABI 1.1).
    pub extern "C" fn files_module<P: PluginDef>() -> FilesModule_Ref {
        install_panic_hook();
        FilesModule {
            formats: path_formats::<P>,
        }
        .leak_into_prefix()
    }

    /// Builds the hooks capability's module for `P` (ABI 1.1).
    pub extern "C" fn hooks_module<P: PluginDef>() -> HooksModule_Ref {
        install_panic_hook();
        HooksModule { hooks: hooks::<P> }.leak_into_prefix()
    }

    /// Builds the root module for `P` (trivial: six function pointers) and
    /// installs the plugin-side panic hook.
    pub fn root_module<P: PluginDef>() -> PluginModule_Ref {
        install_panic_hook();
        PluginModule {
            metadata: metadata::<P>,
            formats: formats::<P>,
            codecs: codecs::<P>,
            drivers: drivers::<P>,
            rules: rules::<P>,
            engines: engines::<P>,
        }
        .leak_into_prefix()
    }
}
