//! Reference model and driver for the adversarial state-machine test: random operations on
//! one MLS group of up to six identities (adds, rejoins, removals, leaves, self-updates,
//! racing and discarded commits, refused adds, snapshot/restore) with media sealed and
//! opened throughout, checked after every step against a small model of who belonged to
//! which epoch. Shared by `tests/state_machine.rs` (proptest) and
//! `fuzz/fuzz_targets/state_machine.rs` (libFuzzer), so both drive exactly this code.
//!
//! Invariants (DESIGN.md "Epoch transitions", "Fail closed at every boundary", "Security
//! invariants"), checked as they should hold:
//! 1. nobody opens a frame sealed in an epoch it did not belong to (not yet joined,
//!    removed, terminated), nor past its retention;
//! 2. every opened frame is attributed to its sealer, resolved in the frame's epoch, with
//!    the plaintext, context and counter that were sealed;
//! 3. no (key, nonce) pair is sealed twice, and every KID is the RFC 9605 §5.2 KID of its
//!    sealer;
//! 4. memory stays bounded: installed epochs per ring < 2^E, held frames <= the maximum.
//!
//! Also: every session agrees with the model's roster and epoch, members of one epoch show
//! one security code, operations fail exactly when the model says they must (and then
//! change nothing); a frame opens at most once per session, and a restored session refuses
//! what its snapshot had accepted; a decryptor releases only frames it held; a sender
//! stream's older-epoch frames are refused once a newer one opened (but for the late-frame
//! grace); a fresh frame opens for every member in its epoch; a removal switches senders
//! at once.
//!
//! Checks that today's code fails, for bugs found by this test, sit behind the `CHECK_*`
//! flags below; [`Stats::gated`] counts how often each gated check would have failed.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use mlsframe::mls::error::MlsError;
use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::{
    Decryptor, Encryptor, FrameSender, ManualClock, MediaConfig, MediaError, MediaKeys,
};
use mlsframe::mls::policy::{AdmissionPolicy, AdmitAll, Candidate, Refusal};
use mlsframe::mls::session::{GroupParams, HandshakeFormat, MemberInfo, Outcome, Session};
use mlsframe::sframe::Header;

/// Bounded send switch: with a `send_switch_delay`, a sender seals in an older epoch only
/// until `delay` after it merged the next one. Found by this test (not in the issue 8
/// list), now fixed: a second commit landing while a switch still waited dropped the
/// waiting switch, so the sender kept the *older* epoch until the newest switch was due.
pub const CHECK_SEND_SWITCH_BOUNDED: bool = true;

/// A session that was removed (or terminated) can be re-added to the same group and join
/// it again. Found by this test (not in the issue 8 list), now fixed: `Session::join`
/// failed with `InvalidWelcome` because openmls still stored the old group under the same
/// group id (`WelcomeError::GroupAlreadyExists`).
pub const CHECK_REJOIN_SAME_SESSION: bool = true;

/// A restored session may seal once its own self-update is merged. Found by this test
/// (not in the issue 8 list), now fixed: with a `send_switch_delay`, the encryptor kept
/// the restored epoch (where it may not seal) for the delay after the self-update merged.
pub const CHECK_SEAL_AFTER_REKEY: bool = true;

/// Identity slots; the last one is "mallory", whom strict admission policies refuse.
pub const SLOTS: usize = 6;
const MALLORY: usize = SLOTS - 1;
/// Stream contexts: 0 = audio, 1 = video. Each has its own encryptor and decryptor.
const CONTEXTS: usize = 2;
/// Frames kept in flight at most; the oldest is delivered when more are sealed.
const MAX_IN_FLIGHT: usize = 16;
/// Most former members' sessions kept alive to receive frames.
const MAX_FORMER: usize = 6;
const RETENTION_MS: u64 = 10_000;
const RETENTION_AFTER_REMOVAL_MS: u64 = 1_000;

/// Group-wide and media parameters of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// E, 2..=4 (E = 1 is out of scope for now, see issue 8).
    pub epoch_bits: u8,
    /// SFrame cipher suite.
    pub suite: u16,
    /// Handshake wire format.
    pub handshake: HandshakeFormat,
    /// `MediaConfig::send_switch_delay`, in ms.
    pub send_switch_delay_ms: u64,
    /// `MediaConfig::replay_window`.
    pub replay_window: u64,
    /// `MediaConfig::max_held_frames`.
    pub max_held_frames: usize,
    /// `MediaConfig::late_frame_grace`, in ms.
    pub late_frame_grace_ms: u64,
    /// Members added by the creator before the operations start (0..=3).
    pub initial_members: usize,
    /// Bit i: the session of slot i refuses mallory (mallory's never does).
    pub strict_mask: u8,
}

impl Config {
    /// Decodes a configuration from four bytes (any value is valid).
    pub fn from_bytes([a, b, c, d]: [u8; 4]) -> Config {
        Config {
            epoch_bits: 2 + a % 3,
            suite: [4, 1, 5, 2][usize::from(a / 3 % 4)],
            handshake: if b & 1 == 0 {
                HandshakeFormat::Ciphertext
            } else {
                HandshakeFormat::Plaintext
            },
            send_switch_delay_ms: [0, 0, 1_500, 4_000][usize::from(b >> 1 & 3)],
            replay_window: [128, 4, 1_024, 16][usize::from(b >> 3 & 3)],
            max_held_frames: [8, 2, 1, 64][usize::from(b >> 5 & 3)],
            late_frame_grace_ms: [100, 0, 1_000, 300][usize::from(c >> 2 & 3)],
            initial_members: usize::from(c % 4),
            strict_mask: d,
        }
    }
}

/// What a commit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitKind {
    /// Add slot `who`: with a fresh session, or (`fresh` false) the slot's own session if
    /// it is out of the group (a rejoin). `strict`: a fresh session refuses mallory.
    Add { who: u8, fresh: bool, strict: bool },
    /// Remove one other member, picked among the leaves of the committer's epoch.
    Remove { pick: u8 },
    /// A self-update (covers stored proposals).
    Update,
    /// Commit the stored proposals (leaves).
    Proposals,
}

impl CommitKind {
    fn decode(selector: u8, arg: u8) -> CommitKind {
        match selector % 4 {
            0 => CommitKind::Add {
                who: arg % SLOTS as u8,
                fresh: arg & 0x60 != 0x60,
                strict: arg & 0x80 != 0,
            },
            1 => CommitKind::Remove { pick: arg },
            2 => CommitKind::Update,
            _ => CommitKind::Proposals,
        }
    }
}

/// One step of a run. An acting session (`by`, `who`, `a`, `b`) is one of the active
/// members when the high bit is set, else the session of slot `who % SLOTS` in whatever
/// state it is; `Seal` with the high bit set picks among all live sessions, former members
/// included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Every session processes everything the delivery service sequenced.
    SyncAll,
    /// One session joins (if welcomed) and processes up to `steps` messages (0: all).
    Sync { who: u8, steps: u8 },
    /// Seal a frame on stream `context`; deliver it to everyone now, or keep it in flight.
    Seal {
        who: u8,
        context: u8,
        in_flight: bool,
    },
    /// Deliver one in-flight frame (late) to everyone.
    DeliverInFlight { pick: u8 },
    /// Deliver a recent frame again to everyone (replay).
    Redeliver { pick: u8 },
    /// Create a commit and hand it to the delivery service; the winner confirms by
    /// processing its echo (`echo`) or by `confirm_own_commit`.
    Commit {
        by: u8,
        kind: CommitKind,
        echo: bool,
    },
    /// Two members commit in the same epoch; the delivery service sequences one. The loser
    /// discards at once, or (`loser_discards` false) processes the winner with its commit
    /// still pending.
    Race {
        a: u8,
        a_kind: CommitKind,
        b: u8,
        b_kind: CommitKind,
        b_first: bool,
        loser_discards: bool,
    },
    /// Create a commit, then discard it (the delivery service refused it).
    Discard { by: u8, kind: CommitKind },
    /// Propose to leave; someone commits it later.
    Leave { who: u8 },
    /// Save a snapshot (for a later stale restore).
    Snapshot { who: u8 },
    /// Drop the session and restore it: from a fresh snapshot, or (`stale`) from the last
    /// saved one, catching up from the delivery service. `redeliver`: re-deliver the frames
    /// accepted before the snapshot to the restored session.
    Restore {
        who: u8,
        stale: bool,
        redeliver: bool,
    },
    /// Move the clock forward.
    Advance { ms: u32 },
    /// The app says receivers are ready (send switch).
    ReceiversReady { who: u8 },
    /// The app purges expired epochs.
    Purge { who: u8 },
}

impl Op {
    /// Decodes one operation from four bytes (any value is valid; all zeros is `SyncAll`).
    pub fn from_bytes([t, x, y, z]: [u8; 4]) -> Op {
        let commit = |kind| Op::Commit {
            by: x,
            kind,
            echo: z & 1 == 1,
        };
        match t % 32 {
            0..=2 => Op::SyncAll,
            3..=5 => Op::Sync {
                who: x,
                steps: y % 4,
            },
            6..=12 => Op::Seal {
                who: x,
                context: y % CONTEXTS as u8,
                in_flight: z % 4 == 1,
            },
            13 => Op::Snapshot { who: x },
            14 | 15 => Op::DeliverInFlight { pick: x },
            16 => Op::Redeliver { pick: x },
            17..=19 => commit(CommitKind::decode(0, y)),
            20 | 21 => commit(CommitKind::decode(1, y)),
            22 | 23 => commit(CommitKind::decode(2, y)),
            24 => Op::Leave { who: x },
            25 => commit(CommitKind::decode(3, y)),
            26 | 27 => Op::Race {
                a: x,
                a_kind: CommitKind::decode(x >> 4, y),
                b: z,
                b_kind: CommitKind::decode(z >> 4, y.rotate_left(4)),
                b_first: t & 0x20 != 0,
                loser_discards: t & 0x40 != 0,
            },
            28 => Op::Discard {
                by: x,
                kind: CommitKind::decode(z, y),
            },
            29 => Op::Restore {
                who: x,
                stale: z & 2 != 0,
                redeliver: z & 4 != 0,
            },
            30 => Op::Advance {
                ms: u32::from(x) * 20 + if y > 240 { 11_000 } else { 0 },
            },
            _ if y & 1 == 0 => Op::ReceiversReady { who: x },
            _ => Op::Purge { who: x },
        }
    }

    /// Decodes a sequence, four bytes per operation (a trailing partial chunk is ignored).
    pub fn decode_all(bytes: &[u8]) -> Vec<Op> {
        bytes
            .chunks_exact(4)
            .map(|c| Op::from_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }
}

/// What happened during a run (coverage, and how often each gated check would have failed).
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub steps: usize,
    pub commits_won: usize,
    pub commits_lost: usize,
    pub commits_refused: BTreeMap<&'static str, usize>,
    pub discarded: usize,
    pub joins: usize,
    pub joins_refused: usize,
    pub removed: usize,
    pub policy_violations: usize,
    pub restores: usize,
    pub stale_restores: usize,
    pub frames_sealed: usize,
    pub seals_refused: usize,
    pub frames_opened: usize,
    /// Deliveries refused, by error.
    pub refused: BTreeMap<String, usize>,
    pub frames_released: usize,
    pub max_epoch: u64,
    /// How often each gated check failed (and was let pass).
    pub gated: BTreeMap<&'static str, usize>,
    /// How often each scenario behind a gated check was reached.
    pub covered: BTreeMap<&'static str, usize>,
}

type MemberId = usize;
type FrameId = usize;
type InstId = usize;

/// One membership: a slot added once (a rejoin is a new membership).
struct Lineage {
    slot: usize,
    fingerprint: String,
}

struct EpochRec {
    roster: BTreeMap<u32, MemberId>,
    removed_someone: bool,
}

struct LogCommit {
    epoch: u64,
    bytes: Vec<u8>,
    removes: BTreeSet<u32>,
    added: Vec<MemberId>,
}

/// What the delivery service sequenced, in order.
enum Entry {
    Commit {
        commit: LogCommit,
        device: usize,
    },
    Proposal {
        epoch: u64,
        bytes: Vec<u8>,
        leaver: u32,
        device: usize,
    },
}

impl Entry {
    fn device(&self) -> usize {
        match self {
            Entry::Commit { device, .. } | Entry::Proposal { device, .. } => *device,
        }
    }
}

struct FrameRec {
    bytes: Vec<u8>,
    metadata: Vec<u8>,
    plaintext: Vec<u8>,
    epoch: u64,
    member: MemberId,
    sealer: InstId,
    context: u64,
    ctr: u64,
}

/// What a decryptor reported for a frame it opened (decrypted or released).
struct Opened<'a> {
    sender: FrameSender,
    ctr: u64,
    plaintext: &'a [u8],
    identity: Option<&'a MemberIdentity>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    /// A session with no group (fresh, or a candidate whose add did not win).
    Idle,
    /// Added by a sequenced commit; joins on its next sync.
    Welcome {
        welcome: Vec<u8>,
        epoch: u64,
    },
    Active,
    Removed,
    Terminated,
    /// Its admission policy refused the welcome; its leaf stays in the group.
    JoinRefused,
}

struct Pending {
    epoch: u64,
    bytes: Vec<u8>,
    welcome: Option<Vec<u8>>,
    removes: BTreeSet<u32>,
    joiner: Option<InstId>,
    rekeys: bool,
}

struct Saved {
    bytes: Vec<u8>,
    cursor: usize,
    epoch: u64,
    member: MemberId,
    stored: BTreeSet<u32>,
    /// Frames the session had accepted (or knew of) when the snapshot was taken.
    known: HashSet<FrameId>,
}

struct Handles {
    media: MediaKeys,
    // Sealing and opening take `&mut self`; the checks read the model while a handle is
    // in use, so each handle is borrowed on its own.
    encs: Vec<RefCell<Encryptor>>,
    decs: Vec<RefCell<Decryptor>>,
}

/// One `Session` object and its media handles, with the model's view of it.
struct Inst {
    slot: usize,
    /// Shared by a session and the sessions restored from its snapshots.
    device: usize,
    strict: bool,
    session: Option<Session>,
    handles: Option<Handles>,
    status: Status,
    member: Option<MemberId>,
    epoch: Option<u64>,
    /// First epoch of the current membership (join or restore).
    since: u64,
    /// Next delivery-service entry to process.
    cursor: usize,
    /// Epochs this session entered while a member.
    epochs_in: BTreeSet<u64>,
    entered_at: BTreeMap<u64, u64>,
    /// End of retention per superseded epoch (ms).
    deadline: BTreeMap<u64, u64>,
    rekey_required: bool,
    /// Restored from a snapshot (this session or one it was re-added as).
    restored: bool,
    ready: bool,
    pending: Option<Pending>,
    /// Leaves whose leave proposal this session stored in its current epoch.
    stored: BTreeSet<u32>,
    accepted: HashSet<FrameId>,
    /// Frames the session this one was restored from had accepted at the snapshot.
    known: HashSet<FrameId>,
    held: [HashSet<FrameId>; CONTEXTS],
    /// Per sender stream (member, context): the newest epoch opened, and since when (ms).
    newest: HashMap<(MemberId, u64), (u64, u64)>,
    /// Highest counter opened per (epoch, stream).
    highest: HashMap<(u64, (MemberId, u64)), u64>,
    saved: Option<Saved>,
}

/// The group, its sessions, the delivery service and the reference model.
pub struct World {
    cfg: Config,
    clock: Arc<ManualClock>,
    now: u64,
    step: usize,
    op: String,
    epochs: Vec<EpochRec>,
    lineages: Vec<Lineage>,
    log: Vec<Entry>,
    insts: Vec<Inst>,
    current: [Option<InstId>; SLOTS],
    frames: Vec<FrameRec>,
    in_flight: VecDeque<FrameId>,
    /// (epoch, KID, CTR) of every sealed frame. One group per run, and only epochs of its
    /// sequenced history are ever sealed in, so the epoch names the base key.
    nonces: HashSet<(u64, u64, u64)>,
    next_device: usize,
    /// What happened so far.
    pub stats: Stats,
}

fn identity_of(slot: usize) -> MemberIdentity {
    let user = if slot == MALLORY {
        b"mallory".to_vec()
    } else {
        format!("user{slot}").into_bytes()
    };
    MemberIdentity::new(user, b"dev".to_vec()).expect("valid identity")
}

fn policy(strict: bool) -> Arc<dyn AdmissionPolicy> {
    if strict {
        Arc::new(|c: &Candidate<'_>| {
            if c.identity.is_some_and(|id| id.user_id == b"mallory") {
                Err(Refusal("mallory is banned".into()))
            } else {
                Ok(())
            }
        })
    } else {
        Arc::new(AdmitAll)
    }
}

fn leaf_bits(roster: &BTreeMap<u32, MemberId>) -> u32 {
    let highest = roster.keys().next_back().copied().unwrap_or(0);
    u64::from(highest).checked_ilog2().map_or(0, |l| l + 1)
}

fn frame_id_of(plaintext: &[u8]) -> Option<FrameId> {
    let text = std::str::from_utf8(plaintext).ok()?;
    text.strip_prefix("frame ")?.split('|').next()?.parse().ok()
}

impl World {
    /// Creates the group (slot 0) and adds `cfg.initial_members` members.
    pub fn new(cfg: Config) -> World {
        let mut w = World {
            cfg,
            clock: Arc::new(ManualClock::default()),
            now: 0,
            step: 0,
            op: "setup".into(),
            epochs: Vec::new(),
            lineages: Vec::new(),
            log: Vec::new(),
            insts: Vec::new(),
            current: [None; SLOTS],
            frames: Vec::new(),
            in_flight: VecDeque::new(),
            nonces: HashSet::new(),
            next_device: 0,
            stats: Stats::default(),
        };
        let creator = w.new_inst(0, cfg.strict_mask & 1 != 0);
        let params = GroupParams {
            sframe_suite: cfg.suite,
            epoch_bits: cfg.epoch_bits,
            handshake: cfg.handshake,
        };
        w.session(creator)
            .create_group(params)
            .expect("create group");
        let fingerprint = w.session(creator).identity().fingerprint();
        w.lineages.push(Lineage {
            slot: 0,
            fingerprint,
        });
        w.epochs.push(EpochRec {
            roster: BTreeMap::from([(0, 0)]),
            removed_someone: false,
        });
        let i = &mut w.insts[creator];
        i.status = Status::Active;
        i.member = Some(0);
        i.epoch = Some(0);
        i.epochs_in.insert(0);
        i.entered_at.insert(0, 0);
        w.current[0] = Some(creator);
        w.check();
        for slot in 1..=cfg.initial_members {
            w.step(Op::Commit {
                by: 0,
                kind: CommitKind::Add {
                    who: slot as u8,
                    fresh: true,
                    strict: cfg.strict_mask >> slot & 1 != 0,
                },
                echo: false,
            });
        }
        w.step(Op::SyncAll);
        // Steps count the caller's operations from here (1 = the first).
        w.step = 0;
        w.stats.steps = 0;
        w
    }

    /// Runs `ops` on a fresh world, checking every invariant after every step.
    pub fn run(cfg: Config, ops: &[Op]) -> Stats {
        let mut w = World::new(cfg);
        for op in ops {
            w.step(*op);
        }
        w.stats.clone()
    }

    /// Applies one operation, then checks every invariant.
    pub fn step(&mut self, op: Op) {
        self.step += 1;
        self.stats.steps += 1;
        self.op = format!("{op:?}");
        match op {
            Op::SyncAll => {
                for id in self.live() {
                    self.sync(id, 0);
                }
            }
            Op::Sync { who, steps } => {
                if let Some(id) = self.slot(who) {
                    self.sync(id, usize::from(steps));
                }
            }
            Op::Seal {
                who,
                context,
                in_flight,
            } => {
                // Mostly an active member; sometimes any live session, former ones included.
                let id = if who & 0x80 == 0 {
                    self.actor(who | 0x80)
                } else {
                    let live = self.live();
                    live.get(usize::from(who) % live.len().max(1)).copied()
                };
                if let Some(id) = id {
                    self.seal(id, usize::from(context), in_flight);
                }
            }
            Op::DeliverInFlight { pick } => {
                if !self.in_flight.is_empty() {
                    let f = self
                        .in_flight
                        .remove(usize::from(pick) % self.in_flight.len())
                        .expect("in range");
                    self.deliver(f, false);
                }
            }
            Op::Redeliver { pick } => {
                if !self.frames.is_empty() {
                    let recent = self.frames.len().min(64);
                    let f = self.frames.len() - 1 - usize::from(pick) % recent;
                    self.deliver(f, false);
                }
            }
            Op::Commit { by, kind, echo } => {
                if let Some(id) = self.actor(by)
                    && self.create_commit(id, kind)
                {
                    self.submit(id, echo, true);
                }
            }
            Op::Race {
                a,
                a_kind,
                b,
                b_kind,
                b_first,
                loser_discards,
            } => {
                let (Some(ia), Some(ib)) = (self.actor(a), self.actor(b)) else {
                    return self.check();
                };
                let made_a = self.create_commit(ia, a_kind);
                let made_b = self.create_commit(ib, b_kind);
                let mut order = [(ia, made_a), (ib, made_b)];
                if b_first {
                    order.swap(0, 1);
                }
                // The winner confirms through its echo when b went first, else directly.
                for (id, made) in order {
                    if made {
                        self.submit(id, b_first, loser_discards);
                    }
                }
            }
            Op::Discard { by, kind } => {
                if let Some(id) = self.actor(by)
                    && self.create_commit(id, kind)
                {
                    self.discard(id);
                }
            }
            Op::Leave { who } => {
                if let Some(id) = self.actor(who) {
                    self.leave(id);
                }
            }
            Op::Snapshot { who } => {
                if let Some(id) = self.actor(who) {
                    self.snapshot(id);
                }
            }
            Op::Restore {
                who,
                stale,
                redeliver,
            } => {
                if let Some(id) = self.actor(who) {
                    self.restore(id, stale, redeliver);
                }
            }
            Op::Advance { ms } => {
                self.clock.advance(Duration::from_millis(u64::from(ms)));
                self.now += u64::from(ms);
            }
            Op::ReceiversReady { who } => {
                if let Some(id) = self.slot(who) {
                    self.handles(id).media.receivers_ready();
                    self.insts[id].ready = true;
                }
            }
            Op::Purge { who } => {
                if let Some(id) = self.slot(who) {
                    self.handles(id).media.purge_expired();
                }
            }
        }
        self.check();
    }

    // ----- helpers -----

    #[track_caller]
    fn fail(&self, msg: impl std::fmt::Display) -> ! {
        panic!(
            "invariant violated at step {} ({}): {msg}\n{}",
            self.step,
            self.op,
            self.summary()
        );
    }

    /// The group and every live session, one line each.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "epoch {} roster {:?} at {} ms",
            self.tip(),
            self.roster(self.tip()),
            self.now
        );
        for id in self.live() {
            let i = &self.insts[id];
            let _ = write!(
                out,
                "\n  session {id} slot {} device {} {:?} member {:?} epoch {:?} cursor {}/{} \
                 pending {} stored {:?} rekey {} strict {}",
                i.slot,
                i.device,
                match &i.status {
                    Status::Welcome { epoch, .. } => format!("Welcome({epoch})"),
                    s => format!("{s:?}"),
                },
                i.member,
                i.epoch,
                i.cursor,
                self.log.len(),
                i.pending.is_some(),
                i.stored,
                i.rekey_required,
                i.strict,
            );
        }
        out
    }

    /// A check gated by a `CHECK_*` flag: fails the run when enabled, else counts.
    #[track_caller]
    fn gated(&mut self, enabled: bool, name: &'static str, ok: bool, msg: impl FnOnce() -> String) {
        if ok {
            return;
        }
        if enabled {
            self.fail(format!("[{name}] {}", msg()));
        }
        *self.stats.gated.entry(name).or_default() += 1;
    }

    fn cover(&mut self, scenario: &'static str) {
        *self.stats.covered.entry(scenario).or_default() += 1;
    }

    fn slot(&self, who: u8) -> Option<InstId> {
        self.current[usize::from(who) % SLOTS]
    }

    /// The session acting in an operation: with the high bit of `who` set, one of the
    /// active members (so that most operations do something); else the session of slot
    /// `who % SLOTS`, whatever its state.
    fn actor(&self, who: u8) -> Option<InstId> {
        if who & 0x80 == 0 {
            return self.slot(who);
        }
        let active: Vec<InstId> = self
            .current
            .iter()
            .flatten()
            .copied()
            .filter(|&id| self.insts[id].status == Status::Active)
            .collect();
        if active.is_empty() {
            self.slot(who)
        } else {
            Some(active[usize::from(who & 0x7f) % active.len()])
        }
    }

    fn live(&self) -> Vec<InstId> {
        (0..self.insts.len())
            .filter(|&i| self.insts[i].handles.is_some())
            .collect()
    }

    fn session(&mut self, id: InstId) -> &mut Session {
        self.insts[id].session.as_mut().expect("live session")
    }

    fn handles(&self, id: InstId) -> &Handles {
        self.insts[id].handles.as_ref().expect("live handles")
    }

    fn tip(&self) -> u64 {
        self.epochs.len() as u64 - 1
    }

    fn roster(&self, epoch: u64) -> &BTreeMap<u32, MemberId> {
        &self.epochs[usize::try_from(epoch).expect("small epoch")].roster
    }

    fn leaf_of(&self, member: MemberId, epoch: u64) -> Option<u32> {
        self.roster(epoch)
            .iter()
            .find(|(_, m)| **m == member)
            .map(|(l, _)| *l)
    }

    fn own_leaf(&self, id: InstId) -> Option<u32> {
        let i = &self.insts[id];
        self.leaf_of(i.member?, i.epoch?)
    }

    fn info(&self, member: MemberId, leaf: u32) -> (u32, MemberIdentity, String) {
        let l = &self.lineages[member];
        (leaf, identity_of(l.slot), l.fingerprint.clone())
    }

    fn media_config(&self) -> MediaConfig {
        MediaConfig {
            clock: Arc::clone(&self.clock) as _,
            retention: Duration::from_millis(RETENTION_MS),
            retention_after_removal: Duration::from_millis(RETENTION_AFTER_REMOVAL_MS),
            send_switch_delay: Duration::from_millis(self.cfg.send_switch_delay_ms),
            replay_window: self.cfg.replay_window,
            max_held_frames: self.cfg.max_held_frames,
            late_frame_grace: Duration::from_millis(self.cfg.late_frame_grace_ms),
            ..MediaConfig::default()
        }
    }

    fn add_inst(&mut self, slot: usize, device: usize, strict: bool, session: Session) -> InstId {
        let media = session.media();
        let encs = (0..CONTEXTS as u64)
            .map(|c| RefCell::new(media.encryptor(c).expect("one encryptor per context")))
            .collect();
        let decs = (0..CONTEXTS)
            .map(|_| RefCell::new(media.decryptor()))
            .collect();
        self.insts.push(Inst {
            slot,
            device,
            strict,
            session: Some(session),
            handles: Some(Handles { media, encs, decs }),
            status: Status::Idle,
            member: None,
            epoch: None,
            since: 0,
            cursor: 0,
            epochs_in: BTreeSet::new(),
            entered_at: BTreeMap::new(),
            deadline: BTreeMap::new(),
            rekey_required: false,
            restored: false,
            ready: false,
            pending: None,
            stored: BTreeSet::new(),
            accepted: HashSet::new(),
            known: HashSet::new(),
            held: Default::default(),
            newest: HashMap::new(),
            highest: HashMap::new(),
            saved: None,
        });
        self.insts.len() - 1
    }

    fn new_inst(&mut self, slot: usize, strict: bool) -> InstId {
        let device = self.next_device;
        self.next_device += 1;
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(device as u64).to_be_bytes());
        seed[8] = 0x5a;
        let identity = Identity::from_seed(identity_of(slot), &seed);
        let strict = strict && slot != MALLORY;
        let session =
            Session::new(identity, policy(strict), self.media_config()).expect("new session");
        self.add_inst(slot, device, strict, session)
    }

    /// Drops a session and its media handles (a device gone for good).
    fn retire(&mut self, id: InstId) {
        let i = &mut self.insts[id];
        i.session = None;
        i.handles = None;
        i.pending = None;
    }

    // ----- model transitions -----

    /// The session merged (or joined, or restored into) `epoch`.
    fn enter_epoch(&mut self, id: InstId, epoch: u64) {
        let removed_someone = self.epochs[epoch as usize].removed_someone;
        let now = self.now;
        let i = &mut self.insts[id];
        let retention = if removed_someone {
            RETENTION_AFTER_REMOVAL_MS
        } else {
            RETENTION_MS
        };
        for &e in i.epochs_in.iter().filter(|&&e| e < epoch) {
            let d = i.deadline.entry(e).or_insert(u64::MAX);
            *d = (*d).min(now + retention);
        }
        i.epochs_in.insert(epoch);
        i.entered_at.insert(epoch, now);
        i.epoch = Some(epoch);
        i.ready = false;
        i.stored.clear();
        i.pending = None;
        self.stats.max_epoch = self.stats.max_epoch.max(epoch);
    }

    /// Removed, terminated or dropped: every epoch keeps only the short retention.
    fn terminal(&mut self, id: InstId, status: Status) {
        let until = self.now + RETENTION_AFTER_REMOVAL_MS;
        let i = &mut self.insts[id];
        for &e in &i.epochs_in {
            let d = i.deadline.entry(e).or_insert(u64::MAX);
            *d = (*d).min(until);
        }
        i.status = status;
        i.pending = None;
        i.stored.clear();
    }

    // ----- MLS operations -----

    /// What a commit of `kind` by `id` should do, or why it must fail.
    fn plan(&self, id: InstId, kind: CommitKind) -> Result<BTreeSet<u32>, &'static str> {
        let i = &self.insts[id];
        if i.status != Status::Active {
            return Err("not an active member");
        }
        if i.pending.is_some() {
            return Err("a commit is pending");
        }
        let own = self.own_leaf(id).expect("active member has a leaf");
        if i.stored.contains(&own) {
            return Err("its own leave proposal is stored: a commit would remove itself");
        }
        let epoch = i.epoch.expect("active");
        let mut removes = i.stored.clone();
        match kind {
            CommitKind::Update => {}
            CommitKind::Proposals if removes.is_empty() => return Err("no stored proposals"),
            CommitKind::Proposals => {}
            CommitKind::Remove { .. } => {
                let target = self.remove_target(id, kind);
                if target == own {
                    return Err("nobody else to remove");
                }
                removes.insert(target);
            }
            CommitKind::Add { who, .. } => {
                let who = usize::from(who);
                if self
                    .roster(epoch)
                    .values()
                    .any(|m| self.lineages[*m].slot == who)
                {
                    return Err("identity already in the group");
                }
                if who == MALLORY && i.strict {
                    return Err("own policy refuses mallory");
                }
            }
        }
        Ok(removes)
    }

    fn remove_target(&self, id: InstId, kind: CommitKind) -> u32 {
        let CommitKind::Remove { pick } = kind else {
            unreachable!()
        };
        let own = self.own_leaf(id).unwrap_or(0);
        let Some(epoch) = self.insts[id].epoch else {
            return own;
        };
        let others: Vec<u32> = self
            .roster(epoch)
            .keys()
            .copied()
            .filter(|&l| l != own)
            .collect();
        if others.is_empty() {
            own
        } else {
            others[usize::from(pick) % others.len()]
        }
    }

    /// The session whose key package an add uses.
    fn joiner_for(&mut self, who: usize, fresh: bool, strict: bool) -> InstId {
        if !fresh
            && let Some(j) = self.current[who]
            && self.insts[j].session.is_some()
            && matches!(
                self.insts[j].status,
                Status::Idle | Status::Removed | Status::Terminated | Status::JoinRefused
            )
        {
            return j;
        }
        self.new_inst(who, strict)
    }

    /// Creates a commit; returns whether one is now pending. Checks the session agrees
    /// with the model about whether it may.
    fn create_commit(&mut self, id: InstId, kind: CommitKind) -> bool {
        if self.insts[id].session.is_none() {
            return false;
        }
        let plan = self.plan(id, kind);
        let joiner = match kind {
            CommitKind::Add { who, fresh, strict } => {
                Some(self.joiner_for(usize::from(who), fresh, strict))
            }
            _ => None,
        };
        let kp = joiner.map(|j| self.session(j).key_package().expect("key package"));
        let epoch_before = self.insts[id].epoch;
        let result = match kind {
            CommitKind::Add { .. } => {
                let kp = kp.expect("add has a key package");
                self.session(id).add_members(&[&kp])
            }
            CommitKind::Remove { .. } => {
                let target = self.remove_target(id, kind);
                self.session(id).remove_members(&[target])
            }
            CommitKind::Update => self.session(id).self_update(),
            CommitKind::Proposals => self.session(id).commit_pending_proposals(),
        };
        match (plan, result) {
            (Ok(removes), Ok(out)) => {
                let epoch = epoch_before.expect("active") + 1;
                if out.epoch != epoch {
                    self.fail(format!("commit moves to epoch {}, not {epoch}", out.epoch));
                }
                if out.welcome.is_some() != joiner.is_some() {
                    self.fail("a welcome comes with an add and only with an add");
                }
                self.insts[id].pending = Some(Pending {
                    epoch,
                    bytes: out.commit,
                    welcome: out.welcome,
                    removes,
                    joiner,
                    rekeys: kind == CommitKind::Update,
                });
                true
            }
            (Err(why), Err(_)) => {
                *self.stats.commits_refused.entry(why).or_default() += 1;
                false
            }
            (Ok(_), Err(e)) => self.fail(format!(
                "{kind:?} by slot {} must succeed, got {e:?}",
                self.insts[id].slot
            )),
            (Err(why), Ok(_)) => self.fail(format!(
                "{kind:?} by slot {} must fail ({why}), but succeeded",
                self.insts[id].slot
            )),
        }
    }

    /// Hands a pending commit to the delivery service: the first commit for an epoch wins.
    fn submit(&mut self, id: InstId, echo: bool, loser_discards: bool) {
        let Some(p) = &self.insts[id].pending else {
            return;
        };
        if p.epoch == self.tip() + 1 {
            self.win(id, echo);
        } else {
            self.stats.commits_lost += 1;
            if loser_discards {
                self.discard(id);
            }
        }
    }

    fn discard(&mut self, id: InstId) {
        let epoch = self.insts[id].pending.as_ref().expect("pending").epoch;
        if let Err(e) = self.session(id).discard_pending_commit() {
            self.fail(format!("discard_pending_commit failed: {e:?}"));
        }
        self.insts[id].pending = None;
        self.stats.discarded += 1;
        if self.handles(id).media.installed_epochs().contains(&epoch) {
            self.fail(format!("discarded epoch {epoch} is still installed"));
        }
    }

    fn win(&mut self, id: InstId, echo: bool) {
        let p = self.insts[id].pending.take().expect("pending");
        let prev = p.epoch - 1;
        let mut roster = self.roster(prev).clone();
        let removed: Vec<(u32, MemberId)> = p
            .removes
            .iter()
            .map(|&l| (l, roster.remove(&l).expect("removed leaf is occupied")))
            .collect();
        let mut added = Vec::new();
        if let Some(j) = p.joiner {
            let leaf = (0..)
                .find(|l| !roster.contains_key(l))
                .expect("a free leaf");
            let fingerprint = self.session(j).identity().fingerprint();
            self.lineages.push(Lineage {
                slot: self.insts[j].slot,
                fingerprint,
            });
            let member = self.lineages.len() - 1;
            roster.insert(leaf, member);
            added.push((leaf, member));
        }
        self.epochs.push(EpochRec {
            roster,
            removed_someone: !removed.is_empty(),
        });
        self.log.push(Entry::Commit {
            commit: LogCommit {
                epoch: p.epoch,
                bytes: p.bytes.clone(),
                removes: p.removes.clone(),
                added: added.iter().map(|a| a.1).collect(),
            },
            device: self.insts[id].device,
        });
        self.stats.commits_won += 1;
        let result = if echo {
            self.session(id).process(&p.bytes)
        } else {
            self.session(id).confirm_own_commit()
        };
        self.expect_epoch_changed(result, p.epoch, &added, &removed);
        self.enter_epoch(id, p.epoch);
        if p.rekeys {
            self.insts[id].rekey_required = false;
        }
        if let Some(j) = p.joiner {
            let welcome = p.welcome.expect("add has a welcome");
            let joiner = &mut self.insts[j];
            joiner.status = Status::Welcome {
                welcome,
                epoch: p.epoch,
            };
            joiner.member = Some(added[0].1);
            joiner.cursor = self.log.len();
            self.current[joiner.slot] = Some(j);
        }
    }

    fn expect_epoch_changed(
        &self,
        result: Result<Outcome, MlsError>,
        epoch: u64,
        added: &[(u32, MemberId)],
        removed: &[(u32, MemberId)],
    ) {
        let infos = |v: &[MemberInfo]| -> Vec<(u32, MemberIdentity, String)> {
            let mut v: Vec<_> = v
                .iter()
                .map(|m| {
                    let id = m
                        .identity
                        .clone()
                        .expect("model members are mlsframe identities");
                    (m.leaf, id, m.fingerprint.clone())
                })
                .collect();
            v.sort();
            v
        };
        let model = |v: &[(u32, MemberId)]| -> Vec<(u32, MemberIdentity, String)> {
            let mut v: Vec<_> = v.iter().map(|&(l, m)| self.info(m, l)).collect();
            v.sort();
            v
        };
        match result {
            Ok(Outcome::EpochChanged {
                epoch: e,
                added: a,
                removed: r,
            }) => {
                if e != epoch || infos(&a) != model(added) || infos(&r) != model(removed) {
                    self.fail(format!(
                        "EpochChanged {{ epoch: {e}, added: {:?}, removed: {:?} }} differs from \
                         the model: epoch {epoch}, added {:?}, removed {:?}",
                        infos(&a),
                        infos(&r),
                        model(added),
                        model(removed)
                    ));
                }
            }
            other => self.fail(format!("expected EpochChanged to {epoch}, got {other:?}")),
        }
    }

    /// Proposes to leave. A device does so only while another member can commit the
    /// proposal (one with no leave of its own stored); alone, the group would stall.
    fn leave(&mut self, id: InstId) {
        if self.insts[id].session.is_none() {
            return;
        }
        let committer = self.live().into_iter().any(|other| {
            let o = &self.insts[other];
            other != id
                && o.status == Status::Active
                && o.epoch == Some(self.tip())
                && self.own_leaf(other).is_some_and(|l| !o.stored.contains(&l))
        });
        if !committer {
            return;
        }
        let ok = self.insts[id].status == Status::Active && self.insts[id].pending.is_none();
        let result = self.session(id).leave();
        match (ok, result) {
            (true, Ok(bytes)) => {
                let leaf = self.own_leaf(id).expect("active");
                let i = &mut self.insts[id];
                i.stored.insert(leaf);
                let epoch = i.epoch.expect("active");
                let device = i.device;
                self.log.push(Entry::Proposal {
                    epoch,
                    bytes,
                    leaver: leaf,
                    device,
                });
            }
            (false, Err(_)) => {}
            (ok, result) => self.fail(format!("leave: model says ok={ok}, got {result:?}")),
        }
    }

    fn join(&mut self, id: InstId) {
        let Status::Welcome { welcome, epoch } = self.insts[id].status.clone() else {
            return;
        };
        let me = self.insts[id].member;
        let refuse = self.insts[id].strict
            && self
                .roster(epoch)
                .values()
                .any(|&m| Some(m) != me && self.lineages[m].slot == MALLORY);
        if !self.insts[id].epochs_in.is_empty() {
            self.cover("rejoin with the same session");
        }
        let result = self.session(id).join(&welcome);
        match (refuse, result) {
            (false, Ok(e)) if e == epoch => {
                self.stats.joins += 1;
                let i = &mut self.insts[id];
                i.status = Status::Active;
                i.since = epoch;
                // A fresh epoch: nothing was ever sealed in it by this device.
                i.rekey_required = false;
                self.enter_epoch(id, epoch);
            }
            (true, Err(MlsError::AdmissionRefused { .. })) => {
                self.stats.joins_refused += 1;
                let i = &mut self.insts[id];
                i.status = Status::JoinRefused;
                i.member = None;
            }
            (_, Err(MlsError::InvalidWelcome)) if !self.insts[id].epochs_in.is_empty() => {
                let slot = self.insts[id].slot;
                self.gated(
                    CHECK_REJOIN_SAME_SESSION,
                    "CHECK_REJOIN_SAME_SESSION",
                    false,
                    || {
                        format!(
                            "slot {slot}'s session, re-added after leaving the group, cannot join"
                        )
                    },
                );
                let i = &mut self.insts[id];
                i.status = Status::JoinRefused;
                i.member = None;
            }
            (refuse, result) => self.fail(format!(
                "join of slot {} at epoch {epoch}: model says refuse={refuse}, got {result:?}",
                self.insts[id].slot
            )),
        }
    }

    /// Joins if welcomed, then processes up to `max` sequenced messages (0: all).
    fn sync(&mut self, id: InstId, max: usize) {
        if self.insts[id].session.is_none() {
            return;
        }
        self.join(id);
        let mut done = 0;
        while self.insts[id].status == Status::Active
            && self.insts[id].cursor < self.log.len()
            && (max == 0 || done < max)
        {
            let index = self.insts[id].cursor;
            self.process(id, index);
            self.insts[id].cursor += 1;
            done += 1;
            self.release(id);
        }
    }

    fn process(&mut self, id: InstId, index: usize) {
        let epoch = self.insts[id].epoch.expect("active");
        match &self.log[index] {
            Entry::Commit { commit, .. } if commit.epoch == epoch + 1 => {
                let own = self.own_leaf(id).expect("active");
                let removes = commit.removes.clone();
                let added_members = commit.added.clone();
                let bytes = commit.bytes.clone();
                let result = self.session(id).process(&bytes);
                if removes.contains(&own) {
                    if result != Ok(Outcome::Removed) {
                        self.fail(format!(
                            "slot {} must be Removed, got {result:?}",
                            self.insts[id].slot
                        ));
                    }
                    self.stats.removed += 1;
                    self.terminal(id, Status::Removed);
                } else if self.insts[id].strict
                    && added_members
                        .iter()
                        .any(|&m| self.lineages[m].slot == MALLORY)
                {
                    if !matches!(result, Ok(Outcome::PolicyViolation { .. })) {
                        self.fail(format!(
                            "strict slot {} must report PolicyViolation, got {result:?}",
                            self.insts[id].slot
                        ));
                    }
                    self.stats.policy_violations += 1;
                    self.terminal(id, Status::Terminated);
                } else {
                    let before = self.roster(epoch);
                    let removed: Vec<(u32, MemberId)> =
                        removes.iter().map(|l| (*l, before[l])).collect();
                    let added: Vec<(u32, MemberId)> = added_members
                        .iter()
                        .map(|&m| (self.leaf_of(m, epoch + 1).expect("added"), m))
                        .collect();
                    self.expect_epoch_changed(result, epoch + 1, &added, &removed);
                    self.enter_epoch(id, epoch + 1);
                }
            }
            Entry::Commit { commit, .. } => {
                let (e, bytes) = (commit.epoch, commit.bytes.clone());
                let result = self.session(id).process(&bytes);
                if result.is_ok() {
                    self.fail(format!(
                        "a commit into epoch {e} processed at epoch {epoch} must fail, got {result:?}"
                    ));
                }
            }
            Entry::Proposal {
                epoch: e,
                bytes,
                leaver,
                device,
            } => {
                let (e, leaver, own) = (*e, *leaver, *device == self.insts[id].device);
                let bytes = bytes.clone();
                let result = self.session(id).process(&bytes);
                if e != epoch {
                    if result.is_ok() {
                        self.fail(format!(
                            "a proposal of epoch {e} processed at epoch {epoch} must fail, got {result:?}"
                        ));
                    }
                    return;
                }
                // A second leave by the same member is the same proposal (Ed25519 signs
                // deterministically): a replay, refused.
                let again = self.insts[id].stored.contains(&leaver);
                let ok = match result {
                    Ok(Outcome::ProposalsPending) => !again,
                    Ok(Outcome::OwnMessageIgnored) => own,
                    Err(MlsError::DuplicateProposal) => again && !own,
                    _ => false,
                };
                if !ok {
                    self.fail(format!("leave proposal (own={own}) gave {result:?}"));
                }
                self.insts[id].stored.insert(leaver);
            }
        }
    }

    fn snapshot(&mut self, id: InstId) {
        if self.insts[id].session.is_none() {
            return;
        }
        let ok = self.insts[id].status == Status::Active && self.insts[id].pending.is_none();
        let result = self.session(id).snapshot();
        match (ok, result) {
            (true, Ok(bytes)) => {
                let i = &mut self.insts[id];
                i.saved = Some(Saved {
                    bytes: bytes.to_vec(),
                    cursor: i.cursor,
                    epoch: i.epoch.expect("active"),
                    member: i.member.expect("active"),
                    stored: i.stored.clone(),
                    known: i.known.union(&i.accepted).copied().collect(),
                });
            }
            (false, Err(_)) => {}
            (ok, result) => self.fail(format!(
                "snapshot: model says ok={ok}, got {:?}",
                result.map(|b| b.len())
            )),
        }
    }

    /// The device restarts: its session and media handles are dropped and a new session is
    /// restored from a snapshot.
    fn restore(&mut self, id: InstId, stale: bool, redeliver: bool) {
        if self.insts[id].status != Status::Active || self.insts[id].pending.is_some() {
            // No snapshot to restore from: check the session refuses to take one.
            return self.snapshot(id);
        }
        let device = self.insts[id].device;
        let saved = if stale {
            // Only from a snapshot of this membership, when the device sent nothing to the
            // delivery service since (it could not process its own messages again).
            let Some(s) = &self.insts[id].saved else {
                return;
            };
            if Some(s.member) != self.insts[id].member
                || self.log[s.cursor..].iter().any(|e| e.device() == device)
            {
                return;
            }
            Saved {
                bytes: s.bytes.clone(),
                cursor: s.cursor,
                epoch: s.epoch,
                member: s.member,
                stored: s.stored.clone(),
                known: s.known.clone(),
            }
        } else {
            self.snapshot(id);
            self.insts[id]
                .saved
                .take()
                .expect("snapshot of an active member")
        };
        // Dropping the session stops its encryptors at once.
        self.insts[id].session = None;
        let mut handles = self.insts[id].handles.take().expect("live");
        for enc in &mut handles.encs {
            let r = enc.get_mut().encrypt(b"", b"after drop", &mut [0u8; 128]);
            if r != Err(MediaError::NotMember) {
                self.fail(format!(
                    "a dropped session's encryptor must refuse, got {r:?}"
                ));
            }
        }
        drop(handles);
        let (slot, strict) = (self.insts[id].slot, self.insts[id].strict);
        let accepted: Vec<FrameId> = {
            let mut v: Vec<_> = self.insts[id].accepted.iter().copied().collect();
            v.sort_unstable();
            v
        };
        self.retire(id);
        let session = match Session::restore(&saved.bytes, policy(strict), self.media_config()) {
            Ok(s) => s,
            Err(e) => self.fail(format!("restore failed: {e:?}")),
        };
        let new = self.add_inst(slot, device, strict, session);
        self.current[slot] = Some(new);
        self.stats.restores += 1;
        if stale {
            self.stats.stale_restores += 1;
        }
        let i = &mut self.insts[new];
        i.status = Status::Active;
        i.member = Some(saved.member);
        i.since = saved.epoch;
        i.cursor = saved.cursor;
        i.rekey_required = true;
        i.restored = true;
        i.known = saved.known.clone();
        let (epoch, stored) = (saved.epoch, saved.stored.clone());
        i.saved = Some(saved);
        self.enter_epoch(new, epoch);
        // Stored proposals live in the MLS key store, which the snapshot carries.
        self.insts[new].stored = stored;
        if redeliver {
            for f in accepted {
                if self.frames[f].epoch == epoch {
                    self.cover("frame redelivered after a restore");
                    self.deliver_to(new, f, false);
                }
            }
        }
    }

    // ----- media -----

    /// Epochs `id` may seal in now: its current one, or (with a send switch delay) an older
    /// one of this membership while the switch is pending and no removal came since.
    fn may_seal_in(&self, id: InstId, epoch: u64) -> (bool, bool) {
        let i = &self.insts[id];
        let current = i.epoch.expect("active");
        if epoch == current {
            return (true, true);
        }
        let basic = self.cfg.send_switch_delay_ms > 0
            && epoch < current
            && epoch >= i.since
            && i.epochs_in.contains(&epoch)
            && (epoch + 1..=current).all(|e| !self.epochs[e as usize].removed_someone);
        let bounded = !i.ready
            && i.entered_at
                .get(&(epoch + 1))
                .is_some_and(|&t| self.now < t + self.cfg.send_switch_delay_ms);
        (basic, bounded)
    }

    fn seal(&mut self, id: InstId, context: usize, in_flight: bool) {
        if self.insts[id].restored
            && !self.insts[id].rekey_required
            && self.insts[id].status == Status::Active
        {
            self.cover("seal by a restored session after its rekey");
        }
        let i = &self.insts[id];
        let expected = match i.status {
            Status::Active if i.rekey_required => Err(MediaError::RekeyRequired),
            Status::Active => Ok(()),
            _ => Err(MediaError::NotMember),
        };
        let fid = self.frames.len();
        let mut plaintext = format!("frame {fid}|slot {} ctx {context}|", i.slot).into_bytes();
        plaintext.resize(plaintext.len() + fid % 13, b'.');
        let metadata = vec![context as u8, (fid % 251) as u8];
        let (send_epoch, mut out, result) = {
            let mut enc = self.handles(id).encs[context].borrow_mut();
            let send_epoch = enc.epoch();
            let mut out = vec![0u8; enc.max_ciphertext_len(plaintext.len()).expect("size")];
            let result = enc.encrypt(&metadata, &plaintext, &mut out);
            (send_epoch, out, result)
        };
        let n = match (expected, result) {
            (Ok(()), Ok(n)) => n,
            (Err(x), Err(y)) if x == y => {
                self.stats.seals_refused += 1;
                return;
            }
            (Ok(()), Err(MediaError::RekeyRequired))
                if i.restored && send_epoch.is_some_and(|e| Some(e) < i.epoch) =>
            {
                let (slot, current) = (i.slot, i.epoch);
                self.gated(CHECK_SEAL_AFTER_REKEY, "CHECK_SEAL_AFTER_REKEY", false, || {
                    format!(
                        "restored slot {slot} merged its self-update (epoch {current:?}) but its \
                         encryptor still waits in epoch {send_epoch:?}: RekeyRequired"
                    )
                });
                return;
            }
            (x, y) => self.fail(format!(
                "seal by slot {} (status {:?}): model expects {x:?}, got {y:?}",
                i.slot, i.status
            )),
        };
        out.truncate(n);
        let (header, _) = Header::decode(&out).expect("own header decodes");
        let epoch = send_epoch.expect("sealed with a send epoch");
        let member = i.member.expect("active");
        let (basic, bounded) = self.may_seal_in(id, epoch);
        if !basic {
            self.fail(format!(
                "slot {} sealed in epoch {epoch} while at {:?} (delay {} ms)",
                i.slot, i.epoch, self.cfg.send_switch_delay_ms
            ));
        }
        let at = i.entered_at.get(&(epoch + 1)).copied();
        let (now, delay, slot) = (self.now, self.cfg.send_switch_delay_ms, i.slot);
        self.gated(CHECK_SEND_SWITCH_BOUNDED, "CHECK_SEND_SWITCH_BOUNDED", bounded, || {
            format!(
                "slot {slot} sealed in epoch {epoch} at {now} ms; epoch {} merged at {at:?} ms, \
                 delay {delay} ms",
                epoch + 1
            )
        });
        // RFC 9605 §5.2: KID = context << (S + E) | leaf << E | epoch mod 2^E.
        let roster = self.roster(epoch);
        let leaf = self.leaf_of(member, epoch).expect("sealer in roster");
        let (s, e) = (leaf_bits(roster), u32::from(self.cfg.epoch_bits));
        let kid = ((context as u64) << (s + e)) | (u64::from(leaf) << e) | (epoch & ((1 << e) - 1));
        if header.kid != kid {
            self.fail(format!(
                "KID {:#x} is not the RFC 9605 KID {kid:#x} (leaf {leaf}, epoch {epoch})",
                header.kid
            ));
        }
        if !self.nonces.insert((epoch, header.kid, header.ctr)) {
            self.fail(format!(
                "(key, nonce) reused: epoch {epoch}, KID {:#x}, CTR {}",
                header.kid, header.ctr
            ));
        }
        self.stats.frames_sealed += 1;
        self.frames.push(FrameRec {
            bytes: out,
            metadata,
            plaintext,
            epoch,
            member,
            sealer: id,
            context: context as u64,
            ctr: header.ctr,
        });
        if in_flight {
            self.in_flight.push_back(fid);
            if self.in_flight.len() > MAX_IN_FLIGHT {
                let oldest = self.in_flight.pop_front().expect("non-empty");
                self.deliver(oldest, false);
            }
        } else {
            self.deliver(fid, true);
        }
    }

    /// Delivers a frame to every live session's decryptor for its context.
    fn deliver(&mut self, f: FrameId, fresh: bool) {
        for id in self.live() {
            self.deliver_to(id, f, fresh);
        }
    }

    fn deliver_to(&mut self, id: InstId, f: FrameId, fresh: bool) {
        let frame = &self.frames[f];
        let context = frame.context as usize;
        let mut out = vec![0u8; frame.bytes.len()];
        let result = {
            let mut dec = self.handles(id).decs[context].borrow_mut();
            dec.decrypt(&frame.metadata, &frame.bytes, &mut out)
                // Who sealed it, resolved in the frame's epoch (still installed now).
                .map(|d| (d.clone(), dec.identity_at(d.sender.epoch, d.sender.leaf)))
        };
        match result {
            Ok((d, identity)) => {
                out.truncate(d.len);
                let opened = Opened {
                    sender: d.sender,
                    ctr: d.ctr,
                    plaintext: &out,
                    identity: identity.as_deref(),
                };
                self.opened(id, f, opened);
            }
            Err(e) => {
                *self.stats.refused.entry(format!("{e:?}")).or_default() += 1;
                if e == MediaError::NoKey {
                    self.insts[id].held[context].insert(f);
                }
                // A member in the frame's epoch opens a frame delivered right away.
                let i = &self.insts[id];
                if fresh
                    && i.status == Status::Active
                    && i.epoch == Some(frame.epoch)
                    && i.member != Some(frame.member)
                {
                    self.fail(format!(
                        "slot {} at epoch {} could not open a fresh frame of its epoch from \
                         slot {}: {e:?}",
                        i.slot, frame.epoch, self.lineages[frame.member].slot
                    ));
                }
            }
        }
    }

    /// Opens held frames whose epoch arrived, on each decryptor of `id`.
    fn release(&mut self, id: InstId) {
        for context in 0..CONTEXTS {
            let released = self.handles(id).decs[context].borrow_mut().release_held();
            for r in released {
                let Some(f) = frame_id_of(&r.plaintext).filter(|&f| f < self.frames.len()) else {
                    self.fail("released a plaintext nobody sealed");
                };
                self.cover("held frame released");
                if !self.insts[id].held[context].contains(&f) {
                    self.fail(format!(
                        "decryptor {context} released frame {f}, which it never held"
                    ));
                }
                for h in &mut self.insts[id].held {
                    h.remove(&f);
                }
                self.stats.frames_released += 1;
                let opened = Opened {
                    sender: r.sender,
                    ctr: r.ctr,
                    plaintext: &r.plaintext,
                    identity: r.identity.as_deref(),
                };
                self.opened(id, f, opened);
            }
        }
    }

    /// Checks a frame `id` opened (invariants 1 and 2, replay, the per-stream cut-off).
    fn opened(&mut self, id: InstId, f: FrameId, opened: Opened<'_>) {
        self.stats.frames_opened += 1;
        let frame = &self.frames[f];
        let i = &self.insts[id];
        let who = format!("slot {} (session {id}, device {})", i.slot, i.device);
        if frame.sealer == id || i.device == self.insts[frame.sealer].device {
            self.fail(format!("{who} opened its own frame {f}"));
        }
        // (1) Only members of the frame's epoch, within retention.
        if !i.epochs_in.contains(&frame.epoch) {
            self.fail(format!(
                "{who} opened frame {f} of epoch {} it never belonged to (its epochs: {:?}, \
                 status {:?})",
                frame.epoch, i.epochs_in, i.status
            ));
        }
        let current = i.status == Status::Active && i.epoch == Some(frame.epoch);
        if !current {
            let deadline = i.deadline.get(&frame.epoch).copied().unwrap_or(u64::MAX);
            if self.now >= deadline {
                self.fail(format!(
                    "{who} opened frame {f} of epoch {} at {} ms, retention ended at {deadline} ms",
                    frame.epoch, self.now
                ));
            }
        }
        // (2) Attribution, resolved in the frame's epoch: the leaf, and the identity the
        // library reports with the frame.
        let sender = opened.sender;
        let claimed = self.roster(frame.epoch).get(&sender.leaf).copied();
        let identity = identity_of(self.lineages[frame.member].slot);
        if sender.epoch != frame.epoch
            || claimed != Some(frame.member)
            || sender.context != frame.context
            || opened.ctr != frame.ctr
            || opened.plaintext != frame.plaintext.as_slice()
            || opened.identity != Some(&identity)
        {
            self.fail(format!(
                "{who} opened frame {f} as {sender:?} ctr {} identity {:?} (leaf -> member \
                 {claimed:?}); sealed by member {} ({identity:?}) in epoch {} ctx {} ctr {}",
                opened.ctr, opened.identity, frame.member, frame.epoch, frame.context, frame.ctr
            ));
        }
        let (member, epoch, ctr, context) = (frame.member, frame.epoch, frame.ctr, frame.context);
        // Accepted once per session; a restored session also refuses what the session it
        // was restored from had accepted when the snapshot was taken.
        if !self.insts[id].accepted.insert(f) {
            self.fail(format!("{who} accepted frame {f} twice"));
        }
        if self.insts[id].known.contains(&f) {
            self.fail(format!(
                "{who} accepted frame {f} again: it was accepted before its snapshot"
            ));
        }
        // The per-stream cut-off (RFC 9605 §6.2): once a stream's frame of a newer epoch
        // opened, its older-epoch frames are refused, except one merely late: within the
        // grace of that switch, with a counter below the highest accepted on its stream,
        // and no removal between the two epochs.
        let stream = (member, context);
        let i = &self.insts[id];
        if let Some(&(newer, since)) = i.newest.get(&stream)
            && newer > epoch
        {
            let highest = i.highest.get(&(epoch, stream)).copied();
            let late = self.now - since <= self.cfg.late_frame_grace_ms
                && highest.is_some_and(|h| ctr < h)
                && (epoch + 1..=newer).all(|e| !self.epochs[e as usize].removed_someone);
            if late {
                self.cover("late frame opened after its stream moved on");
            } else {
                self.fail(format!(
                    "{who} opened frame {f} (epoch {epoch}, ctr {ctr}) of member {member} \
                     context {} at {} ms, after that stream opened in epoch {newer} at \
                     {since} ms (highest ctr in epoch {epoch}: {highest:?})",
                    context, self.now
                ));
            }
        }
        let now = self.now;
        let i = &mut self.insts[id];
        let n = i.newest.entry(stream).or_insert((epoch, now));
        if n.0 < epoch {
            *n = (epoch, now);
        }
        let h = i.highest.entry((epoch, stream)).or_insert(ctr);
        *h = (*h).max(ctr);
    }

    // ----- invariants checked after every step -----

    fn check(&mut self) {
        let live = self.live();
        let limit = 1usize << self.cfg.epoch_bits;
        let mut codes: BTreeMap<u64, (String, usize)> = BTreeMap::new();
        for &id in &live {
            self.release(id);
            let h = self.handles(id);
            let installed = h.media.installed_epochs();
            let held: Vec<usize> = h.decs.iter().map(|d| d.borrow().held_frames()).collect();
            // (4) Bounded memory.
            if installed.len() >= limit {
                self.fail(format!(
                    "slot {} has {} epochs installed ({installed:?}), E = {}",
                    self.insts[id].slot,
                    installed.len(),
                    self.cfg.epoch_bits
                ));
            }
            if held.iter().any(|&n| n > self.cfg.max_held_frames) {
                self.fail(format!(
                    "held frames {held:?} > {}",
                    self.cfg.max_held_frames
                ));
            }
            let i = &self.insts[id];
            let s = i.session.as_ref().expect("live");
            match i.status {
                Status::Active => {
                    let epoch = i.epoch.expect("active");
                    let mut diffs = String::new();
                    if s.epoch() != Some(epoch) {
                        let _ = write!(diffs, " epoch {:?} != {epoch};", s.epoch());
                    }
                    if s.own_leaf() != self.own_leaf(id) {
                        let _ = write!(
                            diffs,
                            " own leaf {:?} != {:?};",
                            s.own_leaf(),
                            self.own_leaf(id)
                        );
                    }
                    if s.has_pending_commit() != i.pending.is_some() {
                        let _ = write!(diffs, " pending {};", s.has_pending_commit());
                    }
                    let members: Vec<_> = s
                        .members()
                        .expect("members")
                        .into_iter()
                        .map(|m| {
                            (
                                m.leaf,
                                m.identity.expect("mlsframe identity"),
                                m.fingerprint,
                            )
                        })
                        .collect();
                    let model: Vec<_> = self
                        .roster(epoch)
                        .iter()
                        .map(|(&l, &m)| self.info(m, l))
                        .collect();
                    if members != model {
                        let _ = write!(diffs, " members {members:?} != model {model:?};");
                    }
                    if !diffs.is_empty() {
                        self.fail(format!("slot {} disagrees with the model:{diffs}", i.slot));
                    }
                    let code = s.security_code().expect("code");
                    match codes.get(&epoch) {
                        Some((c, other)) if *c != code => self.fail(format!(
                            "slots {} and {} show different security codes in epoch {epoch}",
                            self.insts[*other].slot, i.slot
                        )),
                        Some(_) => {}
                        None => {
                            codes.insert(epoch, (code, id));
                        }
                    }
                }
                Status::Removed | Status::Terminated => {
                    if s.is_active() {
                        self.fail(format!("slot {} is out but is_active()", i.slot));
                    }
                }
                Status::Idle | Status::Welcome { .. } | Status::JoinRefused => {}
            }
        }
        self.retire_former();
    }

    /// Drops former members' sessions once they can open nothing (bounded count).
    fn retire_former(&mut self) {
        let mut former = Vec::new();
        for id in self.live() {
            let i = &self.insts[id];
            if self.current[i.slot] == Some(id) {
                continue;
            }
            match i.status {
                Status::Idle | Status::JoinRefused => self.retire(id),
                Status::Removed | Status::Terminated => {
                    let media = &self.handles(id).media;
                    media.purge_expired();
                    if media.installed_epochs().is_empty() {
                        self.retire(id);
                    } else {
                        former.push(id);
                    }
                }
                // A session that has not yet processed its own removal, while its slot
                // was added again with a fresh session.
                Status::Active | Status::Welcome { .. } => {
                    let tip = self.tip();
                    if i.member.is_some_and(|m| self.leaf_of(m, tip).is_some()) {
                        self.fail(format!("slot {} has two sessions in the group", i.slot));
                    }
                    former.push(id);
                }
            }
        }
        for &id in former.iter().rev().skip(MAX_FORMER) {
            self.retire(id);
        }
    }
}
