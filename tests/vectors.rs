//! The ledger against published reference vectors (tests/data, each folder's README names its source).

use armory_ledger::checkpoint::Checkpoint;
use armory_ledger::keys::{LogSigner, LogVerifier};
use armory_ledger::merkle::{Hash, RightEdge, leaf_hash, verify_consistency, verify_inclusion};
use armory_ledger::tiles::Tile;
use serde_json::Value;

fn data(path: &str) -> Value {
    let full = format!("{}/../../tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&full).unwrap()).unwrap()
}

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// A hash from hex; `None` when it is not 32 bytes (some invalid vectors use other lengths).
fn hash(v: &Value) -> Option<Hash> {
    Hash::from_slice(&bytes(v.as_str().unwrap()))
}

fn hashes(v: &Value) -> Option<Vec<Hash>> {
    v.as_array().unwrap().iter().map(hash).collect()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

fn rfc6962_roots() -> Vec<Hash> {
    let roots = data("rfc6962/roots.json");
    roots["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| hash(&r["root_hex"]).unwrap())
        .collect()
}

#[test]
fn rfc6962_roots_of_every_size() {
    let roots = data("rfc6962/roots.json");
    let leaves: Vec<Vec<u8>> = roots["leaves_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| bytes(l.as_str().unwrap()))
        .collect();
    let want = rfc6962_roots();
    let mut edge = RightEdge::new();
    assert_eq!(edge.root(), want[0]);
    for (i, leaf) in leaves.iter().enumerate() {
        edge.push(leaf_hash(leaf));
        assert_eq!(edge.root(), want[i + 1], "root of size {}", i + 1);
    }
}

#[test]
fn rfc6962_inclusion_vectors() {
    let roots = data("rfc6962/roots.json");
    let leaves = roots["leaves_hex"].as_array().unwrap();
    let want = rfc6962_roots();
    let valid = data("rfc6962/inclusion.json");
    assert!(!valid.as_array().unwrap().is_empty());
    for v in valid.as_array().unwrap() {
        let (i, n) = (u(&v["leaf_index"]), u(&v["tree_size"]));
        let leaf = leaf_hash(&bytes(leaves[i as usize].as_str().unwrap()));
        let proof = hashes(&v["proof_hex"]).unwrap();
        verify_inclusion(i, n, &leaf, &proof, &want[n as usize])
            .unwrap_or_else(|e| panic!("{v}: {e}"));
    }
    let invalid = data("rfc6962/inclusion_invalid.json");
    assert!(invalid.as_array().unwrap().len() > 50);
    for v in invalid.as_array().unwrap() {
        let parsed = (
            hash(&v["leaf_hash_hex"]),
            hash(&v["root_hex"]),
            hashes(&v["proof_hex"]),
        );
        if let (Some(leaf), Some(root), Some(proof)) = parsed {
            let r = verify_inclusion(
                u(&v["leaf_index"]),
                u(&v["tree_size"]),
                &leaf,
                &proof,
                &root,
            );
            assert!(r.is_err(), "accepted an invalid proof: {}", v["why"]);
        }
        // A hash that is not 32 bytes cannot even be represented: refused by type.
    }
}

#[test]
fn rfc6962_consistency_vectors() {
    let want = rfc6962_roots();
    for v in data("rfc6962/consistency.json").as_array().unwrap() {
        let (m, n) = (u(&v["size1"]), u(&v["size2"]));
        let proof = hashes(&v["proof_hex"]).unwrap();
        verify_consistency(m, n, &want[m as usize], &want[n as usize], &proof)
            .unwrap_or_else(|e| panic!("{v}: {e}"));
    }
    for v in data("rfc6962/consistency_invalid.json").as_array().unwrap() {
        let parsed = (
            hash(&v["root1_hex"]),
            hash(&v["root2_hex"]),
            hashes(&v["proof_hex"]),
        );
        if let (Some(r1), Some(r2), Some(proof)) = parsed {
            let r = verify_consistency(u(&v["size1"]), u(&v["size2"]), &r1, &r2, &proof);
            assert!(r.is_err(), "accepted an invalid proof: {}", v["why"]);
        }
    }
}

#[test]
fn go_tlog_certificate_transparency_log() {
    // A real CT log (Argon 2020): entry 10000 in a tree of 961,984,011, and consistency from 3,654,490.
    for file in ["go-tlog/vectors.json", "go-tlog/vectors_go_upstream.json"] {
        let v = data(file);
        let inc = &v["inclusion"];
        let leaf = hash(&inc["leaf_hash_hex"]).unwrap();
        let root = hash(&inc["root_hex"]).unwrap();
        let mut proof = hashes(&inc["proof_hex"]).unwrap();
        let (i, n) = (u(&inc["leaf_index"]), u(&inc["tree_size"]));
        verify_inclusion(i, n, &leaf, &proof, &root).unwrap();
        proof[7].0[0] ^= 1;
        assert!(verify_inclusion(i, n, &leaf, &proof, &root).is_err());
        assert!(
            verify_inclusion(i + 1, n, &leaf, &hashes(&inc["proof_hex"]).unwrap(), &root).is_err()
        );

        let c = &v["consistency"];
        let (r1, r2) = (
            hash(&c["root1_hex"]).unwrap(),
            hash(&c["root2_hex"]).unwrap(),
        );
        let mut proof = hashes(&c["proof_hex"]).unwrap();
        let (m, n) = (u(&c["size1"]), u(&c["size2"]));
        verify_consistency(m, n, &r1, &r2, &proof).unwrap();
        proof[3].0[31] ^= 0x80;
        assert!(verify_consistency(m, n, &r1, &r2, &proof).is_err());
    }
}

#[test]
fn go_tile_paths_translate_to_c2sp_paths() {
    // Go's sumdb paths carry the tile height (tile/H/L/N); C2SP fixes it at 8 and drops it. The
    // encoding of N and of a partial width is the same, so each Go vector maps onto a C2SP path.
    let cases = data("go-tlog/tile_paths.json");
    for v in cases.as_array().unwrap() {
        let go_path = v["path"].as_str().unwrap();
        let rest = go_path.splitn(4, '/').nth(3).unwrap();
        let level = if v["data"].as_bool().unwrap() {
            "entries"
        } else {
            "0"
        };
        let tile = Tile::parse(&format!("tile/{level}/{rest}")).unwrap();
        assert_eq!(tile.n, u(&v["n"]), "{go_path}");
        let width = if go_path.contains(".p/") {
            u(&v["w"])
        } else {
            256
        };
        assert_eq!(tile.width, width, "{go_path}");
        assert_eq!(tile.path(), format!("tile/{level}/{rest}"));
    }
    // The spec's own example: index 1234067 is x001/x234/067.
    assert_eq!(Tile::parse("tile/0/x001/x234/067").unwrap().n, 1_234_067);
}

#[test]
fn signed_note_vectors() {
    let v = data("signed-note/vectors.json");
    let verifier = LogVerifier::from_text(v["vkey"].as_str().unwrap()).unwrap();
    // The private key derives the published public key, and signs the Go vector byte for byte
    // (Ed25519 is deterministic).
    let signer = LogSigner::from_text(v["skey"].as_str().unwrap()).unwrap();
    assert_eq!(signer.public_text(), v["vkey"].as_str().unwrap());
    let notes = v["notes"].as_array().unwrap();
    let first = &notes[0];
    assert_eq!(
        signer.sign_note(first["text"].as_str().unwrap()).unwrap(),
        first["note"].as_str().unwrap().as_bytes()
    );
    let mut checked = 0;
    for n in notes {
        let raw = match (n.get("note"), n.get("note_hex")) {
            (Some(Value::String(s)), _) => s.as_bytes().to_vec(),
            (_, Some(Value::String(h))) => bytes(h),
            _ => continue,
        };
        let opened = verifier.open(&raw);
        assert_eq!(
            opened.is_ok(),
            n["valid"].as_bool().unwrap(),
            "{}: {opened:?}",
            n["why"]
        );
        if let (Ok(text), Some(Value::String(want))) = (&opened, n.get("text")) {
            assert_eq!(text, want);
        }
        checked += 1;
    }
    assert!(checked >= 10);
}

#[test]
fn c2sp_checkpoint_examples_parse() {
    let v = data("checkpoint/examples.json");
    for ex in v["examples"].as_array().unwrap() {
        let Some(body) = ex.get("body").and_then(Value::as_str) else {
            continue;
        };
        if ex.get("valid_format") != Some(&Value::Bool(true)) {
            continue;
        }
        let cp = Checkpoint::parse_text(body).unwrap();
        assert_eq!(cp.origin, ex["origin"].as_str().unwrap());
        assert_eq!(cp.size, u(&ex["tree_size"]));
        assert_eq!(cp.root.to_hex(), ex["root_hex"].as_str().unwrap());
        assert_eq!(cp.text(), body, "one text per checkpoint");
    }
    let cases = v["body_parse_cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let parsed = Checkpoint::parse_text(case["text"].as_str().unwrap());
        assert_eq!(
            parsed.is_ok(),
            case["valid"].as_bool().unwrap(),
            "{}: {parsed:?}",
            case["why"]
        );
    }
}
