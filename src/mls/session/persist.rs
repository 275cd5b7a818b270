//! Saving and restoring a member's group state as an explicit snapshot, and the snapshot's
//! byte format (version 3, and the versions 1 and 2 it still restores).
//!
//! A snapshot holds the member's identity secret and the whole `openmls` key store: it is as
//! secret as the session itself, so store it encrypted. Send counters are *not* saved, so a
//! restored session refuses to seal ([`MediaError::RekeyRequired`]) in any epoch until its
//! own self-update is merged: the restored epoch, or one re-entered through a redelivered
//! commit, may already have used those counters, and reusing them would reuse nonces.
//!
//! # Format
//!
//! Integers are big-endian. `bytes` is a `u32` length followed by that many bytes.
//! Version 3, which [`Session::snapshot`] writes, is, in order:
//!
//! | Field | Encoding |
//! |---|---|
//! | magic | the 20 ASCII bytes `mlsframe-snapshot-v3` |
//! | user id | `bytes`, 1..=1024 |
//! | device id | `bytes`, 0..=1024 |
//! | signature algorithm | `u16`, the MLS `SignatureScheme` code ([`SignatureAlgorithm::code`]): 0x0807 Ed25519, 0x0403 ECDSA P-256 |
//! | identity secret | `bytes`, 32: the Ed25519 seed, or the P-256 private scalar (big-endian, nonzero, below the group order) |
//! | parameters source | `u8`: 0 = the group context carries the parameters (extension [`PARAMS_EXTENSION_TYPE`]); 1 = the application gave them at create or join time, and the group context has no such extension |
//! | group parameters | `bytes`, 4: SFrame suite (`u16`), E (`u8`), handshake format (`u8`, 0 plaintext, 1 ciphertext) |
//! | group id | `bytes` |
//! | key store | `u32` count, then per entry, ascending by key: key `bytes`, value `bytes` (serde-JSON, as `openmls_memory_storage` encodes it) |
//! | replay highs | `u32` count, then per KID of the current epoch: KID (`u64`), highest accepted counter (`u64`) |
//!
//! Nothing may follow. On restore the group context is authoritative: with source 0 it must
//! carry the parameters and they must equal the saved copy; with source 1 it must carry none,
//! and the saved copy is used. The own leaf's signature key must be the identity's public
//! key, and the group's ciphersuite must sign with the identity's algorithm.
//!
//! Version 2 (`mlsframe-snapshot-v2`) is version 3 without the signature algorithm and the
//! parameters source: its secret is an Ed25519 seed and its parameters come from the group
//! context. Version 1 (`mlsframe-snapshot-v1`) is version 2 without the replay highs.
//!
//! [`MediaError::RekeyRequired`]: crate::mls::media::MediaError::RekeyRequired
//! [`SignatureAlgorithm::code`]: crate::mls::identity::SignatureAlgorithm::code

use std::sync::Arc;

use openmls::prelude::{GroupId, MlsGroup};
use openmls_traits::OpenMlsProvider as _;
use zeroize::Zeroizing;

use super::storage::{SessionProvider, ZeroizingStorage};
use super::{Group, GroupParams, PARAMS_EXTENSION_TYPE, ParamsSource, Session, Status};
use crate::mls::epoch_event::EpochEvent;
use crate::mls::error::{MlsError, Result};
use crate::mls::identity::{Identity, MemberIdentity, SignatureAlgorithm};
use crate::mls::media::MediaConfig;
use crate::mls::policy::AdmissionPolicy;

/// Version 1: identity, parameters, group id, key store.
const MAGIC_V1: &[u8] = b"mlsframe-snapshot-v1";
/// Version 2: version 1, then the highest accepted frame counter per KID of the current
/// epoch, so the restored member refuses frames it had already accepted.
const MAGIC_V2: &[u8] = b"mlsframe-snapshot-v2";
/// Version 3: version 2 with the identity's signature algorithm and where the group
/// parameters come from.
const MAGIC: &[u8] = b"mlsframe-snapshot-v3";

/// The snapshot byte of a [`ParamsSource`].
fn source_code(source: ParamsSource) -> u8 {
    match source {
        ParamsSource::GroupContext => 0,
        ParamsSource::App => 1,
    }
}

/// The [`ParamsSource`] a snapshot byte names.
fn source_of(code: u8) -> Result<ParamsSource> {
    match code {
        0 => Ok(ParamsSource::GroupContext),
        1 => Ok(ParamsSource::App),
        _ => Err(MlsError::Malformed),
    }
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) -> Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| MlsError::Internal("state too large"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// A strict reader over snapshot bytes: every read is bounds-checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(MlsError::Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut v = [0u8; 8];
        v.copy_from_slice(b);
        Ok(u64::from_be_bytes(v))
    }

    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

impl Session {
    /// Serializes this member's identity and group state. Refused while a commit of ours
    /// is pending (confirm or discard it first).
    ///
    /// # Errors
    /// [`MlsError::NoGroup`], [`MlsError::CommitPending`], [`MlsError::NotMember`].
    pub fn snapshot(&self) -> Result<Zeroizing<Vec<u8>>> {
        let g = self.group.as_ref().ok_or(MlsError::NoGroup)?;
        if g.status != Status::Active {
            return Err(MlsError::NotMember);
        }
        if g.pending.is_some() {
            return Err(MlsError::CommitPending);
        }
        let member = self.identity.member();
        let entries = self
            .provider
            .storage()
            .entries()
            .map_err(|_| MlsError::Internal("key store lock poisoned"))?;
        // Reserve the exact size: growing would free unwiped copies of the secrets.
        let algorithm = self.identity.algorithm().code().to_be_bytes();
        let secret = self.identity.seed();
        let source = source_code(g.params_source);
        let params = g.params.encode();
        let group_id = g.mls.group_id().as_slice();
        let floors = self
            .media
            .as_ref()
            .map(|m| m.replay_highs())
            .unwrap_or_default();
        let size = MAGIC.len()
            + [
                &member.user_id[..],
                &member.device_id,
                &secret[..],
                &params,
                group_id,
            ]
            .iter()
            .map(|f| 4 + f.len())
            .sum::<usize>()
            + algorithm.len()
            + 1
            + 4
            + entries
                .iter()
                .map(|(k, v)| 8 + k.as_bytes().len() + v.len())
                .sum::<usize>()
            + 4
            + 16 * floors.len();
        let mut out = Zeroizing::new(Vec::with_capacity(size));
        out.extend_from_slice(MAGIC);
        put(&mut out, &member.user_id)?;
        put(&mut out, &member.device_id)?;
        out.extend_from_slice(&algorithm);
        put(&mut out, &secret[..])?;
        out.push(source);
        put(&mut out, &params)?;
        put(&mut out, group_id)?;
        // Entries come ordered by key.
        let count =
            u32::try_from(entries.len()).map_err(|_| MlsError::Internal("state too large"))?;
        out.extend_from_slice(&count.to_be_bytes());
        for (k, v) in entries.iter() {
            put(&mut out, k.as_bytes())?;
            put(&mut out, v)?;
        }
        let count =
            u32::try_from(floors.len()).map_err(|_| MlsError::Internal("state too large"))?;
        out.extend_from_slice(&count.to_be_bytes());
        for (kid, ctr) in floors {
            out.extend_from_slice(&kid.to_be_bytes());
            out.extend_from_slice(&ctr.to_be_bytes());
        }
        debug_assert_eq!(out.len(), size);
        Ok(out)
    }

    /// Rebuilds a session from [`snapshot`](Self::snapshot) bytes. The restored member
    /// receives and processes as before, but must [`self_update`](Self::self_update) (and
    /// have it confirmed) before its encryptors seal again.
    ///
    /// # Errors
    /// [`MlsError::Malformed`] for bytes that are not a complete snapshot of a known version
    /// (or name an unknown signature algorithm or parameters source);
    /// [`MlsError::InvalidSigningKey`] for a P-256 secret that is not a valid scalar;
    /// [`MlsError::InvalidParams`] when the saved parameters are out of range, or the
    /// group context's parameters are missing, out of range or disagree with them (or, for
    /// parameters the application gave, the group context carries some);
    /// [`MlsError::InvalidIdentity`], [`MlsError::NoGroup`] when its other parts do not
    /// check out (the own leaf's key is not the identity's, or the group's ciphersuite
    /// signs with another algorithm).
    pub fn restore(
        snapshot: &[u8],
        policy: Arc<dyn AdmissionPolicy>,
        media: MediaConfig,
    ) -> Result<Session> {
        let mut r = Reader(snapshot);
        let version = match r.take(MAGIC.len())? {
            m if m == MAGIC => 3,
            m if m == MAGIC_V2 => 2,
            m if m == MAGIC_V1 => 1,
            _ => return Err(MlsError::Malformed),
        };
        let member = MemberIdentity::new(r.bytes()?.to_vec(), r.bytes()?.to_vec())?;
        let algorithm = if version >= 3 {
            SignatureAlgorithm::try_from(r.u16()?).map_err(|_| MlsError::Malformed)?
        } else {
            SignatureAlgorithm::Ed25519
        };
        let secret = r.bytes()?;
        if secret.len() != 32 {
            return Err(MlsError::Malformed);
        }
        let identity = Identity::from_secret(member, algorithm, secret)?;
        let source = if version >= 3 {
            source_of(r.u8()?)?
        } else {
            ParamsSource::GroupContext
        };
        let saved_params = GroupParams::decode(r.bytes()?)?;
        let group_id = GroupId::from_slice(r.bytes()?);
        let count = r.u32()?;
        // Straight from the snapshot bytes into wiped-on-drop buffers: no other copy.
        let storage = ZeroizingStorage::default();
        for _ in 0..count {
            let (k, v) = (r.bytes()?, r.bytes()?);
            if !storage
                .load(k, v)
                .map_err(|_| MlsError::Internal("key store lock poisoned"))?
            {
                return Err(MlsError::Malformed);
            }
        }
        let mut replay_floors = std::collections::HashMap::new();
        if version >= 2 {
            for _ in 0..r.u32()? {
                let kid = r.u64()?;
                replay_floors.insert(kid, r.u64()?);
            }
        }
        if !r.0.is_empty() {
            return Err(MlsError::Malformed);
        }
        let mut session = Session::new(identity, policy, media)?;
        // The fresh store `new` made is dropped (and wiped) for the snapshot's.
        session.provider = SessionProvider::with_storage(storage);
        let mls = MlsGroup::load(session.provider.storage(), &group_id)
            .map_err(|_| MlsError::Malformed)?
            .ok_or(MlsError::NoGroup)?;
        if mls.own_leaf_node().map(|l| l.signature_key().as_slice())
            != Some(session.identity.public_key())
            || mls.ciphersuite().signature_algorithm() != algorithm.scheme()
        {
            return Err(MlsError::InvalidIdentity);
        }
        // The group context is authoritative: it carries the parameters (and the snapshot's
        // copy must agree), or it carries none and the application's saved ones apply.
        let params = match source {
            ParamsSource::GroupContext => {
                let params = GroupParams::in_context(mls.extensions())?;
                if params != saved_params {
                    return Err(MlsError::InvalidParams);
                }
                params
            }
            ParamsSource::App => {
                if mls.extensions().unknown(PARAMS_EXTENSION_TYPE).is_some() {
                    return Err(MlsError::InvalidParams);
                }
                saved_params
            }
        };
        session.rekey_required = true;
        let secrets = session.current_secrets(&mls, params, false)?;
        session.group = Some(Group {
            mls,
            params,
            params_source: source,
            status: Status::Active,
            pending: None,
        });
        session.sink.apply(EpochEvent::Restored {
            secrets,
            replay_floors,
        });
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    //! Groups `create_group` cannot make yet (P-256, parameters outside the group context),
    //! built with `openmls` directly and installed in sessions, through snapshot and restore.

    use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
    use openmls::prelude::*;

    use super::super::{HandshakeFormat, Outcome};
    use super::*;
    use crate::mls::policy::AdmitAll;

    fn session(user: &str, algorithm: SignatureAlgorithm) -> Session {
        let member = MemberIdentity::new(user.as_bytes().to_vec(), b"dev".to_vec()).expect("id");
        let identity = Identity::generate_with(member, algorithm).expect("rng");
        Session::new(identity, Arc::new(AdmitAll), MediaConfig::default()).expect("session")
    }

    fn capabilities(ciphersuite: Ciphersuite) -> Capabilities {
        Capabilities::new(
            None,
            Some(&[ciphersuite]),
            Some(&[ExtensionType::Unknown(PARAMS_EXTENSION_TYPE)]),
            None,
            Some(&[CredentialType::Basic]),
        )
    }

    /// Installs `mls` as the session's group, as `create_group` or `join` would.
    fn install(s: &mut Session, mls: MlsGroup, params: GroupParams, source: ParamsSource) {
        let secrets = s.current_secrets(&mls, params, false).expect("secrets");
        s.group = Some(Group {
            mls,
            params,
            params_source: source,
            status: Status::Active,
            pending: None,
        });
        s.sink.apply(EpochEvent::Started(secrets));
    }

    /// Alice (leaf 0) and bob (leaf 1) in a group of `ciphersuite`, whose context carries
    /// `params` (source `GroupContext`) or no parameters at all (source `App`).
    fn pair(
        algorithm: SignatureAlgorithm,
        ciphersuite: Ciphersuite,
        params: GroupParams,
        source: ParamsSource,
    ) -> (Session, Session) {
        let (mut alice, mut bob) = (session("alice", algorithm), session("bob", algorithm));
        let gce = match source {
            ParamsSource::GroupContext => vec![
                Extension::Unknown(PARAMS_EXTENSION_TYPE, UnknownExtension(params.encode())),
                Extension::RequiredCapabilities(RequiredCapabilitiesExtension::new(
                    &[ExtensionType::Unknown(PARAMS_EXTENSION_TYPE)],
                    &[],
                    &[CredentialType::Basic],
                )),
            ],
            ParamsSource::App => Vec::new(),
        };
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(ciphersuite)
            .use_ratchet_tree_extension(true)
            .wire_format_policy(params.wire_policy())
            .capabilities(capabilities(ciphersuite))
            .with_group_context_extensions(Extensions::from_vec(gce).expect("extensions"))
            .build();
        let mut alice_mls = MlsGroup::new(
            &alice.provider,
            &alice.signer,
            &config,
            alice.credential.clone(),
        )
        .expect("group");
        let bob_kp = KeyPackage::builder()
            .leaf_node_capabilities(capabilities(ciphersuite))
            .build(
                ciphersuite,
                &bob.provider,
                &bob.signer,
                bob.credential.clone(),
            )
            .expect("key package");
        let (_, welcome, _) = alice_mls
            .add_members(
                &alice.provider,
                &alice.signer,
                &[bob_kp.key_package().clone()],
            )
            .expect("add");
        alice_mls
            .merge_pending_commit(&alice.provider)
            .expect("merge");
        let welcome = welcome.tls_serialize_detached().expect("serialize");
        let MlsMessageBodyIn::Welcome(welcome) = MlsMessageIn::tls_deserialize_exact(&welcome)
            .expect("parse")
            .extract()
        else {
            panic!("not a welcome");
        };
        let bob_mls =
            StagedWelcome::new_from_welcome(&bob.provider, &params.join_config(), welcome, None)
                .expect("welcome")
                .into_group(&bob.provider)
                .expect("join");
        install(&mut alice, alice_mls, params, source);
        install(&mut bob, bob_mls, params, source);
        (alice, bob)
    }

    fn restore(snapshot: &[u8]) -> Result<Session> {
        Session::restore(snapshot, Arc::new(AdmitAll), MediaConfig::default())
    }

    /// Restores bob from his snapshot and checks he is the same member, then self-updates
    /// (alice verifies the restored signer's commit) and seals a frame alice opens.
    fn bob_survives_a_restore(mut alice: Session, bob: Session) {
        let snapshot = bob.snapshot().expect("snapshot");
        let mut restored = restore(&snapshot).expect("restore");
        // Not assert_eq: a mismatch would print kilobytes of key store.
        assert!(restored.snapshot().expect("snapshot")[..] == snapshot[..]);
        assert_eq!(restored.identity().algorithm(), bob.identity().algorithm());
        assert_eq!(
            restored.identity().public_key(),
            bob.identity().public_key()
        );
        assert_eq!(restored.params(), bob.params());
        assert_eq!(
            restored.group.as_ref().map(|g| g.params_source),
            bob.group.as_ref().map(|g| g.params_source)
        );
        assert_eq!((restored.epoch(), restored.own_leaf()), (Some(1), Some(1)));
        assert_eq!(
            restored.security_code().expect("code"),
            alice.security_code().expect("code")
        );
        drop(bob);
        let update = restored.self_update().expect("self-update");
        assert!(matches!(
            alice
                .process(&update.commit)
                .expect("alice verifies bob's commit"),
            Outcome::EpochChanged { epoch: 2, .. }
        ));
        restored.confirm_own_commit().expect("confirm");
        let mut encryptor = restored.media().encryptor(0).expect("encryptor");
        let mut sealed = [0u8; 64];
        let n = encryptor.encrypt(b"", b"hi", &mut sealed).expect("seal");
        let mut plain = [0u8; 64];
        let opened = alice
            .media()
            .decryptor()
            .decrypt(b"", &sealed[..n], &mut plain)
            .expect("open");
        assert_eq!(&plain[..opened.len], b"hi");
    }

    #[test]
    fn a_p256_member_round_trips_through_a_snapshot() {
        let (alice, bob) = pair(
            SignatureAlgorithm::EcdsaP256,
            Ciphersuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256,
            GroupParams::default(),
            ParamsSource::GroupContext,
        );
        assert_eq!(bob.identity().public_key().len(), 65);
        let snapshot = bob.snapshot().expect("snapshot");
        // The algorithm is recorded right after the user and device ids.
        let at = MAGIC.len() + (4 + 3) + (4 + 3);
        assert_eq!(snapshot[at..at + 2], [0x04, 0x03]);
        bob_survives_a_restore(alice, bob);
    }

    #[test]
    fn parameters_the_application_gave_round_trip_through_a_snapshot() {
        let params = GroupParams {
            sframe_suite: 2,
            epoch_bits: 6,
            handshake: HandshakeFormat::Plaintext,
        };
        let (alice, bob) = pair(
            SignatureAlgorithm::Ed25519,
            Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
            params,
            ParamsSource::App,
        );
        let mut snapshot = bob.snapshot().expect("snapshot");
        // The source byte follows the algorithm and the length-prefixed secret.
        let at = MAGIC.len() + (4 + 3) + (4 + 3) + 2 + (4 + 32);
        assert_eq!(snapshot[at], 1);
        // Claimed to come from the group context, they are missing there.
        snapshot[at] = 0;
        assert_eq!(restore(&snapshot).err(), Some(MlsError::InvalidParams));
        snapshot[at] = 1;
        bob_survives_a_restore(alice, bob);
    }

    #[test]
    fn a_snapshot_whose_algorithm_is_not_its_groups_is_refused() {
        let (_alice, bob) = pair(
            SignatureAlgorithm::EcdsaP256,
            Ciphersuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256,
            GroupParams::default(),
            ParamsSource::GroupContext,
        );
        let mut snapshot = bob.snapshot().expect("snapshot");
        let at = MAGIC.len() + (4 + 3) + (4 + 3);
        // The P-256 scalar read as an Ed25519 seed: another key, and the wrong algorithm.
        snapshot[at..at + 2].copy_from_slice(&SignatureAlgorithm::Ed25519.code().to_be_bytes());
        assert_eq!(restore(&snapshot).err(), Some(MlsError::InvalidIdentity));
        // A scalar that is not below the group order is refused, not a panic.
        snapshot[at..at + 2].copy_from_slice(&SignatureAlgorithm::EcdsaP256.code().to_be_bytes());
        snapshot[at + 6..at + 38].fill(0xff);
        assert_eq!(restore(&snapshot).err(), Some(MlsError::InvalidSigningKey));
    }
}
