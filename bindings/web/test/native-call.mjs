// Native and web in one call: two wasm participants (alice creates the group, bob joins)
// and the Rust participant of examples/web_peer.rs, through that example's loopback relay.
// Runs the same in Node (node-native-call.mjs) and in Chromium (the browser test's page):
// `mlsframe` is the loaded package module, `relay` the relay's base URL, `frames` a list of
// {codec, data} to send. Throws on the first failed check; returns what it saw.
const NATIVE = "native";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function send(relay, from, to, kind, body, codec = 0) {
  const url = `${relay}/send?from=${from}&to=${to}&kind=${kind}&codec=${codec}`;
  const response = await fetch(url, { method: "POST", body });
  if (!response.ok) throw new Error(`relay refused ${kind} for ${to}: ${response.status}`);
}

async function receive(relay, recipient, kind, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await fetch(`${relay}/poll?for=${recipient}`);
    if (response.status === 200) {
      const message = {
        from: response.headers.get("x-from"),
        kind: response.headers.get("x-kind"),
        codec: Number(response.headers.get("x-codec")),
        body: new Uint8Array(await response.arrayBuffer()),
      };
      if (message.kind === kind) return message;
      throw new Error(`expected ${kind}, got ${message.kind} from ${message.from}`);
    }
    await sleep(20);
  }
  throw new Error(`no ${kind} for ${recipient} within ${timeoutMs} ms`);
}

async function nativeStatus(relay) {
  const text = await (await fetch(`${relay}/status`)).text();
  return Object.fromEntries(text.trim().split("\n").map((line) => line.split("=")));
}

async function waitNative(relay, what, predicate, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await nativeStatus(relay);
    if (predicate(status)) return status;
    if (Date.now() > deadline) {
      throw new Error(`native participant: ${what} not reached: ${JSON.stringify(status)}`);
    }
    await sleep(20);
  }
}

function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export async function nativeCall(mlsframe, relay, frames, log = () => {}) {
  const { Session } = mlsframe;
  const alice = new Session("alice", "browser");
  const bob = new Session("bob", "browser");
  alice.createGroup();
  const nativeKp = await receive(relay, "alice", "key_package");
  const add = alice.addMembers([bob.keyPackage(), nativeKp.body]);
  alice.confirmCommit();
  bob.join(add.welcome);
  await send(relay, "alice", NATIVE, "welcome", add.welcome);
  await waitNative(relay, "joined", (s) => s.joined === "true");
  if (bob.securityCode() !== alice.securityCode()) throw new Error("security codes differ");
  log(`native joined epoch ${alice.epoch}`);

  const seen = [];
  const fromNativeAtAlice = alice.decryptor();
  const fromNativeAtBob = bob.decryptor();
  const encryptors = new Map();
  for (const { codec, data } of frames) {
    if (!encryptors.has(codec)) encryptors.set(codec, alice.encryptor(codec, codec));
    const sealed = encryptors.get(codec).encrypt(data);
    await send(relay, "alice", NATIVE, "frame", sealed, codec);
    const reply = await receive(relay, "alice", "frame");
    const expected = new Uint8Array([..."native:"].map((c) => c.charCodeAt(0)).concat([...data]));
    const atAlice = fromNativeAtAlice.decrypt(reply.body, reply.codec);
    const atBob = fromNativeAtBob.decrypt(reply.body, reply.codec);
    if (!equal(atAlice, expected) || !equal(atBob, expected)) {
      throw new Error(`codec ${codec}: the native reply does not open to what was sent`);
    }
    seen.push({ codec, bytes: data.length, sealedBytes: sealed.length, replyBytes: reply.body.length });
    log(`codec ${codec}: ${data.length} B web -> native -> web, both web members open it`);
  }
  const status = await nativeStatus(relay);
  if (Number(status.opened) !== frames.length || Number(status.failed) !== 0) {
    throw new Error(`native participant opened ${status.opened}, failed ${status.failed}`);
  }

  // Alice removes the native participant: it learns it, and opens nothing sealed after.
  const nativeLeaf = 2; // alice 0, then the add's order: bob 1, native 2
  const removal = alice.removeMember(nativeLeaf);
  alice.confirmCommit();
  bob.process(removal.commit);
  await send(relay, "alice", NATIVE, "commit", removal.commit);
  await waitNative(relay, "removed", (s) => s.removed === "true");
  alice.receiversReady();
  const after = encryptors.get(frames[0].codec).encrypt(frames[0].data);
  await send(relay, "alice", NATIVE, "frame", after, frames[0].codec);
  const final = await waitNative(relay, "a refused frame", (s) => Number(s.failed) === 1);
  log(`after its removal the native participant refused the next frame (${final.last_error})`);
  return { frames: seen, nativeOpened: Number(final.opened), nativeFailedAfterRemoval: Number(final.failed) };
}
