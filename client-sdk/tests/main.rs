//! The integration tests of client-sdk: one test binary for every file of this folder (see
//! docs/ci.md). One `mod` line per file, sorted; tests/tests/house_rules.rs fails, naming the
//! line to add, when a file is missing.

mod case_steps;
mod offline;
