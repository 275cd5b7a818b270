// Types for mlsframe-client.js: the page-side handle on one participant's worker.

/** The transform API in use: RTCRtpScriptTransform, or createEncodedStreams() (older Chromium). */
export type TransformMode = "script" | "streams";

/** Codec id (the C ABI's mlsframe_codec): 0 whole frame, 1 Opus, 2 VP8, 3 VP9, 4 H.264, 5 H.265, 6 AV1. */
export type CodecId = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/** Which transform API this browser offers, if any. */
export function detectTransformMode(): TransformMode | undefined;

/** RTCPeerConnection configuration for `mode` (adds `encodedInsertableStreams: true` for "streams"). */
export function peerConnectionConfig(mode: TransformMode, base?: RTCConfiguration): RTCConfiguration;

/** An error thrown in the worker: `name` is the C ABI's code name (e.g. "MLSFRAME_NO_KEY"), `code` its number. */
export class MlsframeError extends Error {
  constructor(info: { name: string; code?: number; message: string });
  readonly code: number | undefined;
}

/** A commit to deliver: `commit` to every current member, `welcome` to the added ones. */
export interface CommitResult {
  commit: Uint8Array;
  welcome: Uint8Array | undefined;
  epoch: number;
}

/** What another member's MLS message meant. */
export interface ProcessOutcome {
  kind: "epoch_changed" | "removed" | "proposals_pending" | "policy_violation" | "ignored";
  epoch?: number;
  reason?: string;
}

export interface MembershipInfo {
  ownLeaf: number | undefined;
  epoch: number | undefined;
}

/** A problem the worker reports the first time it happens on a transform (counts are in stats()). */
export interface TransformReport {
  type: "error";
  id: string;
  label?: string;
  role: "send" | "receive";
  /** The C ABI's code name (e.g. "MLSFRAME_NO_KEY"), or NOT_READY, UNKNOWN_CODEC, CODEC_CONFLICT, PIPE_CLOSED, ATTACH_FAILED. */
  error: string;
  message?: string;
}

export interface TransformStats {
  id: string;
  label: string;
  role: "send" | "receive";
  context: number;
  codec: CodecId | "auto";
  /** Frames per codec id actually used. */
  codecsSeen: Record<string, number>;
  frames: number;
  /** Frames sealed (send) or opened (receive) and passed on. */
  passed: number;
  /** Frames not passed on (never reach the packetizer or the decoder). */
  dropped: number;
  /** Empty frames passed through untouched. */
  empty: number;
  /** Dropped frames by error name. */
  errors: Record<string, number>;
  lastError: string | undefined;
  keyFrameRequests: number;
  /** REPLAY drops of a frame whose RTP timestamp had just been opened (a repeat WebRTC delivered twice). */
  replaysOfPassed: number;
  closed: boolean;
}

export interface WorkerStats {
  transforms: TransformStats[];
}

export interface ClientOptions {
  userId: string;
  deviceId?: string;
  /** Default "auto": RTCRtpScriptTransform when present, else createEncodedStreams. */
  mode?: TransformMode | "auto";
  /** Default: mlsframe-worker.js next to this module. */
  workerUrl?: string | URL;
  /** The wasm-bindgen module; default: ../pkg/mlsframe_web.js relative to the worker. */
  packageUrl?: string | URL;
  /** When > 0, the worker posts its stats this often (to onStats). */
  statsIntervalMs?: number;
  onReport?: (report: TransformReport) => void;
  onStats?: (stats: WorkerStats) => void;
}

export interface TransformOptions {
  /** Stream context (0 audio, 1 video, ...); default from the track kind. Senders of one context share an encryptor. */
  context?: number;
  /** A codec id, or "auto" (default): from each frame's MIME type; unknown types are dropped. */
  codec?: CodecId | "auto";
  /** Force whole-frame SFrame (codec 0). */
  wholeFrame?: boolean;
  /** Name used in stats and reports. */
  label?: string;
  kind?: "audio" | "video";
  id?: string;
}

export class MlsframeClient {
  /** Starts the worker and creates the participant's Session in it. */
  static create(options: ClientOptions): Promise<MlsframeClient>;
  private constructor(options: ClientOptions);
  readonly mode: TransformMode;
  readonly userId: string;
  readonly worker: Worker;
  onReport: ((report: TransformReport) => void) | undefined;
  onStats: ((stats: WorkerStats) => void) | undefined;

  keyPackage(): Promise<Uint8Array>;
  createGroup(): Promise<MembershipInfo>;
  addMembers(keyPackages: Uint8Array[]): Promise<CommitResult>;
  confirmCommit(): Promise<number>;
  join(welcome: Uint8Array): Promise<number>;
  process(message: Uint8Array): Promise<ProcessOutcome>;
  removeMember(leaf: number): Promise<CommitResult>;
  selfUpdate(): Promise<CommitResult>;
  discardCommit(): Promise<void>;
  securityCode(): Promise<string>;
  receiversReady(): Promise<void>;
  info(): Promise<MembershipInfo>;
  stats(): Promise<WorkerStats>;

  /**
   * Seals everything `sender` sends; resolves to the transform id. Attach transforms before
   * negotiation where possible: on the offerer's side give each transceiver's receiver its
   * transform before applying the answer (js/README.md).
   */
  attachSender(sender: RTCRtpSender, options?: TransformOptions): Promise<string>;
  /** Opens everything `receiver` receives; failed frames never reach the decoder. */
  attachReceiver(receiver: RTCRtpReceiver, options?: TransformOptions): Promise<string>;
  /** Frees the Session and terminates the worker. */
  close(): Promise<void>;
}
