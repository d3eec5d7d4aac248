//! The library examples of the README, as an application writes them: this
//! crate depends on `iterable-host` and nothing else, so its doc tests fail
//! to compile when an example needs another crate (`iterable_core`, say)
//! that an application would have to add.
#![doc = include_str!("../../../README.md")]
