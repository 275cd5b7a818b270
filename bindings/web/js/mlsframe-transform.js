// mlsframe-transform.js: the per-frame transform logic shared by every way of running it.
// It owns one participant's media state next to its Session (encryptors per stream
// context, one decryptor per receiving transform, per-transform counters) and turns
// WebRTC encoded-frame streams into sealed (send) or opened (receive) streams.
// It does not own the Session's MLS traffic (mlsframe-worker.js relays that) and never
// touches the DOM, so it runs in a dedicated worker (RTCRtpScriptTransform, or the
// createEncodedStreams fallback with the streams posted to the worker) or on the main
// thread with a Session created there.

/** Codec ids, the same numbers as the C ABI's `mlsframe_codec`. */
export const Codec = Object.freeze({
  WHOLE_FRAME: 0,
  OPUS: 1,
  VP8: 2,
  VP9: 3,
  H264: 4,
  H265: 5,
  AV1: 6,
});

const MIME_TO_CODEC = new Map([
  ["audio/opus", Codec.OPUS],
  ["video/vp8", Codec.VP8],
  ["video/vp9", Codec.VP9],
  ["video/h264", Codec.H264],
  ["video/h265", Codec.H265],
  ["video/av1", Codec.AV1],
]);

/**
 * The codec id for an encoded frame's MIME type (`getMetadata().mimeType`), or
 * undefined when the type is unknown or missing.
 */
export function codecForMimeType(mimeType) {
  if (typeof mimeType !== "string") return undefined;
  return MIME_TO_CODEC.get(mimeType.toLowerCase());
}

/** Stream context used when the options name none: 0 for audio, 1 for video. */
export function defaultContext(kind) {
  return kind === "audio" ? 0 : 1;
}

// How often (at most) a receiving transform asks the remote sender for a key frame
// after frames had to be dropped.
const KEY_FRAME_REQUEST_INTERVAL_MS = 1000;

function errorName(e) {
  if (e && typeof e.name === "string" && e.name.startsWith("MLSFRAME_")) return e.name;
  if (e && typeof e.code === "number") return `code_${e.code}`;
  return "EXCEPTION";
}

function rtpTimestamp(frame) {
  try {
    const m = frame.getMetadata?.();
    return m?.rtpTimestamp ?? (typeof frame.timestamp === "number" ? frame.timestamp : undefined);
  } catch {
    return undefined;
  }
}

function asArrayBuffer(u8) {
  if (u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength) return u8.buffer;
  return u8.slice().buffer;
}

/**
 * One participant's media side: seals and opens encoded frames with a Session.
 *
 * `sessionProvider` returns the Session or undefined (not created yet); frames that arrive
 * while there is none are dropped and counted as `NOT_READY`.
 * `onReport(report)` is called with `{type: "error", id, role, error, ...}` the first time
 * each error name is seen on a transform (counts are in `stats()`).
 */
export class MediaTransforms {
  constructor(sessionProvider, { onReport } = {}) {
    this._session = sessionProvider;
    this._onReport = onReport ?? (() => {});
    /** context -> {encryptor, codec} */
    this._encryptors = new Map();
    /** id -> per-transform record */
    this._transforms = new Map();
    this._nextId = 1;
  }

  /**
   * Runs a transform between `readable` and `writable` (the two halves WebRTC gives:
   * `RTCRtpScriptTransformer` or `createEncodedStreams()`).
   *
   * options: `{role: "send"|"receive", id?, label?, kind?: "audio"|"video",
   *            context?: number, codec?: number|"auto", wholeFrame?: boolean}`.
   * `codec: "auto"` (the default) takes the codec from each frame's MIME type; unknown
   * types are dropped (`UNKNOWN_CODEC`) rather than sealed in a framing the peer would not
   * expect. `wholeFrame: true` forces codec 0 (RFC 9605 over the whole frame).
   * `keyFrameRequester` (optional): on the receive side a function asking the remote
   * sender for a key frame (`RTCRtpScriptTransformer.sendKeyFrameRequest`), called after
   * frames were dropped; on the send side one making our encoder produce a key frame
   * (`RTCRtpScriptTransformer.generateKeyFrame`), called when the encryptor moved to a
   * new epoch (`Encryptor.takeKeyFrameRequest()`).
   * Returns the transform's id; the pipe ends when either stream closes.
   */
  attach(readable, writable, options = {}, keyFrameRequester) {
    const role = options.role === "send" ? "send" : options.role === "receive" ? "receive" : null;
    if (!role) throw new TypeError(`options.role must be "send" or "receive", got ${options.role}`);
    const id = options.id !== undefined ? String(options.id) : `t${this._nextId++}`;
    const rec = {
      id,
      role,
      label: options.label ?? id,
      kind: options.kind,
      context: options.context ?? defaultContext(options.kind),
      codecOption: options.wholeFrame ? Codec.WHOLE_FRAME : (options.codec ?? "auto"),
      codecsSeen: {},
      frames: 0,
      passed: 0,
      dropped: 0,
      empty: 0,
      errors: {},
      lastError: undefined,
      keyFrameRequests: 0,
      // RTP timestamps of the last frames passed (receive side), to tell a replayed frame
      // that only repeats one the decoder already had from any other replay.
      recentTimestamps: [],
      replaysOfPassed: 0,
      decryptor: undefined,
      needKeyFrame: false,
      lastKeyFrameRequest: 0,
      keyFrameRequester,
      closed: false,
    };
    this._transforms.set(id, rec);
    const stream = new TransformStream({
      transform: (frame, controller) => {
        if (role === "send") this._seal(rec, frame, controller);
        else this._open(rec, frame, controller);
      },
    });
    readable
      .pipeThrough(stream)
      .pipeTo(writable)
      .catch((e) => this._count(rec, "PIPE_CLOSED", e))
      .finally(() => this._close(rec));
    return id;
  }

  _codecFor(rec, frame) {
    if (rec.codecOption !== "auto") return rec.codecOption;
    let mime;
    try {
      mime = frame.getMetadata?.().mimeType;
    } catch {
      mime = undefined;
    }
    return codecForMimeType(mime);
  }

  _count(rec, name, e) {
    rec.dropped++;
    rec.errors[name] = (rec.errors[name] ?? 0) + 1;
    rec.lastError = name;
    if (rec.errors[name] === 1) {
      this._onReport({
        type: "error",
        id: rec.id,
        label: rec.label,
        role: rec.role,
        error: name,
        message: e && e.message ? String(e.message) : undefined,
      });
    }
  }

  _encryptorFor(rec, session, codec) {
    const have = this._encryptors.get(rec.context);
    if (have) {
      if (have.codec !== codec) return { conflict: true };
      return { enc: have.enc };
    }
    const enc = session.encryptor(rec.context, codec);
    this._encryptors.set(rec.context, { enc, codec });
    return { enc };
  }

  _seal(rec, frame, controller) {
    rec.frames++;
    const data = frame.data;
    if (!data || data.byteLength === 0) {
      // Empty frames carry no media; nothing to seal.
      rec.empty++;
      controller.enqueue(frame);
      return;
    }
    const session = this._session();
    if (!session) return this._count(rec, "NOT_READY");
    const codec = this._codecFor(rec, frame);
    if (codec === undefined) return this._count(rec, "UNKNOWN_CODEC");
    rec.codecsSeen[codec] = (rec.codecsSeen[codec] ?? 0) + 1;
    let sealed;
    try {
      const got = this._encryptorFor(rec, session, codec);
      // One encryptor per stream context (the Session refuses a second); a second
      // sender of the same context must use the same codec.
      if (got.conflict) return this._count(rec, "CODEC_CONFLICT");
      sealed = got.enc.encrypt(new Uint8Array(data));
    } catch (e) {
      return this._count(rec, errorName(e), e);
    }
    frame.data = asArrayBuffer(sealed);
    rec.passed++;
    controller.enqueue(frame);
    this._keyFrameAfterSwitch(rec);
  }

  // The encryptor moved to a new epoch: receivers that missed frames recover sooner from a
  // key frame, so every sender of this context produces one.
  _keyFrameAfterSwitch(rec) {
    const enc = this._encryptors.get(rec.context)?.enc;
    if (typeof enc?.takeKeyFrameRequest !== "function" || !enc.takeKeyFrameRequest()) return;
    for (const r of this._transforms.values()) {
      if (r.role !== "send" || r.context !== rec.context || r.closed || !r.keyFrameRequester) continue;
      r.keyFrameRequests++;
      try {
        const p = r.keyFrameRequester();
        if (p && typeof p.catch === "function") p.catch(() => {});
      } catch {
        // Not supported here: the receivers' own key frame requests still recover.
      }
    }
  }

  _open(rec, frame, controller) {
    rec.frames++;
    const data = frame.data;
    if (!data || data.byteLength === 0) {
      rec.empty++;
      controller.enqueue(frame);
      return;
    }
    const session = this._session();
    if (!session) return this._count(rec, "NOT_READY");
    const codec = this._codecFor(rec, frame);
    if (codec === undefined) return this._count(rec, "UNKNOWN_CODEC");
    rec.codecsSeen[codec] = (rec.codecsSeen[codec] ?? 0) + 1;
    let plain;
    try {
      if (!rec.decryptor) rec.decryptor = session.decryptor();
      plain = rec.decryptor.decrypt(new Uint8Array(data), codec);
    } catch (e) {
      // NO_KEY and every other failure: the frame never reaches the decoder.
      const name = errorName(e);
      if (name === "MLSFRAME_REPLAY" && rec.recentTimestamps.includes(rtpTimestamp(frame))) {
        // WebRTC handed us a frame it had already delivered: the decoder has it.
        rec.replaysOfPassed++;
      } else {
        rec.needKeyFrame = true;
      }
      return this._count(rec, name, e);
    }
    frame.data = asArrayBuffer(plain);
    rec.passed++;
    const ts = rtpTimestamp(frame);
    if (ts !== undefined) {
      rec.recentTimestamps.push(ts);
      if (rec.recentTimestamps.length > 64) rec.recentTimestamps.shift();
    }
    controller.enqueue(frame);
    if (rec.needKeyFrame && rec.keyFrameRequester && frame.type === "delta") {
      // Frames were dropped before this one: the decoder cannot use deltas that refer to
      // them, so ask for a fresh key frame (rate-limited).
      const now = Date.now();
      if (now - rec.lastKeyFrameRequest >= KEY_FRAME_REQUEST_INTERVAL_MS) {
        rec.lastKeyFrameRequest = now;
        rec.needKeyFrame = false;
        rec.keyFrameRequests++;
        try {
          const p = rec.keyFrameRequester();
          if (p && typeof p.catch === "function") p.catch(() => {});
        } catch {
          // Not supported by this browser: the receiver's own PLI still recovers.
        }
      }
    } else if (frame.type === "key") {
      rec.needKeyFrame = false;
    }
  }

  _close(rec) {
    if (rec.closed) return;
    rec.closed = true;
    if (rec.decryptor) {
      rec.decryptor.free?.();
      rec.decryptor = undefined;
    }
  }

  /** Counters of every transform, JSON-friendly. */
  stats() {
    const transforms = [];
    for (const r of this._transforms.values()) {
      transforms.push({
        id: r.id,
        label: r.label,
        role: r.role,
        kind: r.kind,
        context: r.context,
        codec: r.codecOption,
        codecsSeen: { ...r.codecsSeen },
        frames: r.frames,
        passed: r.passed,
        dropped: r.dropped,
        empty: r.empty,
        errors: { ...r.errors },
        lastError: r.lastError,
        keyFrameRequests: r.keyFrameRequests,
        replaysOfPassed: r.replaysOfPassed,
        closed: r.closed,
      });
    }
    return { transforms };
  }

  /** Frees the encryptors and decryptors (call before freeing the Session). */
  dispose() {
    for (const r of this._transforms.values()) this._close(r);
    for (const { enc } of this._encryptors.values()) enc.free?.();
    this._encryptors.clear();
  }
}
