//! MLS sessions keying SFrame end to end (RFC 9605 §5.2), seen from outside: every MLS
//! message travels as bytes; frames are sealed by one member's Encryptor and opened by the
//! others' Decryptors across joins, removals, self-updates and retention windows.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::{Decryptor, Encryptor, ManualClock, MediaConfig, MediaError};
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{GroupParams, Outcome, Session};
use mlsframe::sframe::{Header, SframeError};

fn member_with(name: &str, clock: &Arc<ManualClock>, send_switch_delay: Duration) -> Session {
    let id = MemberIdentity::new(name.as_bytes().to_vec(), b"dev".to_vec()).unwrap();
    let config = MediaConfig {
        clock: Arc::clone(clock) as _,
        send_switch_delay,
        // Racing test threads reorder frames far more than a network does.
        replay_window: 8192,
        ..MediaConfig::default()
    };
    Session::new(Identity::generate(id).unwrap(), Arc::new(AdmitAll), config).unwrap()
}

fn member(name: &str, clock: &Arc<ManualClock>) -> Session {
    member_with(name, clock, Duration::ZERO)
}

/// `names[0]` creates the group and adds the rest in one commit.
fn call(names: &[&str], clock: &Arc<ManualClock>) -> Vec<Session> {
    call_with(names, clock, Duration::ZERO)
}

fn call_with(names: &[&str], clock: &Arc<ManualClock>, delay: Duration) -> Vec<Session> {
    let mut members: Vec<Session> = names.iter().map(|n| member_with(n, clock, delay)).collect();
    members[0].create_group(GroupParams::default()).unwrap();
    let kps: Vec<Vec<u8>> = members[1..]
        .iter()
        .map(|m| m.key_package().unwrap())
        .collect();
    let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
    let out = members[0].add_members(&refs).unwrap();
    members[0].confirm_own_commit().unwrap();
    let welcome = out.welcome.unwrap();
    for m in &mut members[1..] {
        m.join(&welcome).unwrap();
    }
    // Everyone has the welcome: the creator may seal in the new epoch.
    members[0].media().receivers_ready();
    members
}

/// Commit by `by` delivered to everyone listed in `to` (the committer confirms).
fn deliver(members: &mut [Session], by: usize, commit: &[u8], to: &[usize]) {
    members[by].confirm_own_commit().unwrap();
    for &i in to {
        if i != by {
            members[i].process(commit).unwrap();
        }
    }
}

fn seal(enc: &mut Encryptor, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; enc.max_ciphertext_len(payload.len()).unwrap()];
    let n = enc.encrypt(b"", payload, &mut out).unwrap();
    out.truncate(n);
    out
}

fn open(dec: &mut Decryptor, frame: &[u8]) -> Result<Vec<u8>, MediaError> {
    let mut out = vec![0u8; frame.len()];
    let opened = dec.decrypt(b"", frame, &mut out)?;
    out.truncate(opened.len);
    Ok(out)
}

#[test]
fn every_member_opens_every_other_members_streams() {
    let clock = Arc::new(ManualClock::default());
    let members = call(&["alice", "bob", "carol", "dave"], &clock);
    let codes: HashSet<String> = members.iter().map(|m| m.security_code().unwrap()).collect();
    assert_eq!(codes.len(), 1);
    let mut kids = HashSet::new();
    for (i, sender) in members.iter().enumerate() {
        for context in [0u64, 1, 2] {
            let mut enc = sender.media().encryptor(context).unwrap();
            let payload = format!("member {i} stream {context}");
            let frame = seal(&mut enc, payload.as_bytes());
            assert!(
                kids.insert(Header::decode(&frame).unwrap().0.kid),
                "KIDs are distinct"
            );
            for (j, receiver) in members.iter().enumerate() {
                let result = open(&mut receiver.media().decryptor(), &frame);
                if i == j {
                    assert_eq!(
                        result,
                        Err(MediaError::UnknownSender),
                        "own frames are not ours to open"
                    );
                } else {
                    assert_eq!(result.unwrap(), payload.as_bytes());
                }
            }
        }
    }
    // One encryptor per context.
    let _audio = members[0].media().encryptor(7).unwrap();
    assert_eq!(
        members[0].media().encryptor(7).unwrap_err(),
        MediaError::ContextInUse
    );
}

#[test]
fn removed_member_opens_nothing_sealed_after_the_removal() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob", "carol"], &clock);
    let carol_leaf = m[2].own_leaf().unwrap();
    let mut carol_dec = m[2].media().decryptor();
    let mut carol_enc = m[2].media().encryptor(0).unwrap();
    let mut alice_enc = m[0].media().encryptor(0).unwrap();
    let before = seal(&mut alice_enc, b"before removal");

    let out = m[0].remove_members(&[carol_leaf]).unwrap();
    deliver(&mut m, 0, &out.commit, &[1]);
    let after = seal(&mut alice_enc, b"after removal");
    assert!(
        alice_enc.take_key_frame_request(),
        "epoch change asks for a key frame"
    );

    // Carol has not even seen the commit: she holds no key for the new epoch.
    assert_eq!(open(&mut carol_dec, &after), Err(MediaError::NoKey));
    // Once she processes it she is out, and still cannot open it.
    assert_eq!(m[2].process(&out.commit).unwrap(), Outcome::Removed);
    assert_eq!(open(&mut carol_dec, &after), Err(MediaError::NoKey));
    assert!(carol_dec.release_held().is_empty());
    assert_eq!(
        carol_enc.encrypt(b"", b"x", &mut [0u8; 64]),
        Err(MediaError::NotMember)
    );
    // Frames sealed before the removal stay readable for her retention window only.
    assert_eq!(open(&mut carol_dec, &before).unwrap(), b"before removal");

    let mut bob = m[1].media().decryptor();
    assert_eq!(open(&mut bob, &after).unwrap(), b"after removal");
}

#[test]
fn joiner_cannot_open_frames_of_earlier_epochs() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob"], &clock);
    let mut bob_enc = m[1].media().encryptor(0).unwrap();
    let old = seal(&mut bob_enc, b"before erin joined");
    m.push(member("erin", &clock));
    let kp = m[2].key_package().unwrap();
    let out = m[0].add_members(&[&kp]).unwrap();
    deliver(&mut m, 0, &out.commit, &[1]);
    m[2].join(&out.welcome.unwrap()).unwrap();
    let mut erin = m[2].media().decryptor();
    assert_eq!(open(&mut erin, &old), Err(MediaError::NoKey));
    let new = seal(&mut bob_enc, b"welcome erin");
    assert_eq!(open(&mut erin, &new).unwrap(), b"welcome erin");
}

#[test]
fn in_flight_frames_open_within_retention_and_not_after() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob"], &clock);
    let mut bob_enc = m[1].media().encryptor(0).unwrap();
    let mut alice_dec = m[0].media().decryptor();
    let late = [
        seal(&mut bob_enc, b"in flight 1"),
        seal(&mut bob_enc, b"in flight 2"),
    ];
    let out = m[0].self_update().unwrap();
    deliver(&mut m, 0, &out.commit, &[1]);
    assert_eq!(open(&mut alice_dec, &late[0]).unwrap(), b"in flight 1");
    clock.advance(Duration::from_secs(11));
    m[0].media().purge_expired();
    assert_eq!(open(&mut alice_dec, &late[1]), Err(MediaError::NoKey));
}

#[test]
fn next_epoch_frames_wait_for_their_commit() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob"], &clock);
    let mut alice_enc = m[0].media().encryptor(1).unwrap();
    let mut bob_dec = m[1].media().decryptor();
    let old = seal(&mut alice_enc, b"sealed in the old epoch");
    let out = m[0].self_update().unwrap();
    m[0].confirm_own_commit().unwrap();
    let early = seal(&mut alice_enc, b"from the next epoch");
    assert_eq!(open(&mut bob_dec, &early), Err(MediaError::NoKey));
    assert_eq!(bob_dec.held_frames(), 1);
    m[1].process(&out.commit).unwrap();
    let released = bob_dec.release_held();
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].plaintext, b"from the next epoch");
    assert_eq!(bob_dec.held_frames(), 0);
    assert_eq!(
        open(&mut bob_dec, &early),
        Err(MediaError::Sframe(SframeError::Replay))
    );
    // Alice's newer-epoch frame authenticated, so her older-epoch frames are refused.
    assert_eq!(open(&mut bob_dec, &old), Err(MediaError::Superseded));
}

#[test]
fn sender_waits_for_receivers_when_configured() {
    let clock = Arc::new(ManualClock::default());
    let mut carol = member_with("carol", &clock, Duration::from_secs(2));
    carol.create_group(GroupParams::default()).unwrap();
    let enc = carol.media().encryptor(0).unwrap();
    let e0 = enc.epoch().unwrap();
    carol.self_update().unwrap();
    carol.confirm_own_commit().unwrap();
    assert_eq!(enc.epoch(), Some(e0), "still sealing in the old epoch");
    clock.advance(Duration::from_secs(2));
    assert_eq!(enc.epoch(), Some(e0 + 1), "switched after the delay");
    carol.self_update().unwrap();
    carol.confirm_own_commit().unwrap();
    assert_eq!(enc.epoch(), Some(e0 + 1));
    carol.media().receivers_ready();
    assert_eq!(enc.epoch(), Some(e0 + 2), "switched when the app said so");
}

#[test]
fn a_removal_switches_senders_at_once_whatever_the_delay() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call_with(&["alice", "bob", "carol"], &clock, Duration::from_secs(2));
    let carol_leaf = m[2].own_leaf().unwrap();
    let mut carol_dec = m[2].media().decryptor();
    // Alice and bob self-update first so both encryptors have a switch behind them.
    let mut alice_enc = m[0].media().encryptor(0).unwrap();
    let mut bob_enc = m[1].media().encryptor(0).unwrap();
    let e1 = alice_enc.epoch().unwrap();

    // A plain self-update still waits out the delay...
    let out = m[1].self_update().unwrap();
    deliver(&mut m, 1, &out.commit, &[0, 2]);
    assert_eq!(bob_enc.epoch(), Some(e1), "self-update waits for receivers");
    // ...but a removal switches everyone at once, overtaking the waiting switch.
    let out = m[0].remove_members(&[carol_leaf]).unwrap();
    deliver(&mut m, 0, &out.commit, &[1]);
    assert_eq!(alice_enc.epoch(), Some(e1 + 2));
    assert_eq!(bob_enc.epoch(), Some(e1 + 2));
    let after = [seal(&mut alice_enc, b"after"), seal(&mut bob_enc, b"after")];
    assert_eq!(m[2].process(&out.commit).unwrap(), Outcome::Removed);
    for frame in &after {
        assert_eq!(open(&mut carol_dec, frame), Err(MediaError::NoKey));
    }
    let mut bob_dec = m[1].media().decryptor();
    assert_eq!(open(&mut bob_dec, &after[0]).unwrap(), b"after");
}

#[test]
fn a_policy_violation_stops_media_like_a_removal() {
    use mlsframe::mls::policy::{Candidate, Refusal};
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob", "carol"], &clock);
    // Bob's policy refuses mallory; alice commits a removal of carol plus mallory's add.
    let id = MemberIdentity::new(b"bob".to_vec(), b"dev2".to_vec()).unwrap();
    let strict = Session::new(
        Identity::generate(id).unwrap(),
        Arc::new(|c: &Candidate<'_>| {
            if c.identity.is_some_and(|id| id.user_id == b"mallory") {
                Err(Refusal("banned".into()))
            } else {
                Ok(())
            }
        }),
        MediaConfig {
            clock: Arc::clone(&clock) as _,
            ..MediaConfig::default()
        },
    )
    .unwrap();
    let kp = strict.key_package().unwrap();
    let out = m[0].add_members(&[&kp]).unwrap();
    deliver(&mut m, 0, &out.commit, &[1, 2]);
    m.push(strict);
    m[3].join(&out.welcome.unwrap()).unwrap();

    let mut victim_enc = m[3].media().encryptor(0).unwrap();
    let mut victim_dec = m[3].media().decryptor();
    let mut alice_enc = m[0].media().encryptor(0).unwrap();
    let before = [
        seal(&mut alice_enc, b"before 1"),
        seal(&mut alice_enc, b"before 2"),
    ];
    assert!(victim_enc.epoch().is_some());

    // alice commits mallory's add, which bob/dev2's policy refuses: terminal for him.
    let mallory = member("mallory", &clock);
    let out = m[0]
        .add_members(&[&mallory.key_package().unwrap()])
        .unwrap();
    deliver(&mut m, 0, &out.commit, &[1, 2]);
    assert!(matches!(
        m[3].process(&out.commit).unwrap(),
        Outcome::PolicyViolation { .. }
    ));
    // Sealing stops at once.
    assert_eq!(
        victim_enc.encrypt(b"", b"x", &mut [0u8; 64]),
        Err(MediaError::NotMember)
    );
    assert_eq!(victim_enc.epoch(), None);
    // Retained epochs open in-flight frames for the post-removal retention only.
    assert_eq!(open(&mut victim_dec, &before[0]).unwrap(), b"before 1");
    let late = seal(&mut alice_enc, b"late");
    assert_eq!(open(&mut victim_dec, &late), Err(MediaError::NoKey));
    clock.advance(Duration::from_millis(1001));
    m[3].media().purge_expired();
    assert_eq!(m[3].media().installed_epochs(), Vec::<u64>::new());
    assert_eq!(open(&mut victim_dec, &before[1]), Err(MediaError::NoKey));
}

#[test]
fn a_send_switch_delay_above_the_cap_is_refused() {
    use mlsframe::mls::error::MlsError;
    use mlsframe::mls::media::MAX_SEND_SWITCH_DELAY;
    let id = MemberIdentity::new(b"x".to_vec(), b"dev".to_vec()).unwrap();
    let config = MediaConfig {
        send_switch_delay: MAX_SEND_SWITCH_DELAY + Duration::from_millis(1),
        ..MediaConfig::default()
    };
    assert!(matches!(
        Session::new(Identity::generate(id).unwrap(), Arc::new(AdmitAll), config),
        Err(MlsError::InvalidConfig(_))
    ));
}

#[test]
fn no_two_senders_share_a_kid_after_removals_leave_gaps() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["a", "b", "c", "d", "e", "f"], &clock);
    let leaves: Vec<u32> = [1usize, 2, 4]
        .iter()
        .map(|&i| m[i].own_leaf().unwrap())
        .collect();
    let out = m[0].remove_members(&leaves).unwrap();
    deliver(&mut m, 0, &out.commit, &[3, 5]);
    let mut kids = HashSet::new();
    for i in [0usize, 3, 5] {
        for context in 0..4u64 {
            let mut enc = m[i].media().encryptor(context).unwrap();
            let frame = seal(&mut enc, b"x");
            assert!(kids.insert(Header::decode(&frame).unwrap().0.kid));
            for j in [0usize, 3, 5] {
                if j != i {
                    assert_eq!(open(&mut m[j].media().decryptor(), &frame).unwrap(), b"x");
                }
            }
        }
    }
}

#[test]
fn media_threads_run_while_commits_land() {
    const SENDERS: usize = 4;
    const RECEIVERS: usize = 4;
    const MAX_FRAMES: usize = 20_000;
    let clock = Arc::new(ManualClock::default());
    // Members wait for "receivers ready" before sealing in a new epoch, as a real app
    // would once its delivery service confirms the commit reached everyone.
    let mut m = call_with(&["alice", "bob"], &clock, Duration::from_secs(5));
    // Sealing takes `&mut`: threads that share one encryptor share it behind a lock.
    let enc = Arc::new(std::sync::Mutex::new(m[0].media().encryptor(0).unwrap()));
    let dec = m[1].media().decryptor();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let done = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..SENDERS)
        .map(|t| {
            let (enc, tx, done) = (Arc::clone(&enc), tx.clone(), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut sent = 0;
                while !done.load(Ordering::Relaxed) && sent < MAX_FRAMES {
                    let frame = seal(&mut enc.lock().unwrap(), format!("{t}:{sent}").as_bytes());
                    tx.send(frame.clone()).unwrap();
                    tx.send(frame).unwrap(); // the network duplicates everything
                    sent += 1;
                    std::thread::sleep(Duration::from_micros(100));
                }
                sent
            })
        })
        .collect();
    drop(tx);
    let receivers: Vec<_> = (0..RECEIVERS)
        .map(|_| {
            let (mut dec, rx) = (dec.clone(), Arc::clone(&rx));
            std::thread::spawn(move || {
                let mut results = Vec::new();
                loop {
                    let frame = match rx.lock().unwrap().recv() {
                        Ok(f) => f,
                        Err(_) => break,
                    };
                    let header = Header::decode(&frame).unwrap().0;
                    results.push((header, open(&mut dec, &frame)));
                }
                results
            })
        })
        .collect();
    // Meanwhile, on this thread: five self-updates, each processed by bob, then the
    // sender is told receivers are ready.
    let mut epochs = HashSet::new();
    for _ in 0..5 {
        let out = m[0].self_update().unwrap();
        deliver(&mut m, 0, &out.commit, &[1]);
        m[0].media().receivers_ready();
        epochs.insert(m[0].epoch().unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    done.store(true, Ordering::Relaxed);
    let sent: usize = senders.into_iter().map(|s| s.join().unwrap()).sum();
    // Per frame: how often it opened, and how it was refused otherwise.
    let mut outcomes: std::collections::HashMap<(u64, u64), (usize, usize)> = Default::default();
    for r in receivers {
        for (header, result) in r.join().unwrap() {
            let entry = outcomes.entry((header.kid, header.ctr)).or_default();
            match result {
                Ok(_) => entry.0 += 1,
                // A duplicate, or a frame of epoch N that a receiver thread got to after
                // the same sender's epoch N+1 frame (RFC 9605 §6.2 refusal): never an
                // authentication failure and never a missing key.
                Err(MediaError::Sframe(SframeError::Replay) | MediaError::Superseded) => {
                    entry.1 += 1
                }
                Err(e) => panic!("frame lost to rekeying: {e:?}"),
            }
        }
    }
    assert_eq!(outcomes.len(), sent, "every (KID, CTR) distinct");
    assert!(
        outcomes.values().all(|&(ok, _)| ok <= 1),
        "a duplicate was accepted twice"
    );
    let opened: Vec<(u64, u64)> = outcomes
        .iter()
        .filter(|(_, o)| o.0 == 1)
        .map(|(k, _)| *k)
        .collect();
    let straddling = sent - opened.len();
    // Only frames racing an epoch switch can be superseded: at most one per sender and
    // receiver thread per switch.
    assert!(
        straddling <= 5 * (SENDERS + RECEIVERS),
        "{straddling} frames refused"
    );
    let kids: HashSet<u64> = opened.iter().map(|(kid, _)| *kid).collect();
    assert!(
        kids.len() > 1,
        "media spanned several epochs ({} KIDs)",
        kids.len()
    );
}

#[test]
fn a_new_encryptor_for_a_context_continues_its_counter() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob"], &clock);
    let mut bob = m[1].media().decryptor();
    // One encryptor counts 0, 1, 2, ... across the blocks of counters it reserves, in
    // place and out of place alike, and every frame opens.
    let mut first = m[0].media().encryptor(0).unwrap();
    let mut last = None;
    for i in 0..150u64 {
        let frame = if i % 2 == 0 {
            seal(&mut first, b"out of place")
        } else {
            let mut buf = [0u8; 64];
            buf[..8].copy_from_slice(b"in place");
            let n = first.encrypt_in_place(b"", &mut buf, 8).unwrap();
            buf[..n].to_vec()
        };
        let h = Header::decode(&frame).unwrap().0;
        assert_eq!(h.ctr, i, "consecutive counters");
        open(&mut bob, &frame).unwrap();
        last = Some(h);
    }
    let a = last.unwrap();
    drop(first);
    // A later encryptor of the context goes on past every counter the first one took.
    let mut second = m[0].media().encryptor(0).unwrap();
    let b = Header::decode(&seal(&mut second, b"2")).unwrap().0;
    assert_eq!(a.kid, b.kid);
    assert!(
        b.ctr > a.ctr,
        "(KID, CTR) is never reused: {} after {}",
        b.ctr,
        a.ctr
    );
    open(&mut bob, &seal(&mut second, b"3")).unwrap();
    // After an epoch change the new key counts from 0 again.
    let out = m[0].self_update().unwrap();
    deliver(&mut m, 0, &out.commit, &[1]);
    let c = Header::decode(&seal(&mut second, b"4")).unwrap().0;
    assert_ne!(c.kid, b.kid);
    assert_eq!(c.ctr, 0);
}

#[test]
fn twenty_members_agree_and_media_handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Encryptor>();
    send_sync::<Decryptor>();

    let clock = Arc::new(ManualClock::default());
    let names: Vec<String> = (0..20).map(|i| format!("member{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let m = call(&refs, &clock);
    let code = m[0].security_code().unwrap();
    assert!(m.iter().all(|s| s.security_code().unwrap() == code));
    let mut enc = m[19].media().encryptor(3).unwrap();
    let frame = seal(&mut enc, b"from the last leaf");
    let mut opened = m[0].media().decryptor();
    let mut out = vec![0u8; frame.len()];
    let d = opened.decrypt(b"", &frame, &mut out).unwrap();
    assert_eq!(
        (d.sender.leaf, d.sender.context),
        (m[19].own_leaf().unwrap(), 3)
    );
    for s in &m[1..19] {
        assert_eq!(
            open(&mut s.media().decryptor(), &frame).unwrap(),
            b"from the last leaf"
        );
    }
}

#[test]
fn retained_epochs_stay_below_two_to_the_e() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob"], &clock);
    let mut bob_enc = m[1].media().encryptor(0).unwrap();
    let first = seal(&mut bob_enc, b"epoch one");
    for _ in 0..20 {
        let out = m[0].self_update().unwrap();
        deliver(&mut m, 0, &out.commit, &[1]);
        let installed = m[0].media().installed_epochs();
        assert!(
            installed.len() < 16,
            "E = 4 allows at most 15 epochs, got {installed:?}"
        );
    }
    // Epoch 1 was evicted long ago although its retention time has not passed; its low
    // E bits now name epoch 17, whose key does not verify the frame.
    assert_eq!(
        open(&mut m[0].media().decryptor(), &first),
        Err(MediaError::Sframe(SframeError::AuthenticationFailed))
    );
    let last = seal(&mut bob_enc, b"latest");
    assert_eq!(
        open(&mut m[0].media().decryptor(), &last).unwrap(),
        b"latest"
    );
}

#[test]
fn a_restored_member_follows_the_group_but_self_updates_before_sending() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob"], &clock);
    let config = || MediaConfig {
        clock: Arc::clone(&clock) as _,
        ..MediaConfig::default()
    };
    let snapshot = m[1].snapshot().unwrap();
    let code = m[1].security_code().unwrap();
    let bob_leaf = m[1].own_leaf();
    // Bob's device restarts.
    m[1] = Session::restore(&snapshot, Arc::new(AdmitAll), config()).unwrap();
    assert_eq!(
        (m[1].security_code().unwrap(), m[1].own_leaf()),
        (code, bob_leaf)
    );

    // He still follows the group and opens its media...
    let mut alice_enc = m[0].media().encryptor(0).unwrap();
    let out = m[0].self_update().unwrap();
    deliver(&mut m, 0, &out.commit, &[1]);
    let redelivered = out.commit.clone();
    assert_eq!(
        open(
            &mut m[1].media().decryptor(),
            &seal(&mut alice_enc, b"hi bob")
        )
        .unwrap(),
        b"hi bob"
    );
    // ...but the restored epoch's counters are unknown: no sealing until he rekeys.
    let mut bob_enc = m[1].media().encryptor(0).unwrap();
    let restored_again = Session::restore(&snapshot, Arc::new(AdmitAll), config()).unwrap();
    let mut stale = restored_again.media().encryptor(0).unwrap();
    assert_eq!(
        stale.encrypt(b"", b"x", &mut [0u8; 64]),
        Err(MediaError::RekeyRequired)
    );
    let out = m[1].self_update().unwrap();
    deliver(&mut m, 1, &out.commit, &[0]);
    assert_eq!(
        open(&mut m[0].media().decryptor(), &seal(&mut bob_enc, b"back")).unwrap(),
        b"back"
    );

    // A redelivered commit recreates an epoch the crashed instance may already have sealed
    // in: a restored session seals nothing until its own self-update is merged.
    let mut again = Session::restore(&snapshot, Arc::new(AdmitAll), config()).unwrap();
    let mut again_enc = again.media().encryptor(5).unwrap();
    again.process(&redelivered).unwrap();
    assert_eq!(
        again_enc.encrypt(b"", b"x", &mut [0u8; 64]),
        Err(MediaError::RekeyRequired)
    );
    let own = again.self_update().unwrap();
    again.confirm_own_commit().unwrap();
    assert!(own.epoch > 0);
    assert!(again_enc.encrypt(b"", b"x", &mut [0u8; 64]).is_ok());

    // Damaged snapshots are refused, never half-restored.
    for cut in [0, 10, snapshot.len() / 2, snapshot.len() - 1] {
        assert!(Session::restore(&snapshot[..cut], Arc::new(AdmitAll), config()).is_err());
    }
    let mut extended = snapshot.to_vec();
    extended.push(0);
    assert!(Session::restore(&extended, Arc::new(AdmitAll), config()).is_err());
    // No snapshot while a commit of ours is pending.
    m[0].self_update().unwrap();
    assert!(m[0].snapshot().is_err());
}

#[test]
fn a_member_removed_and_rejoining_seals_only_under_the_new_group() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob"], &clock);
    for _ in 0..4 {
        let out = m[0].self_update().unwrap();
        deliver(&mut m, 0, &out.commit, &[1]);
    }
    let mut bob_enc = m[1].media().encryptor(0).unwrap();
    let old_frame = seal(&mut bob_enc, b"old group");
    let bob_leaf = m[1].own_leaf().unwrap();
    let out = m[0].remove_members(&[bob_leaf]).unwrap();
    deliver(&mut m, 0, &out.commit, &[1]);

    // Bob joins a new, younger group (lower epoch numbers) with the same session.
    let mut dave = member("dave", &clock);
    dave.create_group(GroupParams::default()).unwrap();
    let kp = m[1].key_package().unwrap();
    let out = dave.add_members(&[&kp]).unwrap();
    dave.confirm_own_commit().unwrap();
    m[1].join(&out.welcome.unwrap()).unwrap();
    let frame = seal(&mut bob_enc, b"new group only");
    assert_eq!(
        open(&mut dave.media().decryptor(), &frame).unwrap(),
        b"new group only"
    );
    assert!(
        open(&mut m[0].media().decryptor(), &frame).is_err(),
        "old group cannot read it"
    );
    assert!(open(&mut dave.media().decryptor(), &old_frame).is_err());
    // Dave's frames are not refused by stale state from the old group.
    let mut dave_enc = dave.media().encryptor(0).unwrap();
    assert_eq!(
        open(&mut m[1].media().decryptor(), &seal(&mut dave_enc, b"hi")).unwrap(),
        b"hi"
    );
}

#[test]
fn a_frame_refused_after_authentication_leaves_no_plaintext() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob", "carol"], &clock);
    let id = MemberIdentity::new(b"erin".to_vec(), b"dev".to_vec()).unwrap();
    let config = MediaConfig {
        clock: Arc::clone(&clock) as _,
        max_streams_per_epoch: 1,
        ..MediaConfig::default()
    };
    m.push(Session::new(Identity::generate(id).unwrap(), Arc::new(AdmitAll), config).unwrap());
    let kp = m[3].key_package().unwrap();
    let out = m[0].add_members(&[&kp]).unwrap();
    deliver(&mut m, 0, &out.commit, &[1, 2]);
    m[3].join(&out.welcome.unwrap()).unwrap();
    let mut erin = m[3].media().decryptor();
    let first = seal(&mut m[0].media().encryptor(0).unwrap(), b"first stream");
    assert_eq!(open(&mut erin, &first).unwrap(), b"first stream");
    let second = seal(&mut m[1].media().encryptor(0).unwrap(), b"TOP SECRET");
    let mut out = vec![0u8; second.len()];
    assert_eq!(
        erin.decrypt(b"", &second, &mut out),
        Err(MediaError::TooManyStreams)
    );
    assert!(out.iter().all(|&b| b == 0), "plaintext was wiped");
    let mut buf = second.clone();
    assert_eq!(
        erin.decrypt_in_place(b"", &mut buf),
        Err(MediaError::TooManyStreams)
    );
    assert!(
        !buf.windows(10).any(|w| w == b"TOP SECRET"),
        "plaintext was wiped in place"
    );
    // Not one byte of it is left where it was decrypted (after the header) either.
    let header_len = Header::decode(&second).unwrap().1;
    assert!(
        buf[header_len..header_len + 10].iter().all(|&b| b == 0),
        "no tail of the plaintext left behind"
    );
}

#[test]
fn every_sframe_suite_keys_from_mls_with_its_own_nk() {
    for suite in 1..=5u16 {
        let params = GroupParams {
            sframe_suite: suite,
            ..GroupParams::default()
        };
        // RFC 9605 §5.2: the exported base key is Nk bytes (48 for the CTR+HMAC suites).
        let nk = mlsframe::sframe::CipherSuite::try_from(suite)
            .unwrap()
            .key_len();
        assert_eq!(params.key_len(), nk);
        let clock = Arc::new(ManualClock::default());
        let mut a = member("a", &clock);
        let mut b = member("b", &clock);
        a.create_group(params).unwrap();
        let kp = b.key_package().unwrap();
        let out = a.add_members(&[&kp]).unwrap();
        a.confirm_own_commit().unwrap();
        b.join(&out.welcome.unwrap()).unwrap();
        assert_eq!(
            b.params(),
            Some(params),
            "joiner learns the suite from the welcome"
        );
        let frame = seal(&mut a.media().encryptor(0).unwrap(), b"any suite");
        let tag = mlsframe::sframe::CipherSuite::try_from(suite)
            .unwrap()
            .tag_len();
        assert_eq!(frame.len(), Header::decode(&frame).unwrap().1 + 9 + tag);
        assert_eq!(
            open(&mut b.media().decryptor(), &frame).unwrap(),
            b"any suite"
        );
    }
}

#[test]
fn a_frame_of_a_retained_epoch_is_credited_to_who_held_the_leaf_then() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob", "carol"], &clock);
    let mut carol_dec = m[2].media().decryptor();
    let bob_leaf = m[1].own_leaf().unwrap();
    let mut bob_enc = m[1].media().encryptor(0).unwrap();
    let in_flight = seal(&mut bob_enc, b"from bob");
    let old_epoch = m[0].epoch().unwrap();

    // Bob leaves; dave joins and takes bob's leaf.
    let out = m[0].remove_members(&[bob_leaf]).unwrap();
    deliver(&mut m, 0, &out.commit, &[2]);
    let dave = member("dave", &clock);
    let out = m[0].add_members(&[&dave.key_package().unwrap()]).unwrap();
    deliver(&mut m, 0, &out.commit, &[2]);
    m.push(dave);
    m[3].join(&out.welcome.unwrap()).unwrap();
    assert_eq!(m[3].own_leaf(), Some(bob_leaf), "dave reuses bob's leaf");

    let mut buf = vec![0u8; in_flight.len()];
    let opened = carol_dec.decrypt(b"", &in_flight, &mut buf).unwrap();
    assert_eq!(
        (opened.sender.epoch, opened.sender.leaf),
        (old_epoch, bob_leaf)
    );
    let who = carol_dec
        .identity_at(opened.sender.epoch, opened.sender.leaf)
        .expect("identity in the frame's epoch");
    assert_eq!(who.user_id, b"bob");
    assert_eq!(
        m[2].media()
            .identity_at(old_epoch, bob_leaf)
            .map(|i| i.user_id.clone()),
        Some(b"bob".to_vec())
    );
    // The current roster names dave at that leaf: never used for old frames.
    let current = m[2].members().unwrap();
    assert!(
        current.iter().any(|mi| mi.leaf == bob_leaf
            && mi.identity.as_ref().is_some_and(|id| id.user_id == b"dave"))
    );
    let mut dave_enc = m[3].media().encryptor(0).unwrap();
    let from_dave = seal(&mut dave_enc, b"from dave");
    let mut buf = vec![0u8; from_dave.len()];
    let opened = carol_dec.decrypt(b"", &from_dave, &mut buf).unwrap();
    let who = carol_dec.identity_at(opened.sender.epoch, opened.sender.leaf);
    assert_eq!(who.unwrap().user_id, b"dave");
}

#[test]
fn held_frames_belong_to_the_decryptor_that_held_them() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob"], &clock);
    let mut alice_enc = m[0].media().encryptor(1).unwrap();
    let (mut first, mut second) = (m[1].media().decryptor(), m[1].media().decryptor());
    let out = m[0].self_update().unwrap();
    m[0].confirm_own_commit().unwrap();
    let early = seal(&mut alice_enc, b"early");
    assert_eq!(open(&mut first, &early), Err(MediaError::NoKey));
    assert_eq!((first.held_frames(), second.held_frames()), (1, 0));
    m[1].process(&out.commit).unwrap();
    assert!(second.release_held().is_empty());
    let released = first.clone().release_held();
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].plaintext, b"early");
    assert_eq!(released[0].identity.as_ref().unwrap().user_id, b"alice");
}

#[test]
fn a_restored_member_refuses_frames_it_accepted_before_the_snapshot() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob"], &clock);
    let mut alice_enc = m[0].media().encryptor(0).unwrap();
    let frames: Vec<Vec<u8>> = (0..5).map(|i| seal(&mut alice_enc, &[i])).collect();
    let mut bob_dec = m[1].media().decryptor();
    for f in &frames[..4] {
        open(&mut bob_dec, f).unwrap();
    }
    let snapshot = m[1].snapshot().unwrap();
    let config = MediaConfig {
        clock: Arc::clone(&clock) as _,
        ..MediaConfig::default()
    };
    m[1] = Session::restore(&snapshot, Arc::new(AdmitAll), config).unwrap();
    let mut restored = m[1].media().decryptor();
    for f in &frames[..4] {
        assert_eq!(
            open(&mut restored, f),
            Err(MediaError::Sframe(SframeError::Replay)),
            "accepted before the snapshot"
        );
    }
    assert_eq!(open(&mut restored, &frames[4]).unwrap(), [4]);
    assert_eq!(
        open(&mut restored, &seal(&mut alice_enc, b"new")).unwrap(),
        b"new"
    );
    // The floor survives a second snapshot taken before any frame of that stream.
    let again = m[1].snapshot().unwrap();
    let config = MediaConfig {
        clock: Arc::clone(&clock) as _,
        ..MediaConfig::default()
    };
    let twice = Session::restore(&again, Arc::new(AdmitAll), config).unwrap();
    assert_eq!(
        open(&mut twice.media().decryptor(), &frames[4]),
        Err(MediaError::Sframe(SframeError::Replay))
    );
}

/// Seals `n` frames on `enc`, returning them in order.
fn seal_n(enc: &mut Encryptor, n: u8) -> Vec<Vec<u8>> {
    (0..n).map(|i| seal(enc, &[i])).collect()
}

#[test]
fn late_frames_at_an_epoch_switch_open_only_when_provably_old() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob", "carol"], &clock);
    let mut bob_dec = m[1].media().decryptor();
    let mut audio = m[0].media().encryptor(0).unwrap();
    let mut video = m[0].media().encryptor(1).unwrap();
    let old_video = seal_n(&mut video, 5);
    open(&mut bob_dec, &old_video[0]).unwrap();
    open(&mut bob_dec, &old_video[3]).unwrap();

    let out = m[0].self_update().unwrap();
    deliver(&mut m, 0, &out.commit, &[1, 2]);
    // A new-epoch audio frame does not cut off the old epoch's video.
    open(&mut bob_dec, &seal(&mut audio, b"new audio")).unwrap();
    open(&mut bob_dec, &old_video[1]).unwrap();
    // A new-epoch video frame does; late frames below the highest accepted counter still
    // open within the grace, anything else is refused.
    open(&mut bob_dec, &seal(&mut video, b"new video")).unwrap();
    assert_eq!(
        open(&mut bob_dec, &old_video[4]),
        Err(MediaError::Superseded),
        "counter above the highest accepted: could be sealed after the switch"
    );
    clock.advance(Duration::from_millis(100));
    open(&mut bob_dec, &old_video[2]).unwrap();
    // Past the grace: refused (another sender's stream, so no frame is a replay).
    let mut video2 = m[2].media().encryptor(1).unwrap();
    let carol_old = seal_n(&mut video2, 3);
    open(&mut bob_dec, &carol_old[0]).unwrap();
    open(&mut bob_dec, &carol_old[2]).unwrap();
    let out = m[2].self_update().unwrap();
    deliver(&mut m, 2, &out.commit, &[0, 1]);
    open(&mut bob_dec, &seal(&mut video2, b"carol new")).unwrap();
    clock.advance(Duration::from_millis(101));
    assert_eq!(
        open(&mut bob_dec, &carol_old[1]),
        Err(MediaError::Superseded)
    );
}

#[test]
fn no_late_frame_grace_across_a_removal() {
    let clock = Arc::new(ManualClock::default());
    let mut m = call(&["alice", "bob", "carol"], &clock);
    let mut bob_dec = m[1].media().decryptor();
    let mut video = m[0].media().encryptor(1).unwrap();
    let old_video = seal_n(&mut video, 4);
    open(&mut bob_dec, &old_video[0]).unwrap();
    open(&mut bob_dec, &old_video[3]).unwrap();
    let carol_leaf = m[2].own_leaf().unwrap();
    let out = m[0].remove_members(&[carol_leaf]).unwrap();
    deliver(&mut m, 0, &out.commit, &[1]);
    open(&mut bob_dec, &seal(&mut video, b"after removal")).unwrap();
    assert_eq!(
        open(&mut bob_dec, &old_video[1]),
        Err(MediaError::Superseded)
    );
}

/// Bob's frames of epoch N, sealed before his self-update, which alice has processed.
fn frames_before_bobs_update(
    clock: &Arc<ManualClock>,
    n: usize,
) -> (Vec<Session>, Encryptor, Decryptor, Vec<Vec<u8>>) {
    let mut m = call(&["alice", "bob"], clock);
    let mut bob_enc = m[1].media().encryptor(0).unwrap();
    let alice_dec = m[0].media().decryptor();
    let old = (0..n)
        .map(|i| seal(&mut bob_enc, format!("old {i}").as_bytes()))
        .collect();
    let out = m[1].self_update().unwrap();
    m[1].confirm_own_commit().unwrap();
    m[0].process(&out.commit).unwrap();
    (m, bob_enc, alice_dec, old)
}

/// A decryptor remembers the stream of a KID that comes twice in a row; frames that find
/// it there still meet the sender's cut-off.
#[test]
fn a_remembered_stream_still_meets_the_cut_off() {
    let clock = Arc::new(ManualClock::default());
    let (_m, mut bob_enc, mut alice_dec, old) = frames_before_bobs_update(&clock, 4);
    // Retained: the old epoch's frames open, from the third one on through the stream
    // the decryptor remembers.
    for (i, frame) in old[..3].iter().enumerate() {
        assert_eq!(
            open(&mut alice_dec, frame).unwrap(),
            format!("old {i}").as_bytes()
        );
    }
    assert_eq!(
        open(&mut alice_dec, &old[1]),
        Err(MediaError::Sframe(SframeError::Replay))
    );
    // Bob's first frame in the new epoch: his later old-epoch frame is refused now.
    let new = seal(&mut bob_enc, b"new");
    assert_eq!(open(&mut alice_dec, &new).unwrap(), b"new");
    assert_eq!(open(&mut alice_dec, &old[3]), Err(MediaError::Superseded));
}

/// The same for retention: the old epoch expires while no ring changes (nothing is
/// purged), and the remembered stream opens nothing more.
#[test]
fn a_remembered_stream_still_meets_retention() {
    let clock = Arc::new(ManualClock::default());
    let (_m, _bob_enc, mut alice_dec, old) = frames_before_bobs_update(&clock, 4);
    for (i, frame) in old[..3].iter().enumerate() {
        assert_eq!(
            open(&mut alice_dec, frame).unwrap(),
            format!("old {i}").as_bytes()
        );
    }
    clock.advance(Duration::from_secs(11));
    assert_eq!(open(&mut alice_dec, &old[3]), Err(MediaError::NoKey));
}
