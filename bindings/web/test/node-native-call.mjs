// Runs native-call.mjs from Node against a running examples/web_peer.rs:
//   cargo run --example web_peer -- --port 8765 &
//   node bindings/web/test/node-native-call.mjs http://127.0.0.1:8765
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as mlsframe from "../pkg/mlsframe_web.js";
import { nativeCall } from "./native-call.mjs";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
await mlsframe.default({ module_or_path: readFileSync(here("../pkg/mlsframe_web_bg.wasm")) });
const ivf = readFileSync(here("../../../examples/media/video.ivf"));
const keyFrame = new Uint8Array(ivf.subarray(44, 44 + ivf.readUInt32LE(32)));
// An Opus-shaped frame: a TOC byte (RFC 6716 section 3.1: CELT fullband 20 ms, one frame)
// and payload bytes; the framing keeps the TOC byte clear.
const opus = new Uint8Array(80).map((_, i) => (i === 0 ? 0xfc : (i * 29) & 0xff));
const frames = [
  { codec: 0, data: new Uint8Array(1200).map((_, i) => i & 0xff) },
  { codec: 1, data: opus },
  { codec: 2, data: keyFrame },
];
const result = await nativeCall(mlsframe, process.argv[2] ?? "http://127.0.0.1:8765", frames, console.log);
console.log(JSON.stringify(result));
