//! The MLS session as a JavaScript class: one per participant, living in the worker that
//! runs the participant's transforms (a wasm instance cannot be shared across workers).
//! Every MLS message is a `Uint8Array` the page carries over its own delivery service.

use std::sync::Arc;

use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::MediaConfig;
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{CommitOutput, GroupParams, Outcome};
use wasm_bindgen::prelude::*;

use crate::error::to_js;
use crate::frame::{Decryptor, Encryptor};

/// One device's membership in a call's MLS group.
#[wasm_bindgen]
pub struct Session {
    inner: mlsframe::mls::session::Session,
}

/// A commit to send to the group, and the welcome for members it adds.
#[wasm_bindgen]
pub struct Commit {
    commit: Vec<u8>,
    welcome: Option<Vec<u8>>,
    epoch: u64,
}

#[wasm_bindgen]
impl Commit {
    /// The commit message, for every current member.
    #[wasm_bindgen(getter)]
    pub fn commit(&self) -> Vec<u8> {
        self.commit.clone()
    }

    /// The welcome for added members (`undefined` when none were added).
    #[wasm_bindgen(getter)]
    pub fn welcome(&self) -> Option<Vec<u8>> {
        self.welcome.clone()
    }

    /// The epoch the commit moves the group into.
    #[wasm_bindgen(getter)]
    pub fn epoch(&self) -> f64 {
        self.epoch as f64
    }
}

impl From<CommitOutput> for Commit {
    fn from(out: CommitOutput) -> Self {
        Commit {
            commit: out.commit,
            welcome: out.welcome,
            epoch: out.epoch,
        }
    }
}

/// What an incoming MLS message meant.
#[wasm_bindgen]
pub struct SessionOutcome {
    kind: &'static str,
    epoch: Option<u64>,
    reason: Option<String>,
}

#[wasm_bindgen]
impl SessionOutcome {
    /// `"epoch_changed"`, `"removed"` (terminal), `"proposals_pending"`,
    /// `"policy_violation"` (terminal) or `"ignored"`.
    #[wasm_bindgen(getter)]
    pub fn kind(&self) -> String {
        self.kind.to_owned()
    }

    /// The new epoch, for `"epoch_changed"`.
    #[wasm_bindgen(getter)]
    pub fn epoch(&self) -> Option<f64> {
        self.epoch.map(|e| e as f64)
    }

    /// Why a commit was refused, for `"policy_violation"`.
    #[wasm_bindgen(getter)]
    pub fn reason(&self) -> Option<String> {
        self.reason.clone()
    }
}

impl From<Outcome> for SessionOutcome {
    fn from(outcome: Outcome) -> Self {
        let (kind, epoch, reason) = match outcome {
            Outcome::EpochChanged { epoch, .. } => ("epoch_changed", Some(epoch), None),
            Outcome::Removed => ("removed", None, None),
            Outcome::ProposalsPending => ("proposals_pending", None, None),
            Outcome::PolicyViolation { reason } => ("policy_violation", None, Some(reason)),
            _ => ("ignored", None, None),
        };
        SessionOutcome {
            kind,
            epoch,
            reason,
        }
    }
}

#[wasm_bindgen]
impl Session {
    /// A session for `user_id` on `device_id`, with a fresh Ed25519 identity key, the
    /// admit-all policy (the app vets members through its own signalling) and the default
    /// media configuration.
    #[wasm_bindgen(constructor)]
    pub fn new(user_id: &str, device_id: &str) -> Result<Session, JsValue> {
        let member =
            MemberIdentity::new(user_id.as_bytes().to_vec(), device_id.as_bytes().to_vec())
                .map_err(to_js)?;
        let identity = Identity::generate(member).map_err(to_js)?;
        let inner = mlsframe::mls::session::Session::new(
            identity,
            Arc::new(AdmitAll),
            MediaConfig::default(),
        )
        .map_err(to_js)?;
        Ok(Session { inner })
    }

    /// A fresh key package, for whoever adds this device.
    #[wasm_bindgen(js_name = keyPackage)]
    pub fn key_package(&self) -> Result<Vec<u8>, JsValue> {
        self.inner.key_package().map_err(to_js)
    }

    /// Creates the call's group with the default SFrame parameters (AES-128-GCM, E = 4).
    #[wasm_bindgen(js_name = createGroup)]
    pub fn create_group(&mut self) -> Result<(), JsValue> {
        self.inner
            .create_group(GroupParams::default())
            .map_err(to_js)
    }

    /// Adds the devices of `key_packages` (an array of `Uint8Array`).
    #[wasm_bindgen(js_name = addMembers)]
    pub fn add_members(
        &mut self,
        key_packages: Vec<js_sys::Uint8Array>,
    ) -> Result<Commit, JsValue> {
        let owned: Vec<Vec<u8>> = key_packages.iter().map(|kp| kp.to_vec()).collect();
        let refs: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        self.inner
            .add_members(&refs)
            .map(Commit::from)
            .map_err(to_js)
    }

    /// Removes the member at `leaf`.
    #[wasm_bindgen(js_name = removeMember)]
    pub fn remove_member(&mut self, leaf: u32) -> Result<Commit, JsValue> {
        self.inner
            .remove_members(&[leaf])
            .map(Commit::from)
            .map_err(to_js)
    }

    /// A self-update (new keys for this device, post-compromise security).
    #[wasm_bindgen(js_name = selfUpdate)]
    pub fn self_update(&mut self) -> Result<Commit, JsValue> {
        self.inner.self_update().map(Commit::from).map_err(to_js)
    }

    /// Applies our pending commit once the delivery service accepted it; returns the
    /// new epoch.
    #[wasm_bindgen(js_name = confirmCommit)]
    pub fn confirm_commit(&mut self) -> Result<f64, JsValue> {
        self.inner.confirm_own_commit().map_err(to_js)?;
        Ok(self.inner.epoch().unwrap_or(0) as f64)
    }

    /// Drops our pending commit (the delivery service refused it).
    #[wasm_bindgen(js_name = discardCommit)]
    pub fn discard_commit(&mut self) -> Result<(), JsValue> {
        self.inner.discard_pending_commit().map_err(to_js)
    }

    /// Joins from a welcome; returns the epoch joined.
    pub fn join(&mut self, welcome: &[u8]) -> Result<f64, JsValue> {
        self.inner.join(welcome).map(|e| e as f64).map_err(to_js)
    }

    /// Processes an incoming MLS message (commit or proposal).
    pub fn process(&mut self, message: &[u8]) -> Result<SessionOutcome, JsValue> {
        self.inner
            .process(message)
            .map(SessionOutcome::from)
            .map_err(to_js)
    }

    /// Tells the key ring that receivers have the new epoch's keys (see the README's
    /// epoch switch): senders may move to it.
    #[wasm_bindgen(js_name = receiversReady)]
    pub fn receivers_ready(&self) {
        self.inner.media().receivers_ready();
    }

    /// The current epoch, `undefined` outside a group.
    #[wasm_bindgen(getter)]
    pub fn epoch(&self) -> Option<f64> {
        self.inner.epoch().map(|e| e as f64)
    }

    /// Our leaf index, `undefined` outside a group.
    #[wasm_bindgen(getter, js_name = ownLeaf)]
    pub fn own_leaf(&self) -> Option<u32> {
        self.inner.own_leaf()
    }

    /// The group's security code, to compare out of band.
    #[wasm_bindgen(js_name = securityCode)]
    pub fn security_code(&self) -> Result<String, JsValue> {
        self.inner.security_code().map_err(to_js)
    }

    /// An encryptor for our stream `context` (0 audio, 1 video, ...), framing each frame
    /// for `codec` (0 whole-frame RFC 9605; see [`Encryptor`]).
    pub fn encryptor(&self, context: u32, codec: u32) -> Result<Encryptor, JsValue> {
        Encryptor::new(&self.inner.media(), u64::from(context), codec)
    }

    /// A decryptor for every other member's frames.
    pub fn decryptor(&self) -> Decryptor {
        Decryptor::new(self.inner.media().decryptor())
    }
}
