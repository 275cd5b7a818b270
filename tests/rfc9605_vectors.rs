//! Every entry of the official RFC 9605 test vectors (tests/vectors/test-vectors.json), each
//! checked field by field: 289 header encodings, 3 AES-CTR-HMAC AEAD cases, 5 full SFrame
//! cases (key, salt, nonce, AAD, ciphertext, and decryption back to the plaintext).

use hkdf::Hkdf;
use mlsframe::sframe::{
    AeadKey, CipherSuite, Header, MAX_HEADER_LEN, Receiver, SendKey, derive_key_and_salt,
};
use serde::Deserialize;
use sha2::{Sha256, Sha512};

#[derive(Deserialize)]
struct Vectors {
    header: Vec<HeaderCase>,
    aes_ctr_hmac: Vec<AeadCase>,
    sframe: Vec<SframeCase>,
}

#[derive(Deserialize)]
struct HeaderCase {
    kid: u64,
    ctr: u64,
    encoded: String,
}

#[derive(Deserialize)]
struct AeadCase {
    cipher_suite: u16,
    key: String,
    enc_key: String,
    auth_key: String,
    nonce: String,
    aad: String,
    pt: String,
    ct: String,
}

#[derive(Deserialize)]
struct SframeCase {
    cipher_suite: u16,
    kid: u64,
    ctr: u64,
    base_key: String,
    sframe_key_label: String,
    sframe_salt_label: String,
    sframe_secret: String,
    sframe_key: String,
    sframe_salt: String,
    metadata: String,
    nonce: String,
    aad: String,
    pt: String,
    ct: String,
}

fn vectors() -> Vectors {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/test-vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("vector file is bundled");
    serde_json::from_str(&text).expect("vector file parses")
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).expect("vector hex")
}

fn nonce(s: &str) -> [u8; 12] {
    h(s).try_into().expect("12-byte nonce")
}

#[test]
fn header_vectors() {
    let v = vectors();
    assert_eq!(v.header.len(), 289);
    for case in &v.header {
        let expected = h(&case.encoded);
        let header = Header::new(case.kid, case.ctr);
        let mut buf = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut buf).expect("fits");
        assert_eq!(
            &buf[..n],
            &expected[..],
            "encode kid={} ctr={}",
            case.kid,
            case.ctr
        );
        assert_eq!(Header::decode(&expected).expect("decodes"), (header, n));
    }
}

#[test]
fn aes_ctr_hmac_vectors() {
    let v = vectors();
    assert_eq!(v.aes_ctr_hmac.len(), 3);
    for case in &v.aes_ctr_hmac {
        let suite = CipherSuite::try_from(case.cipher_suite).expect("known suite");
        let key = h(&case.key);
        assert_eq!(key, [h(&case.enc_key), h(&case.auth_key)].concat());
        let aead = AeadKey::new(suite, &key).expect("key length");
        let (pt, ct, aad, nonce) = (h(&case.pt), h(&case.ct), h(&case.aad), nonce(&case.nonce));
        let mut out = vec![0u8; ct.len()];
        let n = aead.encrypt(&nonce, &aad, &pt, &mut out).expect("encrypts");
        assert_eq!(&out[..n], &ct[..], "suite {}", case.cipher_suite);
        let mut plain = vec![0u8; pt.len()];
        let n = aead
            .decrypt(&nonce, &aad, &ct, &mut plain)
            .expect("decrypts");
        assert_eq!(&plain[..n], &pt[..]);
    }
}

#[test]
fn sframe_vectors() {
    let v = vectors();
    assert_eq!(v.sframe.len(), 5);
    let mut suites_seen = Vec::new();
    for case in &v.sframe {
        let suite = CipherSuite::try_from(case.cipher_suite).expect("known suite");
        suites_seen.push(suite);
        let base_key = h(&case.base_key);
        let ctx = format!("suite {}", case.cipher_suite);

        // Labels: "SFrame 1.0 Secret key " / "... salt " || KID (u64 BE) || suite (u16 BE).
        let tail = [&case.kid.to_be_bytes()[..], &suite.id().to_be_bytes()[..]].concat();
        assert_eq!(
            h(&case.sframe_key_label),
            [&b"SFrame 1.0 Secret key "[..], &tail].concat()
        );
        assert_eq!(
            h(&case.sframe_salt_label),
            [&b"SFrame 1.0 Secret salt "[..], &tail].concat()
        );

        // sframe_secret = HKDF-Extract("", base_key) with the suite's hash.
        let secret = match suite {
            CipherSuite::Aes256GcmSha512_128 => {
                Hkdf::<Sha512>::extract(Some(&[]), &base_key).0.to_vec()
            }
            _ => Hkdf::<Sha256>::extract(Some(&[]), &base_key).0.to_vec(),
        };
        assert_eq!(secret, h(&case.sframe_secret), "{ctx}");

        let (key, salt) = derive_key_and_salt(suite, &base_key, case.kid);
        assert_eq!(&key[..], &h(&case.sframe_key)[..], "{ctx} key");
        assert_eq!(&salt[..], &h(&case.sframe_salt)[..], "{ctx} salt");
        let mut expected_nonce = *salt;
        for (n, c) in expected_nonce[4..].iter_mut().zip(case.ctr.to_be_bytes()) {
            *n ^= c;
        }
        assert_eq!(expected_nonce, nonce(&case.nonce), "{ctx} nonce");

        let metadata = h(&case.metadata);
        let mut header = [0u8; MAX_HEADER_LEN];
        let hn = Header::new(case.kid, case.ctr)
            .encode(&mut header)
            .expect("fits");
        assert_eq!(
            [&header[..hn], &metadata[..]].concat(),
            h(&case.aad),
            "{ctx} aad"
        );

        let pt = h(&case.pt);
        let ct = h(&case.ct);
        let sender = SendKey::new(suite, case.kid, &base_key).starting_at(case.ctr);
        let mut out = vec![0u8; sender.max_ciphertext_len(pt.len()).expect("small")];
        let n = sender.encrypt(&metadata, &pt, &mut out).expect("encrypts");
        assert_eq!(&out[..n], &ct[..], "{ctx} ciphertext");

        let mut receiver = Receiver::new();
        receiver
            .add_key(suite, case.kid, &base_key)
            .expect("installs");
        let mut plain = vec![0u8; ct.len()];
        let opened = receiver
            .decrypt(&metadata, &ct, &mut plain)
            .expect("decrypts");
        assert_eq!((opened.kid, opened.ctr), (case.kid, case.ctr));
        assert_eq!(&plain[..opened.len], &pt[..], "{ctx} plaintext");
    }
    assert_eq!(suites_seen, CipherSuite::ALL.to_vec());
}
