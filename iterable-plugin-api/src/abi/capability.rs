//! How a 1.x minor adds a capability without touching the 1.0 root module.
//!
//! abi_stable 0.11 refuses a plugin whose root module or vtables have fewer
//! fields than the host's, so nothing can be appended to them within 1.x.
//! Each capability added by a minor is instead an **optional exported
//! symbol** holding a [`CapabilityHeader`]: the host looks it up after the
//! root module has loaded, and its absence means "not supported" (a plugin
//! built for an older minor). Each capability has its own frozen prefix
//! module type `M`, whose layout the host checks against its own before it
//! calls anything, exactly as abi_stable checks the root module.
//!
//! A host older than the capability never looks the symbol up, so a newer
//! plugin loads there and everything else it provides works.

use abi_stable::StableAbi;
use abi_stable::type_layout::TypeLayout;

/// The first bytes of every [`CapabilityHeader`]: a symbol of the right name
/// that holds anything else is refused rather than trusted.
pub const CAPABILITY_MAGIC: [u8; 8] = *b"IDCAP\0\x01\0";

/// What an optional capability symbol points to. Its layout is fixed for
/// every 1.x: only `M` differs between capabilities.
#[repr(C)]
pub struct CapabilityHeader<M: 'static> {
    /// Always [`CAPABILITY_MAGIC`].
    pub magic: [u8; 8],
    /// The major of the ABI the plugin was built against.
    pub abi_major: u32,
    /// The minor of the ABI the plugin was built against.
    pub abi_minor: u32,
    /// The layout of `M` as the plugin sees it; the host compares it with
    /// its own before calling [`CapabilityHeader::module`].
    pub layout: &'static TypeLayout,
    /// Builds the capability's module (panic-guarded by the SDK).
    pub module: extern "C" fn() -> M,
}

impl<M: StableAbi + 'static> CapabilityHeader<M> {
    /// A header for module type `M`, built by `module`.
    pub const fn new(module: extern "C" fn() -> M) -> Self {
        CapabilityHeader {
            magic: CAPABILITY_MAGIC,
            abi_major: super::ABI_MAJOR,
            abi_minor: super::ABI_MINOR,
            layout: <M as StableAbi>::LAYOUT,
            module,
        }
    }
}

// SAFETY: the header is immutable static data (a byte array, integers, a
// pointer to a static layout and a function pointer), read-only from every
// thread.
unsafe impl<M> Sync for CapabilityHeader<M> {}
