// The web package outside a browser: Node loads pkg/ and runs a three-member call with a
// removal, bad inputs and the standalone SFrame context. Run after build.sh:
//   node bindings/web/test/node-smoke.mjs
// Exits non-zero on the first failed check.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import init, { Session, SframeContext } from "../pkg/mlsframe_web.js";

const wasm = readFileSync(fileURLToPath(new URL("../pkg/mlsframe_web_bg.wasm", import.meta.url)));
await init({ module_or_path: wasm });

const WHOLE = 0;
const code = (fn) => {
  try {
    fn();
  } catch (e) {
    return e.name;
  }
  return "no error";
};
let checks = 0;
const check = (what, fn) => {
  fn();
  checks += 1;
  console.log(`ok ${checks} - ${what}`);
};

const alice = new Session("alice", "web");
const bob = new Session("bob", "web");
const carol = new Session("carol", "native");
alice.createGroup();
const add = alice.addMembers([bob.keyPackage(), carol.keyPackage()]);
check("add commit carries a welcome", () => assert.ok(add.welcome instanceof Uint8Array));
alice.confirmCommit();
bob.join(add.welcome);
carol.join(add.welcome);
check("one security code", () => {
  assert.equal(bob.securityCode(), alice.securityCode());
  assert.equal(carol.securityCode(), alice.securityCode());
});

const video = alice.encryptor(1, WHOLE);
const [fromBob, fromCarol] = [bob.decryptor(), carol.decryptor()];
const frame = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
const sealed = video.encrypt(frame);
check("sealed differs and is longer", () => {
  assert.ok(sealed.length > frame.length);
  assert.notDeepEqual(sealed.subarray(sealed.length - frame.length), frame);
});
check("both members open it", () => {
  assert.deepEqual(fromBob.decrypt(sealed, WHOLE), frame);
  assert.deepEqual(fromCarol.decrypt(sealed, WHOLE), frame);
  assert.equal(fromBob.lastLeaf, alice.ownLeaf);
  assert.equal(fromBob.lastContext, 1);
});
check("a replay is refused", () => assert.equal(code(() => fromBob.decrypt(sealed, WHOLE)), "MLSFRAME_REPLAY"));
const tampered = video.encrypt(frame);
tampered[tampered.length - 1] ^= 1;
check("a flipped bit is refused", () => assert.equal(code(() => fromBob.decrypt(tampered, WHOLE)), "MLSFRAME_AUTH_FAILED"));
check("an empty frame is malformed", () => assert.equal(code(() => fromBob.decrypt(new Uint8Array(0), WHOLE)), "MLSFRAME_MALFORMED"));
check("errors carry the C code", () => {
  try {
    fromBob.decrypt(new Uint8Array(0), WHOLE);
  } catch (e) {
    assert.equal(e.code, 203);
    return;
  }
  assert.fail("no error");
});

// Codec-aware VP8 (docs/FRAMING.md) on the first frames of the bundled sample: the frame
// tag and the key-frame header stay readable, the rest is sealed, the layout is
// authenticated.
const VP8 = 2;
const ivf = readFileSync(fileURLToPath(new URL("../../../examples/media/video.ivf", import.meta.url)));
const ivfFrames = [];
for (let at = 32; at + 12 <= ivf.length && ivfFrames.length < 3; ) {
  const size = ivf.readUInt32LE(at);
  ivfFrames.push(new Uint8Array(ivf.subarray(at + 12, at + 12 + size)));
  at += 12 + size;
}
const vp8 = alice.encryptor(2, VP8);
const keyFrame = ivfFrames[0];
const sealedKey = vp8.encrypt(keyFrame);
check("VP8 key frame: tag and start code stay clear", () => {
  assert.equal(keyFrame[0] & 1, 0); // key frame (RFC 6386 section 9.1)
  assert.deepEqual(sealedKey.subarray(0, 10), keyFrame.subarray(0, 10));
  assert.deepEqual([...sealedKey.subarray(3, 6)], [0x9d, 0x01, 0x2a]);
  assert.notDeepEqual(sealedKey.subarray(10, keyFrame.length), keyFrame.subarray(10));
});
check("VP8 frames open byte-identical", () => {
  assert.deepEqual(fromBob.decrypt(sealedKey, VP8), keyFrame);
  const delta = vp8.encrypt(ivfFrames[1]);
  assert.equal(delta[0] & 1, 1); // still reads as an inter frame
  assert.deepEqual(fromCarol.decrypt(delta, VP8), ivfFrames[1]);
});
check("a codec-aware frame does not open as whole-frame", () => {
  const frame = vp8.encrypt(ivfFrames[2]);
  assert.notEqual(code(() => fromBob.decrypt(frame, WHOLE)), "no error");
});
check("a flipped clear bit is refused", () => {
  const frame = vp8.encrypt(ivfFrames[2]);
  frame[1] ^= 0x01;
  assert.equal(code(() => fromCarol.decrypt(frame, VP8)), "MLSFRAME_AUTH_FAILED");
});

// Carol leaves the call: Alice removes her; Bob follows the commit.
const removal = alice.removeMember(carol.ownLeaf);
alice.confirmCommit();
check("bob follows the removal", () => assert.equal(bob.process(removal.commit).kind, "epoch_changed"));
check("carol learns she was removed", () => assert.equal(carol.process(removal.commit).kind, "removed"));
alice.receiversReady();
const after = video.encrypt(frame);
check("bob opens the new epoch", () => assert.deepEqual(fromBob.decrypt(after, WHOLE), frame));
check("carol cannot", () => assert.notEqual(code(() => fromCarol.decrypt(after, WHOLE)), "no error"));
check("carol can no longer seal", () => assert.equal(code(() => carol.encryptor(0, WHOLE).encrypt(frame)), "MLSFRAME_NOT_MEMBER"));

// SFrame alone, with app-managed keys (RFC 9605 section 5.1).
const key = new Uint8Array(16).fill(0x42);
const tx = new SframeContext(4);
const rx = new SframeContext(4);
check("short base keys are refused", () => assert.equal(code(() => tx.setSendKey(7n, new Uint8Array(8), 0n)), "MLSFRAME_INVALID_ARGUMENT"));
check("no send key", () => assert.equal(code(() => tx.encrypt(frame)), "MLSFRAME_NO_SEND_KEY"));
tx.setSendKey(7n, key, 0n);
rx.addReceiveKey(7n, key);
const s1 = tx.encrypt(frame);
check("standalone round trip", () => {
  assert.deepEqual(rx.decrypt(s1), frame);
  assert.equal(rx.lastKid, 7n);
});
tx.setSendKey(7n, key, 0n);
check("the same key set again continues its counter", () => assert.equal(tx.sendCounter, 1n));
check("unknown suite", () => assert.equal(code(() => new SframeContext(9)), "MLSFRAME_UNKNOWN_SUITE"));

console.log(`all ${checks} checks passed`);
