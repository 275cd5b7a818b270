// page.js: the test page. Participants, each with its own mlsframe worker (Session),
// RTCPeerConnections between them on 127.0.0.1, and the page as the MLS delivery service.
// The Node runner (../run-test.mjs) drives it through window.harness and judges the
// numbers and pixels it returns.

import { MlsframeClient, peerConnectionConfig } from "../../js/mlsframe-client.js";
import { WIDTH, HEIGHT, FPS, SAMPLE_POINTS, SAMPLE_RADIUS, draw } from "./pattern.js";

const params = new URLSearchParams(location.search);
const MODE = params.get("mode") ?? "script"; // "script" | "streams"
const FRAMING = params.get("framing") ?? "auto"; // "auto" (codec-aware from MIME type) | "whole"
const VIDEO = params.get("video") ?? "vp8"; // "vp8" | "h264"
// plain=1: no transform at all (the browser's own picture, a reference for the runner).
const PLAIN = params.get("plain") === "1";
const PACKAGE_URL =
  params.get("pkg") === "selftest-stub" ? "/test/selftest-stub/mlsframe_web.js" : "/pkg/mlsframe_web.js";

const T0 = performance.now();
const phaseNow = () => Math.floor((performance.now() - T0) / 1000) % 4;

const people = new Map(); // name -> {name, client, track, canvas}
const views = new Map(); // "receiver<-sender" -> {video, receiver, pc}
const reports = [];
const audioIn = new Map(); // "receiver<-sender" -> RTCRtpReceiver (audio)
let audioContext;
const audioEls = [];
const pcs = [];

function patternTrack(name) {
  const canvas = document.createElement("canvas");
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  canvas.title = name;
  document.getElementById("senders").append(canvas);
  const ctx = canvas.getContext("2d");
  let n = 0;
  draw(ctx, name, phaseNow(), n);
  setInterval(() => draw(ctx, name, phaseNow(), ++n), 1000 / FPS);
  return canvas.captureStream(FPS).getVideoTracks()[0];
}

// A steady tone per sender (its own pitch), so a receiver's audioLevel tells whether it
// decodes that sender's audio.
function toneTrack(name) {
  audioContext ??= new AudioContext();
  const osc = audioContext.createOscillator();
  osc.frequency.value = { alice: 440, bob: 550, carol: 660 }[name] ?? 330;
  const gain = audioContext.createGain();
  gain.gain.value = 0.5;
  const dest = audioContext.createMediaStreamDestination();
  osc.connect(gain).connect(dest);
  osc.start();
  return dest.stream.getAudioTracks()[0];
}

async function person(name, sends) {
  const client = await MlsframeClient.create({
    userId: name,
    deviceId: "browser",
    mode: MODE,
    packageUrl: PACKAGE_URL,
    onReport: (r) => reports.push({ who: name, at: Math.round(performance.now() - T0), ...r }),
  });
  const p = { name, client, tracks: sends ? [patternTrack(name), toneTrack(name)] : [] };
  people.set(name, p);
  return p;
}

// framing=whole: RFC 9605 over the whole frame (codec 0) for every track.
function transformOptions(label) {
  return FRAMING === "whole" ? { wholeFrame: true, label } : { codec: "auto", label };
}

const trackLabel = (base, kind) => (kind === "audio" ? `${base}:audio` : base);

// The one codec each kind is negotiated with (plus RTX for video): VP8, or H.264
// constrained baseline with packetization-mode 1; Opus.
function wanted(kind, c) {
  if (kind === "audio") return /^audio\/opus$/i.test(c.mimeType);
  if (/^video\/rtx$/i.test(c.mimeType)) return true;
  if (VIDEO === "h264") {
    return /^video\/H264$/i.test(c.mimeType) && /packetization-mode=1/.test(c.sdpFmtpLine ?? "") && /profile-level-id=42e01f/.test(c.sdpFmtpLine ?? "");
  }
  return /^video\/VP8$/i.test(c.mimeType);
}

// Waits for ICE gathering (host candidates only: no STUN/TURN servers) and returns the
// local description with every candidate but those on 127.0.0.1 removed, so the call
// runs on loopback only (no trickle: the page hands over complete descriptions).
async function loopbackDescription(pc) {
  if (pc.iceGatheringState !== "complete") {
    await new Promise((resolve) => {
      const t = setTimeout(resolve, 5000);
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") {
          clearTimeout(t);
          resolve();
        }
      });
    });
  }
  let kept = 0;
  let dropped = 0;
  const sdp = pc.localDescription.sdp
    .split("\r\n")
    .filter((line) => {
      if (!line.startsWith("a=candidate:")) return true;
      const loop = line.split(" ")[4] === "127.0.0.1";
      if (loop) kept++;
      else dropped++;
      return loop;
    })
    .join("\r\n");
  if (kept === 0) throw new Error(`no 127.0.0.1 candidate gathered: ${pc.localDescription.sdp}`);
  return { description: { type: pc.localDescription.type, sdp }, kept, dropped };
}

function addView(me, from, receiver, track) {
  const key = `${me.name}<-${from.name}`;
  const box = document.createElement("div");
  box.className = "view";
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  video.play().catch(() => {});
  const caption = document.createElement("div");
  caption.textContent = key;
  box.append(video, caption);
  document.getElementById("views").append(box);
  views.set(key, { video, receiver, me: me.name, from: from.name });
}

// One RTCPeerConnection pair between a and b; each side that has tracks sends them
// (video: the pattern, VP8 only; audio: a tone, Opus).
async function connect(a, b) {
  const cfg = peerConnectionConfig(MODE, { iceServers: [] });
  const pa = new RTCPeerConnection(cfg);
  const pb = new RTCPeerConnection(cfg);
  pcs.push(pa, pb);
  const attached = new Set();
  const attachReceiver = (me, from, receiver, kind) => {
    if (attached.has(receiver)) return;
    attached.add(receiver);
    if (PLAIN) return;
    me.client.attachReceiver(receiver, { kind, ...transformOptions(trackLabel(`${me.name}<-${from.name}`, kind)) });
  };
  const onTrack = (me, from) => (e) => {
    attachReceiver(me, from, e.receiver, e.track.kind);
    if (e.track.kind === "video") addView(me, from, e.receiver, e.track);
    else {
      // Played, so WebRTC pulls (decodes) it; the headless browser has no real output.
      const el = new Audio();
      el.srcObject = new MediaStream([e.track]);
      el.play().catch(() => {});
      audioIn.set(`${me.name}<-${from.name}`, e.receiver);
      audioEls.push(el);
    }
  };
  pa.ontrack = onTrack(a, b);
  pb.ontrack = onTrack(b, a);

  const sendAll = async (me, to, pc) => {
    for (const track of me.tracks) {
      const s = pc.addTrack(track);
      const kind = track.kind;
      if (!PLAIN) await me.client.attachSender(s, {
        context: kind === "audio" ? 0 : 1,
        kind,
        ...transformOptions(trackLabel(`${me.name}->${to.name}`, kind)),
      });
    }
  };
  if (a.tracks.length) await sendAll(a, b, pa);
  else for (const kind of ["video", "audio"]) pa.addTransceiver(kind, { direction: "recvonly" });
  for (const tr of pa.getTransceivers()) {
    const kind = tr.receiver.track.kind;
    // The offerer's receivers exist before negotiation: give them their transforms now,
    // before any frame can arrive (Chromium ignored a transform set later, in ontrack, on
    // the offerer's side).
    if (b.tracks.length) attachReceiver(a, b, tr.receiver, kind);
    tr.setCodecPreferences(RTCRtpReceiver.getCapabilities(kind).codecs.filter((c) => wanted(kind, c)));
  }
  await pa.setLocalDescription(await pa.createOffer());
  const offer = await loopbackDescription(pa);
  await pb.setRemoteDescription(offer.description);
  if (b.tracks.length) await sendAll(b, a, pb);
  await pb.setLocalDescription(await pb.createAnswer());
  const answer = await loopbackDescription(pb);
  await pa.setRemoteDescription(answer.description);
  return { pa, pb, ice: { offer: offer.kept, answer: answer.kept, droppedCandidates: offer.dropped + answer.dropped } };
}

// The page is the delivery service: it carries key packages, commits and welcomes.
async function formGroup(creator, joiners) {
  await creator.client.createGroup();
  const kps = [];
  for (const j of joiners) kps.push(await j.client.keyPackage());
  const { welcome, epoch } = await creator.client.addMembers(kps);
  await creator.client.confirmCommit();
  for (const j of joiners) await j.client.join(welcome);
  for (const p of [creator, ...joiners]) await p.client.receiversReady();
  return epoch;
}

function connected(pc) {
  return new Promise((resolve, reject) => {
    if (pc.connectionState === "connected") return resolve();
    const t = setTimeout(() => reject(new Error(`peer connection not connected: ${pc.connectionState}`)), 15000);
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "connected") {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

// Addresses of the candidate pair each connection uses.
async function selectedPair(pc) {
  const report = await pc.getStats();
  for (const s of report.values()) {
    if (s.type === "transport" && s.selectedCandidatePairId) {
      const pair = report.get(s.selectedCandidatePairId);
      const l = report.get(pair.localCandidateId);
      const r = report.get(pair.remoteCandidateId);
      return `${l.address}:${l.port}->${r.address}:${r.port}`;
    }
  }
  return undefined;
}

function samplePixels(video) {
  if (!video.videoWidth) return undefined;
  const c = document.createElement("canvas");
  c.width = WIDTH;
  c.height = HEIGHT;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(video, 0, 0, WIDTH, HEIGHT);
  return SAMPLE_POINTS.map(([x, y]) => {
    const d = ctx.getImageData(x - SAMPLE_RADIUS, y - SAMPLE_RADIUS, 2 * SAMPLE_RADIUS + 1, 2 * SAMPLE_RADIUS + 1).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += d[i + k];
    const n = d.length / 4;
    return sum.map((s) => Math.round(s / n));
  });
}

async function inboundStats(receiver) {
  const report = await receiver.getStats();
  for (const s of report.values()) {
    if (s.type === "inbound-rtp") {
      return {
        framesDecoded: s.framesDecoded ?? 0,
        keyFramesDecoded: s.keyFramesDecoded ?? 0,
        framesReceived: s.framesReceived ?? 0,
        framesDropped: s.framesDropped ?? 0,
        packetsReceived: s.packetsReceived ?? 0,
        bytesReceived: s.bytesReceived ?? 0,
        frameWidth: s.frameWidth,
        frameHeight: s.frameHeight,
        decoderImplementation: s.decoderImplementation,
        totalSamplesReceived: s.totalSamplesReceived,
        concealedSamples: s.concealedSamples,
        audioLevel: s.audioLevel,
        codecId: s.codecId,
      };
    }
  }
  return { framesDecoded: 0, packetsReceived: 0, missing: true };
}

window.harness = {
  mode: MODE,
  framing: FRAMING,
  transformModeAvailable: {
    script: typeof RTCRtpScriptTransform === "function",
    streams: typeof RTCRtpSender !== "undefined" && "createEncodedStreams" in RTCRtpSender.prototype,
  },

  /** members: names in the group (first creates it); outsiders: names never in it;
   *  links: [a, b] pairs to connect. */
  async setup({ members, outsiders = [], links }) {
    const senders = new Set([...members, ...links.flat().filter((n) => !outsiders.includes(n))]);
    for (const n of [...members, ...outsiders]) await person(n, senders.has(n));
    const epoch = await formGroup(people.get(members[0]), members.slice(1).map((n) => people.get(n)));
    const ice = [];
    for (const [a, b] of links) {
      const { ice: s } = await connect(people.get(a), people.get(b));
      ice.push({ link: `${a}-${b}`, ...s });
    }
    await Promise.all(pcs.map(connected));
    const leaves = {};
    for (const n of members) leaves[n] = (await people.get(n).client.info()).ownLeaf;
    return { epoch, leaves, ice, mode: MODE, framing: FRAMING };
  },

  async snapshot() {
    const out = { at: Math.round(performance.now() - T0), views: {}, workers: {} };
    for (const [key, v] of views) {
      const stats = await inboundStats(v.receiver);
      // The sender's phase at the moment the pixels are read (all senders share T0).
      const sampledAt = performance.now() - T0;
      out.views[key] = {
        stats,
        videoWidth: v.video.videoWidth,
        pixels: samplePixels(v.video),
        sampledAt: Math.round(sampledAt),
        senderPhase: Math.floor(sampledAt / 1000) % 4,
      };
    }
    out.audio = {};
    for (const [key, receiver] of audioIn) out.audio[key] = await inboundStats(receiver);
    for (const [name, p] of people) out.workers[name] = await p.client.stats();
    out.pcStates = pcs.map((pc) => pc.connectionState);
    out.pairs = await Promise.all(pcs.map(selectedPair));
    return out;
  },

  /** `committer` removes `who`; the page delivers the commit to every other member. */
  async remove(committer, who, others) {
    const leaf = (await people.get(who).client.info()).ownLeaf;
    const { commit } = await people.get(committer).client.removeMember(leaf);
    const outcomes = {};
    for (const n of [...others, who]) outcomes[n] = await people.get(n).client.process(commit);
    outcomes[committer] = { kind: "confirmed", epoch: await people.get(committer).client.confirmCommit() };
    // After a removal, members switch keys at once (forward secrecy against the leaver).
    for (const n of [committer, ...others]) await people.get(n).client.receiversReady();
    return outcomes;
  },

  reports: () => reports,
};
window.harnessReady = true;
