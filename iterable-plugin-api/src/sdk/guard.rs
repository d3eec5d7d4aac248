//! Panic containment at the boundary.
//!
//! A panic that unwinds out of an `extern "C"` function or a `#[sabi_trait]`
//! method kills the whole process, so every entry point of this crate (the
//! plugin-side adapters *and* the host-side callback objects) runs its body
//! through [`catch`]. A panic hook installed once per copy of std records the
//! panic message and location of panics that happen *inside* a guard, and
//! prints nothing for them; panics outside any guard go to the previous hook.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::abi::RError;

thread_local! {
    static GUARD_DEPTH: Cell<u32> = const { Cell::new(0) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs this crate's panic hook (idempotent, cheap after the first call).
///
/// The hook only handles panics raised while a guard is active on the
/// panicking thread; it then records `"<message> at <file>:<line>"` and prints
/// nothing. Every other panic is forwarded to the hook that was installed
/// before, so the host's (or the test harness's) behaviour is unchanged.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let guarded = GUARD_DEPTH.try_with(|d| d.get() > 0).unwrap_or(false);
            if !guarded {
                previous(info);
                return;
            }
            let msg = payload_text(info.payload());
            let text = match info.location() {
                Some(loc) => format!("{msg} at {}:{}", loc.file(), loc.line()),
                None => msg,
            };
            let _ = LAST_PANIC.try_with(|l| {
                if let Ok(mut slot) = l.try_borrow_mut() {
                    *slot = Some(text);
                }
            });
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

struct DepthGuard;

impl DepthGuard {
    fn enter() -> Self {
        let _ = GUARD_DEPTH.try_with(|d| d.set(d.get().saturating_add(1)));
        DepthGuard
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        let _ = GUARD_DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Runs `f`, turning a panic into `Err(RError { kind: PANIC, message: "panicked: <msg> at <file:line>" })`.
///
/// The outer `Result` distinguishes a caught panic (`Err`) from the value `f`
/// returned (which may itself be an error).
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, RError> {
    install_panic_hook();
    let depth = DepthGuard::enter();
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    drop(depth);
    match result {
        Ok(v) => Ok(v),
        Err(payload) => {
            let recorded = LAST_PANIC
                .try_with(|l| l.try_borrow_mut().ok().and_then(|mut s| s.take()))
                .ok()
                .flatten();
            let text = recorded.unwrap_or_else(|| payload_text(&*payload));
            // Dropping a payload can itself panic (a payload with a panicking Drop).
            let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(payload)));
            Err(RError::panic(format!("panicked: {text}")))
        }
    }
}

/// Runs a fallible `f` with [`catch`], flattening the result.
pub fn guard<T>(f: impl FnOnce() -> Result<T, RError>) -> Result<T, RError> {
    catch(f).and_then(|r| r)
}

/// Drops `value` inside a guard, so a panicking `Drop` cannot cross the boundary.
pub fn drop_guarded<T>(value: T) {
    let _ = catch(move || drop(value));
}

/// Poison state of a stateful object (reader, writer, connection...).
///
/// After a panic the object may be half-updated, so every later call fails
/// with a PANIC error that repeats the original panic message.
#[derive(Default)]
pub struct Poison(Option<String>);

impl Poison {
    /// Poisons after a panic that was caught elsewhere (its error).
    pub fn set(&mut self, panic: &RError) {
        self.0 = Some(panic.message.to_string());
    }

    /// Runs `f` unless poisoned; a caught panic poisons.
    pub fn run<T>(&mut self, f: impl FnOnce() -> Result<T, RError>) -> Result<T, RError> {
        if let Some(msg) = &self.0 {
            return Err(RError::panic(format!(
                "object unusable after an earlier panic ({msg})"
            )));
        }
        match catch(f) {
            Ok(r) => r,
            Err(e) => {
                self.0 = Some(e.message.to_string());
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::RErrorKind;

    #[test]
    fn catch_reports_message_and_location() {
        let r: Result<(), RError> = guard(|| panic!("boom {}", 42));
        let e = r.unwrap_err();
        assert_eq!(e.kind, RErrorKind::PANIC);
        assert!(
            e.message.starts_with("panicked: boom 42 at "),
            "{}",
            e.message
        );
        assert!(e.message.contains("guard.rs:"), "{}", e.message);
    }

    #[test]
    fn poison_sticks() {
        let mut p = Poison::default();
        assert_eq!(p.run(|| Ok(1)).unwrap(), 1);
        let e = p.run::<()>(|| panic!("first")).unwrap_err();
        assert!(e.message.contains("first"));
        let e = p.run(|| Ok(2)).unwrap_err();
        assert_eq!(e.kind, RErrorKind::PANIC);
        assert!(e.message.contains("earlier panic"), "{}", e.message);
        assert!(e.message.contains("first"), "{}", e.message);
    }

    #[test]
    fn returned_errors_do_not_poison() {
        let mut p = Poison::default();
        assert!(p.run::<()>(|| Err(RError::panic("from a peer"))).is_err());
        assert_eq!(p.run(|| Ok(3)).unwrap(), 3);
    }
}
