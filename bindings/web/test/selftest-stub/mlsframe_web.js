// HARNESS SELF-TEST ONLY. NOT CRYPTOGRAPHY, NOT THE REAL PACKAGE, NOT THE REAL TEST.
// A stand-in for pkg/mlsframe_web.js with the contract's API shape, used only to develop
// and self-check the browser harness (`run.sh --selftest-stub`) before the wasm package
// exists. "Sealing" XORs bytes with a per-epoch byte; "MLS" messages carry that byte in
// the clear. The real test (`run.sh`) always loads the wasm package from ../pkg.

const groups = new Map(); // group name -> {members}
let nextGroup = 1;

function err(name, code) {
  return Object.assign(new Error(name), { name, code });
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const pack = (o) => enc.encode(JSON.stringify(o));
const unpack = (u8) => JSON.parse(dec.decode(u8));

// Bytes left in the clear at the front for each codec (VP8: 3-byte frame tag, 10 on key
// frames; H.264: all of it, so the packetizer still finds its NAL units; Opus/whole
// frame: none). `sealedLen` is the clear length seen from a sealed frame.
function clearLen(frame, codec, sealed = false) {
  if (codec === 2 && frame.length >= 3) return (frame[0] & 1) === 0 ? Math.min(10, frame.length) : 3;
  if (codec === 4) return sealed ? frame.length - 3 : frame.length;
  return 0;
}

export default async function init() {}

export class Session {
  constructor(user, device) {
    this.user = user;
    this.device = device;
    this.keys = new Map(); // epoch -> key byte
    this.ownLeaf = undefined;
    this.epoch = undefined;
    this.members = [];
    this.removed = false;
    this.pending = undefined;
  }
  keyPackage() {
    return pack({ user: this.user });
  }
  _key(epoch) {
    return ((epoch * 37 + 11) & 0xff) | 1;
  }
  createGroup() {
    this.group = `g${nextGroup++}`;
    this.members = [this.user];
    this.ownLeaf = 0;
    this.epoch = 0;
    this.keys.set(0, this._key(0));
  }
  addMembers(kps) {
    const users = kps.map((k) => unpack(k).user);
    const members = [...this.members, ...users];
    const epoch = this.epoch + 1;
    this.pending = { members, epoch };
    return {
      commit: pack({ group: this.group, epoch, members, key: this._key(epoch) }),
      welcome: pack({ group: this.group, epoch, members, key: this._key(epoch) }),
      epoch,
    };
  }
  removeMember(leaf) {
    const members = this.members.map((m, i) => (i === leaf ? null : m));
    const epoch = this.epoch + 1;
    this.pending = { members, epoch };
    return { commit: pack({ group: this.group, epoch, members, key: this._key(epoch), removed: leaf }), welcome: undefined, epoch };
  }
  confirmCommit() {
    this.members = this.pending.members;
    this.epoch = this.pending.epoch;
    this.keys.set(this.epoch, this._key(this.epoch));
    this.pending = undefined;
    return this.epoch;
  }
  join(welcome) {
    const w = unpack(welcome);
    this.group = w.group;
    this.members = w.members;
    this.epoch = w.epoch;
    this.ownLeaf = w.members.indexOf(this.user);
    this.keys.set(w.epoch, w.key);
    return this.epoch;
  }
  process(msg) {
    const c = unpack(msg);
    if (c.group !== this.group || c.epoch !== this.epoch + 1) return { kind: "ignored" };
    if (c.removed === this.ownLeaf) {
      this.removed = true;
      this.keys.clear();
      this.epoch = undefined;
      return { kind: "removed" };
    }
    this.members = c.members;
    this.epoch = c.epoch;
    this.keys.set(c.epoch, c.key);
    return { kind: "epoch_changed", epoch: c.epoch };
  }
  receiversReady() {}
  encryptor(context, codec) {
    return new Encryptor(this, context, codec);
  }
  decryptor() {
    return new Decryptor(this);
  }
  free() {}
}

export class Encryptor {
  constructor(s, context, codec) {
    this.s = s;
    this.codec = codec;
  }
  encrypt(frame) {
    const s = this.s;
    if (s.removed || s.epoch === undefined) throw err("MLSFRAME_NOT_MEMBER", 402);
    const k = s.keys.get(s.epoch);
    const n = clearLen(frame, this.codec);
    const out = new Uint8Array(frame.length + 3);
    out.set(frame.subarray(0, n), 0);
    out[n] = s.epoch & 0xff;
    let sum = 0;
    for (let i = n; i < frame.length; i++) {
      out[i + 1] = frame[i] ^ k;
      sum = (sum + frame[i]) & 0xffff;
    }
    out[frame.length + 1] = sum >> 8;
    out[frame.length + 2] = sum & 0xff;
    return out;
  }
  free() {}
}

export class Decryptor {
  constructor(s) {
    this.s = s;
  }
  decrypt(frame, codec) {
    if (frame.length < 3) throw err("MLSFRAME_MALFORMED", 203);
    const n = clearLen(frame, codec, true);
    const epoch = frame[n];
    const k = this.s.keys.get(epoch);
    if (k === undefined) throw err("MLSFRAME_NO_KEY", 201);
    const len = frame.length - 3;
    const out = new Uint8Array(len);
    out.set(frame.subarray(0, n), 0);
    let sum = 0;
    for (let i = n; i < len; i++) {
      out[i] = frame[i + 1] ^ k;
      sum = (sum + out[i]) & 0xffff;
    }
    if (frame[len + 1] !== sum >> 8 || frame[len + 2] !== (sum & 0xff)) throw err("MLSFRAME_AUTH_FAILED", 202);
    return out;
  }
  free() {}
}
