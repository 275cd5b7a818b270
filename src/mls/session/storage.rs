//! The session's `openmls` key store: group state, epoch secrets and private keys, held in
//! buffers that are wiped when a value is overwritten, deleted or dropped.
//!
//! Keys and values are encoded as `openmls_memory_storage` encodes them (a label, the
//! serde-JSON key and the storage version; serde-JSON values; lists as a JSON list of
//! serde-JSON items), so snapshots taken with that store restore into this one.

use std::collections::BTreeMap;
use std::io;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use openmls_rust_crypto::RustCrypto;
use openmls_traits::OpenMlsProvider;
use openmls_traits::storage::{CURRENT_VERSION, StorageProvider, traits};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::{Zeroize, Zeroizing};

const KEY_PACKAGE: &[u8] = b"KeyPackage";
const PSK: &[u8] = b"Psk";
const ENCRYPTION_KEY_PAIR: &[u8] = b"EncryptionKeyPair";
const SIGNATURE_KEY_PAIR: &[u8] = b"SignatureKeyPair";
const EPOCH_KEY_PAIRS: &[u8] = b"EpochKeyPairs";
const TREE: &[u8] = b"Tree";
const GROUP_CONTEXT: &[u8] = b"GroupContext";
const INTERIM_TRANSCRIPT_HASH: &[u8] = b"InterimTranscriptHash";
const CONFIRMATION_TAG: &[u8] = b"ConfirmationTag";
const JOIN_CONFIG: &[u8] = b"MlsGroupJoinConfig";
const OWN_LEAF_NODES: &[u8] = b"OwnLeafNodes";
const GROUP_STATE: &[u8] = b"GroupState";
const QUEUED_PROPOSAL: &[u8] = b"QueuedProposal";
const PROPOSAL_QUEUE_REFS: &[u8] = b"ProposalQueueRefs";
const OWN_LEAF_NODE_INDEX: &[u8] = b"OwnLeafNodeIndex";
const EPOCH_SECRETS: &[u8] = b"EpochSecrets";
const RESUMPTION_PSK_STORE: &[u8] = b"ResumptionPsk";
const MESSAGE_SECRETS: &[u8] = b"MessageSecrets";

/// Why the key store failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// A value did not serialize, or a stored value does not decode.
    #[error("key store value does not (de)serialize")]
    Serialization,
    /// A queued proposal named by the group's proposal queue is missing.
    #[error("key store entry missing")]
    MissingEntry,
    /// A thread panicked while holding the store's lock.
    #[error("key store lock poisoned")]
    Poisoned,
}

impl From<serde_json::Error> for StoreError {
    fn from(_: serde_json::Error) -> Self {
        StoreError::Serialization
    }
}

/// A storage key: label, serialized key, storage version. Wiped on drop (it names groups
/// and keys).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct StoreKey(Vec<u8>);

impl StoreKey {
    /// `label` followed by `parts`, then the storage version, in one exact allocation.
    fn new(label: &[u8], parts: &[&[u8]]) -> Self {
        let len = label.len() + parts.iter().map(|p| p.len()).sum::<usize>() + 2;
        let mut key = Vec::with_capacity(len);
        key.extend_from_slice(label);
        for part in parts {
            key.extend_from_slice(part);
        }
        key.extend_from_slice(&CURRENT_VERSION.to_be_bytes());
        StoreKey(key)
    }

    /// The key's bytes.
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for StoreKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// A growable byte sink that wipes every buffer it outgrows, so serializing a secret
/// leaves no unwiped partial copy on the heap.
struct SecretBuf(Zeroizing<Vec<u8>>);

impl io::Write for SecretBuf {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let needed = self
            .0
            .len()
            .checked_add(data.len())
            .ok_or(io::ErrorKind::OutOfMemory)?;
        if needed > self.0.capacity() {
            let mut grown = Zeroizing::new(Vec::with_capacity(
                needed.max(self.0.capacity().saturating_mul(2)).max(64),
            ));
            grown.extend_from_slice(&self.0);
            // The outgrown buffer is dropped here, and `Zeroizing` wipes it.
            self.0 = grown;
        }
        self.0.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `value` as serde-JSON, in a buffer wiped on drop.
fn json(value: &impl Serialize) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let mut buf = SecretBuf(Zeroizing::new(Vec::new()));
    serde_json::to_writer(&mut buf, value)?;
    Ok(buf.0)
}

/// The storage key of `key` under `label`.
fn key(label: &[u8], key: &impl Serialize) -> Result<StoreKey, StoreError> {
    Ok(StoreKey::new(label, &[&json(key)?]))
}

/// The entries of a store, ordered by key.
pub(super) type Entries = BTreeMap<StoreKey, Zeroizing<Vec<u8>>>;

/// An `openmls` storage provider whose keys and values live in wiped-on-drop buffers; an
/// overwritten or deleted value is wiped in place before its buffer is freed.
#[derive(Default)]
pub(crate) struct ZeroizingStorage {
    entries: RwLock<Entries>,
    /// Test hook: when `Some`, retired (wiped) buffers are kept here instead of freed.
    #[cfg(test)]
    retired: std::sync::Mutex<Option<Vec<Zeroizing<Vec<u8>>>>>,
}

impl ZeroizingStorage {
    fn write_entries(&self) -> Result<RwLockWriteGuard<'_, Entries>, StoreError> {
        self.entries.write().map_err(|_| StoreError::Poisoned)
    }

    /// Read access to every entry (for snapshots).
    pub(super) fn entries(&self) -> Result<RwLockReadGuard<'_, Entries>, StoreError> {
        self.entries.read().map_err(|_| StoreError::Poisoned)
    }

    /// Adds one entry from snapshot bytes, copied straight into wiped-on-drop buffers.
    /// Returns false (and changes nothing) if the key is already present.
    pub(super) fn load(&self, key: &[u8], value: &[u8]) -> Result<bool, StoreError> {
        let mut entries = self.write_entries()?;
        let key = StoreKey(key.to_vec());
        if entries.contains_key(&key) {
            return Ok(false);
        }
        entries.insert(key, Zeroizing::new(value.to_vec()));
        Ok(true)
    }

    /// Wipes a value leaving the store (overwritten or deleted) in place, before its
    /// buffer is freed.
    fn retire(&self, mut old: Zeroizing<Vec<u8>>) {
        old.as_mut_slice().zeroize();
        #[cfg(test)]
        if let Ok(mut kept) = self.retired.lock()
            && let Some(kept) = kept.as_mut()
        {
            kept.push(old);
        }
    }

    fn put(&self, key: StoreKey, value: Zeroizing<Vec<u8>>) -> Result<(), StoreError> {
        let mut entries = self.write_entries()?;
        if let Some(old) = entries.insert(key, value) {
            self.retire(old);
        }
        Ok(())
    }

    fn get<T: DeserializeOwned>(&self, key: &StoreKey) -> Result<Option<T>, StoreError> {
        match self.entries()?.get(key) {
            Some(value) => Ok(Some(serde_json::from_slice(value)?)),
            None => Ok(None),
        }
    }

    fn remove(&self, key: &StoreKey) -> Result<(), StoreError> {
        if let Some(old) = self.write_entries()?.remove(key) {
            self.retire(old);
        }
        Ok(())
    }

    /// The items of the list at `key` (empty if there is none).
    fn list<T: DeserializeOwned>(&self, key: &StoreKey) -> Result<Vec<T>, StoreError> {
        let Some(mut items) = self.get::<Vec<Vec<u8>>>(key)? else {
            return Ok(Vec::new());
        };
        let decoded = items
            .iter()
            .map(|item| serde_json::from_slice(item))
            .collect::<Result<Vec<T>, _>>();
        items.zeroize();
        Ok(decoded?)
    }

    /// Rewrites the list at `key` with `edit` applied (lists hold leaf nodes and proposal
    /// references: public data, still wiped when replaced).
    fn edit_list(
        &self,
        key: StoreKey,
        edit: impl FnOnce(&mut Vec<Vec<u8>>),
    ) -> Result<(), StoreError> {
        let mut items = self.get::<Vec<Vec<u8>>>(&key)?.unwrap_or_default();
        edit(&mut items);
        let value = json(&items);
        items.zeroize();
        self.put(key, value?)
    }

    /// Test hook: keep every retired buffer (after its wipe) for [`Self::retired`].
    #[cfg(test)]
    pub(super) fn keep_retired(&self) {
        *self.retired.lock().expect("test lock") = Some(Vec::new());
    }

    /// Test hook: the address and contents of every buffer retired since
    /// [`Self::keep_retired`].
    #[cfg(test)]
    pub(super) fn retired(&self) -> Vec<(*const u8, Vec<u8>)> {
        let kept = self.retired.lock().expect("test lock");
        kept.iter()
            .flatten()
            .map(|v| (v.as_ptr(), v.to_vec()))
            .collect()
    }

    /// Test hook: the address and length of every value whose key starts with `label`.
    #[cfg(test)]
    pub(super) fn buffers(&self, label: &[u8]) -> Vec<(*const u8, usize)> {
        let entries = self.entries().expect("test lock");
        entries
            .iter()
            .filter(|(k, _)| k.as_bytes().starts_with(label))
            .map(|(_, v)| (v.as_ptr(), v.len()))
            .collect()
    }
}

/// One value per group under a label: its writer, reader and deleter.
macro_rules! per_group {
    ($($label:ident: $write:ident, $read:ident, $delete:ident, $value:ident;)*) => {$(
        fn $write<G: traits::GroupId<CURRENT_VERSION>, T: traits::$value<CURRENT_VERSION>>(
            &self,
            group_id: &G,
            value: &T,
        ) -> Result<(), StoreError> {
            self.put(key($label, group_id)?, json(value)?)
        }

        fn $read<G: traits::GroupId<CURRENT_VERSION>, T: traits::$value<CURRENT_VERSION>>(
            &self,
            group_id: &G,
        ) -> Result<Option<T>, StoreError> {
            self.get(&key($label, group_id)?)
        }

        fn $delete<G: traits::GroupId<CURRENT_VERSION>>(
            &self,
            group_id: &G,
        ) -> Result<(), StoreError> {
            self.remove(&key($label, group_id)?)
        }
    )*};
}

/// The key of a group's encryption key pairs for one epoch and leaf.
fn epoch_key_pairs_key(
    group_id: &impl Serialize,
    epoch: &impl Serialize,
    leaf_index: u32,
) -> Result<StoreKey, StoreError> {
    Ok(StoreKey::new(
        EPOCH_KEY_PAIRS,
        &[&json(group_id)?, &json(epoch)?, &json(&leaf_index)?],
    ))
}

impl StorageProvider<CURRENT_VERSION> for ZeroizingStorage {
    type Error = StoreError;

    per_group! {
        JOIN_CONFIG: write_mls_join_config, mls_group_join_config, delete_group_config,
            MlsGroupJoinConfig;
        TREE: write_tree, tree, delete_tree, TreeSync;
        INTERIM_TRANSCRIPT_HASH: write_interim_transcript_hash, interim_transcript_hash,
            delete_interim_transcript_hash, InterimTranscriptHash;
        GROUP_CONTEXT: write_context, group_context, delete_context, GroupContext;
        CONFIRMATION_TAG: write_confirmation_tag, confirmation_tag, delete_confirmation_tag,
            ConfirmationTag;
        MESSAGE_SECRETS: write_message_secrets, message_secrets, delete_message_secrets,
            MessageSecrets;
        RESUMPTION_PSK_STORE: write_resumption_psk_store, resumption_psk_store,
            delete_all_resumption_psk_secrets, ResumptionPskStore;
        OWN_LEAF_NODE_INDEX: write_own_leaf_index, own_leaf_index, delete_own_leaf_index,
            LeafNodeIndex;
        EPOCH_SECRETS: write_group_epoch_secrets, group_epoch_secrets,
            delete_group_epoch_secrets, GroupEpochSecrets;
    }

    // The group state's generic parameters come in the other order.
    fn write_group_state<
        S: traits::GroupState<CURRENT_VERSION>,
        G: traits::GroupId<CURRENT_VERSION>,
    >(
        &self,
        group_id: &G,
        state: &S,
    ) -> Result<(), StoreError> {
        self.put(key(GROUP_STATE, group_id)?, json(state)?)
    }

    fn group_state<S: traits::GroupState<CURRENT_VERSION>, G: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &G,
    ) -> Result<Option<S>, StoreError> {
        self.get(&key(GROUP_STATE, group_id)?)
    }

    fn delete_group_state<G: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &G,
    ) -> Result<(), StoreError> {
        self.remove(&key(GROUP_STATE, group_id)?)
    }

    fn append_own_leaf_node<
        G: traits::GroupId<CURRENT_VERSION>,
        L: traits::LeafNode<CURRENT_VERSION>,
    >(
        &self,
        group_id: &G,
        leaf_node: &L,
    ) -> Result<(), StoreError> {
        let item = json(leaf_node)?.to_vec();
        self.edit_list(key(OWN_LEAF_NODES, group_id)?, |list| list.push(item))
    }

    fn own_leaf_nodes<G: traits::GroupId<CURRENT_VERSION>, L: traits::LeafNode<CURRENT_VERSION>>(
        &self,
        group_id: &G,
    ) -> Result<Vec<L>, StoreError> {
        self.list(&key(OWN_LEAF_NODES, group_id)?)
    }

    fn delete_own_leaf_nodes<G: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &G,
    ) -> Result<(), StoreError> {
        self.remove(&key(OWN_LEAF_NODES, group_id)?)
    }

    fn queue_proposal<
        G: traits::GroupId<CURRENT_VERSION>,
        R: traits::ProposalRef<CURRENT_VERSION>,
        P: traits::QueuedProposal<CURRENT_VERSION>,
    >(
        &self,
        group_id: &G,
        proposal_ref: &R,
        proposal: &P,
    ) -> Result<(), StoreError> {
        self.put(
            key(QUEUED_PROPOSAL, &(group_id, proposal_ref))?,
            json(proposal)?,
        )?;
        let item = json(proposal_ref)?.to_vec();
        self.edit_list(key(PROPOSAL_QUEUE_REFS, group_id)?, |list| list.push(item))
    }

    fn queued_proposal_refs<
        G: traits::GroupId<CURRENT_VERSION>,
        R: traits::ProposalRef<CURRENT_VERSION>,
    >(
        &self,
        group_id: &G,
    ) -> Result<Vec<R>, StoreError> {
        self.list(&key(PROPOSAL_QUEUE_REFS, group_id)?)
    }

    fn queued_proposals<
        G: traits::GroupId<CURRENT_VERSION>,
        R: traits::ProposalRef<CURRENT_VERSION>,
        P: traits::QueuedProposal<CURRENT_VERSION>,
    >(
        &self,
        group_id: &G,
    ) -> Result<Vec<(R, P)>, StoreError> {
        let refs: Vec<R> = self.list(&key(PROPOSAL_QUEUE_REFS, group_id)?)?;
        refs.into_iter()
            .map(|r| {
                let proposal = self
                    .get(&key(QUEUED_PROPOSAL, &(group_id, &r))?)?
                    .ok_or(StoreError::MissingEntry)?;
                Ok((r, proposal))
            })
            .collect()
    }

    fn remove_proposal<
        G: traits::GroupId<CURRENT_VERSION>,
        R: traits::ProposalRef<CURRENT_VERSION>,
    >(
        &self,
        group_id: &G,
        proposal_ref: &R,
    ) -> Result<(), StoreError> {
        let item = json(proposal_ref)?;
        self.edit_list(key(PROPOSAL_QUEUE_REFS, group_id)?, |list| {
            if let Some(at) = list.iter().position(|r| r[..] == item[..]) {
                list.remove(at).zeroize();
            }
        })?;
        self.remove(&key(QUEUED_PROPOSAL, &(group_id, proposal_ref))?)
    }

    fn clear_proposal_queue<
        G: traits::GroupId<CURRENT_VERSION>,
        R: traits::ProposalRef<CURRENT_VERSION>,
    >(
        &self,
        group_id: &G,
    ) -> Result<(), StoreError> {
        let refs: Vec<R> = self.list(&key(PROPOSAL_QUEUE_REFS, group_id)?)?;
        for r in &refs {
            self.remove(&key(QUEUED_PROPOSAL, &(group_id, r))?)?;
        }
        self.remove(&key(PROPOSAL_QUEUE_REFS, group_id)?)
    }

    fn write_signature_key_pair<
        K: traits::SignaturePublicKey<CURRENT_VERSION>,
        P: traits::SignatureKeyPair<CURRENT_VERSION>,
    >(
        &self,
        public_key: &K,
        key_pair: &P,
    ) -> Result<(), StoreError> {
        self.put(key(SIGNATURE_KEY_PAIR, public_key)?, json(key_pair)?)
    }

    fn signature_key_pair<
        K: traits::SignaturePublicKey<CURRENT_VERSION>,
        P: traits::SignatureKeyPair<CURRENT_VERSION>,
    >(
        &self,
        public_key: &K,
    ) -> Result<Option<P>, StoreError> {
        self.get(&key(SIGNATURE_KEY_PAIR, public_key)?)
    }

    fn delete_signature_key_pair<K: traits::SignaturePublicKey<CURRENT_VERSION>>(
        &self,
        public_key: &K,
    ) -> Result<(), StoreError> {
        self.remove(&key(SIGNATURE_KEY_PAIR, public_key)?)
    }

    fn write_encryption_key_pair<
        K: traits::EncryptionKey<CURRENT_VERSION>,
        P: traits::HpkeKeyPair<CURRENT_VERSION>,
    >(
        &self,
        public_key: &K,
        key_pair: &P,
    ) -> Result<(), StoreError> {
        self.put(key(ENCRYPTION_KEY_PAIR, public_key)?, json(key_pair)?)
    }

    fn encryption_key_pair<
        P: traits::HpkeKeyPair<CURRENT_VERSION>,
        K: traits::EncryptionKey<CURRENT_VERSION>,
    >(
        &self,
        public_key: &K,
    ) -> Result<Option<P>, StoreError> {
        self.get(&key(ENCRYPTION_KEY_PAIR, public_key)?)
    }

    fn delete_encryption_key_pair<K: traits::EncryptionKey<CURRENT_VERSION>>(
        &self,
        public_key: &K,
    ) -> Result<(), StoreError> {
        self.remove(&key(ENCRYPTION_KEY_PAIR, public_key)?)
    }

    fn write_encryption_epoch_key_pairs<
        G: traits::GroupId<CURRENT_VERSION>,
        E: traits::EpochKey<CURRENT_VERSION>,
        P: traits::HpkeKeyPair<CURRENT_VERSION>,
    >(
        &self,
        group_id: &G,
        epoch: &E,
        leaf_index: u32,
        key_pairs: &[P],
    ) -> Result<(), StoreError> {
        self.put(
            epoch_key_pairs_key(group_id, epoch, leaf_index)?,
            json(&key_pairs)?,
        )
    }

    fn encryption_epoch_key_pairs<
        G: traits::GroupId<CURRENT_VERSION>,
        E: traits::EpochKey<CURRENT_VERSION>,
        P: traits::HpkeKeyPair<CURRENT_VERSION>,
    >(
        &self,
        group_id: &G,
        epoch: &E,
        leaf_index: u32,
    ) -> Result<Vec<P>, StoreError> {
        Ok(self
            .get(&epoch_key_pairs_key(group_id, epoch, leaf_index)?)?
            .unwrap_or_default())
    }

    fn delete_encryption_epoch_key_pairs<
        G: traits::GroupId<CURRENT_VERSION>,
        E: traits::EpochKey<CURRENT_VERSION>,
    >(
        &self,
        group_id: &G,
        epoch: &E,
        leaf_index: u32,
    ) -> Result<(), StoreError> {
        self.remove(&epoch_key_pairs_key(group_id, epoch, leaf_index)?)
    }

    fn write_key_package<
        R: traits::HashReference<CURRENT_VERSION>,
        K: traits::KeyPackage<CURRENT_VERSION>,
    >(
        &self,
        hash_ref: &R,
        key_package: &K,
    ) -> Result<(), StoreError> {
        self.put(key(KEY_PACKAGE, hash_ref)?, json(key_package)?)
    }

    fn key_package<
        R: traits::HashReference<CURRENT_VERSION>,
        K: traits::KeyPackage<CURRENT_VERSION>,
    >(
        &self,
        hash_ref: &R,
    ) -> Result<Option<K>, StoreError> {
        self.get(&key(KEY_PACKAGE, hash_ref)?)
    }

    fn delete_key_package<R: traits::HashReference<CURRENT_VERSION>>(
        &self,
        hash_ref: &R,
    ) -> Result<(), StoreError> {
        self.remove(&key(KEY_PACKAGE, hash_ref)?)
    }

    fn write_psk<I: traits::PskId<CURRENT_VERSION>, B: traits::PskBundle<CURRENT_VERSION>>(
        &self,
        psk_id: &I,
        psk: &B,
    ) -> Result<(), StoreError> {
        self.put(key(PSK, psk_id)?, json(psk)?)
    }

    fn psk<B: traits::PskBundle<CURRENT_VERSION>, I: traits::PskId<CURRENT_VERSION>>(
        &self,
        psk_id: &I,
    ) -> Result<Option<B>, StoreError> {
        self.get(&key(PSK, psk_id)?)
    }

    fn delete_psk<I: traits::PskId<CURRENT_VERSION>>(&self, psk_id: &I) -> Result<(), StoreError> {
        self.remove(&key(PSK, psk_id)?)
    }
}

/// The session's `openmls` provider: `openmls_rust_crypto`'s crypto and randomness with
/// a [`ZeroizingStorage`] key store.
#[derive(Default)]
pub(crate) struct SessionProvider {
    crypto: RustCrypto,
    storage: ZeroizingStorage,
}

impl SessionProvider {
    /// A provider over `storage` (e.g. one loaded from a snapshot).
    pub(super) fn with_storage(storage: ZeroizingStorage) -> Self {
        Self {
            crypto: RustCrypto::default(),
            storage,
        }
    }
}

impl OpenMlsProvider for SessionProvider {
    type CryptoProvider = RustCrypto;
    type RandProvider = RustCrypto;
    type StorageProvider = ZeroizingStorage;

    fn storage(&self) -> &ZeroizingStorage {
        &self.storage
    }

    fn crypto(&self) -> &RustCrypto {
        &self.crypto
    }

    fn rand(&self) -> &RustCrypto {
        &self.crypto
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label_key(label: &[u8], k: &str) -> StoreKey {
        key(label, &k).expect("key")
    }

    #[test]
    fn keys_and_values_are_encoded_as_openmls_memory_storage_does() {
        assert_eq!(
            label_key(TREE, "g").as_bytes(),
            b"Tree\"g\"\x00\x01".as_slice()
        );
        assert_eq!(
            epoch_key_pairs_key(&"g", &7u64, 2).expect("key").as_bytes(),
            b"EpochKeyPairs\"g\"72\x00\x01".as_slice()
        );
        let store = ZeroizingStorage::default();
        let k = || label_key(OWN_LEAF_NODES, "g");
        store
            .edit_list(k(), |l| l.push(b"1".to_vec()))
            .expect("append");
        store
            .edit_list(k(), |l| l.push(b"2".to_vec()))
            .expect("append");
        let entries = store.entries().expect("read");
        assert_eq!(&entries[&k()][..], b"[[49],[50]]");
        drop(entries);
        assert_eq!(store.list::<u8>(&k()).expect("list"), vec![1, 2]);
    }

    #[test]
    fn overwritten_and_deleted_values_are_wiped_in_their_own_buffers() {
        let store = ZeroizingStorage::default();
        store.keep_retired();
        let secret = || Zeroizing::new(vec![0xa5u8; 48]);
        store
            .put(label_key(EPOCH_SECRETS, "g"), secret())
            .expect("put");
        store.put(label_key(PSK, "p"), secret()).expect("put");
        let first = store.buffers(EPOCH_SECRETS);
        let psk = store.buffers(PSK);

        store
            .put(label_key(EPOCH_SECRETS, "g"), Zeroizing::new(vec![1; 48]))
            .expect("overwrite");
        store.remove(&label_key(PSK, "p")).expect("delete");
        let retired = store.retired();
        assert_eq!(retired.len(), 2);
        for (ptr, len) in first.into_iter().chain(psk) {
            let (_, bytes) = retired
                .iter()
                .find(|(p, _)| *p == ptr)
                .expect("the value's own buffer was retired");
            assert_eq!(bytes.len(), len);
            assert!(bytes.iter().all(|&b| b == 0), "retired buffer not wiped");
        }
        // The new value is in place; the deleted one is gone.
        assert_eq!(
            store.entries().expect("read")[&label_key(EPOCH_SECRETS, "g")][..],
            [1; 48]
        );
        assert!(store.buffers(PSK).is_empty());
        // Deleting what is not there retires nothing.
        store.remove(&label_key(PSK, "p")).expect("delete");
        assert_eq!(store.retired().len(), 2);
    }

    #[test]
    fn serializing_into_a_growing_buffer_keeps_every_byte() {
        let value: Vec<u32> = (0..1000).collect();
        let out = json(&value).expect("json");
        assert_eq!(out[..], serde_json::to_vec(&value).expect("json")[..]);
    }

    #[test]
    fn snapshot_entries_load_once() {
        let store = ZeroizingStorage::default();
        assert!(store.load(b"k", b"v").expect("load"));
        assert!(!store.load(b"k", b"w").expect("load"));
        assert_eq!(
            store.entries().expect("read")[&StoreKey(b"k".to_vec())][..],
            *b"v"
        );
    }
}
