//! Formats.

use std::path::Path;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RNone, ROption, RResult, RSome, RStr, RString};

use crate::abi::RError;
use crate::abi::files::{PathFormat, PathFormat_TO, PathFormatBox};
use crate::abi::{
    ByteSinkBox, ByteSourceBox, FormatInfo, FormatProvider, FormatProvider_TO, FormatProviderBox,
    ROptions, RecordSinkBox, RecordSourceBox,
};
use crate::sdk::adapt::records::reader_source;
use crate::sdk::adapt::records::writer_sink_with;
use crate::sdk::error::Result;
use crate::sdk::guard::{catch, guard};
use crate::sdk::io::Input;
use crate::sdk::io::Output;
use crate::sdk::options::Options;
use crate::sdk::traits::Format;
struct FormatAdapter<F> {
    format: F,
    info: FormatInfo,
    lenient: bool,
}

impl<F: Format> FormatAdapter<F> {
    fn options(&self, raw: &ROptions) -> Result<Options, RError> {
        Options::checked(
            raw,
            &self.info.options,
            "format",
            &self.info.id,
            self.lenient,
        )
    }
}

impl<F: Format> FormatProvider for FormatAdapter<F> {
    fn info(&self) -> FormatInfo {
        self.info.clone()
    }

    fn open_reader(
        &self,
        source: ByteSourceBox,
        options: ROptions,
    ) -> RResult<RecordSourceBox, RError> {
        guard(|| {
            let opts = self.options(&options)?;
            let reader = self.format.reader(Input::new(source), &opts)?;
            Ok(reader_source(reader))
        })
        .into()
    }

    fn open_writer(&self, sink: ByteSinkBox, options: ROptions) -> RResult<RecordSinkBox, RError> {
        guard(|| {
            let opts = self.options(&options)?;
            let (output, handle) = Output::new(sink);
            let writer = self.format.writer(output, &opts)?;
            Ok(writer_sink_with(writer, Some(handle)))
        })
        .into()
    }
}

impl<F: Format> PathFormat for FormatAdapter<F> {
    fn id(&self) -> RString {
        self.info.id.clone()
    }

    fn open_path(
        &self,
        path: RStr<'_>,
        options: ROptions,
    ) -> RResult<ROption<RecordSourceBox>, RError> {
        guard(|| {
            let opts = self.options(&options)?;
            match self.format.path_reader(Path::new(path.as_str()), &opts) {
                None => Ok(RNone),
                Some(reader) => Ok(RSome(reader_source(reader?))),
            }
        })
        .into()
    }

    fn schema_of_path(
        &self,
        path: RStr<'_>,
        options: ROptions,
    ) -> RResult<ROption<RString>, RError> {
        guard(|| {
            let opts = self.options(&options)?;
            match self.format.path_schema(Path::new(path.as_str()), &opts) {
                None => Ok(RNone),
                Some(schema) => Ok(RSome(RString::from(schema?))),
            }
        })
        .into()
    }
}

/// Exposes a [`Format`]'s file-path entry points (the files capability).
pub fn path_format_provider<F: Format>(format: F) -> Result<PathFormatBox, RError> {
    let spec = catch(|| format.info())?;
    let lenient = spec.lenient;
    let info = spec.into_info();
    Ok(PathFormat_TO::from_value(
        FormatAdapter {
            format,
            info,
            lenient,
        },
        TD_Opaque,
    ))
}

/// Exposes a [`Format`] as a wire provider (its `info()` is called once, guarded).
pub fn format_provider<F: Format>(format: F) -> Result<FormatProviderBox, RError> {
    let spec = catch(|| format.info())?;
    let lenient = spec.lenient;
    let info = spec.into_info();
    Ok(FormatProvider_TO::from_value(
        FormatAdapter {
            format,
            info,
            lenient,
        },
        TD_Opaque,
    ))
}
