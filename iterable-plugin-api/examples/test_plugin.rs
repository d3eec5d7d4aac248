//! A plugin with deliberate failures, loaded with dlopen by `tests/dylib.rs`
//! to check that panics inside a separately linked plugin (its own std and
//! panic hook) come back as PANIC errors and leave the host alive.
use iterable_plugin_api::prelude::*;

struct Lines;

impl Format for Lines {
    fn info(&self) -> FormatSpec {
        FormatSpec::new("lines").extensions(["lines"])
    }
    fn reader(&self, mut input: Input, _: &Options) -> Result<Box<dyn RowReader>> {
        let mut line = String::new();
        Ok(Box::new(move |row: &mut BatchBuilder<'_>| {
            line.clear();
            if input.read_line(&mut line)? == 0 {
                return Ok(false);
            }
            match line.trim_end() {
                "panic" => panic!("plugin panicked on purpose"),
                text => row.key("line").push_str(text),
            };
            Ok(true)
        }))
    }
}

struct NoPanic;

impl Rule for NoPanic {
    fn info(&self) -> RuleSpec {
        RuleSpec::new("test.no_panic")
    }
    fn check(&self, value: CellRef<'_>) -> std::result::Result<(), String> {
        if value.as_str() == Some("panic") {
            panic!("rule panicked on purpose");
        }
        Ok(())
    }
}

export_plugin! {
    name: "test-plugin",
    version: "0.0.1",
    formats: [Lines],
    rules: [NoPanic],
    engines: [{ panic!("engine constructor panicked"); #[allow(unreachable_code)] NeverEngine }],
}

struct NeverEngine;

impl Engine for NeverEngine {
    fn info(&self) -> EngineSpec {
        EngineSpec::new("never")
    }
    fn execute(
        &self,
        _: &str,
        _: Vec<(String, RowSource)>,
        _: &Options,
    ) -> Result<Box<dyn RowReader>> {
        Err(Error::unsupported("never"))
    }
}
