//! Tests of the rules engine as scenarios (unit tests, so no extra test binary): a harness that
//! plays commands the way the store does (decide, then apply, or log the refusal), the Rust day
//! of RULES.md §1, the wording of every refusal, and property tests over random command sequences.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod blanks;
mod bore;
mod crew;
mod handover;
mod harness;
mod messages;
mod misc;
mod overrides;
mod props;
mod roles;
mod rust_day;
