//! The admission callback: `mlsframe_candidate`, the member the app is asked about, and
//! the policy that hands each candidate to the app's `mlsframe_admission_callback`.

use std::ffi::c_void;
use std::sync::Arc;

use crate::mls::policy::{AdmissionPolicy, AdmitAll, Candidate, Refusal};

/// A member the admission callback is asked about: who it claims to be, its raw MLS
/// credential and its signature key. Every pointer is valid only for the duration of the
/// callback; an empty field is NULL with length 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mlsframe_candidate {
    /// True when the credential is an mlsframe identity: `user_id` and `device_id` are its
    /// two parts. False for a member on another MLS stack: `user_id` and `device_id` are
    /// then NULL with length 0, and `credential_type` and `credential` are all there is
    /// (never read them as a user id: another stack chooses them freely).
    pub is_mlsframe_identity: bool,
    /// The user id (1..=1024 bytes) of an mlsframe identity, else NULL.
    pub user_id: *const u8,
    /// Length of `user_id`.
    pub user_id_len: usize,
    /// The device id (0..=1024 bytes) of an mlsframe identity, else NULL. An empty device
    /// id is NULL too: tell the cases apart by `is_mlsframe_identity`.
    pub device_id: *const u8,
    /// Length of `device_id`.
    pub device_id_len: usize,
    /// The MLS credential type (1 = basic, 2 = X.509, others from the IANA registry).
    pub credential_type: u16,
    /// The credential's content, raw: a basic credential's identity bytes (for an
    /// mlsframe identity, the encoding of its user and device id), or another type's
    /// serialized content (for X.509, the TLS-encoded certificate chain).
    pub credential: *const u8,
    /// Length of `credential`.
    pub credential_len: usize,
    /// The member's signature public key (Ed25519: 32 bytes; P-256: 65 bytes).
    pub signature_key: *const u8,
    /// Length of `signature_key`.
    pub signature_key_len: usize,
    /// Fingerprint of the signature key: SHA-256 in lowercase hex, 16 space-separated
    /// groups of four (79 bytes of UTF-8, not NUL-terminated).
    pub fingerprint: *const u8,
    /// Length of `fingerprint`.
    pub fingerprint_len: usize,
}

/// Decides whether a member may join: return `true` to admit. Asked for every member a
/// commit of ours adds, every member an incoming proposal or commit adds, and every
/// existing member of a group we join. `candidate` and everything it points to are valid
/// only during the call. Called on the thread driving the session; must not call back
/// into the library.
pub type mlsframe_admission_callback = Option<
    unsafe extern "C" fn(user_data: *mut c_void, candidate: *const mlsframe_candidate) -> bool,
>;

/// The start of `bytes`, or NULL when it is empty (never a dangling pointer).
fn ptr_or_null(bytes: &[u8]) -> *const u8 {
    if bytes.is_empty() {
        std::ptr::null()
    } else {
        bytes.as_ptr()
    }
}

impl mlsframe_candidate {
    /// The C view of `c`, borrowing its bytes.
    fn of(c: &Candidate<'_>) -> mlsframe_candidate {
        let (user, device) = match c.identity {
            Some(id) => (&id.user_id[..], &id.device_id[..]),
            None => (&[][..], &[][..]),
        };
        let fingerprint = c.fingerprint.as_bytes();
        mlsframe_candidate {
            is_mlsframe_identity: c.identity.is_some(),
            user_id: ptr_or_null(user),
            user_id_len: user.len(),
            device_id: ptr_or_null(device),
            device_id_len: device.len(),
            credential_type: c.credential.credential_type,
            credential: ptr_or_null(&c.credential.content),
            credential_len: c.credential.content.len(),
            signature_key: ptr_or_null(c.signature_key),
            signature_key_len: c.signature_key.len(),
            fingerprint: ptr_or_null(fingerprint),
            fingerprint_len: fingerprint.len(),
        }
    }
}

/// The app's admission callback as a policy. The app promises the callback and its user
/// data may be used from the thread driving the session.
struct CallbackPolicy {
    callback: unsafe extern "C" fn(*mut c_void, *const mlsframe_candidate) -> bool,
    user_data: usize,
}

impl AdmissionPolicy for CallbackPolicy {
    fn admit(&self, c: &Candidate<'_>) -> Result<(), Refusal> {
        let candidate = mlsframe_candidate::of(c);
        // SAFETY: `candidate` and the bytes it points to (borrowed from `c`) outlive the
        // call; the callback was supplied by the app with this user data.
        let admitted = unsafe { (self.callback)(self.user_data as *mut c_void, &candidate) };
        if admitted {
            Ok(())
        } else {
            Err(Refusal("refused by the application".into()))
        }
    }
}

/// The policy a session config names: the app's callback, or admit everyone.
pub(crate) fn policy_of(
    callback: mlsframe_admission_callback,
    user_data: *mut c_void,
) -> Arc<dyn AdmissionPolicy> {
    match callback {
        Some(callback) => Arc::new(CallbackPolicy {
            callback,
            user_data: user_data as usize,
        }),
        None => Arc::new(AdmitAll),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mls::credential::MemberCredential;
    use crate::mls::identity::MemberIdentity;

    #[test]
    fn a_foreign_credential_has_no_user_or_device_id() {
        let credential = MemberCredential::basic(b"recorder-bot".to_vec());
        let key = [9u8; 32];
        let foreign = Candidate {
            identity: None,
            credential: &credential,
            signature_key: &key,
            fingerprint: "ab".into(),
        };
        let c = mlsframe_candidate::of(&foreign);
        assert!(!c.is_mlsframe_identity);
        assert!(c.user_id.is_null() && c.user_id_len == 0);
        assert!(c.device_id.is_null() && c.device_id_len == 0);
        assert_eq!((c.credential_type, c.credential_len), (1, 12));
        assert_eq!((c.signature_key_len, c.fingerprint_len), (32, 2));

        let id = MemberIdentity::new(b"alice".to_vec(), Vec::new()).expect("valid");
        let credential = MemberCredential::basic(id.encode());
        let ours = Candidate {
            identity: Some(&id),
            credential: &credential,
            signature_key: &key,
            fingerprint: "ab".into(),
        };
        let c = mlsframe_candidate::of(&ours);
        assert!(c.is_mlsframe_identity);
        assert_eq!((c.user_id, c.user_id_len), (id.user_id.as_ptr(), 5));
        assert!(
            c.device_id.is_null() && c.device_id_len == 0,
            "empty device id"
        );
        assert_eq!(c.credential_len, credential.content.len());
    }
}
