//! The two MLS stacks the MLS benches compare (`benches/mls_ops.rs`, `benches/memory.rs`):
//! mlsframe's [`Session`] and the same member written directly against openmls 0.9 with
//! `openmls_rust_crypto`. Messages cross between members as bytes on both.
#![allow(dead_code)]

use std::sync::Arc;

use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::MediaConfig;
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{GroupParams, Session};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;

/// The operations, as one MLS stack does them; messages cross as bytes.
pub trait Stack {
    type Member;
    const NAME: &'static str;
    fn member(name: &str) -> Self::Member;
    fn key_package(m: &Self::Member) -> Vec<u8>;
    /// Creates a group and adds the key packages' owners; returns the welcome.
    fn create_add(m: &mut Self::Member, kps: &[Vec<u8>]) -> Vec<u8>;
    fn join(m: &mut Self::Member, welcome: &[u8]);
    /// A self-update commit, merged by its sender; returns it.
    fn self_update(m: &mut Self::Member) -> Vec<u8>;
    fn process(m: &mut Self::Member, commit: &[u8]);
    /// Commits the removal of `leaf` and merges it.
    fn remove(m: &mut Self::Member, leaf: u32);
}

pub struct Mlsframe;

impl Stack for Mlsframe {
    type Member = Session;
    const NAME: &'static str = "mlsframe";

    fn member(name: &str) -> Session {
        let id = MemberIdentity::new(name.as_bytes().to_vec(), b"bench".to_vec()).expect("id");
        let identity = Identity::generate(id).expect("identity");
        Session::new(identity, Arc::new(AdmitAll), MediaConfig::default()).expect("session")
    }

    fn key_package(m: &Session) -> Vec<u8> {
        m.key_package().expect("key package")
    }

    fn create_add(m: &mut Session, kps: &[Vec<u8>]) -> Vec<u8> {
        m.create_group(GroupParams::default()).expect("group");
        let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
        let out = m.add_members(&refs).expect("add");
        m.confirm_own_commit().expect("confirm");
        out.welcome.expect("welcome")
    }

    fn join(m: &mut Session, welcome: &[u8]) {
        m.join(welcome).expect("join");
    }

    fn self_update(m: &mut Session) -> Vec<u8> {
        let out = m.self_update().expect("update");
        m.confirm_own_commit().expect("confirm");
        out.commit
    }

    fn process(m: &mut Session, commit: &[u8]) {
        m.process(commit).expect("process");
    }

    fn remove(m: &mut Session, leaf: u32) {
        m.remove_members(&[leaf]).expect("remove");
        m.confirm_own_commit().expect("confirm");
    }
}

/// The same member written directly against openmls.
pub struct Openmls;

pub struct BareMember {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    group: Option<MlsGroup>,
}

const MLS_SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .build()
}

fn bytes(message: &MlsMessageOut) -> Vec<u8> {
    message.tls_serialize_detached().expect("encodes")
}

fn parse(message: &[u8]) -> MlsMessageIn {
    MlsMessageIn::tls_deserialize_exact(message).expect("decodes")
}

impl Stack for Openmls {
    type Member = BareMember;
    const NAME: &'static str = "openmls";

    fn member(name: &str) -> BareMember {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(MLS_SUITE.signature_algorithm()).expect("keys");
        signer.store(provider.storage()).expect("stores");
        let credential = CredentialWithKey {
            credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        BareMember {
            provider,
            signer,
            credential,
            group: None,
        }
    }

    fn key_package(m: &BareMember) -> Vec<u8> {
        let bundle = KeyPackage::builder()
            .build(MLS_SUITE, &m.provider, &m.signer, m.credential.clone())
            .expect("key package");
        bytes(&MlsMessageOut::from(bundle.key_package().clone()))
    }

    fn create_add(m: &mut BareMember, kps: &[Vec<u8>]) -> Vec<u8> {
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(MLS_SUITE)
            .use_ratchet_tree_extension(true)
            .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
            .build();
        let mut group =
            MlsGroup::new(&m.provider, &m.signer, &config, m.credential.clone()).expect("group");
        let kps: Vec<KeyPackage> = kps
            .iter()
            .map(|kp| {
                let MlsMessageBodyIn::KeyPackage(kp) = parse(kp).extract() else {
                    panic!("a key package");
                };
                kp.validate(m.provider.crypto(), ProtocolVersion::Mls10)
                    .expect("valid")
            })
            .collect();
        let (commit, welcome, _) = group
            .add_members(&m.provider, &m.signer, &kps)
            .expect("add");
        let (_commit, welcome) = (bytes(&commit), bytes(&welcome));
        group.merge_pending_commit(&m.provider).expect("merge");
        m.group = Some(group);
        welcome
    }

    fn join(m: &mut BareMember, welcome: &[u8]) {
        let MlsMessageBodyIn::Welcome(welcome) = parse(welcome).extract() else {
            panic!("a welcome");
        };
        let group = StagedWelcome::new_from_welcome(&m.provider, &join_config(), welcome, None)
            .expect("staged")
            .into_group(&m.provider)
            .expect("joined");
        m.group = Some(group);
    }

    fn self_update(m: &mut BareMember) -> Vec<u8> {
        let group = m.group.as_mut().expect("in a group");
        let bundle = group
            .self_update(&m.provider, &m.signer, LeafNodeParameters::default())
            .expect("update");
        let commit = bytes(bundle.commit());
        group.merge_pending_commit(&m.provider).expect("merge");
        commit
    }

    fn process(m: &mut BareMember, commit: &[u8]) {
        let group = m.group.as_mut().expect("in a group");
        let message = parse(commit)
            .try_into_protocol_message()
            .expect("protocol message");
        let processed = group
            .process_message(&m.provider, message)
            .expect("processes");
        let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else {
            panic!("a commit");
        };
        group
            .merge_staged_commit(&m.provider, *staged)
            .expect("merge");
    }

    fn remove(m: &mut BareMember, leaf: u32) {
        let group = m.group.as_mut().expect("in a group");
        let (commit, _, _) = group
            .remove_members(&m.provider, &m.signer, &[LeafNodeIndex::new(leaf)])
            .expect("remove");
        let _ = bytes(&commit);
        group.merge_pending_commit(&m.provider).expect("merge");
    }
}

/// Key packages of `count` members (their private halves are dropped: they never join).
pub fn key_packages<S: Stack>(prefix: &str, count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| S::key_package(&S::member(&format!("{prefix}{i}"))))
        .collect()
}

/// An `n`-member group: the creator (leaf 0), then `joiners` members who hold their
/// private keys (leaves 1..=joiners, joined), then members who never act.
pub struct Fixture<S: Stack> {
    pub creator: S::Member,
    pub joined: Vec<S::Member>,
    pub welcome: Vec<u8>,
}

impl<S: Stack> Fixture<S> {
    pub fn new(n: usize, joiners: usize, join_now: bool) -> Fixture<S> {
        let joiners = joiners.min(n - 1);
        let mut members: Vec<S::Member> = (0..joiners)
            .map(|i| S::member(&format!("joiner{i}")))
            .collect();
        let mut kps: Vec<Vec<u8>> = members.iter().map(|m| S::key_package(m)).collect();
        kps.extend(key_packages::<S>("member", n - 1 - joiners));
        let mut creator = S::member("creator");
        let welcome = S::create_add(&mut creator, &kps);
        if join_now {
            for m in &mut members {
                S::join(m, &welcome);
            }
        }
        Fixture {
            creator,
            joined: members,
            welcome,
        }
    }
}
