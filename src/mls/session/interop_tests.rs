//! Unit tests of what groups shared with other MLS stacks need: trees out of band, groups
//! without our extension, foreign credentials, the three ciphersuites, group context
//! changes, and the exporter and epoch authenticator.

use std::sync::Mutex;

use super::*;
use crate::mls::identity::SignatureAlgorithm;
use crate::mls::policy::{AdmitAll, Refusal};

fn session_with(user: &str, policy: Arc<dyn AdmissionPolicy>) -> Session {
    let id = MemberIdentity::new(user.as_bytes().to_vec(), b"dev".to_vec()).expect("valid id");
    Session::new(
        Identity::generate(id).expect("rng"),
        policy,
        MediaConfig::default(),
    )
    .expect("session")
}

fn session(user: &str) -> Session {
    session_with(user, Arc::new(AdmitAll))
}

/// A session whose leaf carries a plain basic credential, as another MLS stack's would.
fn foreign(name: &str, policy: Arc<dyn AdmissionPolicy>) -> Session {
    let mut s = session_with("unused", policy);
    s.credential.credential = BasicCredential::new(name.as_bytes().to_vec()).into();
    s
}

fn base_key(s: &Session) -> Vec<u8> {
    s.base_key().expect("base key")
}

/// `creator` adds `joiner` in one confirmed commit; returns the welcome.
fn add(creator: &mut Session, kp: &[u8]) -> Vec<u8> {
    let out = creator.add_members(&[kp]).expect("add");
    creator.confirm_own_commit().expect("confirm");
    out.welcome.expect("welcome")
}

/// Welcomes of `s`'s commits will not carry the ratchet tree.
fn omit_tree_from_welcomes(s: &mut Session) {
    let g = s.group.as_mut().expect("group");
    let config = MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(false)
        .wire_format_policy(g.params.wire_policy())
        .build();
    g.mls
        .set_configuration(s.provider.storage(), &config)
        .expect("config");
}

#[test]
fn a_welcome_without_tree_needs_one_out_of_band() {
    let mut alice = session("alice");
    let mut bob = session("bob");
    alice.create_group(GroupParams::default()).expect("create");
    omit_tree_from_welcomes(&mut alice);
    let welcome = add(&mut alice, &bob.key_package().expect("kp"));
    let tree = alice.ratchet_tree().expect("tree");

    // A tree that is not the group's: another group's.
    let mut other = session("other");
    other.create_group(GroupParams::default()).expect("create");
    let wrong = other.ratchet_tree().expect("tree");
    assert_eq!(
        bob.join_with(
            &welcome,
            JoinOptions {
                ratchet_tree: Some(&wrong),
                params: None
            }
        ),
        Err(MlsError::InvalidRatchetTree)
    );
    assert_eq!(
        bob.join_with(
            &welcome,
            JoinOptions {
                ratchet_tree: Some(b"\x01\x02garbage"),
                params: None
            }
        ),
        Err(MlsError::InvalidRatchetTree)
    );
    // The wrong tree was refused before the welcome's key package was used: bob still
    // joins, first without a tree (refused), then with the right one.
    assert_eq!(bob.join(&welcome), Err(MlsError::MissingRatchetTree));
    assert_eq!(bob.epoch(), None);
    let epoch = bob
        .join_with(
            &welcome,
            JoinOptions {
                ratchet_tree: Some(&tree),
                params: None,
            },
        )
        .expect("join with tree");
    assert_eq!(epoch, 1);
    assert_eq!(base_key(&bob), base_key(&alice));
    assert_eq!(bob.ratchet_tree().expect("tree"), tree);
}

/// A key package like ours but without extension 0xff00 in its capabilities, as
/// another MLS stack would make.
fn key_package_without_extension(s: &Session) -> Vec<u8> {
    let caps = Capabilities::new(
        None,
        Some(&[MlsCiphersuite::default().openmls()]),
        None,
        None,
        Some(&[CredentialType::Basic]),
    );
    let bundle = KeyPackage::builder()
        .leaf_node_capabilities(caps)
        .build(
            MlsCiphersuite::default().openmls(),
            &s.provider,
            &s.signer,
            s.credential.clone(),
        )
        .expect("kp");
    serialize(&MlsMessageOut::from(bundle.key_package().clone())).expect("serialize")
}

#[test]
fn groups_without_our_extension_take_params_from_the_app() {
    let params = GroupParams {
        sframe_suite: 5,
        epoch_bits: 6,
        handshake: HandshakeFormat::Plaintext,
    };
    let mut alice = session("alice");
    alice
        .create_group_with(&GroupOptions {
            params,
            params_source: ParamsSource::App,
            ..GroupOptions::default()
        })
        .expect("create");
    assert_eq!(alice.params_source(), Some(ParamsSource::App));
    assert!(
        alice
            .group
            .as_ref()
            .expect("group")
            .mls
            .extensions()
            .unknown(PARAMS_EXTENSION_TYPE)
            .is_none()
    );
    // A key package that does not advertise 0xff00 can join a group that does not
    // require it; out-of-range join parameters are refused before anything is used.
    let mut bob = session("bob");
    let welcome = add(&mut alice, &key_package_without_extension(&bob));
    let bad = GroupParams {
        epoch_bits: 1,
        ..params
    };
    assert_eq!(
        bob.join_with(
            &welcome,
            JoinOptions {
                ratchet_tree: None,
                params: Some(bad)
            }
        ),
        Err(MlsError::InvalidParams)
    );
    bob.join_with(
        &welcome,
        JoinOptions {
            ratchet_tree: None,
            params: Some(params),
        },
    )
    .expect("join");
    assert_eq!(bob.params(), Some(params));
    assert_eq!(bob.params_source(), Some(ParamsSource::App));
    assert_eq!(base_key(&bob).len(), 32, "suite 5 needs a 32-byte base key");
    assert_eq!(base_key(&bob), base_key(&alice));

    // A joiner without parameters gets the documented defaults.
    let mut carol = session("carol");
    let welcome = add(&mut alice, &carol.key_package().expect("kp"));
    carol.join(&welcome).expect("join");
    assert_eq!(carol.params(), Some(GroupParams::default()));

    // A group that carries (and requires) the extension refuses such a key package with
    // its own error, and adds nothing.
    let mut dave = session("dave");
    dave.create_group(GroupParams::default()).expect("create");
    let eve = session("eve");
    assert_eq!(
        dave.add_members(&[&key_package_without_extension(&eve)]),
        Err(MlsError::MissingCapability)
    );
    assert!(!dave.has_pending_commit());
}

type Seen = Arc<Mutex<Vec<(Option<MemberIdentity>, MemberCredential)>>>;

fn recording_policy(refuse: &'static [u8]) -> (Arc<dyn AdmissionPolicy>, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let policy = move |c: &Candidate<'_>| {
        log.lock()
            .expect("lock")
            .push((c.identity.cloned(), c.credential.clone()));
        if c.credential.content == refuse {
            Err(Refusal("not on the list".into()))
        } else {
            Ok(())
        }
    };
    (Arc::new(policy), seen)
}

#[test]
fn foreign_credentials_go_through_the_policy() {
    let (policy, seen) = recording_policy(b"mallory-bot");
    let mut alice = session_with("alice", policy.clone());
    alice.create_group(GroupParams::default()).expect("create");
    let mut bot = foreign("recorder-bot", Arc::new(AdmitAll));
    let mut bob = session_with("bob", policy);
    let out = alice
        .add_members(&[
            &bot.key_package().expect("kp"),
            &bob.key_package().expect("kp"),
        ])
        .expect("a foreign credential is admitted by the policy");
    alice.confirm_own_commit().expect("confirm");
    let welcome = out.welcome.expect("welcome");
    bot.join(&welcome).expect("bot joins");
    bob.join(&welcome).expect("bob joins, admitting the bot");
    {
        let seen = seen.lock().expect("lock");
        let bot_seen = seen
            .iter()
            .filter(|(id, c)| id.is_none() && c.content == b"recorder-bot")
            .count();
        assert_eq!(
            bot_seen, 2,
            "alice's add and bob's join both asked: {seen:?}"
        );
    }
    let members = bob.members().expect("members");
    let bot_info = members
        .iter()
        .find(|m| m.identity.is_none())
        .expect("the bot is listed");
    assert_eq!(
        bot_info.credential,
        MemberCredential::basic(b"recorder-bot".to_vec())
    );
    let roster = bob.roster().expect("roster");
    assert!(roster.iter().any(|u| u.user_id == b"recorder-bot"));

    // The foreign member commits: its path leaf keeps its credential, fine.
    let up = bot.self_update().expect("update");
    bot.confirm_own_commit().expect("confirm");
    for s in [&mut alice, &mut bob] {
        assert!(matches!(
            s.process(&up.commit),
            Ok(Outcome::EpochChanged { .. })
        ));
    }
    assert_eq!(base_key(&alice), base_key(&bot));

    // The bot adds a foreign member the policy refuses: that is the policy's refusal,
    // terminal as any other; an unparsable credential alone never is.
    let mallory = foreign("mallory-bot", Arc::new(AdmitAll));
    let out = bot
        .add_members(&[&mallory.key_package().expect("kp")])
        .expect("the bot admits everyone");
    assert!(matches!(
        bob.process(&out.commit),
        Ok(Outcome::PolicyViolation { reason }) if reason == "not on the list"
    ));
    assert_eq!(bob.process(b"anything"), Err(MlsError::Terminated));
}

#[test]
fn our_adds_refused_by_the_policy_change_nothing() {
    let (policy, _) = recording_policy(b"mallory-bot");
    let mut alice = session_with("alice", policy);
    alice.create_group(GroupParams::default()).expect("create");
    let mallory = foreign("mallory-bot", Arc::new(AdmitAll));
    assert!(matches!(
        alice.add_members(&[&mallory.key_package().expect("kp")]),
        Err(MlsError::AdmissionRefused { reason }) if reason == "not on the list"
    ));
    assert!(!alice.has_pending_commit());
}

#[test]
fn every_ciphersuite_keys_sframe_the_same_way() {
    for suite in [
        MlsCiphersuite::X25519Aes128GcmEd25519,
        MlsCiphersuite::X25519ChaCha20Ed25519,
    ] {
        let mut alice = session("alice");
        let mut bob = session("bob");
        alice
            .create_group_with(&GroupOptions {
                ciphersuite: suite,
                ..GroupOptions::default()
            })
            .expect("create");
        assert_eq!(alice.ciphersuite(), Some(suite));
        if suite != MlsCiphersuite::default() {
            assert_eq!(
                alice.add_members(&[&bob.key_package().expect("kp")]),
                Err(MlsError::CiphersuiteMismatch)
            );
        }
        let welcome = add(&mut alice, &bob.key_package_for(suite).expect("kp"));
        bob.join(&welcome).expect("join");
        assert_eq!(bob.ciphersuite(), Some(suite));
        let key = base_key(&alice);
        assert_eq!(key, base_key(&bob));
        let exported = alice
            .export_secret(BASE_KEY_LABEL, b"", 16)
            .expect("exporter");
        assert_eq!(
            &exported[..],
            &key[..],
            "the base key is the RFC 9605 exporter value"
        );
    }
    // P-256 identities make 0x0002 groups by default; the two kinds do not mix.
    let p256 = |user: &str| {
        let member = MemberIdentity::new(user.as_bytes().to_vec(), b"dev".to_vec()).expect("id");
        let identity = Identity::generate_with(member, SignatureAlgorithm::EcdsaP256).expect("rng");
        Session::new(identity, Arc::new(AdmitAll), MediaConfig::default()).expect("session")
    };
    let (mut alice, mut bob) = (p256("alice"), p256("bob"));
    alice.create_group(GroupParams::default()).expect("create");
    assert_eq!(alice.ciphersuite(), Some(MlsCiphersuite::P256Aes128GcmP256));
    let ed = session("ed");
    assert_eq!(
        alice.add_members(&[&ed.key_package().expect("kp")]),
        Err(MlsError::CiphersuiteMismatch)
    );
    let welcome = add(&mut alice, &bob.key_package().expect("kp"));
    bob.join(&welcome).expect("join");
    assert_eq!(base_key(&alice), base_key(&bob));
    assert_eq!(bob.identity().public_key().len(), 65);
    let mut carol = p256("carol");
    assert_eq!(
        carol.create_group_with(&GroupOptions {
            ciphersuite: MlsCiphersuite::X25519Aes128GcmEd25519,
            ..GroupOptions::default()
        }),
        Err(MlsError::CiphersuiteMismatch)
    );

    // An Ed25519 identity cannot sign for the P-256 suite.
    let mut alice = session("alice");
    assert_eq!(
        alice.create_group_with(&GroupOptions {
            ciphersuite: MlsCiphersuite::P256Aes128GcmP256,
            ..GroupOptions::default()
        }),
        Err(MlsError::CiphersuiteMismatch)
    );
    assert_eq!(
        alice.key_package_for(MlsCiphersuite::P256Aes128GcmP256),
        Err(MlsError::CiphersuiteMismatch)
    );
    assert_eq!(
        MlsCiphersuite::try_from(4),
        Err(MlsError::UnsupportedCiphersuite)
    );
    for suite in MlsCiphersuite::ALL {
        assert_eq!(MlsCiphersuite::try_from(suite.code()), Ok(suite));
    }
}

fn two_members() -> (Session, Session) {
    let mut alice = session("alice");
    let mut bob = session("bob");
    alice.create_group(GroupParams::default()).expect("create");
    let welcome = add(&mut alice, &bob.key_package().expect("kp"));
    bob.join(&welcome).expect("join");
    (alice, bob)
}

fn context_with(
    params: Option<GroupParams>,
    senders: Vec<ExternalSender>,
) -> Extensions<GroupContext> {
    let mut v = Vec::new();
    if let Some(p) = params {
        v.push(Extension::Unknown(
            PARAMS_EXTENSION_TYPE,
            UnknownExtension(p.encode()),
        ));
        v.push(Extension::RequiredCapabilities(
            RequiredCapabilitiesExtension::new(
                &[ExtensionType::Unknown(PARAMS_EXTENSION_TYPE)],
                &[],
                &[CredentialType::Basic],
            ),
        ));
    }
    if !senders.is_empty() {
        v.push(Extension::ExternalSenders(senders));
    }
    Extensions::from_vec(v).expect("extensions")
}

#[test]
fn a_change_of_sframe_params_is_refused_but_not_terminal() {
    let (mut alice, mut bob) = two_members();
    let other = GroupParams {
        sframe_suite: 5,
        ..GroupParams::default()
    };
    let g = alice.group.as_mut().expect("group");
    // As a proposal: not stored.
    let (proposal, _) = g
        .mls
        .propose_group_context_extensions(
            &alice.provider,
            context_with(Some(other), vec![]),
            &alice.signer,
        )
        .expect("propose");
    let proposal = serialize(&proposal).expect("serialize");
    assert_eq!(bob.process(&proposal), Err(MlsError::ParamsChangeRefused));
    let epoch = bob.epoch();
    // As a commit: not merged, and the session is still active.
    let g = alice.group.as_mut().expect("group");
    g.mls
        .clear_pending_proposals(alice.provider.storage())
        .expect("clear");
    let (commit, _, _) = g
        .mls
        .update_group_context_extensions(
            &alice.provider,
            context_with(Some(other), vec![]),
            &alice.signer,
        )
        .expect("commit");
    let commit = serialize(&commit).expect("serialize");
    assert_eq!(bob.process(&commit), Err(MlsError::ParamsChangeRefused));
    assert_eq!(bob.epoch(), epoch);
    assert!(bob.is_active());
    assert_eq!(bob.params(), Some(GroupParams::default()));
    alice
        .group
        .as_mut()
        .expect("group")
        .mls
        .clear_pending_commit(alice.provider.storage())
        .expect("clear");

    // A context change that keeps the parameters (adding an external sender) is followed.
    let sender = ExternalSender::new(
        vec![7u8; 32].into(),
        BasicCredential::new(b"ds".to_vec()).into(),
    );
    let g = alice.group.as_mut().expect("group");
    let (commit, _, _) = g
        .mls
        .update_group_context_extensions(
            &alice.provider,
            context_with(Some(GroupParams::default()), vec![sender]),
            &alice.signer,
        )
        .expect("commit");
    let commit = serialize(&commit).expect("serialize");
    assert!(matches!(
        bob.process(&commit),
        Ok(Outcome::EpochChanged { .. })
    ));
    assert_eq!(bob.params_source(), Some(ParamsSource::GroupContext));

    // Dropping the extension keeps the parameters; they now come from the apps.
    let g = alice.group.as_mut().expect("group");
    g.mls.merge_pending_commit(&alice.provider).expect("merge");
    let (commit, _, _) = g
        .mls
        .update_group_context_extensions(&alice.provider, context_with(None, vec![]), &alice.signer)
        .expect("commit");
    let commit = serialize(&commit).expect("serialize");
    assert!(matches!(
        bob.process(&commit),
        Ok(Outcome::EpochChanged { .. })
    ));
    assert_eq!(bob.params_source(), Some(ParamsSource::App));
    assert_eq!(bob.params(), Some(GroupParams::default()));
}

#[test]
fn exporter_and_authenticator_agree_across_members_and_epochs() {
    let (mut alice, mut bob) = two_members();
    let a = alice
        .export_secret("app feature", b"ctx", 42)
        .expect("export");
    assert_eq!(a.len(), 42);
    assert_eq!(
        a,
        bob.export_secret("app feature", b"ctx", 42)
            .expect("export")
    );
    assert_ne!(
        a,
        bob.export_secret("app feature", b"other", 42)
            .expect("export")
    );
    assert_ne!(
        a,
        bob.export_secret("other label", b"ctx", 42)
            .expect("export")
    );
    assert!(matches!(
        alice.export_secret("x", b"", 0),
        Err(MlsError::InvalidConfig(_))
    ));
    assert!(matches!(
        alice.export_secret("x", b"", 255 * 32 + 1),
        Err(MlsError::InvalidConfig(_))
    ));
    let auth = alice.epoch_authenticator().expect("authenticator");
    assert_eq!(auth, bob.epoch_authenticator().expect("authenticator"));
    let out = bob.self_update().expect("update");
    bob.confirm_own_commit().expect("confirm");
    alice.process(&out.commit).expect("process");
    assert_ne!(auth, alice.epoch_authenticator().expect("authenticator"));
    assert_eq!(
        alice.epoch_authenticator().expect("a"),
        bob.epoch_authenticator().expect("b")
    );
    assert_ne!(
        a,
        alice
            .export_secret("app feature", b"ctx", 42)
            .expect("export")
    );
    let none = session("none");
    assert_eq!(none.export_secret("x", b"", 1), Err(MlsError::NoGroup));
    assert_eq!(none.epoch_authenticator(), Err(MlsError::NoGroup));
    assert_eq!(none.ratchet_tree(), Err(MlsError::NoGroup));
}
