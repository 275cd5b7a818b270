//! The call simulation: owns the simulated world of the `call` example and the
//! `call_decodes` test — participants, the delivery service, the SFU, the network, the
//! simulated clock — and the checks run on every call.
//!
//! Everything runs on one thread as a discrete-event simulation over simulated
//! milliseconds. One [`ManualClock`] is shared by every participant's media key ring, so
//! retention and `send_switch_delay` follow simulated time, not wall time. Only the
//! encrypt/decrypt calls are timed with the wall clock.
//!
//! Pieces, and what each may see:
//! - **Participants** own a [`Session`], one [`Encryptor`] per track (audio = context 0,
//!   video = context 1) and one [`Decryptor`]. They are the only holders of keys.
//! - **Delivery service** ([`Ds`]): orders MLS commits like a real one — the first commit
//!   for an epoch wins, later ones for that epoch are refused — fans messages out in
//!   order per recipient with 50–150 ms latency each way, and tells members once every
//!   member confirmed a commit (the moment senders may switch keys). Handshakes are MLS
//!   `PrivateMessage`s: it routes bytes it cannot read, plus an app-level envelope.
//! - **SFU**: forwards each sealed frame to every other connected participant. It reads
//!   the SFrame header (KID, CTR) for its statistics, nothing more. It keeps forwarding to
//!   a participant who left, to show that it gains nothing. With `codec_aware`
//!   ([`Config::codec_aware`]: VP8 and Opus sealed with codec-aware framing,
//!   `docs/FRAMING.md`) it also reads the clear, authenticated VP8 key-frame bit of every
//!   video frame, and starts each new (receiver, sender) video stream at a key frame, as
//!   an SFU does on a new subscription or a layer switch; in whole-frame mode that bit is
//!   ciphertext, so it forwards every frame and counts (from the ledger, which it could
//!   not know) the delta frames that reached a decoder before any key frame.
//! - **Network**: per media copy 10–15 ms latency, a configurable loss rate, 1% duplicates
//!   and 1% reordered by an extra 20–60 ms; seeded, so `--seed` repeats the same network
//!   and the same race winner (MLS key material is fresh on every run).
//!
//! Ground truth for the checks (an oracle no real receiver has): a ledger of every frame
//! sealed, keyed by (epoch, leaf, context, CTR), and the fate of every (receiver, frame).

use std::cmp::Ordering as CmpOrdering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::fmt::Display;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlsframe::Codec;
use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::{
    DecryptedFrame, Decryptor, Encryptor, FrameSender, ManualClock, MediaConfig, MediaError,
};
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{CommitOutput, GroupParams, Outcome, Session};
use mlsframe::sframe::{Header, SframeError};

use super::media::{SampleMedia, write_ivf};

/// Names handed out to participants in order; the joiner gets the next one.
const NAMES: [&str; 12] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj",
];

/// How long a sender keeps sealing in the old epoch at most, waiting for the delivery
/// service to report that every member has the new one.
const SEND_SWITCH_DELAY: Duration = Duration::from_secs(2);
/// Frames a decryptor may hold while their epoch's commit is still on its way.
const MAX_HELD_FRAMES: usize = 1024;
/// MLS latency, client to delivery service and delivery service to client (ms).
const MLS_LATENCY_MS: (u64, u64) = (50, 150);
/// Media latency, sender to SFU and SFU to receiver (ms).
const MEDIA_UPLINK_MS: (u64, u64) = (15, 20);
const MEDIA_DOWNLINK_MS: (u64, u64) = (10, 15);
/// Share of media copies the network duplicates, and reorders (delays by 20–60 ms).
const DUPLICATE_RATE: f64 = 0.01;
const REORDER_RATE: f64 = 0.01;
const REORDER_EXTRA_MS: (u64, u64) = (20, 60);
/// The sender whose video the dump writes (alice: her video starts at the file's frame 0).
pub const DUMP_SENDER: usize = 0;
/// Shortest call that fits the scripted membership changes.
pub const MIN_DURATION: Duration = Duration::from_secs(3);

/// How to run a call.
#[derive(Debug, Clone)]
pub struct Config {
    /// Participants at the start of the call (at least 3); one more joins mid-call.
    pub participants: usize,
    /// Simulated length of the call (media stops then; in-flight messages still land).
    pub duration: Duration,
    /// SFrame cipher suite, 1..=5.
    pub suite: u16,
    /// Share of media copies the network drops, in percent.
    pub loss_pct: f64,
    /// Seed of the network and scheduling randomness.
    pub seed: u64,
    /// [`MediaConfig::late_frame_grace`] of every participant.
    pub late_frame_grace: Duration,
    /// Where to write the IVF dumps of [`DUMP_SENDER`]'s video, if anywhere.
    pub dump_dir: Option<PathBuf>,
    /// Print a progress line to stderr.
    pub progress: bool,
    /// Seal VP8 and Opus with codec-aware framing (`--codec-aware`) instead of whole-frame
    /// SFrame; the SFU then gates new video streams on the clear key-frame bit.
    pub codec_aware: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            participants: 4,
            duration: Duration::from_secs(10),
            suite: 4,
            loss_pct: 1.0,
            seed: 1,
            late_frame_grace: MediaConfig::default().late_frame_grace,
            dump_dir: None,
            progress: false,
            codec_aware: false,
        }
    }
}

impl Config {
    /// Checks the flags make a call the script can run.
    ///
    /// # Errors
    /// A message naming the flag that is out of range.
    pub fn validate(&self) -> Result<(), String> {
        if !(3..=64).contains(&self.participants) {
            return Err("--participants must be in 3..=64 (one leaves, two race)".into());
        }
        if self.duration < MIN_DURATION || self.duration > Duration::from_secs(600) {
            return Err("--duration must be in 3..=600 seconds".into());
        }
        if !(1..=5).contains(&self.suite) {
            return Err("--suite must be in 1..=5".into());
        }
        if self.late_frame_grace > mlsframe::mls::media::MAX_LATE_FRAME_GRACE {
            return Err("--late-grace-ms must be in 0..=1000".into());
        }
        if !(0.0..=50.0).contains(&self.loss_pct) {
            return Err("--loss must be in 0..=50 percent".into());
        }
        Ok(())
    }
}

/// A media track; its SFrame stream context is its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Track {
    /// Opus, one packet per 20 ms, context 0.
    Audio,
    /// VP8, one frame per 33 ms, context 1.
    Video,
}

impl Track {
    /// Both tracks, in context order.
    pub const ALL: [Track; 2] = [Track::Audio, Track::Video];

    /// The SFrame stream context (and index into per-track arrays).
    pub fn index(self) -> usize {
        match self {
            Track::Audio => 0,
            Track::Video => 1,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Track::Audio => "audio",
            Track::Video => "video",
        }
    }

    fn context(self) -> u64 {
        self.index() as u64
    }

    /// How the track's frames are sealed: whole-frame, or codec-aware for its codec.
    pub fn codec(self, codec_aware: bool) -> Codec {
        match (codec_aware, self) {
            (false, _) => Codec::Whole,
            (true, Track::Audio) => Codec::Opus,
            (true, Track::Video) => Codec::Vp8,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Report: what a run produced, for the example's tables and the tests' assertions.
// ---------------------------------------------------------------------------------------

/// One MLS epoch of the call.
#[derive(Debug, Clone)]
pub struct EpochRow {
    /// The epoch number.
    pub epoch: u64,
    /// What made it (creation, a commit's cause).
    pub cause: String,
    /// Members in this epoch, by leaf.
    pub members: Vec<String>,
    /// The security code each member saw, by participant name.
    pub codes: Vec<(String, String)>,
}

impl EpochRow {
    /// Whether every member saw the same code.
    pub fn agreed(&self) -> bool {
        self.codes.windows(2).all(|w| w[0].1 == w[1].1) && self.codes.len() == self.members.len()
    }
}

/// Counts for one track, over all (receiver, frame) pairs where the receiver was a
/// member of the frame's epoch ("entitled").
#[derive(Debug, Clone, Default)]
pub struct TrackStats {
    /// Frames sealed by all senders.
    pub sealed: u64,
    /// Entitled (receiver, frame) pairs the SFU forwarded.
    pub deliveries: u64,
    /// Of those, opened (exactly once).
    pub opened: u64,
    /// Of the opened, opened only after waiting in the decryptor (NO_KEY, then released).
    pub opened_after_wait: u64,
    /// Decrypt calls that returned NO_KEY for an entitled frame (recoverable waits).
    pub no_key_waits: u64,
    /// Network duplicates refused as `Replay` (expected).
    pub replays_refused: u64,
    /// Frames refused as `Superseded`: a late epoch-N frame after the sender's N+1 frames.
    pub superseded: u64,
    /// Frames the network dropped (injected loss).
    pub lost_in_network: u64,
    /// Frames neither opened, superseded nor dropped: must be 0.
    pub failed: u64,
    /// Wall time of each successful encrypt call, nanoseconds.
    pub encrypt_ns: Vec<u64>,
    /// Wall time of each successful decrypt call, nanoseconds.
    pub decrypt_ns: Vec<u64>,
    /// Plaintext bytes sealed.
    pub plaintext_bytes: u64,
    /// Ciphertext bytes sealed.
    pub ciphertext_bytes: u64,
}

/// One commit after the call started, with simulated latencies from its creation.
#[derive(Debug, Clone)]
pub struct RekeyRow {
    /// The epoch the commit created.
    pub epoch: u64,
    /// Why it was made.
    pub cause: String,
    /// Until the delivery service sequenced it (ms).
    pub sequenced_ms: Option<u64>,
    /// Until the last member merged it (ms).
    pub all_merged_ms: Option<u64>,
    /// Until every sender's every track sealed in the new epoch (ms).
    pub senders_switched_ms: Option<u64>,
}

/// The mid-call joiner.
#[derive(Debug, Clone)]
pub struct JoinerRow {
    /// Name.
    pub name: String,
    /// Epoch joined.
    pub epoch: Option<u64>,
    /// From asking to join until the welcome was processed (ms).
    pub welcome_ms: Option<u64>,
    /// Until the joiner had opened a frame of every other sender (ms).
    pub hears_all_ms: Option<u64>,
    /// Until every other member had opened a frame of the joiner (ms).
    pub heard_by_all_ms: Option<u64>,
    /// Frames from before its join it received (the SFU forwarded them once it dialled in).
    pub earlier_received: u64,
    /// How many of those it opened: must be 0.
    pub earlier_opened: u64,
}

/// The member who left mid-call.
#[derive(Debug, Clone)]
pub struct LeaverRow {
    /// Name.
    pub name: String,
    /// The epoch whose commit removed it.
    pub removed_in: Option<u64>,
    /// Frames sealed after their sender merged the removal that still reached it.
    pub later_received: u64,
    /// How many of those it opened: must be 0.
    pub later_opened: u64,
}

/// What the SFU saw.
#[derive(Debug, Clone, Default)]
pub struct SfuStats {
    /// Frames received from senders.
    pub frames_in: u64,
    /// Copies sent to receivers (before network loss).
    pub copies_out: u64,
    /// Bytes received from senders (all ciphertext).
    pub bytes_in: u64,
    /// Distinct KIDs it saw in SFrame headers.
    pub distinct_kids: usize,
    /// Codec-aware mode: video frames whose VP8 key-frame bit it read from the sealed
    /// frame, and how many of those readings disagreed with the ledger (must be 0).
    pub key_bits_read: u64,
    /// How many of those readings disagreed with what was sealed (must be 0).
    pub key_bit_mismatches: u64,
    /// Codec-aware mode: video delta frames it did not forward because the (receiver,
    /// sender) stream had not started at a key frame yet, and their bytes.
    pub held_back: u64,
    /// Bytes of [`held_back`](Self::held_back).
    pub held_back_bytes: u64,
    /// Video frames forwarded to a receiver before that stream's first key frame: useless
    /// to its decoder (whole-frame mode cannot avoid them; must be 0 when codec-aware).
    pub undecodable_forwarded: u64,
    /// Bytes of [`undecodable_forwarded`](Self::undecodable_forwarded).
    pub undecodable_bytes: u64,
}

/// One check run on every call.
#[derive(Debug, Clone)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// Numbers behind it.
    pub detail: String,
}

/// IVF files written for the decoder test.
#[derive(Debug, Clone)]
pub struct DumpInfo {
    /// Whose video was dumped.
    pub sender: String,
    /// Video frames that sender sealed (its frames 0..sent of the sample file).
    pub sent: u64,
    /// What the SFU forwarded: the same IVF framing, sealed payloads.
    pub ciphertext: PathBuf,
    /// Per receiver: name, file, frames in it (opened, in sender order).
    pub receivers: Vec<(String, PathBuf, u64)>,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Report {
    /// The configuration that ran.
    pub config: Config,
    /// Timeline of membership events (simulated ms, text).
    pub timeline: Vec<(u64, String)>,
    /// Epochs with their members and security codes.
    pub epochs: Vec<EpochRow>,
    /// Per-track counts and timings, indexed by [`Track::index`].
    pub tracks: [TrackStats; 2],
    /// Commits after the call started.
    pub rekeys: Vec<RekeyRow>,
    /// The joiner.
    pub joiner: JoinerRow,
    /// The leaver.
    pub leaver: LeaverRow,
    /// The SFU's view.
    pub sfu: SfuStats,
    /// Key-frame requests raised by encryptors on epoch switches.
    pub key_frame_requests: u64,
    /// Checks and their outcome.
    pub checks: Vec<Check>,
    /// Unexpected errors met during the run (each also fails a check).
    pub problems: Vec<String>,
    /// The first few frames that failed, described (they fail a check).
    pub failures: Vec<String>,
    /// Written dumps, if `dump_dir` was set.
    pub dump: Option<DumpInfo>,
    /// Simulated ms covered, including the drain after media stopped.
    pub simulated_ms: u64,
}

impl Report {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

// ---------------------------------------------------------------------------------------
// Randomness and events.
// ---------------------------------------------------------------------------------------

/// SplitMix64: small, seeded, good enough to shape a simulated network.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, (lo, hi): (u64, u64)) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// A frame's identity in the sender's stream: the clear transport header (like an RTP
/// SSRC and sequence number) that the SFU and receivers route and reorder by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FrameId {
    sender: usize,
    track: Track,
    index: u64,
}

/// A sealed frame as the network carries it.
#[derive(Debug, Clone)]
struct Packet {
    id: FrameId,
    payload: Rc<[u8]>,
}

/// Ledger entry for a sealed frame.
#[derive(Debug, Clone, Copy)]
struct Sealed {
    epoch: u64,
    /// Global seal order, to compare with [`World::merge_marks`].
    seq: u64,
}

/// What happened to one frame at one receiver.
#[derive(Debug, Default)]
struct Fate {
    dropped: bool,
    opened: u32,
    released: bool,
    no_key: u32,
    replay: u32,
    superseded: u32,
    error: Option<String>,
}

/// Client to delivery service, with the app-level envelope a real signalling server
/// also has (who sends, who is being added or removed).
#[derive(Debug)]
enum ToDs {
    KeyPackage {
        from: usize,
        key_package: Vec<u8>,
    },
    Commit {
        from: usize,
        out: CommitOutput,
        adds: Vec<usize>,
        removes: Vec<usize>,
    },
    Proposal {
        from: usize,
        proposal: Vec<u8>,
    },
    Ack {
        from: usize,
        epoch: u64,
    },
}

/// Delivery service to client.
#[derive(Debug)]
enum ToClient {
    AddRequest {
        joiner: usize,
        key_package: Rc<[u8]>,
    },
    Commit {
        commit: Rc<[u8]>,
        epoch: u64,
        committer: usize,
    },
    Welcome {
        welcome: Rc<[u8]>,
    },
    Proposal {
        proposal: Rc<[u8]>,
        from: usize,
    },
    Rejected {
        epoch: u64,
    },
    Delivered {
        epoch: u64,
    },
}

/// A scripted membership change.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Two members self-update in the same epoch.
    Race(usize, usize),
    /// A member asks to leave; another commits its proposal.
    Leave(usize),
    /// A new participant dials in and is added.
    Join(usize),
}

#[derive(Debug)]
enum Event {
    Seal { p: usize, track: Track, index: u64 },
    AtSfu(Packet),
    Deliver { to: usize, packet: Packet },
    AtDs(ToDs),
    AtClient { to: usize, msg: ToClient },
    Step(Step),
    Progress,
}

struct Scheduled {
    at: u64,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    /// Reversed, so the max-heap pops the earliest event (FIFO among equal times).
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

// ---------------------------------------------------------------------------------------
// Participants, delivery service, bookkeeping.
// ---------------------------------------------------------------------------------------

/// One device in the call. Holds the only keys.
struct Participant {
    name: String,
    session: Session,
    encryptors: [Encryptor; 2],
    decryptor: Decryptor,
    /// The SFU forwards media to it.
    connected: bool,
    /// Where its media starts in the sample files, per track.
    offset: [usize; 2],
    /// First epoch it was a member of.
    joined_epoch: Option<u64>,
    /// The epoch whose commit removed it.
    removed_in: Option<u64>,
    /// When it dialled in (the joiner), and when it processed its welcome (ms).
    asked_to_join_at: Option<u64>,
    joined_at: Option<u64>,
}

/// The delivery service: sequences commits, fans messages out in order, tracks delivery.
#[derive(Default)]
struct Ds {
    /// Epoch of the last commit it sequenced.
    epoch: u64,
    /// Participants that receive handshakes.
    members: BTreeSet<usize>,
    /// Members that have not yet confirmed the last commit.
    awaiting: BTreeSet<usize>,
    /// Per recipient, when its last message lands (keeps delivery in order).
    last_delivery: HashMap<usize, u64>,
}

/// A commit the delivery service sequenced after the call started (times in ms).
struct CommitTrack {
    cause: String,
    submitted_at: u64,
    sequenced_at: Option<u64>,
    /// Members of the new epoch, and those that merged it so far.
    expected: BTreeSet<usize>,
    merged: BTreeSet<usize>,
    all_merged_at: Option<u64>,
    /// (sender, track) that have not yet sealed a frame in the new epoch.
    waiting_senders: BTreeSet<(usize, Track)>,
    switched_at: Option<u64>,
}

/// One epoch as its members saw it.
#[derive(Default)]
struct EpochInfo {
    cause: String,
    members: Vec<String>,
    codes: BTreeMap<usize, String>,
}

/// The whole simulated call: the event queue, every actor, and the oracle's books.
struct World<'a> {
    config: &'a Config,
    media: &'a SampleMedia,
    /// Shared by every participant's media key ring; moved along with `now`.
    clock: Arc<ManualClock>,
    /// Simulated time (ms).
    now: u64,
    /// When media stops (ms).
    duration_ms: u64,
    rng: Rng,
    queue: BinaryHeap<Scheduled>,
    next_seq: u64,
    /// Everyone, the mid-call joiner last.
    people: Vec<Participant>,
    leaver: usize,
    joiner: usize,
    ds: Ds,
    /// A scripted change is in progress (until its commit reached every member).
    busy: bool,
    sfu: SfuStats,
    sfu_kids: HashSet<u64>,
    /// (receiver, sender) video streams that have started (at a key frame, or, in
    /// whole-frame mode, at whatever frame came first).
    sfu_video_started: HashSet<(usize, usize)>,
    /// Ledger: every frame sealed, and the same by (epoch, leaf, context, CTR).
    sealed: HashMap<FrameId, Sealed>,
    by_key: HashMap<(u64, u32, u64, u64), FrameId>,
    /// What happened to each frame at each receiver.
    fates: HashMap<(usize, FrameId), Fate>,
    /// Frames sealed so far, all senders.
    seal_seq: u64,
    /// (participant, epoch) -> seal sequence number when it merged that epoch.
    merge_marks: HashMap<(usize, u64), u64>,
    epochs: BTreeMap<u64, EpochInfo>,
    commits: BTreeMap<u64, CommitTrack>,
    /// Commits submitted but not (yet) sequenced, by (committer, epoch).
    submitted: HashMap<(usize, u64), (String, u64)>,
    timeline: Vec<(u64, String)>,
    problems: Vec<String>,
    tracks: [TrackStats; 2],
    key_frame_requests: u64,
    /// Own commits discarded because another was sequenced first.
    lost_races: u64,
    /// Opened frames whose bytes differ from what was sealed.
    mismatches: u64,
    /// (receiver, sender) -> when the receiver first opened a frame of that sender.
    first_open: HashMap<(usize, usize), u64>,
    /// [`DUMP_SENDER`]'s video as each receiver opened it, and as the SFU forwarded it.
    dump: HashMap<usize, BTreeMap<u64, Vec<u8>>>,
    sfu_dump: BTreeMap<u64, Vec<u8>>,
    /// When each participant's media clock started (simulated ms).
    media_start: HashMap<usize, u64>,
}

fn err(what: &str, e: impl Display) -> String {
    format!("{what}: {e}")
}

fn name_of(i: usize) -> String {
    NAMES
        .get(i)
        .map_or_else(|| format!("p{i}"), |n| (*n).to_string())
}

fn new_participant(
    i: usize,
    clock: &Arc<ManualClock>,
    media: &SampleMedia,
    late_frame_grace: Duration,
    codec_aware: bool,
) -> Result<Participant, String> {
    let name = name_of(i);
    let id = MemberIdentity::new(name.as_bytes().to_vec(), b"laptop".to_vec())
        .map_err(|e| err("identity", e))?;
    let config = MediaConfig {
        clock: Arc::clone(clock) as _,
        send_switch_delay: SEND_SWITCH_DELAY,
        max_held_frames: MAX_HELD_FRAMES,
        late_frame_grace,
        ..MediaConfig::default()
    };
    let identity = Identity::generate(id).map_err(|e| err("identity", e))?;
    let session =
        Session::new(identity, Arc::new(AdmitAll), config).map_err(|e| err("session", e))?;
    let keys = session.media();
    let encryptor = |track: Track| {
        if codec_aware {
            keys.encryptor_with_codec(track.context(), track.codec(true))
        } else {
            keys.encryptor(track.context())
        }
        .map_err(|e| err("encryptor", e))
    };
    let encryptors = [encryptor(Track::Audio)?, encryptor(Track::Video)?];
    Ok(Participant {
        name,
        decryptor: keys.decryptor(),
        session,
        encryptors,
        connected: false,
        // Each sender starts somewhere else in the sample files; alice at the start.
        offset: [
            (i * 97) % media.audio.len(),
            (i * 41) % media.video.frames.len(),
        ],
        joined_epoch: None,
        removed_in: None,
        asked_to_join_at: None,
        joined_at: None,
    })
}

impl World<'_> {
    fn schedule(&mut self, at: u64, event: Event) {
        self.next_seq += 1;
        self.queue.push(Scheduled {
            at,
            seq: self.next_seq,
            event,
        });
    }

    fn note(&mut self, text: String) {
        self.timeline.push((self.now, text));
    }

    fn plaintext(&self, id: FrameId) -> &[u8] {
        let p = &self.people[id.sender];
        let i = usize::try_from(id.index).unwrap_or(usize::MAX);
        match id.track {
            Track::Audio => {
                let a = &self.media.audio;
                &a[(p.offset[0] + i % a.len()) % a.len()]
            }
            Track::Video => {
                let v = &self.media.video.frames;
                &v[(p.offset[1] + i % v.len()) % v.len()]
            }
        }
    }

    fn frame_time(&self, track: Track, index: u64) -> u64 {
        match track {
            Track::Audio => index * 20,
            Track::Video => self.media.video.header.frame_time_ms(index),
        }
    }

    /// Starts a participant's media at `start` (simulated ms).
    fn start_media(&mut self, p: usize, start: u64) {
        for track in Track::ALL {
            self.schedule(start, Event::Seal { p, track, index: 0 });
        }
        // Remember the origin of this sender's frame clock.
        self.media_start.insert(p, start);
    }

    // --- MLS side -------------------------------------------------------------------

    fn send_to_ds(&mut self, msg: ToDs) {
        let at = self.now + self.rng.range(MLS_LATENCY_MS);
        self.schedule(at, Event::AtDs(msg));
    }

    fn ds_send(&mut self, to: usize, msg: ToClient) {
        let at = self.now + self.rng.range(MLS_LATENCY_MS);
        let last = self.ds.last_delivery.entry(to).or_insert(0);
        let at = at.max(*last);
        *last = at;
        self.schedule(at, Event::AtClient { to, msg });
    }

    fn ds_handle(&mut self, msg: ToDs) {
        match msg {
            ToDs::KeyPackage { from, key_package } => {
                // The host (first member) admits dial-ins.
                let host = self.ds.members.iter().next().copied();
                if let Some(host) = host {
                    let key_package: Rc<[u8]> = key_package.into();
                    self.ds_send(
                        host,
                        ToClient::AddRequest {
                            joiner: from,
                            key_package,
                        },
                    );
                }
            }
            ToDs::Proposal { from, proposal } => {
                let proposal: Rc<[u8]> = proposal.into();
                for to in self.ds.members.clone() {
                    let proposal = Rc::clone(&proposal);
                    self.ds_send(to, ToClient::Proposal { proposal, from });
                }
            }
            ToDs::Commit {
                from,
                out,
                adds,
                removes,
            } => self.ds_commit(from, out, &adds, &removes),
            ToDs::Ack { from, epoch } => {
                if epoch == self.ds.epoch
                    && self.ds.awaiting.remove(&from)
                    && self.ds.awaiting.is_empty()
                {
                    for to in self.ds.members.clone() {
                        self.ds_send(to, ToClient::Delivered { epoch });
                    }
                    self.busy = false;
                }
            }
        }
    }

    /// First commit for the next epoch wins; any other for that epoch is refused.
    fn ds_commit(&mut self, from: usize, out: CommitOutput, adds: &[usize], removes: &[usize]) {
        let (cause, submitted_at) = self
            .submitted
            .remove(&(from, out.epoch))
            .unwrap_or_else(|| ("commit".into(), self.now));
        if out.epoch != self.ds.epoch + 1 {
            let winner = self.commits.get(&out.epoch).map(|c| c.cause.clone());
            self.note(format!(
                "delivery service refuses {}'s commit for epoch {}: \"{}\" came first",
                self.people[from].name,
                out.epoch,
                winner.unwrap_or_else(|| "another commit".into())
            ));
            self.ds_send(from, ToClient::Rejected { epoch: out.epoch });
            return;
        }
        self.ds.epoch = out.epoch;
        let commit: Rc<[u8]> = out.commit.into();
        for to in self.ds.members.clone() {
            let commit = Rc::clone(&commit);
            self.ds_send(
                to,
                ToClient::Commit {
                    commit,
                    epoch: out.epoch,
                    committer: from,
                },
            );
        }
        if let Some(welcome) = out.welcome {
            let welcome: Rc<[u8]> = welcome.into();
            for &to in adds {
                let welcome = Rc::clone(&welcome);
                self.ds_send(to, ToClient::Welcome { welcome });
            }
        }
        for r in removes {
            self.ds.members.remove(r);
        }
        self.ds.members.extend(adds.iter().copied());
        self.ds.awaiting = self.ds.members.clone();
        let expected = self.ds.members.clone();
        let waiting_senders = expected
            .iter()
            .flat_map(|&p| Track::ALL.map(|t| (p, t)))
            .collect();
        self.note(format!(
            "delivery service sequences epoch {}: {cause}",
            out.epoch
        ));
        self.commits.insert(
            out.epoch,
            CommitTrack {
                cause,
                submitted_at,
                sequenced_at: Some(self.now),
                expected,
                merged: BTreeSet::new(),
                all_merged_at: None,
                waiting_senders,
                switched_at: None,
            },
        );
    }

    fn submit(
        &mut self,
        from: usize,
        out: CommitOutput,
        cause: String,
        adds: Vec<usize>,
        removes: Vec<usize>,
    ) {
        self.submitted.insert((from, out.epoch), (cause, self.now));
        self.send_to_ds(ToDs::Commit {
            from,
            out,
            adds,
            removes,
        });
    }

    /// Records that `p` entered its current epoch: security code, members, merge mark.
    fn entered_epoch(&mut self, p: usize, cause: &str) -> Result<u64, String> {
        let s = &self.people[p].session;
        let epoch = s.epoch().ok_or("no epoch after a merge")?;
        let code = s.security_code().map_err(|e| err("security code", e))?;
        let members: Vec<String> = s
            .members()
            .map_err(|e| err("members", e))?
            .into_iter()
            .map(|m| {
                let user = m.identity.map_or(m.credential.content, |id| id.user_id);
                String::from_utf8_lossy(&user).into_owned()
            })
            .collect();
        let info = self.epochs.entry(epoch).or_default();
        if info.members.is_empty() {
            info.members = members;
            info.cause = cause.to_string();
        }
        info.codes.insert(p, code);
        self.merge_marks.insert((p, epoch), self.seal_seq);
        if let Some(c) = self.commits.get_mut(&epoch) {
            c.merged.insert(p);
            if c.all_merged_at.is_none() && c.merged.is_superset(&c.expected) {
                c.all_merged_at = Some(self.now);
            }
        }
        Ok(epoch)
    }

    fn client_handle(&mut self, to: usize, msg: ToClient) -> Result<(), String> {
        match msg {
            ToClient::AddRequest {
                joiner,
                key_package,
            } => {
                let out = self.people[to]
                    .session
                    .add_members(&[&key_package])
                    .map_err(|e| err("add_members", e))?;
                let cause = format!("{} adds {}", self.people[to].name, self.people[joiner].name);
                self.submit(to, out, cause, vec![joiner], Vec::new());
            }
            ToClient::Proposal { proposal, from } => {
                let outcome = self.people[to]
                    .session
                    .process(&proposal)
                    .map_err(|e| err("process proposal", e))?;
                if outcome == Outcome::ProposalsPending && self.designated_committer(to, from)? {
                    let out = self.people[to]
                        .session
                        .commit_pending_proposals()
                        .map_err(|e| err("commit_pending_proposals", e))?;
                    let cause = format!(
                        "{} commits {}'s leave",
                        self.people[to].name, self.people[from].name
                    );
                    self.submit(to, out, cause, Vec::new(), vec![from]);
                }
            }
            ToClient::Commit {
                commit,
                epoch,
                committer,
            } => {
                let me = &mut self.people[to];
                if committer != to && me.session.has_pending_commit() {
                    // Our commit lost the race: drop it, then take the winner.
                    me.session
                        .discard_pending_commit()
                        .map_err(|e| err("discard_pending_commit", e))?;
                    self.lost_races += 1;
                    let name = me.name.clone();
                    self.note(format!("{name} discards its losing commit"));
                }
                let outcome = self.people[to]
                    .session
                    .process(&commit)
                    .map_err(|e| err("process commit", e))?;
                match outcome {
                    Outcome::EpochChanged { removed, .. } => {
                        let cause = self.people[to].name.clone();
                        let epoch = self.entered_epoch(to, &cause)?;
                        if !removed.is_empty() {
                            // Someone was removed: stop sealing in a key they hold, now.
                            // Receivers that have not merged yet hold these frames.
                            self.people[to].session.media().receivers_ready();
                        }
                        self.send_to_ds(ToDs::Ack { from: to, epoch });
                    }
                    Outcome::Removed => {
                        let me = &mut self.people[to];
                        me.removed_in = Some(epoch);
                        let name = me.name.clone();
                        self.note(format!("{name} learns it is out of the group"));
                    }
                    other => return Err(format!("unexpected outcome {other:?} for a commit")),
                }
            }
            ToClient::Welcome { welcome } => {
                let epoch = self.people[to]
                    .session
                    .join(&welcome)
                    .map_err(|e| err("join", e))?;
                let name = self.people[to].name.clone();
                self.entered_epoch(to, &name)?;
                let me = &mut self.people[to];
                me.joined_epoch = Some(epoch);
                me.joined_at = Some(self.now);
                self.note(format!("{name} joins from the welcome (epoch {epoch})"));
                self.send_to_ds(ToDs::Ack { from: to, epoch });
                let now = self.now;
                self.start_media(to, now);
            }
            ToClient::Rejected { epoch } => {
                let me = &mut self.people[to];
                if me.session.has_pending_commit() {
                    me.session
                        .discard_pending_commit()
                        .map_err(|e| err("discard_pending_commit", e))?;
                    self.lost_races += 1;
                    let name = me.name.clone();
                    self.note(format!(
                        "{name} discards its refused commit for epoch {epoch}"
                    ));
                }
            }
            ToClient::Delivered { epoch } => {
                let s = &self.people[to].session;
                if s.epoch() == Some(epoch) {
                    s.media().receivers_ready();
                }
            }
        }
        // New keys may have arrived: open the frames that waited for them.
        for released in self.people[to].decryptor.release_held() {
            let from = Opened {
                sender: released.sender,
                ctr: released.ctr,
                identity: released.identity.clone(),
            };
            self.opened(to, &from, &released.plaintext, None, true);
        }
        Ok(())
    }

    /// The lowest-leaf member other than the proposer commits a leave.
    fn designated_committer(&self, me: usize, proposer: usize) -> Result<bool, String> {
        let s = &self.people[me].session;
        let proposer_id = self.people[proposer].name.as_bytes();
        let first = s
            .members()
            .map_err(|e| err("members", e))?
            .into_iter()
            .find(|m| {
                m.identity
                    .as_ref()
                    .is_none_or(|id| id.user_id != proposer_id)
            })
            .map(|m| m.leaf);
        Ok(first.is_some() && first == s.own_leaf())
    }

    fn quiescent(&self) -> bool {
        !self.busy && !self.people.iter().any(|p| p.session.has_pending_commit())
    }

    fn run_step(&mut self, step: Step) -> Result<(), String> {
        if !self.quiescent() {
            let at = self.now + 50;
            self.schedule(at, Event::Step(step));
            return Ok(());
        }
        self.busy = true;
        match step {
            Step::Race(a, b) => {
                let (na, nb) = (self.people[a].name.clone(), self.people[b].name.clone());
                self.note(format!("{na} and {nb} both self-update in the same epoch"));
                for (p, other) in [(a, &nb), (b, &na)] {
                    let out = self.people[p]
                        .session
                        .self_update()
                        .map_err(|e| err("self_update", e))?;
                    let cause = format!("{} self-updates (raced {other})", self.people[p].name);
                    self.submit(p, out, cause, Vec::new(), Vec::new());
                }
            }
            Step::Leave(p) => {
                let proposal = self.people[p]
                    .session
                    .leave()
                    .map_err(|e| err("leave", e))?;
                let name = self.people[p].name.clone();
                self.note(format!("{name} hangs up: sends a leave proposal"));
                self.send_to_ds(ToDs::Proposal { from: p, proposal });
            }
            Step::Join(p) => {
                let key_package = self.people[p]
                    .session
                    .key_package()
                    .map_err(|e| err("key_package", e))?;
                let me = &mut self.people[p];
                me.connected = true;
                me.asked_to_join_at = Some(self.now);
                let name = me.name.clone();
                self.note(format!(
                    "{name} dials in: the SFU starts forwarding, the key package goes out"
                ));
                self.send_to_ds(ToDs::KeyPackage {
                    from: p,
                    key_package,
                });
            }
        }
        Ok(())
    }

    // --- media side -----------------------------------------------------------------

    fn seal(&mut self, p: usize, track: Track, index: u64) -> Result<(), String> {
        if self.now >= self.duration_ms {
            return Ok(());
        }
        let id = FrameId {
            sender: p,
            track,
            index,
        };
        let plaintext = self.plaintext(id).to_vec();
        let person = &mut self.people[p];
        let enc = &mut person.encryptors[track.index()];
        let cap = enc
            .max_ciphertext_len(plaintext.len())
            .ok_or("frame too large")?;
        let mut out = vec![0u8; cap];
        let started = Instant::now();
        let result = enc.encrypt(b"", &plaintext, &mut out);
        let elapsed = started.elapsed();
        let n = match result {
            Ok(n) => n,
            // Out of the group: this participant's media stops here.
            Err(MediaError::NotMember) => return Ok(()),
            Err(e) => return Err(err("encrypt", e)),
        };
        out.truncate(n);
        let epoch = enc.epoch().ok_or("sealed without an epoch")?;
        let leaf = person.session.own_leaf().ok_or("sealed without a leaf")?;
        if enc.take_key_frame_request() {
            self.key_frame_requests += 1;
        }
        let header = sframe_header(self.config.codec_aware, track, &out)
            .ok_or("own header does not parse")?;
        self.seal_seq += 1;
        self.sealed.insert(
            id,
            Sealed {
                epoch,
                seq: self.seal_seq,
            },
        );
        self.by_key
            .insert((epoch, leaf, track.context(), header.ctr), id);
        let stats = &mut self.tracks[track.index()];
        stats.sealed += 1;
        stats.encrypt_ns.push(nanos(elapsed));
        stats.plaintext_bytes += plaintext.len() as u64;
        stats.ciphertext_bytes += n as u64;
        if let Some(c) = self.commits.get_mut(&epoch)
            && c.waiting_senders.remove(&(p, track))
            && c.waiting_senders.is_empty()
        {
            c.switched_at = Some(self.now);
        }
        let packet = Packet {
            id,
            payload: out.into(),
        };
        let at = self.now + self.rng.range(MEDIA_UPLINK_MS);
        self.schedule(at, Event::AtSfu(packet));
        let start = self.media_start.get(&p).copied().unwrap_or(0);
        let next = start + self.frame_time(track, index + 1);
        self.schedule(
            next,
            Event::Seal {
                p,
                track,
                index: index + 1,
            },
        );
        Ok(())
    }

    /// The SFU: forwards to every other connected participant. It reads the SFrame header
    /// for its statistics and nothing else; it has no key.
    fn sfu_forward(&mut self, packet: Packet) {
        self.sfu.frames_in += 1;
        self.sfu.bytes_in += packet.payload.len() as u64;
        if let Some(header) =
            sframe_header(self.config.codec_aware, packet.id.track, &packet.payload)
        {
            self.sfu_kids.insert(header.kid);
        }
        if self.config.dump_dir.is_some()
            && packet.id.sender == DUMP_SENDER
            && packet.id.track == Track::Video
        {
            self.sfu_dump
                .insert(packet.id.index, packet.payload.to_vec());
        }
        let is_video = packet.id.track == Track::Video;
        // The truth (the ledger's plaintext): the SFU cannot know it in whole-frame mode.
        let truly_key = is_video && vp8_key_frame(self.plaintext(packet.id));
        // What the SFU reads: in codec-aware mode the sealed frame starts with the clear
        // VP8 frame tag (RFC 6386 §9.1); in whole-frame mode byte 0 is the SFrame header.
        let read_key =
            (is_video && self.config.codec_aware).then(|| vp8_key_frame(&packet.payload));
        if let Some(read) = read_key {
            self.sfu.key_bits_read += 1;
            self.sfu.key_bit_mismatches += u64::from(read != truly_key);
        }
        let loss = self.config.loss_pct / 100.0;
        for to in 0..self.people.len() {
            if to == packet.id.sender || !self.people[to].connected {
                continue;
            }
            let stream = (to, packet.id.sender);
            if is_video && !self.sfu_video_started.contains(&stream) {
                match read_key {
                    // A new subscription starts at a key frame: hold delta frames back.
                    Some(false) => {
                        self.sfu.held_back += 1;
                        self.sfu.held_back_bytes += packet.payload.len() as u64;
                        continue;
                    }
                    Some(true) => {
                        self.sfu_video_started.insert(stream);
                    }
                    // Whole-frame: it cannot tell, forwards everything.
                    None => {
                        if truly_key {
                            self.sfu_video_started.insert(stream);
                        } else {
                            self.sfu.undecodable_forwarded += 1;
                            self.sfu.undecodable_bytes += packet.payload.len() as u64;
                        }
                    }
                }
            }
            self.sfu.copies_out += 1;
            let fate = self.fates.entry((to, packet.id)).or_default();
            if self.rng.chance(loss) {
                fate.dropped = true;
                continue;
            }
            let mut at = self.now + self.rng.range(MEDIA_DOWNLINK_MS);
            if self.rng.chance(REORDER_RATE) {
                at += self.rng.range(REORDER_EXTRA_MS);
            }
            self.schedule(
                at,
                Event::Deliver {
                    to,
                    packet: packet.clone(),
                },
            );
            if self.rng.chance(DUPLICATE_RATE) {
                let at = self.now + self.rng.range(MEDIA_DOWNLINK_MS) + 5;
                self.schedule(
                    at,
                    Event::Deliver {
                        to,
                        packet: packet.clone(),
                    },
                );
            }
        }
    }

    fn deliver(&mut self, to: usize, packet: &Packet) {
        let mut out = vec![0u8; packet.payload.len()];
        let started = Instant::now();
        let decryptor = &mut self.people[to].decryptor;
        let result = if self.config.codec_aware {
            let codec = packet.id.track.codec(true);
            decryptor.decrypt_codec(codec, b"", &packet.payload, &mut out)
        } else {
            decryptor.decrypt(b"", &packet.payload, &mut out)
        };
        let elapsed = started.elapsed();
        match result {
            Ok(d) => {
                self.tracks[packet.id.track.index()]
                    .decrypt_ns
                    .push(nanos(elapsed));
                let opened = Opened::of(&d, &self.people[to].decryptor);
                self.opened(to, &opened, &out[..d.len], Some(packet.id), false);
            }
            Err(e) => {
                let fate = self.fates.entry((to, packet.id)).or_default();
                match e {
                    MediaError::NoKey => fate.no_key += 1,
                    MediaError::Sframe(SframeError::Replay) => fate.replay += 1,
                    MediaError::Superseded => fate.superseded += 1,
                    other => fate.error = Some(other.to_string()),
                }
            }
        }
    }

    /// A receiver opened a frame: check it against the ledger and record its fate.
    fn opened(
        &mut self,
        to: usize,
        from: &Opened,
        plaintext: &[u8],
        carried_as: Option<FrameId>,
        released: bool,
    ) {
        let sender = from.sender;
        let key = (sender.epoch, sender.leaf, sender.context, from.ctr);
        let Some(&id) = self.by_key.get(&key) else {
            self.problems.push(format!(
                "{} opened a frame nobody sealed: {key:?}",
                self.people[to].name
            ));
            return;
        };
        if carried_as.is_some_and(|c| c != id) {
            self.problems.push(format!(
                "{} opened {id:?} from a packet carrying {carried_as:?}",
                self.people[to].name
            ));
        }
        if plaintext != self.plaintext(id) {
            self.mismatches += 1;
        }
        // The decryptor names who held the leaf in the frame's epoch: the sealer.
        let sealer = self.people[id.sender].name.as_bytes();
        if from.identity.as_deref().map(|i| i.user_id.as_slice()) != Some(sealer) {
            self.problems.push(format!(
                "{} credited {id:?} to {:?}",
                self.people[to].name,
                from.identity
                    .as_deref()
                    .map(|i| String::from_utf8_lossy(&i.user_id))
            ));
        }
        let fate = self.fates.entry((to, id)).or_default();
        fate.opened += 1;
        fate.released |= released;
        self.first_open.entry((to, id.sender)).or_insert(self.now);
        if self.config.dump_dir.is_some() && id.sender == DUMP_SENDER && id.track == Track::Video {
            self.dump
                .entry(to)
                .or_default()
                .insert(id.index, plaintext.to_vec());
        }
    }

    fn handle(&mut self, event: Event) {
        let result = match event {
            Event::Seal { p, track, index } => self.seal(p, track, index),
            Event::AtSfu(packet) => {
                self.sfu_forward(packet);
                Ok(())
            }
            Event::Deliver { to, packet } => {
                self.deliver(to, &packet);
                Ok(())
            }
            Event::AtDs(msg) => {
                self.ds_handle(msg);
                Ok(())
            }
            Event::AtClient { to, msg } => self.client_handle(to, msg),
            Event::Step(step) => self.run_step(step),
            Event::Progress => {
                let (now, total) = (self.now as f64 / 1000.0, self.duration_ms as f64 / 1000.0);
                eprint!("\r  simulating the call: {now:>5.1} s / {total:.1} s");
                if self.now < self.duration_ms {
                    let at = self.now + 250;
                    self.schedule(at, Event::Progress);
                }
                Ok(())
            }
        };
        if let Err(e) = result {
            let at = self.now;
            self.problems.push(format!("t={at} ms: {e}"));
        }
    }
}

/// The SFrame header (KID, CTR) of a sealed `track` frame, as an SFU reads it without a
/// key: at the start of a whole-frame frame, or, codec-aware, from the trailer at the end
/// ([`mlsframe::media::frame_header`], `docs/FRAMING.md` §3).
fn sframe_header(codec_aware: bool, track: Track, frame: &[u8]) -> Option<Header> {
    mlsframe::media::frame_header(track.codec(codec_aware), frame)
}

/// RFC 6386 §9.1: bit 0 of a VP8 frame's first byte (the frame tag) is 0 on key frames.
fn vp8_key_frame(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 0x01 == 0)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

// ---------------------------------------------------------------------------------------
// Running a call.
// ---------------------------------------------------------------------------------------

/// Runs one call.
///
/// # Errors
/// Only when the call cannot be set up (invalid config, media that does not load, the
/// initial group failing); everything that goes wrong during the call is reported in
/// [`Report::checks`] and [`Report::problems`].
pub fn run(config: &Config) -> Result<Report, String> {
    config.validate()?;
    let media = SampleMedia::bundled()?;
    let clock = Arc::new(ManualClock::default());
    let n = config.participants;
    let people = (0..=n)
        .map(|i| {
            new_participant(
                i,
                &clock,
                &media,
                config.late_frame_grace,
                config.codec_aware,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let duration_ms = u64::try_from(config.duration.as_millis()).map_err(|e| err("duration", e))?;
    let mut world = World {
        config,
        media: &media,
        clock,
        now: 0,
        duration_ms,
        rng: Rng(config.seed),
        queue: BinaryHeap::new(),
        next_seq: 0,
        people,
        leaver: n - 1,
        joiner: n,
        ds: Ds::default(),
        busy: false,
        sfu: SfuStats::default(),
        sfu_kids: HashSet::new(),
        sfu_video_started: HashSet::new(),
        sealed: HashMap::new(),
        by_key: HashMap::new(),
        fates: HashMap::new(),
        seal_seq: 0,
        merge_marks: HashMap::new(),
        epochs: BTreeMap::new(),
        commits: BTreeMap::new(),
        submitted: HashMap::new(),
        timeline: Vec::new(),
        problems: Vec::new(),
        tracks: Default::default(),
        key_frame_requests: 0,
        lost_races: 0,
        mismatches: 0,
        first_open: HashMap::new(),
        dump: HashMap::new(),
        sfu_dump: BTreeMap::new(),
        media_start: HashMap::new(),
    };
    set_up_call(&mut world, n)?;

    let script = [
        (duration_ms / 4, Step::Race(1, 2)),
        (duration_ms * 45 / 100, Step::Leave(n - 1)),
        (duration_ms * 65 / 100, Step::Join(n)),
    ];
    for (at, step) in script {
        world.schedule(at, Event::Step(step));
    }
    if config.progress {
        world.schedule(0, Event::Progress);
    }
    while let Some(next) = world.queue.pop() {
        if next.at > world.now {
            world
                .clock
                .advance(Duration::from_millis(next.at - world.now));
            world.now = next.at;
        }
        world.handle(next.event);
    }
    if config.progress {
        eprintln!();
    }
    // Every MLS message has landed and was followed by `release_held`: a frame still
    // held now was lost to rekeying, and counts as failed.
    finish(world)
}

/// Alice creates the group and adds the others in one commit, before media starts.
fn set_up_call(world: &mut World<'_>, n: usize) -> Result<(), String> {
    let params = GroupParams {
        sframe_suite: world.config.suite,
        ..GroupParams::default()
    };
    world.people[0]
        .session
        .create_group(params)
        .map_err(|e| err("create_group", e))?;
    world.entered_epoch(0, "alice creates the group")?;
    let kps = world.people[1..n]
        .iter()
        .map(|p| p.session.key_package())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err("key_package", e))?;
    let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
    let out = world.people[0]
        .session
        .add_members(&refs)
        .map_err(|e| err("add_members", e))?;
    world.people[0]
        .session
        .confirm_own_commit()
        .map_err(|e| err("confirm_own_commit", e))?;
    let welcome = out.welcome.ok_or("no welcome for the initial members")?;
    let cause = format!(
        "alice adds {}",
        world.people[1..n]
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    world.entered_epoch(0, &cause)?;
    for i in 1..n {
        let epoch = world.people[i]
            .session
            .join(&welcome)
            .map_err(|e| err("join", e))?;
        world.people[i].joined_epoch = Some(epoch);
        world.entered_epoch(i, &cause)?;
    }
    // Everyone has the first epoch: alice may seal in it at once.
    world.people[0].session.media().receivers_ready();
    world.people[0].joined_epoch = Some(0);
    world.ds.epoch = out.epoch;
    world.ds.members = (0..n).collect();
    world
        .timeline
        .push((0, format!("call set up: {cause} (epoch {})", out.epoch)));
    for p in 0..n {
        world.people[p].connected = true;
        let start = world.rng.range((0, 19));
        world.start_media(p, start);
    }
    Ok(())
}

fn ms_since(from: u64, to: Option<u64>) -> Option<u64> {
    to.map(|t| t.saturating_sub(from))
}

/// Classifies every (receiver, frame), runs the checks, writes dumps.
fn finish(mut w: World<'_>) -> Result<Report, String> {
    let member_of = |p: usize, epoch: u64, epochs: &BTreeMap<u64, EpochInfo>| {
        epochs.get(&epoch).is_some_and(|e| e.codes.contains_key(&p))
    };
    let (leaver, joiner) = (w.leaver, w.joiner);
    let leaver_removed = w.people[leaver].removed_in;
    let joiner_epoch = w.people[joiner].joined_epoch;
    let mut leaver_row = LeaverRow {
        name: w.people[leaver].name.clone(),
        removed_in: leaver_removed,
        later_received: 0,
        later_opened: 0,
    };
    let mut joiner_row = JoinerRow {
        name: w.people[joiner].name.clone(),
        epoch: joiner_epoch,
        welcome_ms: None,
        hears_all_ms: None,
        heard_by_all_ms: None,
        earlier_received: 0,
        earlier_opened: 0,
    };
    let mut double_opens = 0u64;
    let mut unentitled_opens = 0u64;
    let mut failures: Vec<String> = Vec::new();
    for (&(to, id), fate) in &w.fates {
        let Some(sealed) = w.sealed.get(&id) else {
            continue;
        };
        let stats = &mut w.tracks[id.track.index()];
        stats.replays_refused += u64::from(fate.replay);
        if to == leaver
            && let Some(removed) = leaver_removed
            && w.merge_marks
                .get(&(id.sender, removed))
                .is_some_and(|&mark| sealed.seq > mark)
        {
            leaver_row.later_received += 1;
            leaver_row.later_opened += u64::from(fate.opened > 0);
        }
        if to == joiner && joiner_epoch.is_none_or(|j| sealed.epoch < j) {
            joiner_row.earlier_received += 1;
            joiner_row.earlier_opened += u64::from(fate.opened > 0);
        }
        if !member_of(to, sealed.epoch, &w.epochs) {
            unentitled_opens += u64::from(fate.opened > 0);
            continue;
        }
        stats.deliveries += 1;
        stats.no_key_waits += u64::from(fate.no_key);
        match fate.opened {
            1 => {
                stats.opened += 1;
                stats.opened_after_wait += u64::from(fate.released);
            }
            0 if fate.dropped => stats.lost_in_network += 1,
            0 if fate.superseded > 0 => stats.superseded += 1,
            0 => {
                stats.failed += 1;
                if failures.len() < 10 {
                    failures.push(format!(
                        "{} never opened {} frame #{} of {} (epoch {}): {}",
                        w.people[to].name,
                        id.track.name(),
                        id.index,
                        w.people[id.sender].name,
                        sealed.epoch,
                        fate.error.clone().unwrap_or_else(|| {
                            if fate.no_key > 0 {
                                "still waiting for its key (NO_KEY)".into()
                            } else {
                                "never arrived".into()
                            }
                        })
                    ));
                }
            }
            _ => double_opens += 1,
        }
    }

    // Join latency.
    if let (Some(asked), Some(joined)) = (
        w.people[joiner].asked_to_join_at,
        w.people[joiner].joined_at,
    ) {
        joiner_row.welcome_ms = Some(joined - asked);
        let others: Vec<usize> = (0..w.people.len())
            .filter(|&p| p != joiner && p != leaver && w.people[p].session.is_active())
            .collect();
        let hears = others
            .iter()
            .map(|&s| w.first_open.get(&(joiner, s)).copied())
            .collect::<Option<Vec<u64>>>();
        joiner_row.hears_all_ms = hears.and_then(|v| v.into_iter().max()).map(|t| t - asked);
        let heard = others
            .iter()
            .map(|&r| w.first_open.get(&(r, joiner)).copied())
            .collect::<Option<Vec<u64>>>();
        joiner_row.heard_by_all_ms = heard.and_then(|v| v.into_iter().max()).map(|t| t - asked);
    }

    let rekeys: Vec<RekeyRow> = w
        .commits
        .iter()
        .map(|(&epoch, c)| RekeyRow {
            epoch,
            cause: c.cause.clone(),
            sequenced_ms: ms_since(c.submitted_at, c.sequenced_at),
            all_merged_ms: ms_since(c.submitted_at, c.all_merged_at),
            senders_switched_ms: ms_since(c.submitted_at, c.switched_at),
        })
        .collect();
    let epochs: Vec<EpochRow> = w
        .epochs
        .iter()
        .map(|(&epoch, info)| EpochRow {
            epoch,
            cause: w
                .commits
                .get(&epoch)
                .map_or_else(|| info.cause.clone(), |c| c.cause.clone()),
            members: info.members.clone(),
            codes: info
                .codes
                .iter()
                .map(|(&p, code)| (w.people[p].name.clone(), code.clone()))
                .collect(),
        })
        .collect();
    w.sfu.distinct_kids = w.sfu_kids.len();

    let opened: u64 = w.tracks.iter().map(|t| t.opened).sum();
    let failed: u64 = w.tracks.iter().map(|t| t.failed).sum();
    let waits: u64 = w.tracks.iter().map(|t| t.no_key_waits).sum();
    let after_wait: u64 = w.tracks.iter().map(|t| t.opened_after_wait).sum();
    let superseded: u64 = w.tracks.iter().map(|t| t.superseded).sum();
    let disagreeing: Vec<u64> = epochs
        .iter()
        .filter(|e| !e.agreed())
        .map(|e| e.epoch)
        .collect();
    let mut checks = vec![
        Check {
            name: "every opened frame is byte-identical to the one sent".into(),
            passed: w.mismatches == 0 && double_opens == 0 && opened > 0,
            detail: format!(
                "{opened} frames opened, {} differed, {double_opens} opened twice",
                w.mismatches
            ),
        },
        Check {
            name: format!(
                "{} (left) opened nothing sealed after its sender merged the removal",
                leaver_row.name
            ),
            passed: leaver_removed.is_some() && leaver_row.later_opened == 0,
            detail: format!(
                "removed in epoch {}; {} such frames reached it, {} opened",
                leaver_removed.map_or("-".into(), |e| e.to_string()),
                leaver_row.later_received,
                leaver_row.later_opened
            ),
        },
        Check {
            name: format!(
                "{} (joined) opened nothing sent before its join",
                joiner_row.name
            ),
            passed: joiner_epoch.is_some() && joiner_row.earlier_opened == 0,
            detail: format!(
                "joined in epoch {}; {} earlier frames reached it, {} opened",
                joiner_epoch.map_or("-".into(), |e| e.to_string()),
                joiner_row.earlier_received,
                joiner_row.earlier_opened
            ),
        },
        Check {
            name: "nobody opened a frame of an epoch it was not a member of".into(),
            passed: unentitled_opens == 0,
            detail: format!("{unentitled_opens} such frames opened"),
        },
        Check {
            name: "all members show the same security code in each epoch".into(),
            passed: disagreeing.is_empty(),
            detail: if disagreeing.is_empty() {
                format!("{} epochs, every member agreed in each", epochs.len())
            } else {
                format!("members disagree in epochs {disagreeing:?}")
            },
        },
        Check {
            name: "no frame lost except to injected network loss".into(),
            passed: failed == 0,
            detail: format!(
                "{failed} failed; {waits} NO_KEY waits ({after_wait} frames opened after \
                 waiting); {superseded} superseded"
            ),
        },
        Check {
            name: "the race had one winner; the leave and the join went through".into(),
            passed: w.lost_races == 1 && leaver_removed.is_some() && joiner_epoch.is_some(),
            detail: format!(
                "{} commit(s) discarded, {} epochs after setup",
                w.lost_races,
                rekeys.len()
            ),
        },
        Check {
            name: "no unexpected error".into(),
            passed: w.problems.is_empty(),
            detail: format!("{} error(s)", w.problems.len()),
        },
    ];
    if w.config.codec_aware {
        let s = &w.sfu;
        checks.push(Check {
            name: "the SFU read each video frame's key-frame bit from the sealed frame".into(),
            passed: s.key_bits_read > 0 && s.key_bit_mismatches == 0,
            detail: format!(
                "{} read, {} disagreed with what was sealed",
                s.key_bits_read, s.key_bit_mismatches
            ),
        });
        checks.push(Check {
            name: "every new video stream started at a key frame".into(),
            passed: s.undecodable_forwarded == 0 && s.held_back > 0,
            detail: format!(
                "{} delta frames held back, {} forwarded before a key frame",
                s.held_back, s.undecodable_forwarded
            ),
        });
    }
    let dump = match &w.config.dump_dir {
        Some(dir) => Some(write_dumps(&w, dir).map_err(|e| err("writing dumps", e))?),
        None => None,
    };
    if let Some(d) = &dump {
        checks.push(Check {
            name: "dumps written".into(),
            passed: !d.receivers.is_empty(),
            detail: format!("{} receiver files", d.receivers.len()),
        });
    }
    Ok(Report {
        config: w.config.clone(),
        timeline: w.timeline,
        epochs,
        tracks: w.tracks,
        rekeys,
        joiner: joiner_row,
        leaver: leaver_row,
        sfu: w.sfu,
        key_frame_requests: w.key_frame_requests,
        checks,
        problems: w.problems,
        failures,
        dump,
        simulated_ms: w.now,
    })
}

/// Writes `recv-<name>.ivf` per receiver of [`DUMP_SENDER`]'s video and
/// `sfu-<sender>.ivf` with the sealed frames the SFU forwarded.
fn write_dumps(w: &World<'_>, dir: &std::path::Path) -> std::io::Result<DumpInfo> {
    std::fs::create_dir_all(dir)?;
    let header = &w.media.video.header;
    let sender = w.people[DUMP_SENDER].name.clone();
    let ciphertext = dir.join(format!("sfu-{sender}.ivf"));
    write_ivf(
        &ciphertext,
        header,
        w.sfu_dump.iter().map(|(&i, f)| (i, f.as_slice())),
    )?;
    let mut receivers = Vec::new();
    for (p, person) in w.people.iter().enumerate() {
        let Some(frames) = w.dump.get(&p) else {
            continue;
        };
        let path = dir.join(format!("recv-{}.ivf", person.name));
        write_ivf(
            &path,
            header,
            frames.iter().map(|(&i, f)| (i, f.as_slice())),
        )?;
        receivers.push((person.name.clone(), path, frames.len() as u64));
    }
    Ok(DumpInfo {
        sender,
        sent: w
            .sealed
            .keys()
            .filter(|id| id.sender == DUMP_SENDER && id.track == Track::Video)
            .count() as u64,
        ciphertext,
        receivers,
    })
}

/// What a receiver learned about a frame it opened.
struct Opened {
    sender: FrameSender,
    ctr: u64,
    identity: Option<Arc<MemberIdentity>>,
}

impl Opened {
    /// What `decryptor` opened: the sealer's identity is resolved in the frame's epoch.
    fn of(d: &DecryptedFrame, decryptor: &Decryptor) -> Self {
        Opened {
            sender: d.sender,
            ctr: d.ctr,
            identity: decryptor.identity_at(d.sender.epoch, d.sender.leaf),
        }
    }
}
