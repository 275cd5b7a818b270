// mlsframe-worker.js: the dedicated worker that holds one participant's Session.
// It owns the wasm instance and the Session (they cannot cross workers), answers the
// page's MLS requests (mlsframe-client.js), and runs every encoded transform of that
// participant: RTCRtpScriptTransform's `rtctransform` events, and streams posted by the
// page from createEncodedStreams() (older Chromium). Frame logic: mlsframe-transform.js.
//
// Start it as a module worker: new Worker(new URL("./mlsframe-worker.js", import.meta.url),
// {type: "module"}); the first request must be `init`.

import { MediaTransforms } from "./mlsframe-transform.js";

let pkg; // the wasm-bindgen module
let session; // this participant's Session
let media;
let statsTimer;

const DEFAULT_PACKAGE_URL = new URL("../pkg/mlsframe_web.js", import.meta.url).href;

function post(msg, transfer = []) {
  self.postMessage(msg, transfer);
}

function report(r) {
  post({ type: "report", report: r });
}

function errorInfo(e) {
  return {
    name: e && e.name ? String(e.name) : "Error",
    code: e && typeof e.code === "number" ? e.code : undefined,
    message: e && e.message ? String(e.message) : String(e),
  };
}

// Plain objects for postMessage; copies wasm-bindgen values (Uint8Array views stay as they
// are: they own their buffers, so they are transferred).
function plain(v, transfer) {
  if (v instanceof Uint8Array) {
    // Transfer only a buffer the array owns whole (never a view into wasm memory).
    const own = v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v : v.slice();
    transfer.push(own.buffer);
    return own;
  }
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => plain(x, transfer));
  if (v instanceof Map) return plain(Object.fromEntries(v), transfer);
  const out = {};
  for (const k of Object.keys(v)) out[k] = plain(v[k], transfer);
  return out;
}

// wasm-bindgen returns class instances whose fields are getters on the prototype: read
// them into plain objects (postMessage cannot clone the instances) and free the instance.
function commitResult(c) {
  const out = { commit: c.commit, welcome: c.welcome ?? undefined, epoch: c.epoch };
  c.free?.();
  return out;
}

function outcomeResult(o) {
  const out = { kind: o.kind, epoch: o.epoch ?? undefined, reason: o.reason ?? undefined };
  o.free?.();
  return out;
}

function needSession() {
  if (!session) throw Object.assign(new Error("init has not run"), { name: "NOT_INITIALIZED" });
  return session;
}

const ops = {
  async init({ packageUrl, userId, deviceId, statsIntervalMs }) {
    if (session) throw new Error("already initialized");
    pkg = await import(packageUrl ?? DEFAULT_PACKAGE_URL);
    await pkg.default();
    session = new pkg.Session(String(userId), String(deviceId ?? "browser"));
    if (statsIntervalMs > 0) {
      statsTimer = setInterval(() => post({ type: "stats", stats: media.stats() }), statsIntervalMs);
    }
    return { ownLeaf: session.ownLeaf, epoch: session.epoch };
  },
  keyPackage: () => needSession().keyPackage(),
  createGroup: () => {
    needSession().createGroup();
    return { ownLeaf: session.ownLeaf, epoch: session.epoch };
  },
  addMembers: ({ keyPackages }) => commitResult(needSession().addMembers(keyPackages)),
  confirmCommit: () => needSession().confirmCommit(),
  join: ({ welcome }) => needSession().join(welcome),
  process: ({ message }) => outcomeResult(needSession().process(message)),
  removeMember: ({ leaf }) => commitResult(needSession().removeMember(leaf)),
  selfUpdate: () => commitResult(needSession().selfUpdate()),
  discardCommit: () => {
    needSession().discardCommit();
  },
  securityCode: () => needSession().securityCode(),
  receiversReady: () => {
    needSession().receiversReady();
  },
  info: () => ({ ownLeaf: session?.ownLeaf, epoch: session?.epoch }),
  stats: () => media.stats(),
  attachStreams: ({ readable, writable, options }) => media.attach(readable, writable, options),
  close: () => {
    clearInterval(statsTimer);
    media.dispose();
    const s = session;
    session = undefined; // later frames are dropped as NOT_READY
    s?.free?.();
  },
};

media = new MediaTransforms(() => session, { onReport: report });

self.onmessage = async (ev) => {
  const { id, op, args } = ev.data ?? {};
  if (typeof id !== "number") return;
  if (!Object.hasOwn(ops, op)) {
    post({ type: "reply", id, ok: false, error: { name: "UNKNOWN_OP", message: `unknown request ${String(op)}` } });
    return;
  }
  try {
    const transfer = [];
    const result = plain(await ops[op](args ?? {}), transfer);
    post({ type: "reply", id, ok: true, result }, transfer);
  } catch (e) {
    post({ type: "reply", id, ok: false, error: errorInfo(e) });
  }
};

// RTCRtpScriptTransform: one event per sender/receiver the page gave this worker.
self.onrtctransform = (ev) => {
  const t = ev.transformer;
  const options = t.options ?? {};
  // Receive side: ask the remote sender for a key frame after dropped frames.
  // Send side: make our encoder produce one after an epoch switch.
  const requester =
    options.role === "receive" && typeof t.sendKeyFrameRequest === "function"
      ? () => t.sendKeyFrameRequest()
      : options.role === "send" && typeof t.generateKeyFrame === "function"
        ? () => t.generateKeyFrame()
        : undefined;
  try {
    media.attach(t.readable, t.writable, options, requester);
  } catch (e) {
    report({ type: "error", id: options.id, role: options.role, error: "ATTACH_FAILED", message: String(e) });
  }
};
