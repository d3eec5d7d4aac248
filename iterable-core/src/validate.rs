//! Validating streams of records against rules, field by field.
//!
//! Rules are applied a batch at a time ([`Rule::check_batch`]), so a rule
//! that lives in a plugin is called once per batch, not once per value.
//!
//! ```
//! use iterable_core::{Registry, OpenOptions, Validator, ValidationMode};
//! let registry = Registry::with_builtins();
//! let csv = "email\nann@example.com\nnope\n";
//! let reader = registry.open_stream(
//!     Box::new(std::io::Cursor::new(csv)), None, &OpenOptions::new().format("csv"))?;
//! let validator = Validator::new().check("email", registry.rule("common.email")?);
//! let invalid: Vec<_> = validator.validate(reader, ValidationMode::Invalid)
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(invalid.len(), 1);
//! assert_eq!(invalid[0].index, 2);
//! # Ok::<(), iterable_core::Error>(())
//! ```

use std::collections::VecDeque;
use std::sync::Arc;

use serde::Serialize;

use crate::error::Result;
use crate::open::Reader;
use crate::provider::Rule;
use crate::record::{Batch, Record};
use crate::registry::Registry;
use crate::value::Value;

/// Which records a validation yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValidationMode {
    /// Every record, with its errors (none for a valid one).
    All,
    /// Only records that pass every rule.
    Valid,
    /// Only records that fail a rule.
    Invalid,
}

/// One failed check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field checked.
    pub field: String,
    /// The rule's name.
    pub rule: String,
    /// What is wrong.
    pub message: String,
}

/// The outcome for one record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The record's 1-based number in the input.
    pub index: u64,
    /// The record.
    pub record: Record,
    /// Failed checks; empty when the record is valid.
    pub errors: Vec<FieldError>,
}

impl Report {
    /// True when every check passed.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Failure counts for one field and rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckStats {
    /// The field checked.
    pub field: String,
    /// The rule's name.
    pub rule: String,
    /// How many records failed this check.
    pub failed: u64,
}

/// A summary of a whole validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Records read.
    pub total: u64,
    /// Records that passed every check.
    pub valid: u64,
    /// Records that failed a check.
    pub invalid: u64,
    /// Failures per check, in the order the checks were given.
    pub checks: Vec<CheckStats>,
}

#[derive(Clone)]
struct Check {
    field: String,
    rule: Arc<dyn Rule>,
}

/// A set of (field, rule) checks.
#[derive(Clone, Default)]
pub struct Validator {
    checks: Vec<Check>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.checks.iter().map(|c| (&c.field, &c.rule.info().name)))
            .finish()
    }
}

impl Validator {
    /// No checks yet.
    pub fn new() -> Self {
        Validator::default()
    }

    /// Adds a check of `field` with `rule`.
    pub fn check(mut self, field: impl Into<String>, rule: Arc<dyn Rule>) -> Self {
        self.checks.push(Check {
            field: field.into(),
            rule,
        });
        self
    }

    /// Builds checks from `FIELD=RULE` pairs, looking rules up in a registry.
    pub fn from_pairs<'a>(
        registry: &Registry,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self> {
        let mut v = Validator::new();
        for (field, rule) in pairs {
            v = v.check(field, registry.rule(rule)?);
        }
        Ok(v)
    }

    /// Validates a stream, yielding the records the mode selects.
    pub fn validate(&self, reader: Reader, mode: ValidationMode) -> Validation {
        Validation {
            checks: self.checks.clone(),
            reader,
            mode,
            batch: Batch::default(),
            ready: VecDeque::new(),
            done: false,
            index: 0,
            stats: Stats {
                total: 0,
                valid: 0,
                invalid: 0,
                checks: self
                    .checks
                    .iter()
                    .map(|c| CheckStats {
                        field: c.field.clone(),
                        rule: c.rule.info().name.clone(),
                        failed: 0,
                    })
                    .collect(),
            },
        }
    }

    /// Validates a whole stream and returns only the summary.
    pub fn stats(&self, reader: Reader) -> Result<Stats> {
        let mut v = self.validate(reader, ValidationMode::Valid);
        // The stream still checks every record; only valid ones are yielded.
        for r in v.by_ref() {
            r?;
        }
        Ok(v.stats)
    }
}

/// The stream of reports of a validation.
pub struct Validation {
    checks: Vec<Check>,
    reader: Reader,
    mode: ValidationMode,
    batch: Batch,
    ready: VecDeque<Report>,
    done: bool,
    index: u64,
    stats: Stats,
}

impl Validation {
    /// Counts so far (complete once the stream has ended).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    fn fill(&mut self) -> Result<bool> {
        if !self.reader.read_batch(&mut self.batch, crate::BATCH_ROWS)? {
            return Ok(false);
        }
        let n = self.batch.len();
        let mut errors: Vec<Vec<FieldError>> = vec![Vec::new(); n];
        let mut results = Vec::with_capacity(n);
        for (ci, check) in self.checks.iter().enumerate() {
            let col = self.batch.names().iter().position(|f| *f == check.field);
            let values: Vec<&Value> = match col {
                Some(c) => self.batch.rows().iter().map(|row| &row[c]).collect(),
                None => vec![&Value::Null; n],
            };
            check.rule.check_batch(&values, &mut results)?;
            for (i, r) in results.drain(..).enumerate().take(n) {
                if let Some(message) = r {
                    self.stats.checks[ci].failed += 1;
                    errors[i].push(FieldError {
                        field: check.field.clone(),
                        rule: check.rule.info().name.clone(),
                        message,
                    });
                }
            }
        }
        let batch = std::mem::take(&mut self.batch);
        for (record, errs) in batch.into_records().zip(errors) {
            self.index += 1;
            self.stats.total += 1;
            let valid = errs.is_empty();
            if valid {
                self.stats.valid += 1;
            } else {
                self.stats.invalid += 1;
            }
            let keep = match self.mode {
                ValidationMode::All => true,
                ValidationMode::Valid => valid,
                ValidationMode::Invalid => !valid,
            };
            if keep {
                self.ready.push_back(Report {
                    index: self.index,
                    record,
                    errors: errs,
                });
            }
        }
        Ok(true)
    }
}

impl Iterator for Validation {
    type Item = Result<Report>;

    fn next(&mut self) -> Option<Result<Report>> {
        loop {
            if let Some(r) = self.ready.pop_front() {
                return Some(Ok(r));
            }
            if self.done {
                return None;
            }
            match self.fill() {
                Ok(true) => {}
                Ok(false) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}
