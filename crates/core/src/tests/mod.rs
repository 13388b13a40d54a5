//! Scenario and property tests of the rules engine (unit tests, so no extra test binary).
