// frame-cost.mjs under Node (V8, as in Chromium): node bindings/web/test/node-frame-cost.mjs
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import * as mlsframe from "../pkg/mlsframe_web.js";
import { frameCost } from "./frame-cost.mjs";

const wasm = readFileSync(fileURLToPath(new URL("../pkg/mlsframe_web_bg.wasm", import.meta.url)));
await mlsframe.default({ module_or_path: wasm });
for (const r of frameCost(mlsframe, () => performance.now())) {
  console.log(
    `${r.size} B: seal ${r.sealNs.toFixed(0)} ns, open ${r.openNs.toFixed(0)} ns, copies alone ${r.copiesNs.toFixed(0)} ns`,
  );
}
