//! What the API and policy files take: a command body (JSON) decided against a production, and a
//! policy compared with the defaults. Never panics; a decision either refuses or gives events
//! that apply to the state it was decided on.
#![no_main]
use armory_core::{Actor, AuthMethod, Command, PersonId, Policy, Role, State, apply, decide};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn opened() -> &'static (State, Policy) {
    static OPENED: OnceLock<(State, Policy)> = OnceLock::new();
    OPENED.get_or_init(|| {
        let policy = armory_core::demo::policy();
        let mut state = State::new();
        for step in armory_core::demo::script(armory_core::demo::Scenario::Safe).unwrap() {
            if let Ok(events) = decide(&policy, &state, &step.actor, &step.command, step.at) {
                for e in events {
                    apply(&mut state, &e).unwrap();
                }
            }
        }
        (state, policy)
    })
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(policy) = serde_json::from_slice::<Policy>(bytes) {
        let _ = Policy::default().loosenings(&policy);
    }
    let Ok(command) = serde_json::from_slice::<Command>(bytes) else {
        return;
    };
    let (state, policy) = opened();
    for (who, role) in [("hannah", Role::Armorer), ("adm", Role::Admin), ("alec", Role::Performer)] {
        let actor = Actor::new(PersonId::parse(who).unwrap(), role, AuthMethod::Password);
        let now = armory_core::time::Timestamp::parse_rfc3339("2021-10-21T15:00:00Z").unwrap();
        if let Ok(events) = decide(policy, state, &actor, &command, now) {
            let mut after = state.clone();
            for e in &events {
                apply(&mut after, e).expect("a decided event applies");
            }
        }
    }
});
