//! Formats.

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::RResult;

use crate::abi::RError;
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
