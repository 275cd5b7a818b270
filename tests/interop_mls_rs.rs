//! Interop with another MLS stack and another SFrame stack (issue 9): an `mls-rs` member
//! (RustCrypto provider) in a group with mlsframe members. The mls-rs side derives the
//! SFrame base key with its own exporter and seals and opens frames with the `sframe` crate
//! (its own RFC 9605 §5.2 key derivation and KID layout); mlsframe seals with its
//! `Encryptor` and opens with its `Decryptor`. Every MLS message crosses as bytes.
//!
//! One scenario, [`call`], runs per (MLS ciphersuite, handshake format, SFrame suite) and
//! per creator of the group: joins both ways, commits from both stacks (adds, removals
//! that leave gaps, a self-update), and after every commit each member's frames opened by
//! everyone else, with the KID on the wire checked against the one the other stack
//! computes. All three MLS ciphersuites run in both directions; further cases run groups
//! without mlsframe's parameters extension, out-of-band trees and foreign credentials.

mod mls_rs_peer;

use Creator::{MlsRs, Mlsframe};
use HandshakeFormat::{Ciphertext, Plaintext};
use mls_rs_peer::{Peer, Received};
use mlsframe::mls::error::MlsError;
use mlsframe::mls::identity::{Identity, MemberIdentity, SignatureAlgorithm};
use mlsframe::mls::media::{Decryptor, Encryptor, MediaConfig, MediaError};
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{
    GroupOptions, GroupParams, HandshakeFormat, JoinOptions, MlsCiphersuite, Outcome,
    PARAMS_EXTENSION_TYPE, ParamsSource, Session,
};
use mlsframe::sframe::SframeError;
use sframe::mls::{MlsKeyId, MlsKeyIdBitRange};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// E, the KID's epoch bits (mlsframe's default).
const EPOCH_BITS: u8 = 4;

/// Authenticated with every frame, as RTP header fields would be.
const METADATA: &[u8] = b"ssrc=0x1234";

/// Which stack makes the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Creator {
    Mlsframe,
    MlsRs,
}

/// What the mls-rs side does beyond what an mlsframe member would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Foreign {
    /// The peer's credential is a plain name, not mlsframe's `(user, device)` encoding.
    credential: bool,
    /// The peer's welcomes leave the ratchet tree out; it goes out of band.
    tree_out_of_band: bool,
    /// A group the peer creates has no mlsframe parameters extension (0xff00): mlsframe
    /// members learn the SFrame suite, E and handshake format out of band.
    plain_group: bool,
}

/// One `#[test]` per case: `name: case;`, attributes first.
macro_rules! interop_tests {
    ($($(#[$attr:meta])* $name:ident: $case:expr;)*) => {$(
        #[test]
        $(#[$attr])*
        fn $name() {
            call($case);
        }
    )*};
}

interop_tests! {
    // mls-rs joins mlsframe's group.
    mls_rs_joins_suite1_plaintext_aes128gcm: Case::new(0x0001, Plaintext, 0x0004, Mlsframe);
    mls_rs_joins_suite1_ciphertext_aes128gcm: Case::new(0x0001, Ciphertext, 0x0004, Mlsframe);
    mls_rs_joins_suite1_plaintext_aes256gcm: Case::new(0x0001, Plaintext, 0x0005, Mlsframe);
    mls_rs_joins_suite1_ciphertext_aes256gcm: Case::new(0x0001, Ciphertext, 0x0005, Mlsframe);
    // mlsframe joins mls-rs's group, which carries mlsframe's parameters extension.
    mlsframe_joins_suite1_plaintext_aes128gcm: Case::new(0x0001, Plaintext, 0x0004, MlsRs);
    mlsframe_joins_suite1_ciphertext_aes128gcm: Case::new(0x0001, Ciphertext, 0x0004, MlsRs);
    mlsframe_joins_suite1_plaintext_aes256gcm: Case::new(0x0001, Plaintext, 0x0005, MlsRs);
    mlsframe_joins_suite1_ciphertext_aes256gcm: Case::new(0x0001, Ciphertext, 0x0005, MlsRs);

    mls_rs_joins_suite2_ciphertext_aes128gcm: Case::new(0x0002, Ciphertext, 0x0004, Mlsframe);
    mlsframe_joins_suite2_plaintext_aes256gcm: Case::new(0x0002, Plaintext, 0x0005, MlsRs);
    mls_rs_joins_suite3_plaintext_aes256gcm: Case::new(0x0003, Plaintext, 0x0005, Mlsframe);
    mlsframe_joins_suite3_ciphertext_aes128gcm: Case::new(0x0003, Ciphertext, 0x0004, MlsRs);
    mlsframe_joins_plain_mls_rs_group: Case::new(0x0001, Ciphertext, 0x0004, MlsRs)
        .with(Foreign { plain_group: true, ..Foreign::default() });
    mlsframe_joins_with_out_of_band_tree: Case::new(0x0001, Plaintext, 0x0004, MlsRs)
        .with(Foreign { tree_out_of_band: true, ..Foreign::default() });
    mls_rs_with_foreign_credential_joins: Case::new(0x0001, Ciphertext, 0x0004, Mlsframe)
        .with(Foreign { credential: true, ..Foreign::default() });
    mlsframe_joins_fully_foreign_mls_rs_group: Case::new(0x0001, Plaintext, 0x0005, MlsRs)
        .with(Foreign { credential: true, tree_out_of_band: true, plain_group: true });
}

/// One run of the scenario.
#[derive(Debug, Clone, Copy)]
struct Case {
    /// MLS ciphersuite: 0x0001 (X25519, AES-128-GCM, Ed25519), 0x0002 (P-256, AES-128-GCM,
    /// ECDSA P-256), 0x0003 (X25519, ChaCha20-Poly1305, Ed25519).
    mls_suite: u16,
    handshake: HandshakeFormat,
    /// SFrame suite: 0x0004 or 0x0005 (the `sframe` crate's ring backend has no AES-CTR).
    sframe_suite: u16,
    creator: Creator,
    foreign: Foreign,
}

impl Case {
    fn new(
        mls_suite: u16,
        handshake: HandshakeFormat,
        sframe_suite: u16,
        creator: Creator,
    ) -> Case {
        Case {
            mls_suite,
            handshake,
            sframe_suite,
            creator,
            foreign: Foreign::default(),
        }
    }

    fn with(self, foreign: Foreign) -> Case {
        Case { foreign, ..self }
    }

    fn suite(&self) -> MlsCiphersuite {
        MlsCiphersuite::try_from(self.mls_suite).unwrap()
    }

    fn params(&self) -> GroupParams {
        GroupParams {
            sframe_suite: self.sframe_suite,
            epoch_bits: EPOCH_BITS,
            handshake: self.handshake,
        }
    }
}

/// mlsframe's group-context extension 0xff00 as it goes on the wire: SFrame suite (u16,
/// big-endian), E, handshake format (0 plaintext, 1 ciphertext). [`call`] checks that the
/// mls-rs side reads exactly these bytes from a group mlsframe created.
fn params_extension(p: &GroupParams) -> Vec<u8> {
    let mut out = p.sframe_suite.to_be_bytes().to_vec();
    out.push(p.epoch_bits);
    out.push(match p.handshake {
        HandshakeFormat::Plaintext => 0,
        HandshakeFormat::Ciphertext => 1,
    });
    out
}

/// The security code mlsframe shows (`Session::security_code`), computed from mls-rs's
/// epoch authenticator: equal codes mean both stacks are in the same epoch state.
fn security_code(epoch_authenticator: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(b"mlsframe security code v1")
        .chain_update(epoch_authenticator)
        .finalize();
    digest
        .chunks_exact(5)
        .take(6)
        .map(|c| {
            let n = c.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            format!("{:05}", n % 100_000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A handshake's wire format, as mls-rs parses it.
fn wire_format(message: &[u8]) -> HandshakeFormat {
    match mls_rs::MlsMessage::from_bytes(message)
        .unwrap()
        .wire_format()
    {
        mls_rs::WireFormat::PublicMessage => Plaintext,
        mls_rs::WireFormat::PrivateMessage => Ciphertext,
        other => panic!("not a handshake: {other:?}"),
    }
}

/// An mlsframe device with an encryptor for audio (context 0) and video (context 1).
struct Device {
    name: &'static str,
    session: Session,
    streams: [Encryptor; 2],
    decryptor: Decryptor,
}

impl Device {
    fn leaf(&self) -> u32 {
        self.session.own_leaf().expect("an active member")
    }

    fn identity(&self) -> MemberIdentity {
        self.session.identity().member().clone()
    }

    /// A key package for the case's MLS ciphersuite.
    fn key_package(&self, case: &Case) -> Vec<u8> {
        self.session.key_package_for(case.suite()).unwrap()
    }
}

/// An mlsframe device for the case's MLS ciphersuite.
fn device(name: &'static str, case: &Case) -> Device {
    let id = MemberIdentity::new(name.as_bytes().to_vec(), b"mlsframe".to_vec()).unwrap();
    let algorithm = match case.suite() {
        MlsCiphersuite::P256Aes128GcmP256 => SignatureAlgorithm::EcdsaP256,
        _ => SignatureAlgorithm::Ed25519,
    };
    let session = Session::new(
        Identity::generate_with(id, algorithm).unwrap(),
        Arc::new(AdmitAll),
        MediaConfig::default(),
    )
    .unwrap();
    let media = session.media();
    Device {
        name,
        streams: [media.encryptor(0).unwrap(), media.encryptor(1).unwrap()],
        decryptor: media.decryptor(),
        session,
    }
}

/// An mlsframe device joins from a welcome (made by either stack).
fn join(dev: &mut Device, case: &Case, welcome: &[u8], ratchet_tree: Option<&[u8]>) -> u64 {
    // The parameters are the app's agreement: used only when the group context has none.
    let options = JoinOptions {
        ratchet_tree,
        params: Some(case.params()),
    };
    dev.session
        .join_with(welcome, options)
        .unwrap_or_else(|e| panic!("{} cannot join: {e}", dev.name))
}

/// The peer: an mls-rs device with mlsframe's credential encoding (or a foreign name) that
/// advertises mlsframe's parameters extension and sends handshakes in the case's format.
fn peer(case: &Case) -> Peer {
    let identity = if case.foreign.credential {
        b"bob@mls-rs.example".to_vec()
    } else {
        MemberIdentity::new(b"bob".to_vec(), b"mls-rs".to_vec())
            .unwrap()
            .encode()
    };
    let peer = Peer::new(case.mls_suite, &identity, &[PARAMS_EXTENSION_TYPE]);
    peer.set_encrypted_handshakes(case.handshake == HandshakeFormat::Ciphertext);
    peer.set_tree_in_welcome(!case.foreign.tree_out_of_band);
    peer
}

fn seal(enc: &mut Encryptor, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; enc.max_ciphertext_len(payload.len()).unwrap()];
    let n = enc.encrypt(METADATA, payload, &mut out).unwrap();
    out.truncate(n);
    out
}

fn open(
    dec: &mut Decryptor,
    frame: &[u8],
) -> Result<(Vec<u8>, mlsframe::mls::media::DecryptedFrame), MediaError> {
    let mut out = vec![0u8; frame.len()];
    let opened = dec.decrypt(METADATA, frame, &mut out)?;
    out.truncate(opened.len);
    Ok((out, opened))
}

/// The group in one test: the mls-rs peer and the mlsframe devices still in it.
struct Call {
    case: Case,
    peer: Peer,
    devices: Vec<Device>,
    /// Frames exchanged so far (each checked by every receiver).
    frames: usize,
}

impl Call {
    fn device(&mut self, name: &str) -> &mut Device {
        self.devices
            .iter_mut()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no device {name}"))
    }

    /// Every member agrees on the epoch, the group, the roster and the security code.
    fn check_agreement(&self) {
        let peer = &self.peer;
        let mut leaves: Vec<u32> = self.devices.iter().map(Device::leaf).collect();
        leaves.push(peer.leaf());
        leaves.sort_unstable();
        assert_eq!(
            peer.occupied_leaves(),
            leaves,
            "mls-rs sees the same leaves"
        );
        let code = security_code(&peer.epoch_authenticator());
        for d in &self.devices {
            let s = &d.session;
            assert_eq!(s.epoch(), Some(peer.epoch()), "{} epoch", d.name);
            assert_eq!(s.group_id(), Some(peer.group_id()));
            assert_eq!(s.security_code().unwrap(), code, "{} security code", d.name);
            let members = s.members().unwrap();
            assert_eq!(
                members.iter().map(|m| m.leaf).collect::<Vec<_>>(),
                leaves,
                "{} roster",
                d.name
            );
            assert_eq!(
                peer.identity_at(d.leaf()),
                Some(d.identity().encode()),
                "mls-rs sees {} at leaf {}",
                d.name,
                d.leaf()
            );
        }
    }

    /// After every commit: each device seals audio and video, the peer (and every other
    /// device) opens them; the peer seals audio and video, every device opens them.
    fn exchange(&mut self, round: &str) {
        self.check_agreement();
        let case = self.case;
        let (suite, e) = (case.sframe_suite, EPOCH_BITS);
        for i in 0..self.devices.len() {
            for context in [0u64, 1] {
                let d = &mut self.devices[i];
                let payload = format!("{round}: {} on stream {context}", d.name).into_bytes();
                let frame = seal(&mut d.streams[context as usize], &payload);
                let d = &self.devices[i];
                let (name, leaf) = (d.name, d.leaf());
                // Both stacks lay out the same KID (sframe crate: MlsKeyId, S from mls-rs's
                // roster) ...
                let kid: u64 = self.peer.kid_of(e, d.leaf(), context).into();
                assert_eq!(mls_rs_peer::wire_kid(&frame), kid, "{round}: {}", d.name);
                // ... and the key from mls-rs's exporter opens the frame.
                let (plain, _) = self
                    .peer
                    .open(suite, e, d.leaf(), context, METADATA, &frame)
                    .unwrap_or_else(|err| panic!("{round}: mls-rs opens {}: {err}", d.name));
                assert_eq!(plain, payload);
                for other in self.devices.iter_mut().filter(|o| o.name != name) {
                    let (plain, opened) = open(&mut other.decryptor, &frame).unwrap();
                    assert_eq!(plain, payload);
                    assert_eq!(opened.sender.leaf, leaf);
                }
                self.frames += 1;
            }
        }
        let peer_identity = MemberIdentity::decode(self.peer.identity()).ok();
        for context in [0u64, 1] {
            let payload = format!("{round}: mls-rs on stream {context}").into_bytes();
            let frame = self.peer.seal(suite, e, context, METADATA, &payload);
            for d in &mut self.devices {
                let (plain, opened) = open(&mut d.decryptor, &frame)
                    .unwrap_or_else(|err| panic!("{round}: {} opens mls-rs: {err}", d.name));
                assert_eq!(plain, payload, "{round}: {}", d.name);
                assert_eq!(opened.sender.leaf, self.peer.leaf());
                assert_eq!(opened.sender.epoch, self.peer.epoch());
                assert_eq!(opened.sender.context, context);
                let who = d
                    .decryptor
                    .identity_at(opened.sender.epoch, opened.sender.leaf);
                assert_eq!(who.as_deref(), peer_identity.as_ref());
            }
            self.frames += 1;
        }
    }

    /// The peer commits; every device processes it; the peer applies it.
    fn peer_commits(&mut self, commit: &mls_rs_peer::Commit) -> Vec<Outcome> {
        assert_eq!(
            wire_format(&commit.commit),
            self.case.handshake,
            "mls-rs commit"
        );
        let outcomes = self
            .devices
            .iter_mut()
            .map(|d| {
                d.session
                    .process(&commit.commit)
                    .unwrap_or_else(|e| panic!("{} processes the mls-rs commit: {e}", d.name))
            })
            .collect();
        self.peer.apply_pending_commit();
        outcomes
    }

    /// Device `by` commits (its delivery confirmed); the peer and the other devices process
    /// the commit. Returns the other devices' outcomes, in order.
    fn device_commits(&mut self, by: &str, commit: &[u8]) -> Vec<Outcome> {
        assert_eq!(wire_format(commit), self.case.handshake, "mlsframe commit");
        self.device(by).session.confirm_own_commit().unwrap();
        let epoch = self.device(by).session.epoch().unwrap();
        assert_eq!(
            self.peer
                .process(commit)
                .expect("mls-rs processes the mlsframe commit"),
            Received::Commit {
                epoch,
                removed_self: false
            }
        );
        self.devices
            .iter_mut()
            .filter(|d| d.name != by)
            .map(|d| d.session.process(commit).unwrap())
            .collect()
    }

    /// New mlsframe devices join from a welcome.
    fn welcome(&mut self, mut joiners: Vec<Device>, welcome: &[u8], tree: Option<&[u8]>) {
        let case = self.case;
        for d in &mut joiners {
            assert_eq!(join(d, &case, welcome, tree), self.peer.epoch());
            assert_eq!(d.session.params(), Some(case.params()));
        }
        self.devices.extend(joiners);
    }

    /// The peer removes the mlsframe devices `names`.
    fn peer_removes(&mut self, names: &[&str]) {
        let leaves: Vec<u32> = names.iter().map(|n| self.device(n).leaf()).collect();
        let commit = self.peer.remove(&leaves).expect("mls-rs removes");
        let outcomes = self.peer_commits(&commit);
        let everyone: Vec<&'static str> = self.devices.iter().map(|d| d.name).collect();
        self.drop_removed(names, &everyone, &outcomes);
    }

    /// Device `by` removes the devices `names`.
    fn device_removes(&mut self, by: &str, names: &[&str]) {
        let leaves: Vec<u32> = names.iter().map(|n| self.device(n).leaf()).collect();
        let out = self.device(by).session.remove_members(&leaves).unwrap();
        let others: Vec<&'static str> = self
            .devices
            .iter()
            .map(|d| d.name)
            .filter(|n| *n != by)
            .collect();
        let outcomes = self.device_commits(by, &out.commit);
        self.drop_removed(names, &others, &outcomes);
    }

    /// `outcomes` (of devices `of`) say exactly `names` were removed; those devices leave
    /// the call, and open nothing the peer seals afterwards.
    fn drop_removed(&mut self, names: &[&str], of: &[&str], outcomes: &[Outcome]) {
        assert_eq!(of.len(), outcomes.len());
        for (name, outcome) in of.iter().zip(outcomes) {
            let removed = matches!(outcome, Outcome::Removed);
            assert_eq!(removed, names.contains(name), "{name}: {outcome:?}");
        }
        let (mut removed, staying): (Vec<Device>, Vec<Device>) = std::mem::take(&mut self.devices)
            .into_iter()
            .partition(|d| names.contains(&d.name));
        self.devices = staying;
        let suite = self.case.sframe_suite;
        let frame = self
            .peer
            .seal(suite, EPOCH_BITS, 0, METADATA, b"after the removal");
        for d in &mut removed {
            assert!(!d.session.is_active());
            assert_eq!(
                open(&mut d.decryptor, &frame),
                Err(MediaError::NoKey),
                "{}",
                d.name
            );
        }
    }
}

/// The scenario. Leaves as it goes (creator first): {creator, joiner} → the peer adds
/// carol → an mlsframe device adds dave and erin → the peer self-updates → the peer
/// removes carol (gap: leaves {0,1,3,4}, S = 3 while 4 members would suggest 2) → mlsframe
/// removes dave ({0,1,4}) → mlsframe adds frank (takes the leftmost gap, leaf 2) → the
/// peer removes erin ({0,1,2}: S shrinks to 2).
fn call(case: Case) {
    let params = case.params();
    let mut bob = peer(&case);
    let alice = device("alice", &case);
    let mut call = match case.creator {
        Creator::Mlsframe => {
            let mut alice = alice;
            let params_source = if case.foreign.plain_group {
                ParamsSource::App
            } else {
                ParamsSource::GroupContext
            };
            alice
                .session
                .create_group_with(&GroupOptions {
                    params,
                    ciphersuite: case.suite(),
                    params_source,
                    external_senders: Vec::new(),
                })
                .unwrap();
            let out = alice
                .session
                .add_members(&[&bob.key_package()])
                .unwrap_or_else(|e| panic!("mlsframe adds the mls-rs key package: {e}"));
            alice.session.confirm_own_commit().unwrap();
            assert_eq!(bob.join(out.welcome.as_deref().unwrap(), None).unwrap(), 1);
            assert_eq!((alice.leaf(), bob.leaf()), (0, 1));
            // mls-rs reads mlsframe's group context: its parameters, byte for byte.
            assert_eq!(
                bob.context_extension(PARAMS_EXTENSION_TYPE),
                Some(params_extension(&params))
            );
            Call {
                case,
                peer: bob,
                devices: vec![alice],
                frames: 0,
            }
        }
        Creator::MlsRs => {
            if case.foreign.plain_group {
                bob.create_group(&[], &[]);
            } else {
                bob.create_group(
                    &[(PARAMS_EXTENSION_TYPE, params_extension(&params))],
                    &[PARAMS_EXTENSION_TYPE],
                );
            }
            let commit = bob
                .add(&[&alice.key_package(&case)])
                .expect("mls-rs adds the mlsframe key package");
            bob.apply_pending_commit();
            let mut call = Call {
                case,
                peer: bob,
                devices: Vec::new(),
                frames: 0,
            };
            call.welcome(
                vec![alice],
                commit.welcome.as_deref().unwrap(),
                commit.ratchet_tree.as_deref(),
            );
            assert_eq!((call.peer.leaf(), call.devices[0].leaf()), (0, 1));
            call
        }
    };
    assert_eq!(call.peer.group_suite(), case.mls_suite);
    call.exchange("two members");

    // A handshake in the other wire format is refused and changes nothing.
    call.peer
        .set_encrypted_handshakes(case.handshake == HandshakeFormat::Plaintext);
    let wrong_format = call.peer.self_update();
    let epoch = call.peer.epoch();
    assert_eq!(
        call.device("alice").session.process(&wrong_format.commit),
        Err(MlsError::WireFormatNotAllowed)
    );
    assert_eq!(call.device("alice").session.epoch(), Some(epoch));
    call.peer.clear_pending_commit();
    call.peer
        .set_encrypted_handshakes(case.handshake == HandshakeFormat::Ciphertext);

    // mls-rs commits an add; mlsframe follows and the new member joins from mls-rs's welcome.
    let carol = device("carol", &case);
    let commit = call
        .peer
        .add(&[&carol.key_package(&case)])
        .expect("mls-rs adds carol");
    let outcomes = call.peer_commits(&commit);
    match &outcomes[..] {
        [Outcome::EpochChanged { added, removed, .. }] => {
            assert!(removed.is_empty());
            assert_eq!(added.len(), 1);
            assert_eq!(added[0].identity, Some(carol.identity()));
            assert_eq!(added[0].leaf, 2);
        }
        other => panic!("unexpected {other:?}"),
    }
    call.welcome(
        vec![carol],
        commit.welcome.as_deref().unwrap(),
        commit.ratchet_tree.as_deref(),
    );
    call.exchange("the peer added carol");

    // mlsframe commits an add of two; mls-rs follows; they join from mlsframe's welcome.
    let (dave, erin) = (device("dave", &case), device("erin", &case));
    let kps = [dave.key_package(&case), erin.key_package(&case)];
    let out = call
        .device("alice")
        .session
        .add_members(&[&kps[0], &kps[1]])
        .unwrap();
    call.device_commits("alice", &out.commit);
    call.welcome(vec![dave, erin], &out.welcome.unwrap(), None);
    call.exchange("alice added dave and erin");

    // An mls-rs commit with only a path (a self-update).
    let update = call.peer.self_update();
    for outcome in call.peer_commits(&update) {
        assert!(matches!(outcome, Outcome::EpochChanged { .. }));
    }
    call.exchange("the peer self-updated");

    // mls-rs removes a middle leaf: leaves {0,1,3,4}. S comes from the highest leaf
    // (3 bits), not from the member count (4 members would fit in 2 bits).
    call.peer_removes(&["carol"]);
    assert_eq!(call.peer.occupied_leaves(), [0, 1, 3, 4]);
    call.exchange("the peer removed carol");
    gap_checks(&mut call, &[2]);

    // mlsframe removes another middle leaf: {0,1,4}.
    call.device_removes("alice", &["dave"]);
    assert_eq!(call.peer.occupied_leaves(), [0, 1, 4]);
    call.exchange("alice removed dave");
    gap_checks(&mut call, &[2, 3]);

    // An add fills the leftmost gap (RFC 9420 §12.1.1) on both stacks.
    let frank = device("frank", &case);
    let out = call
        .device("alice")
        .session
        .add_members(&[&frank.key_package(&case)])
        .unwrap();
    call.device_commits("alice", &out.commit);
    call.welcome(vec![frank], &out.welcome.unwrap(), None);
    assert_eq!(call.device("frank").leaf(), 2);
    call.exchange("alice added frank");

    // Removing the highest leaf shrinks S: {0,1,2}, S = 2.
    let old_base_key = call
        .peer
        .sframe_base_key(mls_rs_peer::sframe_key_len(case.sframe_suite));
    call.peer_removes(&["erin"]);
    assert_eq!(call.peer.occupied_leaves(), [0, 1, 2]);
    assert_eq!(mls_rs_peer::leaf_bits(&call.peer.occupied_leaves()), 2);
    call.exchange("the peer removed erin");
    wrong_key_checks(&mut call, &old_base_key);
    // Every round ran: two streams per device (1, 2, 4, 4, 3, 2, 3, 2 devices) and two
    // from the peer, in 8 rounds.
    assert_eq!(call.frames, 2 * (1 + 2 + 4 + 4 + 3 + 2 + 3 + 2) + 2 * 8);
}

/// The last epoch's base key, under the right KID of this epoch, opens nothing on either
/// side.
fn wrong_key_checks(call: &mut Call, old_base_key: &[u8]) {
    let case = call.case;
    let epoch = call.peer.epoch();
    let s = mls_rs_peer::leaf_bits(&call.peer.occupied_leaves());
    let alice = call.device("alice");
    let (alice_leaf, frame) = (alice.leaf(), seal(&mut alice.streams[1], b"current epoch"));
    let kid = mls_rs_peer::kid(1, epoch, alice_leaf, EPOCH_BITS, s);
    assert_eq!(mls_rs_peer::wire_kid(&frame), kid);
    assert!(matches!(
        mls_rs_peer::open(case.sframe_suite, old_base_key, kid, METADATA, &frame),
        Err(sframe::error::SframeError::DecryptionFailure)
    ));
    let forged = mls_rs_peer::seal(
        case.sframe_suite,
        old_base_key,
        mls_rs_peer::kid(0, epoch, call.peer.leaf(), EPOCH_BITS, s),
        7,
        METADATA,
        b"old key",
    );
    for d in &mut call.devices {
        assert_eq!(
            open(&mut d.decryptor, &forged),
            Err(MediaError::Sframe(SframeError::AuthenticationFailed))
        );
    }
    // And the right key opens it: the failure above is the key's, not the frame's.
    let current = call
        .peer
        .sframe_base_key(mls_rs_peer::sframe_key_len(case.sframe_suite));
    let (plain, _) = mls_rs_peer::open(case.sframe_suite, &current, kid, METADATA, &frame).unwrap();
    assert_eq!(plain, b"current epoch");
}

/// Checks in an epoch whose tree has empty leaves `gaps`: a KID naming an empty leaf is
/// refused by mlsframe even under the right base key. S sized by the member count instead
/// of the highest leaf is too small: the `sframe` crate cannot even name the highest leaf
/// with it, and the peer's own KID on a non-zero context then names another leaf.
fn gap_checks(call: &mut Call, gaps: &[u32]) {
    let case = call.case;
    let base_key = call
        .peer
        .sframe_base_key(mls_rs_peer::sframe_key_len(case.sframe_suite));
    let epoch = call.peer.epoch();
    let occupied = call.peer.occupied_leaves();
    let s = mls_rs_peer::leaf_bits(&occupied);
    let by_count = mls_rs_peer::leaf_bits(&[u32::try_from(occupied.len() - 1).unwrap()]);
    assert!(by_count < s, "the gaps make the two sizings differ");
    let highest = *occupied.last().unwrap();
    assert!(
        MlsKeyId::try_new(
            0u64,
            epoch,
            highest,
            MlsKeyIdBitRange::new(EPOCH_BITS, by_count)
        )
        .is_err()
    );
    let frames: Vec<Vec<u8>> = gaps
        .iter()
        .map(|gap| {
            mls_rs_peer::seal(
                case.sframe_suite,
                &base_key,
                mls_rs_peer::kid(0, epoch, *gap, EPOCH_BITS, s),
                1,
                METADATA,
                b"claims an empty leaf",
            )
        })
        .collect();
    for d in &mut call.devices {
        for frame in &frames {
            assert_eq!(
                open(&mut d.decryptor, frame),
                Err(MediaError::UnknownSender)
            );
        }
    }

    // The peer's video KID with S by member count, read with the group's S: another leaf.
    // Either nobody holds it (refused) or another member does, and the frame is credited
    // to that member: two senders would share KIDs, keys and nonces.
    let miskeyed_kid = mls_rs_peer::kid(1, epoch, call.peer.leaf(), EPOCH_BITS, by_count);
    let read_as = MlsKeyId::from_key_id(miskeyed_kid, MlsKeyIdBitRange::new(EPOCH_BITS, s));
    let read_leaf = u32::try_from(read_as.member_index()).unwrap();
    assert_ne!(read_leaf, call.peer.leaf());
    let miskeyed = mls_rs_peer::seal(
        case.sframe_suite,
        &base_key,
        miskeyed_kid,
        2,
        METADATA,
        b"S by member count",
    );
    for d in &mut call.devices {
        let opened = open(&mut d.decryptor, &miskeyed);
        if occupied.contains(&read_leaf) && d.leaf() != read_leaf {
            let (plain, frame) = opened.expect("credited to another member");
            assert_eq!(plain, b"S by member count");
            assert_eq!(frame.sender.leaf, read_leaf);
        } else {
            assert_eq!(opened, Err(MediaError::UnknownSender));
        }
    }
}

/// The mls-rs side alone, in all three ciphersuites and both handshake formats, with
/// foreign credentials, no mlsframe extension and the ratchet tree out of band: three
/// mls-rs members key SFrame from their exporters and open each other's frames, across an
/// add and a removal that leaves a gap. It pins the peer the cases above meet.
#[test]
fn mls_rs_peers_key_sframe_in_every_ciphersuite() {
    use mls_rs::{MlsMessage, WireFormat};
    for suite in [0x0001, 0x0002, 0x0003] {
        for encrypted in [false, true] {
            let sframe_suite = if suite == 0x0002 { 0x0005 } else { 0x0004 };
            let nk = mls_rs_peer::sframe_key_len(sframe_suite);
            let mut peers: Vec<Peer> = ["alice", "bob", "carol"]
                .iter()
                .map(|name| {
                    let p = Peer::new(suite, format!("{name}@mls-rs").as_bytes(), &[]);
                    p.set_encrypted_handshakes(encrypted);
                    p.set_tree_in_welcome(false);
                    p
                })
                .collect();
            let kps: Vec<Vec<u8>> = peers[1..].iter().map(Peer::key_package).collect();
            peers[0].create_group(&[], &[]);
            let add = peers[0].add(&[&kps[0], &kps[1]]).unwrap();
            peers[0].apply_pending_commit();
            let welcome = add.welcome.as_deref().unwrap();
            let tree = add.ratchet_tree.as_deref().expect("tree out of band");
            assert!(peers[1].join(welcome, None).is_err(), "no tree, no join");
            for p in &mut peers[1..] {
                assert_eq!(p.join(welcome, Some(tree)).unwrap(), 1);
            }
            assert_eq!(peers[2].export_tree(), tree);
            assert_eq!(peers[1].group_suite(), suite);

            // A removal that leaves a gap: {0, 2}, S = 2.
            let remove = peers[0].remove(&[1]).unwrap();
            let wire = MlsMessage::from_bytes(&remove.commit)
                .unwrap()
                .wire_format();
            let expected = if encrypted {
                WireFormat::PrivateMessage
            } else {
                WireFormat::PublicMessage
            };
            assert_eq!(wire, expected, "suite {suite:#06x}");
            let removed = peers[1].process(&remove.commit).unwrap();
            assert_eq!(
                removed,
                Received::Commit {
                    epoch: 2,
                    removed_self: true
                }
            );
            assert_eq!(
                peers[2].process(&remove.commit).unwrap(),
                Received::Commit {
                    epoch: 2,
                    removed_self: false
                }
            );
            peers[0].apply_pending_commit();
            let (alice, carol) = (&peers[0], &peers[2]);
            assert_eq!(carol.occupied_leaves(), [0, 2]);
            assert_eq!(alice.sframe_base_key(nk), carol.sframe_base_key(nk));
            assert_eq!(alice.sframe_base_key(nk).len(), nk);
            assert_eq!(alice.epoch_authenticator(), carol.epoch_authenticator());

            // Frames: the sframe crate's own §5.2 derivation on one side, the exported base
            // key with a KID from (context, epoch, leaf, E, S) on the other.
            for context in [0u64, 1] {
                let payload = format!("suite {suite:#06x}, context {context}").into_bytes();
                let frame = peers[0].seal(sframe_suite, EPOCH_BITS, context, METADATA, &payload);
                let kid = mls_rs_peer::kid(context, 2, 0, EPOCH_BITS, 2);
                assert_eq!(mls_rs_peer::wire_kid(&frame), kid);
                let carol = &peers[2];
                let (plain, _) = carol
                    .open(sframe_suite, EPOCH_BITS, 0, context, METADATA, &frame)
                    .unwrap();
                assert_eq!(plain, payload);
                let base_key = carol.sframe_base_key(nk);
                let (plain, _) =
                    mls_rs_peer::open(sframe_suite, &base_key, kid, METADATA, &frame).unwrap();
                assert_eq!(plain, payload);
                // The wrong sender's KID does not open it.
                assert!(
                    carol
                        .open(sframe_suite, EPOCH_BITS, 2, context, METADATA, &frame)
                        .is_err()
                );
            }
        }
    }
}
