//! Hooks' options are checked by the registry for every hook, whoever
//! provides it (a built-in, a registration, a plugin of any flavour): an
//! undeclared key or a value outside the declared choices is refused before
//! the hook opens, and the declared defaults are filled in.

use std::sync::{Arc, Mutex};

use iterable_core::{
    Batch, Error, ErrorKind, Hook, HookInfo, OptionSpec, OptionType, Options, Provider, Registry,
    Result, RunInfo, RunObserver, RunSummary,
};

/// The options of each open, as pairs.
type Opened = Arc<Mutex<Vec<Vec<(String, String)>>>>;

/// Records the options it was opened with.
struct Seen {
    info: HookInfo,
    opened: Opened,
}

struct Nothing;

impl RunObserver for Nothing {
    fn batch(&mut self, _: &Batch) -> Result<()> {
        Ok(())
    }
    fn error(&mut self, _: &Error) -> Result<()> {
        Ok(())
    }
    fn close(&mut self, _: &RunSummary) -> Result<()> {
        Ok(())
    }
}

impl Hook for Seen {
    fn info(&self) -> &HookInfo {
        &self.info
    }
    fn open(&self, _: &RunInfo, options: &Options) -> Result<Box<dyn RunObserver>> {
        let pairs = options
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        self.opened.lock().unwrap().push(pairs);
        Ok(Box::new(Nothing))
    }
}

#[test]
fn hook_options_are_checked_and_defaults_filled_in() {
    let opened: Opened = Arc::new(Mutex::new(Vec::new()));
    let info = HookInfo {
        id: "seen".into(),
        description: String::new(),
        options: vec![
            OptionSpec::new(
                "count",
                OptionType::Choice(vec!["rows".into(), "batches".into()]),
                "what to count",
            )
            .default_value("rows"),
            OptionSpec::new("out", OptionType::Text, "where"),
        ],
    };
    let mut r = Registry::with_builtins();
    r.register(Provider::Hook(Arc::new(Seen {
        info,
        opened: Arc::clone(&opened),
    })))
    .unwrap();
    let run = RunInfo::default();
    let with = |pairs: &[(&str, &str)]| -> Vec<(String, Options)> {
        vec![("seen".into(), pairs.iter().copied().collect())]
    };

    let e = r.start_run(&run, &with(&[("nosuch", "1")])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownOption);
    assert_eq!(
        e.to_string(),
        "unknown option 'nosuch' for hook 'seen'; valid options: count, out"
    );
    let e = r.start_run(&run, &with(&[("count", "lines")])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidOption);
    assert!(opened.lock().unwrap().is_empty(), "never opened");

    r.start_run(&run, &with(&[("out", "x")])).unwrap();
    r.start_run(&run, &with(&[("count", "batches")])).unwrap();
    let opened = opened.lock().unwrap();
    let sorted = |v: &Vec<(String, String)>| {
        let mut v = v.clone();
        v.sort();
        v
    };
    assert_eq!(
        sorted(&opened[0]),
        [("count".into(), "rows".into()), ("out".into(), "x".into())]
    );
    assert_eq!(sorted(&opened[1]), [("count".into(), "batches".into())]);
}
