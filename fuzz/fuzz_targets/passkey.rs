//! What a browser or a log hands the passkey code: an attestation object (registration), a COSE
//! public key, an assertion, and an entry carrying one. The first byte picks which; the fifth
//! kind flips bytes of a valid registration and assertion, to search near what real
//! authenticators send. Never panics; a registration or assertion changed anywhere it is
//! signed or checked is refused.
#![no_main]
use armory_ledger::entry::Entry;
use armory_ledger::webauthn::{self, Assertion, Confirmations, PublicKey, testing::Authenticator};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

const RP: &str = "armory.local";
const ORIGIN: &str = "https://armory.local:8443";

fn act() -> serde_json::Value {
    json!({"v": 1, "log": "armory.local/demo", "person": "alec", "size": 1, "nonce": "n",
           "command": {"type": "note", "text": "x"}})
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&which, data)) = bytes.split_first() else {
        return;
    };
    let phone = Authenticator::new(3);
    let challenge = b"0123456789abcdef0123456789abcdef";
    let (object, client) = phone.create(challenge, RP, ORIGIN);
    match which % 5 {
        0 => {
            let _ = webauthn::register(data, &client, challenge, RP);
        }
        1 => {
            let _ = PublicKey::from_cose(data);
        }
        2 => {
            if let (Ok(a), Ok(key)) = (
                serde_json::from_slice::<Assertion>(data),
                PublicKey::from_cose(&phone.cose()),
            ) {
                let _ = a.verify(&key, RP);
            }
        }
        3 => {
            let mut confirmations = Confirmations::new();
            if let Ok(e) = Entry::decode(data) {
                let _ = confirmations.entry(&e);
            }
        }
        _ => {
            // Flip bytes of a valid registration: it either still parses to the same key, or
            // is refused; a flip in the signed client data is always refused.
            let mut obj = object.clone();
            let mut cdj = client.clone();
            for pair in data.chunks(3) {
                if let [a, b, x] = pair {
                    let i = usize::from(*a) << 8 | usize::from(*b);
                    if i % 2 == 0 {
                        let n = obj.len();
                        obj[i / 2 % n] ^= x | 1;
                    } else {
                        let n = cdj.len();
                        cdj[i / 2 % n] ^= x | 1;
                    }
                }
            }
            let _ = webauthn::register(&obj, &cdj, challenge, RP);
            // And of a valid assertion's signed parts: never accepted.
            let good = phone.sign(act(), RP, ORIGIN);
            let key = PublicKey::from_cose(&phone.cose()).unwrap();
            let mut auth = webauthn::unb64(&good.authenticator_data, "").unwrap();
            let mut client = webauthn::unb64(&good.client_data_json, "").unwrap();
            let mut flipped = false;
            for pair in data.chunks(3) {
                if let [a, b, x] = pair {
                    let i = usize::from(*a) << 8 | usize::from(*b);
                    let (buf, j) = if i % 2 == 0 { (&mut auth, i / 2) } else { (&mut client, i / 2) };
                    let n = buf.len();
                    buf[j % n] ^= x | 1;
                    flipped = true;
                }
            }
            let bad = Assertion {
                authenticator_data: webauthn::b64(&auth),
                client_data_json: webauthn::b64(&client),
                ..good
            };
            let verdict = bad.verify(&key, RP);
            if flipped {
                // Flips can cancel out only by hitting one byte twice with the same value.
                let same = auth == webauthn::unb64(&phone.sign(act(), RP, ORIGIN).authenticator_data, "").unwrap()
                    && client == webauthn::unb64(&phone.sign(act(), RP, ORIGIN).client_data_json, "").unwrap();
                assert!(same || verdict.is_err(), "a changed assertion verified");
            }
        }
    }
});
