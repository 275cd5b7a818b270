// A module worker that measures the web build's per-frame cost where the transform runs:
// in a worker (test/frame-cost.mjs). Posts {results} or {error}.
import * as mlsframe from "../../pkg/mlsframe_web.js";
import { frameCost } from "../frame-cost.mjs";

self.onmessage = async () => {
  try {
    await mlsframe.default();
    postMessage({ results: frameCost(mlsframe, () => performance.now()) });
  } catch (e) {
    postMessage({ error: String(e?.stack ?? e) });
  }
};
