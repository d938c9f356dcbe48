//! The end-to-end stories: one test binary for every story file of this folder (CI time: one
//! link instead of one per file, see docs/ci.md). Each file is a module here, one line each,
//! sorted; `house_rules_test_files::every_test_file_is_compiled` fails, naming the line to
//! add, when a file of the folder is missing. Run one file's tests with
//! `cargo test -p kooperacja-tests --test stories sync::` (the module's name is the file's).

mod access_matrix;
mod access_report;
mod attachments;
mod attachments_postgres;
mod attachments_tablet;
mod backup;
mod case_app;
mod case_app_attachments;
mod case_app_justice;
mod case_app_rectify;
mod case_app_revocation;
mod case_app_shell;
mod case_app_stories;
#[path = "case_vectors/main.rs"]
mod case_vectors;
mod crash;
mod create_attacks;
mod dashboard;
mod door_attacks;
mod erasure;
mod erasure_attacks;
mod evaluation;
mod example;
mod export;
mod faults;
mod full_disk;
mod house_rules;
mod house_rules_test_files;
mod js_interop;
mod justice_access;
mod kotlin_bindings;
mod load_smoke;
mod meeting_page;
mod news_rules;
mod openapi;
mod partners_app;
mod partners_consultation;
mod partners_referrals;
mod postgres_operations;
mod postgres_store;
mod presence;
mod pzk_access;
mod pzk_meeting_app;
mod pzk_team_app;
mod relay_server;
mod retention;
mod samod_interop;
mod secret_attacks;
mod sharing_attacks;
mod sync;
mod sync_over_websocket;
mod tokens;
