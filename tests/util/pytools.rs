//! The python of the tools venv that `scripts/pytools.sh` makes under
//! `target/pytools` (pyarrow, openpyxl, odfpy, xlwt), for tests that check
//! a plugin against a reference implementation. Included by path from the
//! plugins' tests too (`#[path = "…/tests/util/pytools.rs"]`).
//!
//! `scripts/test.sh` makes the venv and sets `ITERABLE_REQUIRE_PYTOOLS=1`,
//! so a missing venv fails there; elsewhere such tests say so and pass.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The venv's python (`ITERABLE_PYTHON`, or the one under the workspace's
/// `target/pytools`), or `None`, with a note, when it is not there.
pub fn python() -> Option<PathBuf> {
    let py = std::env::var_os("ITERABLE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let here = Path::new(env!("CARGO_MANIFEST_DIR"));
            let root = here
                .ancestors()
                .find(|d| d.join("scripts/pytools.sh").exists())
                .unwrap_or(here);
            root.join("target/pytools/bin/python")
        });
    if py.exists() {
        return Some(py);
    }
    assert!(
        std::env::var_os("ITERABLE_REQUIRE_PYTOOLS").is_none(),
        "ITERABLE_REQUIRE_PYTOOLS is set but {} does not exist (run scripts/pytools.sh)",
        py.display()
    );
    eprintln!(
        "note: {} is missing (run scripts/pytools.sh); python tool checks skipped",
        py.display()
    );
    None
}

/// Runs `script` with `args`, which must succeed; its standard output.
pub fn run_py(py: &Path, script: &str, args: &[&Path]) -> String {
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
