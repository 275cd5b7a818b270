// pattern.js: the known moving test pattern and how to recognise it (page and Node runner).
// Each sender's picture is four solid quadrants coloured from its own palette of four; every
// second the colours rotate one step: at phase k quadrant q shows palette[(q + k) % 4].
// A strip at the bottom carries a bar that moves every frame, so every frame differs.
// All twelve colours are at least 100 apart on every channel difference (max-channel
// distance), so a quadrant's colour names the sender and the phase unambiguously.

export const WIDTH = 320;
export const HEIGHT = 240;
export const FPS = 15;
export const STRIP = 16; // bottom strip with the moving bar

export const PALETTES = {
  alice: [[230, 30, 30], [30, 230, 30], [30, 30, 230], [230, 230, 30]],
  bob: [[230, 30, 230], [30, 230, 230], [230, 130, 30], [230, 230, 230]],
  carol: [[130, 30, 230], [30, 130, 30], [230, 130, 230], [130, 130, 130]],
};

// Quadrant sample points (centres, away from block edges and from the strip).
const QH = (HEIGHT - STRIP) / 2;
export const SAMPLE_POINTS = [
  [WIDTH / 4, QH / 2],
  [(3 * WIDTH) / 4, QH / 2],
  [WIDTH / 4, QH + QH / 2],
  [(3 * WIDTH) / 4, QH + QH / 2],
];
export const SAMPLE_RADIUS = 4; // averages a 9x9 square

/** Largest per-channel difference of two RGB triples. */
export function distance(a, b) {
  return Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));
}

/** Largest distance at which a sample still names a palette colour. */
export const TOLERANCE = 45;
/** Largest colour error of a faithful picture: a plain VP8 decode of these flat blocks
 *  comes within 2-3 of the drawn colours here, so 15 leaves room and still catches a
 *  picture whose colours were mangled (the whole-frame case shifts them by up to ~30). */
export const FIDELITY = 15;

/**
 * Recognises four sampled quadrant colours: `{ok, sender, phase, detail}`; ok only when
 * all four quadrants are colours of one sender's palette in a consistent rotation.
 */
export function classify(samples) {
  if (!samples || samples.length !== 4) return { ok: false, detail: "no picture" };
  const hits = samples.map((rgb) => {
    let best;
    for (const [name, pal] of Object.entries(PALETTES)) {
      pal.forEach((c, i) => {
        const d = distance(rgb, c);
        if (!best || d < best.d) best = { name, i, d };
      });
    }
    return best.d <= TOLERANCE ? best : { name: null, d: best.d };
  });
  if (hits.some((h) => h.name === null)) {
    return { ok: false, detail: `unrecognised colours ${JSON.stringify(samples)}` };
  }
  const sender = hits[0].name;
  if (hits.some((h) => h.name !== sender)) {
    return { ok: false, detail: `mixed senders ${hits.map((h) => h.name).join(",")}` };
  }
  const phase = (hits[0].i + 4) % 4; // quadrant 0 shows palette[phase]
  const consistent = hits.every((h, q) => h.i === (q + phase) % 4);
  if (!consistent) return { ok: false, sender, detail: `inconsistent rotation ${hits.map((h) => h.i)}` };
  const maxError = Math.max(...hits.map((h) => h.d));
  return { ok: true, sender, phase, maxError, detail: `${sender} phase ${phase}, colour error ${maxError}` };
}

/** Draws frame `n` of `sender`'s pattern at `phase` into a 2D context. */
export function draw(ctx, sender, phase, n) {
  const pal = PALETTES[sender];
  const w2 = WIDTH / 2;
  for (let q = 0; q < 4; q++) {
    const [r, g, b] = pal[(q + phase) % 4];
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect((q % 2) * w2, Math.floor(q / 2) * QH, w2, QH);
  }
  ctx.fillStyle = "#000";
  ctx.fillRect(0, HEIGHT - STRIP, WIDTH, STRIP);
  ctx.fillStyle = "#fff";
  ctx.fillRect((n * 8) % WIDTH, HEIGHT - STRIP + 2, 16, STRIP - 4);
}
