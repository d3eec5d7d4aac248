//! The host's child processes, seen from both ends: the scanner (which
//! examines one library) and the runner (which serves one isolated plugin)
//! are the same program in two roles. Their command line is spelled here
//! only (`PROGRAM ARGS… LIBRARY`, `PROGRAM ARGS… --serve SPEC`), and how a
//! child ended is described here only.

/// The first argument with which an application's executable acts as the
/// scanner or a runner (see [`crate::run_scanner_if_requested`]).
pub const SCAN_ARG: &str = "__iterable-plugin-scan";

/// The argument (after the scanner program's own arguments) with which a
/// scanner program acts as a runner: `SCANNER ARGS… --serve SPEC`.
pub const SERVE_ARG: &str = "--serve";

/// Set (to `1`) in the environment of every scanner and runner the host
/// starts. A process that has it, was given [`SCAN_ARG`], and still builds
/// a host is an application whose `main` does not begin with
/// [`crate::run_scanner_if_requested`]: it stops there, saying so, instead
/// of running as if it were the application (and scanning again, without
/// end).
pub const ENV_SCANNER_CHILD: &str = "ITERABLEDATA_SCANNER_CHILD";

/// What a child process was started to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Examine the library and print what it provides.
    Scan(std::path::PathBuf),
    /// Serve one isolated plugin; the spec is JSON.
    Serve(String),
}

/// The role that `rest`, the arguments after the program's own leading
/// ones, asks for; `None` when they are not a child's.
pub(crate) fn role(rest: impl IntoIterator<Item = std::ffi::OsString>) -> Option<Role> {
    let mut rest = rest.into_iter();
    match (rest.next(), rest.next(), rest.next()) {
        (Some(flag), Some(spec), None) if flag == SERVE_ARG => {
            Some(Role::Serve(spec.to_string_lossy().into_owned()))
        }
        (Some(lib), None, None) if lib != SERVE_ARG => Some(Role::Scan(lib.into())),
        _ => None,
    }
}

/// The name of a signal that ends a misbehaving plugin, if it is one.
fn signal_name(sig: i32) -> Option<&'static str> {
    Some(match sig {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        31 => "SIGSYS",
        _ => return None,
    })
}

/// How a child ended: `killed by signal 11 (SIGSEGV)`, `exited with status
/// 3`, `ended the process (exit status 0)`.
pub(crate) fn describe_end(signal: Option<i32>, code: Option<i32>) -> String {
    match (signal, code) {
        (Some(sig), _) => match signal_name(sig) {
            Some(name) => format!("killed by signal {sig} ({name})"),
            None => format!("killed by signal {sig}"),
        },
        (None, Some(0)) => "ended the process (exit status 0)".to_owned(),
        (None, Some(c)) => format!("exited with status {c}"),
        (None, None) => "ended".to_owned(),
    }
}

/// The signal that ended a child, if one did.
pub(crate) fn signal_of(status: &std::process::ExitStatus) -> Option<i32> {
    #[cfg(unix)]
    {
        std::os::unix::process::ExitStatusExt::signal(status)
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

/// [`describe_end`] of an exit status.
pub(crate) fn describe_status(status: &std::process::ExitStatus) -> String {
    describe_end(signal_of(status), status.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_command_line_for_both_roles() {
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            role(args(&["--serve", "{}"])),
            Some(Role::Serve("{}".into()))
        );
        assert_eq!(
            role(args(&["/x/libp.so"])),
            Some(Role::Scan("/x/libp.so".into()))
        );
        assert_eq!(role(args(&[])), None);
        assert_eq!(role(args(&["--serve"])), None);
        assert_eq!(role(args(&["a", "b"])), None);
    }

    #[test]
    fn ends_are_described_with_the_signal_name() {
        assert_eq!(
            describe_end(Some(11), None),
            "killed by signal 11 (SIGSEGV)"
        );
        assert_eq!(describe_end(Some(64), None), "killed by signal 64");
        assert_eq!(describe_end(None, Some(3)), "exited with status 3");
        assert_eq!(
            describe_end(None, Some(0)),
            "ended the process (exit status 0)"
        );
    }
}
