//! A plugin that panics where its feature says: while giving its metadata
//! or while listing one kind of provider. tests/faults.rs builds it once
//! per feature, outside the workspace, for the fault corpus.

use iterable_plugin_api::prelude::*;

fn maybe_panic(site: &str, enabled: bool) {
    if enabled {
        panic!("faulty plugin panics in {site}");
    }
}

fn name() -> &'static str {
    maybe_panic("metadata", cfg!(feature = "panic-metadata"));
    "faulty"
}

/// One line per record.
pub struct Lines;

impl Format for Lines {
    fn info(&self) -> FormatSpec {
        maybe_panic("formats", cfg!(feature = "panic-formats"));
        FormatSpec::new("faultylines").extensions(["faulty"])
    }

    fn reader(&self, input: Input, _options: &Options) -> Result<Box<dyn RowReader>> {
        Ok(input.line_reader(|line, row| {
            row.key("line").push_str(line);
            Ok(())
        }))
    }
}

/// A codec that only exists to panic while being listed.
pub struct Nothing;

impl Codec for Nothing {
    fn info(&self) -> CodecSpec {
        maybe_panic("codecs", cfg!(feature = "panic-codecs"));
        CodecSpec::new("faultycodec").extensions(["fz"])
    }

    fn decoder(&self, input: Input) -> Result<Box<dyn std::io::Read + Send>> {
        Ok(Box::new(input))
    }
}

/// A driver that only exists to panic while being listed.
pub struct NoDb;

impl Driver for NoDb {
    fn info(&self) -> DriverSpec {
        maybe_panic("drivers", cfg!(feature = "panic-drivers"));
        DriverSpec::new("faultydb").schemes(["faultydb"])
    }

    fn connect(&self, _uri: &str, _options: &Options) -> Result<Box<dyn Connection>> {
        Err(Error::driver("no database here"))
    }
}

/// A rule that only exists to panic while being listed.
pub struct AnyRule;

impl Rule for AnyRule {
    fn info(&self) -> RuleSpec {
        maybe_panic("rules", cfg!(feature = "panic-rules"));
        RuleSpec::new("faulty.any")
    }

    fn check(&self, _value: CellRef<'_>) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// An engine that only exists to panic while being listed.
pub struct NoEngine;

impl Engine for NoEngine {
    fn info(&self) -> EngineSpec {
        maybe_panic("engines", cfg!(feature = "panic-engines"));
        EngineSpec::new("faultyengine")
    }

    fn execute(&self, _q: &str, _i: Vec<(String, RowSource)>, _o: &Options) -> Result<Box<dyn RowReader>> {
        Err(Error::engine("nothing to run"))
    }
}

export_plugin! {
    name: name(),
    version: "0.1.0",
    formats: [Lines],
    codecs: [Nothing],
    drivers: [NoDb],
    rules: [AnyRule],
    engines: [NoEngine],
}
