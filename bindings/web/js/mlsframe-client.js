// mlsframe-client.js: the page-side handle on one participant's worker.
// It starts mlsframe-worker.js, relays the MLS calls (the app carries the bytes they return
// to the other members: it is the delivery service) and attaches the worker's transforms
// to RTCRtpSenders and RTCRtpReceivers, with RTCRtpScriptTransform where the browser has
// it and createEncodedStreams() (streams posted to the worker) where it does not.
// It holds no key material: the Session lives only in the worker.

const WORKER_URL = new URL("./mlsframe-worker.js", import.meta.url);

/** Which transform API this browser offers: "script", "streams" or undefined. */
export function detectTransformMode() {
  if (typeof RTCRtpScriptTransform === "function") return "script";
  if (typeof RTCRtpSender !== "undefined" && "createEncodedStreams" in RTCRtpSender.prototype) {
    return "streams";
  }
  return undefined;
}

/**
 * RTCPeerConnection configuration to use with a client in `mode`: the createEncodedStreams
 * fallback needs `encodedInsertableStreams: true` (Chromium), set before any track is added.
 */
export function peerConnectionConfig(mode, base = {}) {
  return mode === "streams" ? { ...base, encodedInsertableStreams: true } : { ...base };
}

/** An error thrown in the worker, with the Session's `.name` and `.code`. */
export class MlsframeError extends Error {
  constructor({ name, code, message }) {
    super(message);
    this.name = name;
    this.code = code;
  }
}

export class MlsframeClient {
  /**
   * Starts a worker and creates the participant's Session in it.
   * options: `{userId, deviceId?, mode?: "auto"|"script"|"streams", workerUrl?, packageUrl?,
   *            statsIntervalMs?, onReport?, onStats?}`.
   */
  static async create(options) {
    const c = new MlsframeClient(options);
    try {
      await c._call("init", {
        userId: options.userId,
        deviceId: options.deviceId ?? "browser",
        packageUrl: options.packageUrl ? new URL(options.packageUrl, location.href).href : undefined,
        statsIntervalMs: options.statsIntervalMs ?? 0,
      });
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  constructor(options) {
    const mode = options.mode && options.mode !== "auto" ? options.mode : detectTransformMode();
    if (mode !== "script" && mode !== "streams") {
      throw new Error("this browser has neither RTCRtpScriptTransform nor createEncodedStreams");
    }
    /** "script" (RTCRtpScriptTransform) or "streams" (createEncodedStreams fallback). */
    this.mode = mode;
    this.userId = options.userId;
    this.worker = new Worker(options.workerUrl ?? WORKER_URL, { type: "module" });
    this.onReport = options.onReport;
    this.onStats = options.onStats;
    this._pending = new Map();
    this._nextId = 1;
    this._nextTransform = 1;
    this.worker.onmessage = (ev) => this._onMessage(ev.data);
    this.worker.onerror = (ev) => {
      const err = new Error(`worker error: ${ev.message ?? ev}`);
      for (const { reject } of this._pending.values()) reject(err);
      this._pending.clear();
    };
  }

  _onMessage(msg) {
    if (!msg) return;
    if (msg.type === "reply") {
      const p = this._pending.get(msg.id);
      if (!p) return;
      this._pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new MlsframeError(msg.error));
    } else if (msg.type === "report") {
      this.onReport?.(msg.report);
    } else if (msg.type === "stats") {
      this.onStats?.(msg.stats);
    }
  }

  _call(op, args, transfer = []) {
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }

  /** A key package to publish (Uint8Array). */
  keyPackage() {
    return this._call("keyPackage");
  }
  /** Creates a group with this participant as its only member: `{ownLeaf, epoch}`. */
  createGroup() {
    return this._call("createGroup");
  }
  /** `{commit, welcome, epoch}`; send commit to the members, welcome to the joiners. */
  addMembers(keyPackages) {
    return this._call("addMembers", { keyPackages });
  }
  /** After the delivery service accepted our commit; resolves to the new epoch. */
  confirmCommit() {
    return this._call("confirmCommit");
  }
  /** Joins from a welcome; resolves to the epoch. */
  join(welcome) {
    return this._call("join", { welcome });
  }
  /** Processes another member's MLS message: `{kind, epoch?}`. */
  process(message) {
    return this._call("process", { message });
  }
  /** `{commit, welcome, epoch}` removing `leaf`; then confirmCommit(). */
  removeMember(leaf) {
    return this._call("removeMember", { leaf });
  }
  /** `{commit, welcome, epoch}` updating our own leaf; then confirmCommit(). */
  selfUpdate() {
    return this._call("selfUpdate");
  }
  /** Drops our pending commit (the delivery service refused it: another one won). */
  discardCommit() {
    return this._call("discardCommit");
  }
  /** The group's security code (string), to compare out of band. */
  securityCode() {
    return this._call("securityCode");
  }
  /** Receivers have the new epoch's keys: senders may switch now. */
  receiversReady() {
    return this._call("receiversReady");
  }
  /** `{ownLeaf, epoch}` (undefined outside a group). */
  info() {
    return this._call("info");
  }
  /** Per-transform counters: `{transforms: [{id, role, frames, passed, dropped, errors, ...}]}`. */
  stats() {
    return this._call("stats");
  }

  _attach(target, options) {
    const opts = { id: `${this.userId}-${options.role}-${this._nextTransform++}`, ...options };
    if (this.mode === "script") {
      target.transform = new RTCRtpScriptTransform(this.worker, opts);
      return Promise.resolve(opts.id);
    }
    const { readable, writable } = target.createEncodedStreams();
    return this._call("attachStreams", { readable, writable, options: opts }, [readable, writable]);
  }

  /**
   * Seals everything `sender` sends. options: `{context?, codec?: number|"auto",
   * wholeFrame?, label?}`; the context defaults to 0 for audio tracks, 1 for video.
   * Senders sharing a context share one encryptor, so they must share a codec.
   * Resolves to the transform id used in stats().
   */
  attachSender(sender, options = {}) {
    const kind = options.kind ?? sender.track?.kind;
    return this._attach(sender, { ...options, role: "send", kind });
  }

  /** Opens everything `receiver` receives (failed frames never reach the decoder). */
  attachReceiver(receiver, options = {}) {
    const kind = options.kind ?? receiver.track?.kind;
    return this._attach(receiver, { ...options, role: "receive", kind });
  }

  /** Frees the Session and stops the worker (waits at most a second for the worker). */
  async close() {
    try {
      await Promise.race([this._call("close"), new Promise((r) => setTimeout(r, 1000))]);
    } catch {
      // The worker may already be gone, or init never ran.
    }
    this.worker.terminate();
  }
}
