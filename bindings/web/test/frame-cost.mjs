// Per-frame cost of the web build: seal and open through the MLS-keyed Encryptor and
// Decryptor (two members, whole-frame framing), at 1 KiB and 10 KiB, and what the two
// JS <-> wasm copies alone cost (a Uint8Array copy of the same size, both ways). Runs in
// Node and in a browser worker; `now` is a high-resolution clock in milliseconds
// (performance.now). Returns medians in nanoseconds per frame.
export function frameCost(mlsframe, now, { sizes = [1024, 10240], rounds = 15, perRound = 400 } = {}) {
  const { Session } = mlsframe;
  const alice = new Session("alice", "bench");
  const bob = new Session("bob", "bench");
  alice.createGroup();
  const add = alice.addMembers([bob.keyPackage()]);
  alice.confirmCommit();
  bob.join(add.welcome);
  const enc = alice.encryptor(1, 0);
  const dec = bob.decryptor();
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const results = [];
  // Warm up at every size first, 4,000 frames each: with only the 400-frame warm-up below,
  // the first size measured came out 10-20% apart between two runs (most likely V8 still
  // tiering the module up, Liftoff to TurboFan, in the background).
  for (const size of sizes) {
    const frame = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
    for (let i = 0; i < 10 * perRound; i++) dec.decrypt(enc.encrypt(frame), 0);
  }
  for (const size of sizes) {
    const frame = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
    // Warm up: grows the scratch buffers, lets the JIT settle.
    for (let i = 0; i < perRound; i++) dec.decrypt(enc.encrypt(frame), 0);
    const seal = [];
    const open = [];
    const copies = [];
    const sealed = new Array(perRound);
    for (let r = 0; r < rounds; r++) {
      let t = now();
      for (let i = 0; i < perRound; i++) sealed[i] = enc.encrypt(frame);
      seal.push(((now() - t) * 1e6) / perRound);
      t = now();
      for (let i = 0; i < perRound; i++) dec.decrypt(sealed[i], 0);
      open.push(((now() - t) * 1e6) / perRound);
      // The copies alone: into a preallocated buffer (as into wasm memory) and out into a
      // new array (as the result is).
      const scratch = new Uint8Array(size + 64);
      t = now();
      for (let i = 0; i < perRound; i++) {
        scratch.set(frame);
        sealed[i] = scratch.slice(0, size);
      }
      copies.push(((now() - t) * 1e6) / perRound);
    }
    results.push({ size, sealNs: median(seal), openNs: median(open), copiesNs: median(copies) });
  }
  enc.free();
  dec.free();
  alice.free();
  bob.free();
  return results;
}
