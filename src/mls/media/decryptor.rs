//! [`Decryptor`]: opens other members' frames in whichever installed epoch their KID
//! names, attributes each to the member who held the sender's leaf in that epoch, refuses
//! a sender's older-epoch frames once it moved on (RFC 9605 §6.2, per stream context),
//! and holds frames whose epoch has not arrived yet.

use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use super::held::{HeldFrame, HeldFrames};
use super::ring::{EpochKeys, KeyRing, Leaf, MediaShared, SenderEpoch, Stream};
use super::{DecryptedFrame, FrameSender, LeafHolder, MediaError, ReleasedFrame, lock};
use crate::media::{self, Codec, Source};
use crate::mls::identity::MemberIdentity;
use crate::sframe::{FrameInput, FrameKey, Header};

/// Opens other members' frames. Never blocks on MLS work.
///
/// Opening takes `&mut self`: the decryptor keeps the key ring it last used and checks,
/// with one atomic load per frame, that the ring has not changed since; a frame of a
/// known stream then takes no lock but that stream's own. It is `Send`; to open on
/// several threads at once, give each its own decryptor (or a clone). All decryptors of a
/// session share its keys and replay windows, so a frame replayed to another decryptor is
/// still refused.
///
/// Clones share one queue of held frames; decryptors made separately by
/// [`MediaKeys::decryptor`](super::MediaKeys::decryptor) each hold their own.
#[derive(Clone)]
pub struct Decryptor {
    shared: Arc<MediaShared>,
    held: Arc<Mutex<HeldFrames>>,
    /// The key ring as of a ring generation ([`MediaShared::generation`]): frames use it
    /// while the generation is unchanged, so a frame loads no ring. Only this handle
    /// reads or replaces it (opening takes `&mut self`).
    ring: Option<(u64, Arc<KeyRing>)>,
    /// The KID of the frame opened last, whatever became of it.
    last_kid: u64,
    /// The stream of a KID that came twice in a row, in `ring`: its next frames find it
    /// here, without the walk from the ring through epoch, leaf and stream (dependent
    /// loads the `Receiver` does not make). Cleared with the ring; filled only on a second
    /// frame in a row, so frames of senders taking turns clone nothing.
    last: Option<LastStream>,
}

/// A verified stream of the current ring, found by its KID (see [`Decryptor::last`]).
#[derive(Clone)]
struct LastStream {
    kid: u64,
    sender: FrameSender,
    epoch: Arc<EpochKeys>,
    stream: Arc<Stream>,
}

impl std::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decryptor").finish_non_exhaustive()
    }
}

/// Opens a frame of a verified stream: one lock across check, AEAD and record, so a
/// replay is refused before the AEAD, a forged frame records nothing, and no other frame
/// of the stream comes between.
#[inline(always)]
fn open_stream(
    stream: &Stream,
    sender: FrameSender,
    header: Header,
    header_len: usize,
    metadata: &[u8],
    target: Target<'_>,
) -> Result<DecryptedFrame, MediaError> {
    let mut keys = stream.keys.lock();
    keys.replay.check(header.ctr)?;
    let plaintext = Plaintext::open(&keys.key, header, header_len, metadata, target)?;
    let recorded = keys.replay.accept(header.ctr);
    drop(keys);
    let len = plaintext.finish(recorded.map_err(MediaError::from))?;
    Ok(DecryptedFrame {
        len,
        sender,
        ctr: header.ctr,
    })
}

/// Where a frame's plaintext goes.
enum Target<'a> {
    Separate(&'a [u8], &'a mut [u8]),
    InPlace(&'a mut [u8]),
    /// A codec-aware frame in pieces: the complete AAD (SFrame header first), the
    /// ciphertext (decrypted where it lies) and the tag.
    Detached(&'a [u8], &'a mut [u8], &'a [u8]),
}

impl Decryptor {
    pub(super) fn new(shared: &Arc<MediaShared>) -> Decryptor {
        Decryptor {
            shared: Arc::clone(shared),
            held: Arc::new(Mutex::new(HeldFrames::default())),
            ring: None,
            last_kid: u64::MAX,
            last: None,
        }
    }

    /// Opens `frame` into `out` (at least `frame.len()` bytes suffice).
    ///
    /// # Errors
    /// [`MediaError::NoKey`] (recoverable; the frame is held if its epoch may still
    /// arrive, see [`release_held`](Self::release_held)), [`MediaError::UnknownSender`],
    /// [`MediaError::Superseded`], and SFrame errors: authentication failed, replay,
    /// malformed, buffer too small.
    pub fn decrypt(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
        out: &mut [u8],
    ) -> Result<DecryptedFrame, MediaError> {
        let result = self.open(metadata, Target::Separate(frame, out));
        if matches!(result, Err(MediaError::NoKey)) {
            self.hold(Codec::Whole, metadata, frame);
        }
        result
    }

    /// Opens `frame`, sealed in framing mode `codec` (`docs/FRAMING.md`), into `out`
    /// (at least `frame.len()` bytes suffice); `len` is the frame's length. The caller
    /// names the codec (from the stream's configuration, for example its RTP payload
    /// type); it is authenticated, so a frame sealed in any other mode is refused.
    /// [`Codec::Whole`] is [`decrypt`](Self::decrypt). A held frame (`NoKey`) keeps its
    /// codec and is opened the same way by [`release_held`](Self::release_held).
    ///
    /// # Errors
    /// As [`decrypt`](Self::decrypt); also [`MediaError::Framing`] with
    /// [`FramingError::MalformedLayout`](crate::media::FramingError::MalformedLayout)
    /// when the trailer or layout does not parse or does not fit the frame.
    pub fn decrypt_codec(
        &mut self,
        codec: Codec,
        metadata: &[u8],
        frame: &[u8],
        out: &mut [u8],
    ) -> Result<DecryptedFrame, MediaError> {
        if codec == Codec::Whole {
            return self.decrypt(metadata, frame, out);
        }
        let result = self.open_codec(codec, metadata, Source::Separate(frame), out);
        if matches!(result, Err(MediaError::NoKey)) {
            self.hold(codec, metadata, frame);
        }
        result
    }

    fn open_codec(
        &mut self,
        codec: Codec,
        metadata: &[u8],
        src: Source<'_>,
        out: &mut [u8],
    ) -> Result<DecryptedFrame, MediaError> {
        let (mut opened, len) = media::open_frame(codec, metadata, src, out, |aad, body, tag| {
            self.open(&[], Target::Detached(aad, body, tag))
        })?;
        opened.len = len;
        Ok(opened)
    }

    /// Opens the frame in `buf`, sealed in framing mode `codec`, in place: the opened
    /// frame is left at the start of `buf`. Allocates nothing (see
    /// [`decrypt_codec`](Self::decrypt_codec)). On error `buf` holds no plaintext, and a
    /// frame refused for [`MediaError::NoKey`] is held unchanged.
    ///
    /// # Errors
    /// As [`decrypt_codec`](Self::decrypt_codec).
    pub fn decrypt_codec_in_place(
        &mut self,
        codec: Codec,
        metadata: &[u8],
        buf: &mut [u8],
    ) -> Result<DecryptedFrame, MediaError> {
        if codec == Codec::Whole {
            return self.decrypt_in_place(metadata, buf);
        }
        let len = buf.len();
        let result = self.open_codec(codec, metadata, Source::InPlace(len), buf);
        // NO_KEY is decided before the AEAD: the frame was put back together unchanged.
        if matches!(result, Err(MediaError::NoKey)) {
            self.hold(codec, metadata, buf);
        }
        result
    }

    /// Opens the frame in `buf` in place; the plaintext is moved to the start of `buf`.
    ///
    /// # Errors
    /// As [`decrypt`](Self::decrypt).
    pub fn decrypt_in_place(
        &mut self,
        metadata: &[u8],
        buf: &mut [u8],
    ) -> Result<DecryptedFrame, MediaError> {
        let result = self.open(metadata, Target::InPlace(&mut *buf));
        // NO_KEY is decided before any byte of `buf` is touched, so it is still the frame.
        if matches!(result, Err(MediaError::NoKey)) {
            self.hold(Codec::Whole, metadata, buf);
        }
        result
    }

    /// Opens a frame. While the ring's generation is unchanged the cached ring is used (one
    /// atomic load); a frame of a stream already verified in its epoch takes no lock but
    /// that stream's lock, once (replay check, authentication, record); the
    /// first frame of a stream in an epoch, and frames of a sender that already moved to
    /// a newer epoch, also take the group's sender map lock ([`open_other`](Self::open_other)).
    ///
    /// Inlined into each caller, so [`decrypt`](Self::decrypt) carries no in-place branch.
    /// A frame of a verified stream borrows the stream from its leaf (no reference count).
    #[inline(always)]
    fn open(&mut self, metadata: &[u8], target: Target<'_>) -> Result<DecryptedFrame, MediaError> {
        let frame: &[u8] = match &target {
            Target::Separate(f, _) => f,
            Target::InPlace(b) => b,
            Target::Detached(aad, _, _) => aad,
        };
        let (header, header_len) = Header::decode(frame)?;
        let generation = self.shared.generation.load(Ordering::Acquire);
        if !matches!(&self.ring, Some((g, _)) if *g == generation) {
            self.move_to(generation);
        }
        // The stream of the KID opened last, in the same ring: the same checks as below
        // on what the walk would find again (the ring is immutable while its generation
        // holds), the epoch's retention and the sender's cut-off, both atomics.
        if let Some(last) = self.last.as_ref().filter(|l| l.kid == header.kid) {
            if last.epoch.expired_by(|| self.shared.now()) {
                return Err(MediaError::NoKey);
            }
            if !last.stream.moved_past(last.epoch.epoch) {
                return open_stream(
                    &last.stream,
                    last.sender,
                    header,
                    header_len,
                    metadata,
                    target,
                );
            }
        }
        let mut found = None;
        let result = self.walk(header, header_len, metadata, target, &mut found);
        self.last_kid = header.kid;
        if found.is_some() {
            self.last = found;
        }
        result
    }

    /// [`open`](Self::open) through the ring: the epoch the KID names, its sender's leaf,
    /// the stream. A verified stream of a KID that is `last_kid` again is put in `found`.
    #[inline(always)]
    fn walk(
        &self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        target: Target<'_>,
        found: &mut Option<LastStream>,
    ) -> Result<DecryptedFrame, MediaError> {
        // Set by `open`; a handle without a ring has no key for anything.
        let Some((_, ring)) = &self.ring else {
            return Err(MediaError::NoKey);
        };
        let epoch = ring.find_kid(header.kid).ok_or(MediaError::NoKey)?;
        if epoch.expired_by(|| self.shared.now()) {
            return Err(MediaError::NoKey);
        }
        let (sender, leaf) = epoch.sender_of(header.kid)?;
        // Most frames: a stream verified in this epoch (a common context, borrowed from
        // the leaf), whose sender has not authenticated a frame in a newer epoch since.
        let Some(stream) = leaf
            .inline_stream(sender.context)
            .filter(|s| !s.moved_past(epoch.epoch))
        else {
            return self.open_other(
                ring, epoch, sender, leaf, header, header_len, metadata, target,
            );
        };
        if self.last_kid == header.kid {
            *found = Some(LastStream {
                kid: header.kid,
                sender,
                epoch: Arc::clone(epoch),
                stream: Arc::clone(stream),
            });
        }
        open_stream(stream, sender, header, header_len, metadata, target)
    }

    /// Moves to the current ring (`generation` was read before it), leaving the one it
    /// used to MLS work to free.
    #[cold]
    #[inline(never)]
    fn move_to(&mut self, generation: u64) {
        let ring = self.shared.ring.load_full();
        self.last = None;
        if let Some((_, old)) = self.ring.replace((generation, ring)) {
            self.shared.retire(old);
        }
    }

    /// [`open`](Self::open) for the other frames: a stream's first frame in an epoch
    /// (its key derived here, cached once its tag verified), a stream context past the
    /// inline ones, and frames of a sender that since moved to a newer epoch (the
    /// cut-off, [`check_cut_off`](Self::check_cut_off)).
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn open_other(
        &self,
        ring: &KeyRing,
        epoch: &EpochKeys,
        sender: FrameSender,
        leaf: &Leaf,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        target: Target<'_>,
    ) -> Result<DecryptedFrame, MediaError> {
        let slot = (sender.leaf, sender.context);
        let cached = leaf.stream(sender.context);
        if cached.as_ref().is_none_or(|s| s.moved_past(epoch.epoch)) {
            self.check_cut_off(ring, epoch, slot, &header, cached.as_deref())?;
        }
        let (stream, fresh) = match cached {
            Some(s) => (s, false),
            None => (
                Cow::Owned(Arc::new(
                    epoch.new_stream(header.kid, self.shared.config.replay_window)?,
                )),
                true,
            ),
        };
        let mut keys = stream.keys.lock();
        keys.replay.check(header.ctr)?;
        let plaintext = Plaintext::open(&keys.key, header, header_len, metadata, target)?;
        // Authenticated: keep a new stream (bounded) and record the counter once. A cached
        // stream's lock is held from the check to the record; a new stream is the caller's
        // alone until cached, and another thread may have cached one first: its own lock
        // is taken to record.
        let recorded = if fresh {
            drop(keys);
            self.add_stream(ring, epoch, leaf, sender, stream.into_owned())
                .and_then(|s| Ok(s.keys.lock().replay.accept(header.ctr)?))
        } else {
            let recorded = keys.replay.accept(header.ctr).map_err(MediaError::from);
            drop(keys);
            recorded
        };
        let len = plaintext.finish(recorded)?;
        Ok(DecryptedFrame {
            len,
            sender,
            ctr: header.ctr,
        })
    }

    /// The per-sender cut-off (RFC 9605 §6.2): once a frame of stream `slot` authenticated
    /// in a newer epoch, its frames of older epochs are refused, except a frame that was
    /// merely late: within [`MediaConfig::late_frame_grace`](super::MediaConfig) of the
    /// switch, with a counter below the highest already accepted on its stream (so sealed
    /// before the switch), and never across a commit that removed anyone. Consulted for a
    /// stream's first frame in an epoch, and for frames of a stream whose sender has
    /// since authenticated a frame in a newer epoch.
    fn check_cut_off(
        &self,
        ring: &KeyRing,
        epoch: &EpochKeys,
        slot: (u32, u64),
        header: &Header,
        stream: Option<&Arc<Stream>>,
    ) -> Result<(), MediaError> {
        let Some((newer, since)) = lock(&ring.senders)
            .get(&slot)
            .map(|s| (s.epoch(), s.since()))
            .filter(|(newer, _)| *newer > epoch.epoch)
        else {
            return Ok(());
        };
        let late = !ring.late_frames_barred(epoch.epoch, newer)
            && self.shared.now().saturating_sub(since) <= self.shared.config.late_frame_grace
            && stream
                .and_then(|s| s.keys.lock().replay.highest())
                .is_some_and(|highest| header.ctr < highest);
        if late {
            Ok(())
        } else {
            Err(MediaError::Superseded)
        }
    }

    /// Caches a stream whose first frame just verified (within the per-epoch cap; if
    /// another thread cached one first, that one is used) and notes that its sender
    /// reached this epoch, which its streams of older epochs see on their next frame. All
    /// under the group's sender map lock, which serializes every such change.
    fn add_stream(
        &self,
        ring: &KeyRing,
        epoch: &EpochKeys,
        leaf: &Leaf,
        sender: FrameSender,
        stream: Arc<Stream>,
    ) -> Result<Arc<Stream>, MediaError> {
        let now = self.shared.now();
        let slot = (sender.leaf, sender.context);
        let mut senders = lock(&ring.senders);
        if let Some(existing) = leaf.stream(sender.context) {
            return Ok(existing.into_owned());
        }
        if !epoch.has_room_for_stream(self.shared.config.max_streams_per_epoch) {
            return Err(MediaError::TooManyStreams);
        }
        let place = senders
            .entry(slot)
            .or_insert_with(|| Arc::new(SenderEpoch::new(epoch.epoch, now)));
        place.reached(epoch.epoch, now);
        stream.set_sender(Arc::clone(place));
        epoch.add_stream(leaf, sender.context, Arc::clone(&stream));
        Ok(stream)
    }

    /// Keeps a copy of a frame whose epoch may still arrive (the next one or two).
    fn hold(&self, codec: Codec, metadata: &[u8], frame: &[u8]) {
        let ring = self.shared.ring.load();
        let Some(current) = ring.current.and_then(|c| ring.find_epoch(c)) else {
            return;
        };
        let Some(header) = media::frame_header(codec, frame) else {
            return;
        };
        let mask = (1u64 << current.epoch_bits) - 1;
        let ahead = header.kid.wrapping_sub(current.epoch) & mask;
        if !(1..=2).contains(&ahead) {
            return;
        }
        let config = &self.shared.config;
        lock(&self.held).push(
            HeldFrame {
                frame: frame.to_vec(),
                metadata: metadata.to_vec(),
                codec,
                incarnation: current.incarnation,
            },
            config.max_held_frames,
            config.max_held_bytes,
        );
    }

    /// Opens this decryptor's held frames whose epoch is now installed; frames still
    /// without a key stay held (bounded), frames that fail otherwise, or belong to an
    /// earlier group, are dropped. Call after processing MLS messages.
    pub fn release_held(&mut self) -> Vec<ReleasedFrame> {
        let pending = lock(&self.held).take_all();
        let incarnation = {
            let ring = self.shared.ring.load();
            ring.epochs.last().map(|e| e.incarnation)
        };
        let mut released = Vec::new();
        for held in pending {
            if Some(held.incarnation) != incarnation {
                continue;
            }
            let mut out = vec![0u8; held.frame.len()];
            let opened = if held.codec == Codec::Whole {
                self.open(&held.metadata, Target::Separate(&held.frame, &mut out))
            } else {
                self.open_codec(
                    held.codec,
                    &held.metadata,
                    Source::Separate(&held.frame),
                    &mut out,
                )
            };
            match opened {
                Ok(opened) => {
                    out.truncate(opened.len);
                    released.push(ReleasedFrame {
                        plaintext: out,
                        sender: opened.sender,
                        ctr: opened.ctr,
                        identity: self.identity_at(opened.sender.epoch, opened.sender.leaf),
                    });
                }
                Err(MediaError::NoKey) => self.hold(held.codec, &held.metadata, &held.frame),
                Err(_) => {}
            }
        }
        released
    }

    /// The identity that held `leaf` in `epoch`, while that epoch is installed (`None`
    /// for a credential that is not an `mlsframe` identity): who sealed a frame, from its
    /// [`FrameSender`](super::FrameSender), resolved in the frame's own epoch and never
    /// in a later roster. From the key ring alone (never waiting for MLS work).
    ///
    /// A [`DecryptedFrame`] does not carry the identity: frames come by the thousand per
    /// second and an app needs the identity once per stream and epoch, so each frame
    /// would pay two atomic reference-count updates for it. Look it up here, while the
    /// frame's epoch is installed (right after the frame opened, it is).
    pub fn identity_at(&self, epoch: u64, leaf: u32) -> Option<Arc<MemberIdentity>> {
        self.shared.ring.load().find_epoch(epoch)?.identity_at(leaf)
    }

    /// Who held `leaf` in `epoch`, while that epoch is installed: an `mlsframe` identity
    /// or a member of another MLS stack; `None` when the epoch is not installed or nobody
    /// held the leaf. Like [`identity_at`](Self::identity_at), from the key ring alone.
    pub fn holder_at(&self, epoch: u64, leaf: u32) -> Option<LeafHolder> {
        self.shared.ring.load().find_epoch(epoch)?.holder_at(leaf)
    }

    /// Number of frames this decryptor currently holds for a future epoch.
    pub fn held_frames(&self) -> usize {
        lock(&self.held).len()
    }
}

/// An authenticated frame's plaintext where it lies now (`bytes[from..]`): in `out`
/// from 0, in place behind the header, or in a codec-aware frame's gathered block.
struct Plaintext<'a> {
    bytes: &'a mut [u8],
    from: usize,
}

impl Plaintext<'_> {
    /// Opens `target` under `key` (tag verified, counter not yet recorded).
    #[inline(always)]
    fn open<'a>(
        key: &FrameKey,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        target: Target<'a>,
    ) -> Result<Plaintext<'a>, MediaError> {
        Ok(match target {
            Target::Separate(frame, out) => {
                let mut input = FrameInput::Separate {
                    frame,
                    out: &mut *out,
                };
                let len = key.open(header, header_len, metadata, &mut input)?;
                Plaintext {
                    bytes: &mut out[..len],
                    from: 0,
                }
            }
            Target::InPlace(buf) => {
                let len = key.open(
                    header,
                    header_len,
                    metadata,
                    &mut FrameInput::InPlace(&mut *buf),
                )?;
                Plaintext {
                    bytes: &mut buf[..header_len + len],
                    from: header_len,
                }
            }
            Target::Detached(aad, body, tag) => {
                let len = key.open(
                    header,
                    header_len,
                    metadata,
                    &mut FrameInput::Detached {
                        aad,
                        body: &mut *body,
                        tag,
                    },
                )?;
                Plaintext {
                    bytes: &mut body[..len],
                    from: 0,
                }
            }
        })
    }

    /// After the counter's record (`recorded`): a frame refused now has its plaintext
    /// wiped, where it lies, before the error is returned; in place, an accepted one is
    /// moved to the start of the buffer. Returns the plaintext length.
    #[inline(always)]
    fn finish(self, recorded: Result<(), MediaError>) -> Result<usize, MediaError> {
        let Plaintext { bytes, from } = self;
        if let Err(e) = recorded {
            zeroize::Zeroize::zeroize(&mut bytes[from..]);
            return Err(e);
        }
        if from > 0 {
            bytes.copy_within(from.., 0);
        }
        Ok(bytes.len() - from)
    }
}
