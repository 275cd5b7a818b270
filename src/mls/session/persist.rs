//! Saving and restoring a member's group state as an explicit snapshot.
//!
//! A snapshot holds the member's identity seed and the whole `openmls` key store: it is as
//! secret as the session itself, so store it encrypted. Send counters are *not* saved, so a
//! restored session refuses to seal ([`MediaError::RekeyRequired`]) in any epoch until its
//! own self-update is merged: the restored epoch, or one re-entered through a redelivered
//! commit, may already have used those counters, and reusing them would reuse nonces.
//!
//! [`MediaError::RekeyRequired`]: crate::mls::media::MediaError::RekeyRequired

use std::sync::Arc;

use openmls::prelude::{GroupId, MlsGroup};
use openmls_traits::OpenMlsProvider as _;
use zeroize::Zeroizing;

use super::storage::{SessionProvider, ZeroizingStorage};
use super::{Group, GroupParams, Session, Status};
use crate::mls::epoch_event::EpochEvent;
use crate::mls::error::{MlsError, Result};
use crate::mls::identity::{Identity, MemberIdentity};
use crate::mls::media::MediaConfig;
use crate::mls::policy::AdmissionPolicy;

/// Version 1: identity, parameters, group id, key store.
const MAGIC_V1: &[u8] = b"mlsframe-snapshot-v1";
/// Version 2: version 1, then the highest accepted frame counter per KID of the current
/// epoch, so the restored member refuses frames it had already accepted.
const MAGIC: &[u8] = b"mlsframe-snapshot-v2";

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
        let seed = self.identity.seed();
        let params = g.params.encode();
        let group_id = g.mls.group_id().as_slice();
        let fixed = [
            &member.user_id[..],
            &member.device_id,
            &seed[..],
            &params,
            group_id,
        ];
        let floors = self
            .media
            .as_ref()
            .map(|m| m.replay_highs())
            .unwrap_or_default();
        let size = MAGIC.len()
            + fixed.iter().map(|f| 4 + f.len()).sum::<usize>()
            + 4
            + entries
                .iter()
                .map(|(k, v)| 8 + k.as_bytes().len() + v.len())
                .sum::<usize>()
            + 4
            + 16 * floors.len();
        let mut out = Zeroizing::new(Vec::with_capacity(size));
        out.extend_from_slice(MAGIC);
        for field in fixed {
            put(&mut out, field)?;
        }
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
    /// [`MlsError::Malformed`] for bytes that are not a complete snapshot;
    /// [`MlsError::InvalidParams`] when the group parameters in the group context are
    /// missing or out of range, or the snapshot's own copy disagrees with them;
    /// [`MlsError::InvalidIdentity`], [`MlsError::NoGroup`] when its other parts do not
    /// check out.
    pub fn restore(
        snapshot: &[u8],
        policy: Arc<dyn AdmissionPolicy>,
        media: MediaConfig,
    ) -> Result<Session> {
        let mut r = Reader(snapshot);
        let version = match r.take(MAGIC.len())? {
            m if m == MAGIC => 2,
            m if m == MAGIC_V1 => 1,
            _ => return Err(MlsError::Malformed),
        };
        let member = MemberIdentity::new(r.bytes()?.to_vec(), r.bytes()?.to_vec())?;
        let mut seed = Zeroizing::new([0u8; 32]);
        let seed_bytes = r.bytes()?;
        if seed_bytes.len() != 32 {
            return Err(MlsError::Malformed);
        }
        seed.copy_from_slice(seed_bytes);
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
        let mut session = Session::new(Identity::from_seed(member, &seed), policy, media)?;
        // The fresh store `new` made is dropped (and wiped) for the snapshot's.
        session.provider = SessionProvider::with_storage(storage);
        let mls = MlsGroup::load(session.provider.storage(), &group_id)
            .map_err(|_| MlsError::Malformed)?
            .ok_or(MlsError::NoGroup)?;
        if mls.own_leaf_node().map(|l| l.signature_key().as_slice())
            != Some(session.identity.public_key())
        {
            return Err(MlsError::InvalidIdentity);
        }
        // The group context is authoritative; the snapshot's copy must agree with it.
        let params = GroupParams::in_context(mls.extensions())?;
        if params != saved_params {
            return Err(MlsError::InvalidParams);
        }
        session.rekey_required = true;
        let secrets = session.current_secrets(&mls, params, false)?;
        session.group = Some(Group {
            mls,
            params,
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
