//! Armory's one integration-test binary: every module below runs against real files, a real
//! SQLite database and the real `armory` binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod cli_errors;
mod crash;
mod entry_scan;
mod export_tamper;
mod faults;
mod node;
mod proofs;
mod sealed;
mod server;
mod server_auth;
mod server_net;
mod server_tls;
mod server_ui;
mod store;
mod tamper;
mod vectors;
