//! The files capability (ABI 1.1): formats that read a file by its path.
//!
//! A format whose readers must seek (Parquet's footer is at the end of the
//! file, a workbook is a zip archive) can open a plain file directly
//! instead of the stream the host otherwise hands over, and can say what a
//! file's schema is, so that a conversion between two typed formats keeps
//! every column's type. Exported through the optional symbol
//! [`FILES_SYMBOL`], as every 1.x capability is (see `docs/abi-policy.md`);
//! a host without it, or a plugin without it, streams the file as in 1.0.

#![allow(non_camel_case_types)]

use abi_stable::StableAbi;
use abi_stable::sabi_trait;
use abi_stable::std_types::{RBox, ROption, RResult, RStr, RString, RVec};

use super::capability::CapabilityHeader;
use super::describe::ROptions;
use super::error::RError;
use super::objects::RecordSourceBox;

/// The exported symbol of the files capability.
pub const FILES_SYMBOL: &str = "iterable_plugin_files_v1";

/// One format's file-path entry points. Frozen once released.
#[sabi_trait]
pub trait PathFormat: Send + Sync {
    /// The id of the format (as in its `FormatInfo`).
    fn id(&self) -> RString;

    /// Opens a reader on the plain file at `path` (UTF-8), with the same
    /// options as `open_reader`; `RNone` when this format reads streams
    /// only.
    fn open_path(
        &self,
        path: RStr<'_>,
        options: ROptions,
    ) -> RResult<ROption<RecordSourceBox>, RError>;

    /// The schema of the file at `path`, as the text its writer's `schema`
    /// option takes; `RNone` when the format has no such notion.
    #[sabi(last_prefix_field)]
    fn schema_of_path(
        &self,
        path: RStr<'_>,
        options: ROptions,
    ) -> RResult<ROption<RString>, RError>;
}

/// An owned, type-erased [`PathFormat`].
pub type PathFormatBox = PathFormat_TO<'static, RBox<()>>;

/// The module behind [`FILES_SYMBOL`].
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = FilesModule_Ref)))]
#[sabi(missing_field(panic))]
pub struct FilesModule {
    /// The plugin's formats that read paths (possibly none).
    #[sabi(last_prefix_field)]
    pub formats: extern "C" fn() -> RResult<RVec<PathFormatBox>, RError>,
}

/// The exported header of the files capability.
pub type FilesHeader = CapabilityHeader<FilesModule_Ref>;
