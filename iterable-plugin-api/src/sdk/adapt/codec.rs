//! Codecs: decoders and encoders as wire byte streams.

use std::io::{self, Read, Write};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RNone, ROption, RResult, RSlice, RSliceMut, RSome};

use crate::abi::{
    ByteSink, ByteSinkBox, ByteSource, ByteSourceBox, CodecInfo, CodecProvider, CodecProvider_TO,
    CodecProviderBox,
};
use crate::abi::{RError, RErrorKind};
use crate::sdk::error::Result;
use crate::sdk::guard::{Poison, catch, drop_guarded, guard};
use crate::sdk::io::Encoder;
use crate::sdk::io::Input;
use crate::sdk::io::Output;
use crate::sdk::io::OutputHandle;
use crate::sdk::traits::Codec;

struct DecoderAdapter {
    reader: Option<Box<dyn Read + Send>>,
    poison: Poison,
}

impl ByteSource for DecoderAdapter {
    fn read(&mut self, mut buf: RSliceMut<'_, u8>) -> RResult<usize, RError> {
        let reader = &mut self.reader;
        self.poison
            .run(|| {
                let Some(r) = reader.as_mut() else {
                    return Ok(0);
                };
                let buf = buf.as_mut_slice();
                loop {
                    match r.read(buf) {
                        Ok(n) => return Ok(n.min(buf.len())),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            let mut e = RError::from(e);
                            if e.kind == RErrorKind::IO || e.kind == RErrorKind::PARSE {
                                e.kind = RErrorKind::COMPRESSION;
                            }
                            return Err(e);
                        }
                    }
                }
            })
            .into()
    }
}

impl Drop for DecoderAdapter {
    fn drop(&mut self) {
        drop_guarded(self.reader.take());
    }
}

struct EncoderAdapter {
    encoder: Option<Encoder>,
    output: Option<OutputHandle>,
    poison: Poison,
    /// The outcome of `finish`, repeated by later calls.
    finished: Option<Result<(), RError>>,
}

impl ByteSink for EncoderAdapter {
    fn write(&mut self, buf: RSlice<'_, u8>) -> RResult<(), RError> {
        let enc = &mut self.encoder;
        self.poison
            .run(|| {
                let e = enc
                    .as_mut()
                    .ok_or_else(|| RError::invalid_input("write after finish"))?;
                e.write_all(buf.as_slice()).map_err(RError::from)
            })
            .into()
    }
    fn flush(&mut self) -> RResult<(), RError> {
        let enc = &mut self.encoder;
        self.poison
            .run(|| match enc.as_mut() {
                Some(e) => e.flush().map_err(RError::from),
                None => Ok(()),
            })
            .into()
    }
    fn finish(&mut self) -> RResult<(), RError> {
        if let Some(done) = &self.finished {
            return done.clone().into();
        }
        let Self {
            encoder,
            output,
            poison,
            ..
        } = self;
        let result = poison.run(|| {
            if let Some(mut e) = encoder.take() {
                let r = e.finish();
                drop(e);
                r?;
            }
            match output.take() {
                Some(h) => h.finish(),
                None => Ok(()),
            }
        });
        self.finished = Some(result.clone());
        result.into()
    }
}

impl Drop for EncoderAdapter {
    fn drop(&mut self) {
        drop_guarded(self.encoder.take());
    }
}

struct CodecAdapter<C> {
    codec: C,
    info: CodecInfo,
}

impl<C: Codec> CodecProvider for CodecAdapter<C> {
    fn info(&self) -> CodecInfo {
        self.info.clone()
    }
    fn decoder(&self, source: ByteSourceBox) -> RResult<ByteSourceBox, RError> {
        guard(|| {
            let reader = self.codec.decoder(Input::new(source))?;
            Ok(ByteSourceBox::from_value(
                DecoderAdapter {
                    reader: Some(reader),
                    poison: Poison::default(),
                },
                TD_Opaque,
            ))
        })
        .into()
    }
    fn encoder(&self, sink: ByteSinkBox, level: ROption<i32>) -> RResult<ByteSinkBox, RError> {
        guard(|| {
            let (min, max) = (self.info.level_min, self.info.level_max);
            let level = match level {
                RSome(l) if l < min || l > max => {
                    return Err(RError::new(
                        RErrorKind::INVALID_OPTION,
                        format!(
                            "compression level {l} is out of range for `{}` ({min}..={max})",
                            self.info.id
                        ),
                    ));
                }
                RSome(l) => l,
                RNone => self.info.level_default,
            };
            let (output, handle) = Output::new(sink);
            let encoder = self.codec.encoder(output, level)?;
            Ok(ByteSinkBox::from_value(
                EncoderAdapter {
                    encoder: Some(encoder),
                    output: Some(handle),
                    poison: Poison::default(),
                    finished: None,
                },
                TD_Opaque,
            ))
        })
        .into()
    }
}

/// Exposes a [`Codec`] as a wire provider.
pub fn codec_provider<C: Codec>(codec: C) -> Result<CodecProviderBox, RError> {
    let info = catch(|| codec.info())?.into_info();
    Ok(CodecProvider_TO::from_value(
        CodecAdapter { codec, info },
        TD_Opaque,
    ))
}
