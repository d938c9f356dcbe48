//! The integration tests of sync-core: one test binary for every file of this folder (CI time:
//! one link instead of one per file, see docs/ci.md). One `mod` line per file, sorted;
//! tests/tests/house_rules.rs fails, naming the line to add, when a file is missing.

mod closing_and_handover;
mod conflicts;
mod contract_and_services;
mod convergence;
mod engine_stories;
mod fuzz_regressions;
mod harness;
mod intake_and_plan;
mod js_fixtures;
mod peer_limits;
mod relay_stories;
mod reload_stories;
mod stage_rules;
mod validation_and_history;
