//! Bytes across the C ABI: the host's streams lent to a plugin
//! ([`HostSource`], [`HostSink`]), and a plugin's byte streams as the
//! core's reader and sink ([`PluginSource`], [`PluginSink`]).

use std::io::{self, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::PluginErrorExt;
use iterable_core::io::{BoxRead, BoxSink, ByteSink};
use iterable_core::{Error, ErrorKind};
use iterable_plugin_api::c::{IdpByteSink, IdpByteSource, IdpError, IdpStatus};

use super::{set_error, take_error};

/// What a host callback keeps: the stream, and the first error it met (the
/// plugin gets its text; the host reports the error itself, kind and all).
struct Lent<T> {
    inner: T,
    error: Option<Error>,
}

/// The host's input, lent to a plugin as an `IdpByteSource`.
pub(crate) struct HostSource {
    raw: Box<IdpByteSource>,
}

// SAFETY: private_data is the Box<Lent<BoxRead>> owned by this value.
unsafe impl Send for HostSource {}

impl HostSource {
    pub fn new(input: BoxRead, size_hint: Option<u64>) -> HostSource {
        let state = Box::new(Lent {
            inner: input,
            error: None,
        });
        HostSource {
            raw: Box::new(IdpByteSource {
                struct_size: std::mem::size_of::<IdpByteSource>() as u32,
                read: Some(host_read),
                release: None,
                private_data: Box::into_raw(state).cast(),
                size_hint: size_hint.and_then(|s| i64::try_from(s).ok()).unwrap_or(-1),
            }),
        }
    }

    /// The pointer a plugin reads through; valid while `self` lives.
    pub fn as_ptr(&mut self) -> *mut IdpByteSource {
        &mut *self.raw
    }

    /// The error reading the input met, if any (taken once).
    pub fn take_error(&mut self) -> Option<Error> {
        // SAFETY: private_data is our Lent<BoxRead>.
        let state = unsafe { &mut *(self.raw.private_data as *mut Lent<BoxRead>) };
        state.error.take()
    }
}

impl Drop for HostSource {
    fn drop(&mut self) {
        // SAFETY: made by Box::into_raw in `new`, freed once here.
        drop(unsafe { Box::from_raw(self.raw.private_data as *mut Lent<BoxRead>) });
    }
}

unsafe extern "C" fn host_read(
    s: *mut IdpByteSource,
    buf: *mut u8,
    cap: usize,
    err: *mut IdpError,
) -> i64 {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `s` is the source the host lent; its private_data is ours.
        let state = unsafe { &mut *((*s).private_data as *mut Lent<BoxRead>) };
        if buf.is_null() || cap == 0 {
            return Ok(0);
        }
        // SAFETY: the plugin passes `cap` writable bytes at `buf`.
        let out = unsafe { std::slice::from_raw_parts_mut(buf, cap) };
        loop {
            match state.inner.read(out) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let e = Error::from_io(e);
                    set_error(err, &e);
                    state.error = Some(e);
                    return Err(());
                }
            }
        }
    }));
    match result {
        Ok(Ok(n)) => n as i64,
        Ok(Err(())) => -1,
        Err(_) => {
            set_error(
                err,
                &Error::new(
                    ErrorKind::Other,
                    "the host panicked while reading the input",
                ),
            );
            -1
        }
    }
}

/// The host's output, lent to a plugin as an `IdpByteSink` (no finish and
/// no release: the host completes it after the plugin is done).
pub(crate) struct HostSink {
    raw: Box<IdpByteSink>,
}

// SAFETY: private_data is the Box<Lent<Option<BoxSink>>> owned by this value.
unsafe impl Send for HostSink {}

type SinkState = Lent<Option<BoxSink>>;

impl HostSink {
    pub fn new(output: BoxSink) -> HostSink {
        let state = Box::new(Lent {
            inner: Some(output),
            error: None,
        });
        HostSink {
            raw: Box::new(IdpByteSink {
                struct_size: std::mem::size_of::<IdpByteSink>() as u32,
                write: Some(host_write),
                finish: None,
                release: None,
                private_data: Box::into_raw(state).cast(),
            }),
        }
    }

    pub fn as_ptr(&mut self) -> *mut IdpByteSink {
        &mut *self.raw
    }

    fn state(&mut self) -> &mut SinkState {
        // SAFETY: private_data is our SinkState.
        unsafe { &mut *(self.raw.private_data as *mut SinkState) }
    }

    /// The error writing met, if any (taken once).
    pub fn take_error(&mut self) -> Option<Error> {
        self.state().error.take()
    }

    /// Completes the output (after the plugin's writer finished).
    pub fn finish(mut self) -> Result<(), Error> {
        match self.state().inner.take() {
            Some(sink) => sink.finish().map_err(Error::from_io),
            None => Ok(()),
        }
    }
}

impl Drop for HostSink {
    fn drop(&mut self) {
        // SAFETY: made by Box::into_raw in `new`, freed once here. A sink
        // dropped unfinished abandons its output (the core's sinks remove
        // their temporary file).
        drop(unsafe { Box::from_raw(self.raw.private_data as *mut SinkState) });
    }
}

unsafe extern "C" fn host_write(
    s: *mut IdpByteSink,
    buf: *const u8,
    len: usize,
    err: *mut IdpError,
) -> IdpStatus {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `s` is the sink the host lent; its private_data is ours.
        let state = unsafe { &mut *((*s).private_data as *mut SinkState) };
        if len == 0 {
            return Ok(());
        }
        if buf.is_null() {
            let e = Error::new(ErrorKind::InvalidInput, "write: a null buffer");
            return Err(set_error(err, &e));
        }
        // SAFETY: the plugin passes `len` readable bytes at `buf`.
        let data = unsafe { std::slice::from_raw_parts(buf, len) };
        let out = match state.inner.as_mut() {
            Some(o) => o,
            None => {
                let e = Error::new(
                    ErrorKind::InvalidInput,
                    "write after the output was finished",
                );
                return Err(set_error(err, &e));
            }
        };
        out.write_all(data).map_err(|e| {
            let e = Error::from_io(e);
            let code = set_error(err, &e);
            state.error = Some(e);
            code
        })
    }));
    match result {
        Ok(Ok(())) => 0,
        Ok(Err(code)) => code,
        Err(_) => set_error(
            err,
            &Error::new(
                ErrorKind::Other,
                "the host panicked while writing the output",
            ),
        ),
    }
}

/// A plugin's byte source (a decoder) as a reader. Released on drop, once.
pub(crate) struct PluginSource {
    raw: IdpByteSource,
    plugin: String,
    /// The host's input the plugin reads from; dropped after `raw` is released.
    input: Option<HostSource>,
}

// SAFETY: the plugin's source is used from one thread at a time.
unsafe impl Send for PluginSource {}

impl PluginSource {
    /// # Safety
    /// `raw` was filled by the plugin as the header describes.
    pub unsafe fn new(raw: IdpByteSource, plugin: &str, input: HostSource) -> PluginSource {
        PluginSource {
            raw,
            plugin: plugin.to_owned(),
            input: Some(input),
        }
    }
}

impl Read for PluginSource {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(read) = self.raw.read else {
            return Err(
                Error::new(ErrorKind::Other, "the decoder has no read function")
                    .with_plugin(&self.plugin)
                    .into_io(),
            );
        };
        let mut e = IdpError::empty();
        // SAFETY: the plugin's own source and callback.
        let n = unsafe { read(&mut self.raw, buf.as_mut_ptr(), buf.len(), &mut e) };
        if n >= 0 {
            return Ok((n as usize).min(buf.len()));
        }
        // The input's own error first: it is the cause.
        let cause = self.input.as_mut().and_then(HostSource::take_error);
        let err = take_error(
            &mut e,
            iterable_plugin_api::c::IDP_ERR_IO,
            &self.plugin,
            "decoding",
        );
        Err(match cause {
            Some(c) => c,
            None => Error::new(ErrorKind::Compression, err.message().to_owned())
                .with_plugin(&self.plugin),
        }
        .into_io())
    }
}

impl Drop for PluginSource {
    fn drop(&mut self) {
        super::release(&mut self.raw);
        self.input.take();
    }
}

/// A plugin's byte sink (an encoder) as a core sink: `finish` finishes the
/// plugin's stream, then the host's output. Released on drop, once.
pub(crate) struct PluginSink {
    raw: IdpByteSink,
    plugin: String,
    output: Option<HostSink>,
}

// SAFETY: the plugin's sink is used from one thread at a time.
unsafe impl Send for PluginSink {}

impl PluginSink {
    /// # Safety
    /// `raw` was filled by the plugin as the header describes.
    pub unsafe fn new(raw: IdpByteSink, plugin: &str, output: HostSink) -> PluginSink {
        PluginSink {
            raw,
            plugin: plugin.to_owned(),
            output: Some(output),
        }
    }

    fn failed(&mut self, e: &mut IdpError, status: IdpStatus, what: &str) -> io::Error {
        let cause = self.output.as_mut().and_then(HostSink::take_error);
        cause
            .unwrap_or_else(|| take_error(e, status, &self.plugin, what))
            .into_io()
    }
}

impl Write for PluginSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(write) = self.raw.write else {
            return Err(io::Error::other("the encoder has no write function"));
        };
        let mut e = IdpError::empty();
        // SAFETY: the plugin's own sink and callback.
        let st = unsafe { write(&mut self.raw, buf.as_ptr(), buf.len(), &mut e) };
        if st == 0 {
            Ok(buf.len())
        } else {
            Err(self.failed(&mut e, st, "encoding"))
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl ByteSink for PluginSink {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        if let Some(finish) = self.raw.finish {
            let mut e = IdpError::empty();
            // SAFETY: the plugin's own sink and callback.
            let st = unsafe { finish(&mut self.raw, &mut e) };
            if st != 0 {
                return Err(self.failed(&mut e, st, "finishing the stream"));
            }
        }
        match self.output.take() {
            Some(o) => o.finish().map_err(Error::into_io),
            None => Ok(()),
        }
    }
}

impl Drop for PluginSink {
    fn drop(&mut self) {
        super::release(&mut self.raw);
        self.output.take();
    }
}
