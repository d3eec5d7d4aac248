//! The registry: every provider of each kind, by priority.
//!
//! Built-ins come first, then providers registered from Rust code, then
//! plugins (in the order the host adds them: earlier plugin directories
//! first). A later provider with the same id is *shadowed*: it stays in the
//! listing, marked with what shadows it, but lookups never return it.
//!
//! Two things can change that order:
//! * [`Registry::register_override`] replaces a *registered* id from code;
//!   it replaces a built-in id only when the configuration allows it
//!   ([`Registry::allow_override`]).
//! * A plugin takes over a built-in or registered id only when the
//!   configuration allows that id.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Origin, Result};
use crate::provider::{Codec, Driver, Engine, Format, Hook, Rule};

/// Where a provider comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProviderSource {
    /// Compiled into the core.
    Builtin,
    /// Registered from Rust code by the application.
    Registered,
    /// Added from outside the core, discovered at run time (a plugin):
    /// it stands after built-in and registered providers, and never fails
    /// to be added (a conflict leaves it shadowed).
    External(Origin),
}

impl ProviderSource {
    fn rank(&self) -> u8 {
        match self {
            ProviderSource::Builtin => 0,
            ProviderSource::Registered => 1,
            ProviderSource::External(_) => 2,
        }
    }
}

impl fmt::Display for ProviderSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderSource::Builtin => f.write_str("builtin"),
            ProviderSource::Registered => f.write_str("registered"),
            ProviderSource::External(o) => write!(f, "{}:{}", o.kind, o.name),
        }
    }
}

/// One provider of any kind, for registration.
#[derive(Clone)]
pub enum Provider {
    /// A file format.
    Format(Arc<dyn Format>),
    /// A compression codec.
    Codec(Arc<dyn Codec>),
    /// A database driver.
    Driver(Arc<dyn Driver>),
    /// A validation rule.
    Rule(Arc<dyn Rule>),
    /// A processing engine.
    Engine(Arc<dyn Engine>),
    /// A hook that observes runs.
    Hook(Arc<dyn Hook>),
}

impl Provider {
    /// The id (a rule's name).
    pub fn id(&self) -> &str {
        match self {
            Provider::Format(p) => &p.info().id,
            Provider::Codec(p) => &p.info().id,
            Provider::Driver(p) => &p.info().id,
            Provider::Rule(p) => &p.info().name,
            Provider::Engine(p) => &p.info().id,
            Provider::Hook(p) => &p.info().id,
        }
    }

    /// The kind, as a word: `format`, `codec`, `driver`, `rule`, `engine`, `hook`.
    pub fn kind(&self) -> &'static str {
        match self {
            Provider::Format(_) => "format",
            Provider::Codec(_) => "codec",
            Provider::Driver(_) => "driver",
            Provider::Rule(_) => "rule",
            Provider::Engine(_) => "engine",
            Provider::Hook(_) => "hook",
        }
    }
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.kind(), self.id())
    }
}

/// A provider as the registry keeps it.
#[derive(Debug)]
pub struct Entry<T: ?Sized> {
    /// The id (a rule's name).
    pub id: String,
    /// The provider itself.
    pub provider: Arc<T>,
    /// Where it comes from.
    pub source: ProviderSource,
    /// When set, the entry that wins this id instead.
    pub shadowed_by: Option<ProviderSource>,
    replaces: bool,
}

/// Where one entry of any kind stands ([`Registry::placements`]).
#[derive(Clone, Copy, Debug)]
pub struct Placement<'a> {
    /// `"format"`, `"codec"`, `"driver"`, `"rule"`, `"engine"` or `"hook"`.
    pub kind: &'static str,
    /// The id (a rule's name).
    pub id: &'a str,
    /// Where it comes from.
    pub source: &'a ProviderSource,
    /// When set, the entry that wins this id instead.
    pub shadowed_by: Option<&'a ProviderSource>,
}

struct Kind<T: ?Sized> {
    entries: Vec<Entry<T>>,
    /// The index of the entry that wins each id.
    winners: HashMap<String, usize>,
}

impl<T: ?Sized> Clone for Kind<T> {
    fn clone(&self) -> Self {
        Kind {
            entries: self.entries.clone(),
            winners: self.winners.clone(),
        }
    }
}

impl<T: ?Sized> Default for Kind<T> {
    fn default() -> Self {
        Kind {
            entries: Vec::new(),
            winners: HashMap::new(),
        }
    }
}

impl<T: ?Sized> Kind<T> {
    /// Adds an entry after every entry of its rank or lower. An entry added
    /// at the end (plugins, in the order found) is resolved on its own, in
    /// constant time: adding many plugins stays linear.
    fn insert(
        &mut self,
        id: String,
        provider: Arc<T>,
        source: ProviderSource,
        replaces: bool,
        allow: &BTreeSet<String>,
    ) {
        let at = match self.entries.last() {
            Some(last) if last.source.rank() > source.rank() => self
                .entries
                .iter()
                .position(|e| e.source.rank() > source.rank())
                .unwrap_or(self.entries.len()),
            _ => self.entries.len(),
        };
        let entry = Entry {
            id,
            provider,
            source,
            shadowed_by: None,
            replaces,
        };
        if at < self.entries.len() {
            self.entries.insert(at, entry);
            self.resolve(allow);
            return;
        }
        // Appended last: exactly the last step of `resolve`.
        self.entries.push(entry);
        let new = self.entries.len() - 1;
        let id = &self.entries[new].id;
        match self.winners.get(id).copied() {
            None => {
                self.winners.insert(id.clone(), new);
            }
            Some(w) => {
                if takes_over(&self.entries[new], &self.entries[w], allow) {
                    let (id, by) = (id.clone(), self.entries[new].source.clone());
                    for e in self.entries[..new].iter_mut().filter(|e| e.id == id) {
                        e.shadowed_by = Some(by.clone());
                    }
                    self.winners.insert(id, new);
                } else {
                    self.entries[new].shadowed_by = Some(self.entries[w].source.clone());
                }
            }
        }
    }

    /// Recomputes which entry wins each id: in order, a later entry wins
    /// over the current winner only when it takes over.
    fn resolve(&mut self, allow: &BTreeSet<String>) {
        self.winners.clear();
        for i in 0..self.entries.len() {
            match self.winners.get(&self.entries[i].id).copied() {
                None => {
                    self.winners.insert(self.entries[i].id.clone(), i);
                }
                Some(w) => {
                    if takes_over(&self.entries[i], &self.entries[w], allow) {
                        self.winners.insert(self.entries[i].id.clone(), i);
                    }
                }
            }
        }
        for i in 0..self.entries.len() {
            let w = self.winners[&self.entries[i].id];
            self.entries[i].shadowed_by = (w != i).then(|| self.entries[w].source.clone());
        }
    }

    fn active(&self) -> impl Iterator<Item = &Entry<T>> {
        self.entries.iter().filter(|e| e.shadowed_by.is_none())
    }

    fn winner(&self, id: &str) -> Option<&Entry<T>> {
        self.winners.get(id).map(|&w| &self.entries[w])
    }

    fn get(&self, id: &str) -> Option<&Arc<T>> {
        self.winner(id).map(|e| &e.provider)
    }

    fn has_active(&self, id: &str) -> Option<&ProviderSource> {
        self.winner(id).map(|e| &e.source)
    }

    fn ids(&self) -> Vec<String> {
        self.active().map(|e| e.id.clone()).collect()
    }
}

impl<T: ?Sized> Clone for Entry<T> {
    fn clone(&self) -> Self {
        Entry {
            id: self.id.clone(),
            provider: Arc::clone(&self.provider),
            source: self.source.clone(),
            shadowed_by: self.shadowed_by.clone(),
            replaces: self.replaces,
        }
    }
}

fn takes_over<T: ?Sized>(new: &Entry<T>, cur: &Entry<T>, allow: &BTreeSet<String>) -> bool {
    match (&new.source, &cur.source) {
        // Registered over registered: only with the explicit override flag.
        (ProviderSource::Registered, ProviderSource::Registered) => new.replaces,
        // Registered over a built-in: the flag and the configuration.
        (ProviderSource::Registered, ProviderSource::Builtin) => {
            new.replaces && allow.contains(&new.id)
        }
        // An external provider over anything but an external one: only
        // when configured.
        (ProviderSource::External(_), ProviderSource::Builtin | ProviderSource::Registered) => {
            allow.contains(&new.id)
        }
        // Between external providers the earlier one wins.
        _ => false,
    }
}

/// All providers, by kind and priority.
#[derive(Clone, Default)]
pub struct Registry {
    formats: Kind<dyn Format>,
    codecs: Kind<dyn Codec>,
    drivers: Kind<dyn Driver>,
    rules: Kind<dyn Rule>,
    engines: Kind<dyn Engine>,
    hooks: Kind<dyn Hook>,
    allow: BTreeSet<String>,
    /// Sources from outside that failed before saying what they provide
    /// (see [`Registry::add_unknown_claims`]).
    unknown: Vec<(Origin, String)>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("formats", &self.formats.ids())
            .field("codecs", &self.codecs.ids())
            .field("drivers", &self.drivers.ids())
            .field("rules", &self.rules.ids())
            .field("engines", &self.engines.ids())
            .field("hooks", &self.hooks.ids())
            .finish()
    }
}

impl Registry {
    /// A registry with nothing in it. Most callers want [`Registry::with_builtins`].
    pub fn empty() -> Self {
        Registry::default()
    }

    /// A registry holding the built-in formats, codecs and rules.
    pub fn with_builtins() -> Self {
        let mut r = Registry::empty();
        for p in crate::builtins() {
            r.add(p, ProviderSource::Builtin, false);
        }
        r
    }

    /// Allows plugins (and overriding registrations) to take over these ids,
    /// built-in ones included. This is the `allow_override` configuration.
    pub fn allow_override<I: IntoIterator<Item = S>, S: Into<String>>(&mut self, ids: I) {
        self.allow.extend(ids.into_iter().map(Into::into));
        self.resolve();
    }

    /// The ids that configuration allows to be overridden.
    pub fn allowed_overrides(&self) -> impl Iterator<Item = &str> {
        self.allow.iter().map(String::as_str)
    }

    /// Registers a provider from Rust code. It fails with
    /// [`ErrorKind::Conflict`] when the id is already taken; use
    /// [`Registry::register_override`] to replace a registered provider.
    pub fn register(&mut self, provider: Provider) -> Result<()> {
        if let Some(src) = self.active_source(&provider) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "{} '{}' is already provided ({src}); use register_override to replace it",
                    provider.kind(),
                    provider.id()
                ),
            ));
        }
        self.add(provider, ProviderSource::Registered, false);
        Ok(())
    }

    /// Registers a provider that replaces a registered one with the same id.
    /// A built-in id can be replaced only when [`Registry::allow_override`]
    /// names it; otherwise this fails with [`ErrorKind::Conflict`].
    pub fn register_override(&mut self, provider: Provider) -> Result<()> {
        if self.active_source(&provider) == Some(ProviderSource::Builtin)
            && !self.allow.contains(provider.id())
        {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "{} '{}' is built in; list it in allow_override to replace it",
                    provider.kind(),
                    provider.id()
                ),
            ));
        }
        self.add(provider, ProviderSource::Registered, true);
        Ok(())
    }

    /// Adds a provider from outside the core (a plugin, as `origin` says).
    /// It never fails: a conflicting provider is kept but shadowed, and
    /// shows so in listings.
    pub fn add_external(&mut self, provider: Provider, origin: Origin) {
        self.add(provider, ProviderSource::External(origin), false);
    }

    /// Notes a source from outside (a plugin, as `origin` says) that failed
    /// before it could say what it provides, and why. Its claims on names,
    /// magic bytes and content are unknown, so detection never guesses past
    /// it: an input that no known provider claims, which would otherwise be
    /// sniffed from its content, is refused with an error that names it.
    pub fn add_unknown_claims(&mut self, origin: Origin, why: impl Into<String>) {
        self.unknown.push((origin, why.into()));
    }

    /// The sources noted by [`Registry::add_unknown_claims`], with why.
    pub fn unknown_claims(&self) -> &[(Origin, String)] {
        &self.unknown
    }

    fn active_source(&self, p: &Provider) -> Option<ProviderSource> {
        let id = p.id();
        match p {
            Provider::Format(_) => self.formats.has_active(id),
            Provider::Codec(_) => self.codecs.has_active(id),
            Provider::Driver(_) => self.drivers.has_active(id),
            Provider::Rule(_) => self.rules.has_active(id),
            Provider::Engine(_) => self.engines.has_active(id),
            Provider::Hook(_) => self.hooks.has_active(id),
        }
        .cloned()
    }

    fn add(&mut self, provider: Provider, source: ProviderSource, replaces: bool) {
        let id = provider.id().to_owned();
        tracing::debug!(kind = provider.kind(), %id, %source, "adding provider");
        let allow = &self.allow;
        match provider {
            Provider::Format(p) => self.formats.insert(id, p, source, replaces, allow),
            Provider::Codec(p) => self.codecs.insert(id, p, source, replaces, allow),
            Provider::Driver(p) => self.drivers.insert(id, p, source, replaces, allow),
            Provider::Rule(p) => self.rules.insert(id, p, source, replaces, allow),
            Provider::Engine(p) => self.engines.insert(id, p, source, replaces, allow),
            Provider::Hook(p) => self.hooks.insert(id, p, source, replaces, allow),
        }
    }

    fn resolve(&mut self) {
        self.formats.resolve(&self.allow);
        self.codecs.resolve(&self.allow);
        self.drivers.resolve(&self.allow);
        self.rules.resolve(&self.allow);
        self.engines.resolve(&self.allow);
        self.hooks.resolve(&self.allow);
    }

    /// The format with this id (case-insensitive).
    pub fn format(&self, id: &str) -> Result<Arc<dyn Format>> {
        let id = id.to_ascii_lowercase();
        self.formats
            .get(&id)
            .cloned()
            .ok_or_else(|| unknown(ErrorKind::UnknownFormat, "format", &id, self.formats.ids()))
    }

    /// The codec with this id (case-insensitive).
    pub fn codec(&self, id: &str) -> Result<Arc<dyn Codec>> {
        let id = id.to_ascii_lowercase();
        self.codecs
            .get(&id)
            .cloned()
            .ok_or_else(|| unknown(ErrorKind::UnknownCodec, "codec", &id, self.codecs.ids()))
    }

    /// The rule with this name.
    pub fn rule(&self, name: &str) -> Result<Arc<dyn Rule>> {
        self.rules
            .get(name)
            .cloned()
            .ok_or_else(|| unknown(ErrorKind::UnknownRule, "rule", name, self.rules.ids()))
    }

    /// The hook with this id.
    pub fn hook(&self, id: &str) -> Result<Arc<dyn Hook>> {
        self.hooks
            .get(id)
            .cloned()
            .ok_or_else(|| unknown(ErrorKind::UnknownHook, "hook", id, self.hooks.ids()))
    }

    /// The engine with this id.
    pub fn engine(&self, id: &str) -> Result<Arc<dyn Engine>> {
        self.engines
            .get(id)
            .cloned()
            .ok_or_else(|| unknown(ErrorKind::UnknownEngine, "engine", id, self.engines.ids()))
    }

    /// The driver with this id.
    pub fn driver(&self, id: &str) -> Result<Arc<dyn Driver>> {
        self.drivers
            .get(id)
            .cloned()
            .ok_or_else(|| unknown(ErrorKind::UnknownDriver, "driver", id, self.drivers.ids()))
    }

    /// The driver that handles a URI scheme (case-insensitive).
    pub fn driver_for_scheme(&self, scheme: &str) -> Option<Arc<dyn Driver>> {
        let scheme = scheme.to_ascii_lowercase();
        self.drivers
            .active()
            .find(|e| {
                e.provider
                    .info()
                    .schemes
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(&scheme))
            })
            .map(|e| Arc::clone(&e.provider))
    }

    /// The URI schemes drivers handle.
    pub fn schemes(&self) -> Vec<String> {
        self.drivers
            .active()
            .flat_map(|e| e.provider.info().schemes.clone())
            .collect()
    }

    /// The format that claims a file extension (without the dot).
    pub fn format_for_extension(&self, ext: &str) -> Option<Arc<dyn Format>> {
        let ext = ext.to_ascii_lowercase();
        self.formats
            .active()
            .find(|e| e.provider.info().extensions.contains(&ext))
            .map(|e| Arc::clone(&e.provider))
    }

    /// The codec that claims a file extension (without the dot).
    pub fn codec_for_extension(&self, ext: &str) -> Option<Arc<dyn Codec>> {
        let ext = ext.to_ascii_lowercase();
        self.codecs
            .active()
            .find(|e| e.provider.info().extensions.contains(&ext))
            .map(|e| Arc::clone(&e.provider))
    }

    /// The codec whose magic bytes start `head`.
    pub fn codec_for_magic(&self, head: &[u8]) -> Option<Arc<dyn Codec>> {
        self.codecs
            .active()
            .find(|e| {
                e.provider
                    .info()
                    .magic
                    .iter()
                    .any(|m| !m.is_empty() && head.starts_with(m))
            })
            .map(|e| Arc::clone(&e.provider))
    }

    /// The format whose magic bytes start `head`.
    pub fn format_for_magic(&self, head: &[u8]) -> Option<Arc<dyn Format>> {
        self.formats
            .active()
            .find(|e| {
                e.provider
                    .info()
                    .magic
                    .iter()
                    .any(|m| !m.is_empty() && head.starts_with(m))
            })
            .map(|e| Arc::clone(&e.provider))
    }

    /// The formats that are not shadowed, in priority order.
    pub fn active_formats(&self) -> impl Iterator<Item = &Arc<dyn Format>> {
        self.formats.active().map(|e| &e.provider)
    }

    /// Every format entry, shadowed ones included, in priority order.
    pub fn format_entries(&self) -> &[Entry<dyn Format>] {
        &self.formats.entries
    }

    /// Every codec entry, shadowed ones included.
    pub fn codec_entries(&self) -> &[Entry<dyn Codec>] {
        &self.codecs.entries
    }

    /// Every driver entry, shadowed ones included.
    pub fn driver_entries(&self) -> &[Entry<dyn Driver>] {
        &self.drivers.entries
    }

    /// Every rule entry, shadowed ones included.
    pub fn rule_entries(&self) -> &[Entry<dyn Rule>] {
        &self.rules.entries
    }

    /// Every engine entry, shadowed ones included.
    pub fn engine_entries(&self) -> &[Entry<dyn Engine>] {
        &self.engines.entries
    }

    /// Every hook entry, shadowed ones included.
    pub fn hook_entries(&self) -> &[Entry<dyn Hook>] {
        &self.hooks.entries
    }

    /// Every entry of every kind, shadowed ones included: its kind, id,
    /// source, and what shadows it. One walk over the registry for what
    /// does not care about the kind (listings, telling which plugins are
    /// shadowed).
    pub fn placements(&self) -> impl Iterator<Item = Placement<'_>> {
        fn of<'a, T: ?Sized>(
            kind: &'static str,
            k: &'a Kind<T>,
        ) -> impl Iterator<Item = Placement<'a>> + 'a {
            k.entries.iter().map(move |e| Placement {
                kind,
                id: &e.id,
                source: &e.source,
                shadowed_by: e.shadowed_by.as_ref(),
            })
        }
        of("format", &self.formats)
            .chain(of("codec", &self.codecs))
            .chain(of("driver", &self.drivers))
            .chain(of("rule", &self.rules))
            .chain(of("engine", &self.engines))
            .chain(of("hook", &self.hooks))
    }

    /// The ids of the active formats, for error messages.
    pub fn format_ids(&self) -> Vec<String> {
        self.formats.ids()
    }

    /// The ids of the active codecs, for error messages.
    pub fn codec_ids(&self) -> Vec<String> {
        self.codecs.ids()
    }
}

fn unknown(kind: ErrorKind, what: &str, id: &str, known: Vec<String>) -> Error {
    let list = if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    };
    Error::new(
        kind,
        format!("unknown {what} '{id}'; known {what}s: {list}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(name: impl Into<String>) -> Origin {
        Origin {
            kind: "plugin",
            name: name.into(),
        }
    }
    use crate::io::BoxRead;
    use crate::options::Options;
    use crate::provider::{BoxReader, FormatInfo, VecReader};

    struct Fake(FormatInfo);
    impl Format for Fake {
        fn info(&self) -> &FormatInfo {
            &self.0
        }
        fn reader(&self, _: BoxRead, _: &Options) -> Result<BoxReader> {
            Ok(Box::new(VecReader::new(vec![])))
        }
    }
    fn fake(id: &str, desc: &str) -> Provider {
        Provider::Format(Arc::new(Fake(FormatInfo {
            id: id.into(),
            description: desc.into(),
            extensions: vec![id.into()],
            ..FormatInfo::default()
        })))
    }

    #[test]
    fn builtins_win_over_plugins_unless_allowed() {
        let mut r = Registry::with_builtins();
        r.add_external(fake("csv", "plugin csv"), plugin("evil"));
        assert!(
            !r.format("csv")
                .unwrap()
                .info()
                .description
                .contains("plugin")
        );
        let shadowed: Vec<_> = r
            .format_entries()
            .iter()
            .filter(|e| e.id == "csv")
            .collect();
        assert_eq!(shadowed.len(), 2);
        assert_eq!(shadowed[1].shadowed_by, Some(ProviderSource::Builtin));
        r.allow_override(["csv"]);
        assert_eq!(r.format("csv").unwrap().info().description, "plugin csv");
        let builtin = r
            .format_entries()
            .iter()
            .find(|e| e.source == ProviderSource::Builtin && e.id == "csv");
        assert_eq!(
            builtin.unwrap().shadowed_by,
            Some(ProviderSource::External(plugin("evil")))
        );
    }

    #[test]
    fn registration_conflicts_and_overrides() {
        let mut r = Registry::with_builtins();
        assert_eq!(
            r.register(fake("csv", "mine")).unwrap_err().kind(),
            ErrorKind::Conflict
        );
        assert_eq!(
            r.register_override(fake("csv", "mine")).unwrap_err().kind(),
            ErrorKind::Conflict
        );
        r.register(fake("x", "first")).unwrap();
        assert_eq!(
            r.register(fake("x", "second")).unwrap_err().kind(),
            ErrorKind::Conflict
        );
        r.register_override(fake("x", "second")).unwrap();
        assert_eq!(r.format("x").unwrap().info().description, "second");
        // Registered beats a plugin of the same id, added later or not.
        r.add_external(fake("x", "plugin"), plugin("p"));
        assert_eq!(r.format("x").unwrap().info().description, "second");
    }

    #[test]
    fn earlier_plugin_wins() {
        let mut r = Registry::empty();
        r.add_external(fake("y", "one"), plugin("a"));
        r.add_external(fake("y", "two"), plugin("b"));
        assert_eq!(r.format("y").unwrap().info().description, "one");
        assert_eq!(
            r.format_for_extension("Y").unwrap().info().description,
            "one"
        );
    }

    #[test]
    fn adding_one_by_one_resolves_as_a_full_resolve_does() {
        let mut r = Registry::with_builtins();
        r.allow_override(["csv", "z"]);
        for (i, id) in ["z", "csv", "z", "y", "json", "y", "csv"]
            .iter()
            .enumerate()
        {
            r.add_external(fake(id, &format!("p{i}")), plugin(format!("p{i}")));
        }
        r.register(fake("w", "mine")).unwrap();
        r.add_external(fake("w", "late"), plugin("p9"));
        let mut full = r.clone();
        full.resolve();
        let shadows = |r: &Registry| -> Vec<_> {
            r.format_entries()
                .iter()
                .map(|e| (e.id.clone(), e.source.clone(), e.shadowed_by.clone()))
                .collect()
        };
        assert_eq!(shadows(&r), shadows(&full));
        // The first allowed plugin takes csv; the later one does not.
        assert_eq!(r.format("csv").unwrap().info().description, "p1");
        assert_eq!(r.format("z").unwrap().info().description, "p0");
        assert_eq!(r.format("json").unwrap().info().extensions, ["json"]);
        assert_eq!(
            r.format_entries().iter().filter(|e| e.id == "json").count(),
            2
        );
        assert_eq!(r.format("w").unwrap().info().description, "mine");
    }

    #[test]
    fn many_plugins_are_added_in_linear_time() {
        let mut r = Registry::with_builtins();
        let t = std::time::Instant::now();
        for i in 0..20_000 {
            r.add_external(fake(&format!("f{i}"), "x"), plugin(format!("p{i}")));
        }
        assert_eq!(r.format_ids().len(), 20_006);
        // Quadratic work would take minutes here; linear takes milliseconds.
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn unknown_format_lists_known_ones() {
        let r = Registry::with_builtins();
        let e = r.format("xml").err().unwrap();
        assert_eq!(e.kind(), ErrorKind::UnknownFormat);
        assert!(
            e.message()
                .starts_with("unknown format 'xml'; known formats: csv, tsv, psv"),
            "{e}"
        );
    }
}
