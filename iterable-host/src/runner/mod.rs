//! The runner: the child side of isolation. A runner process (the scanner
//! program in its runner mode, [`crate::run_as_child`]) loads one plugin,
//! sandboxes itself ([`sandbox`], Linux), and serves the plugin's calls over
//! its pipes in the protocol of [`crate::wire`]. It imports the loading
//! modules and nothing above them; the host's side is [`crate::isolate`].

mod sandbox;
mod serve;

pub use serve::serve;
