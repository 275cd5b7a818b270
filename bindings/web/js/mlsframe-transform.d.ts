// Types for mlsframe-transform.js: the frame logic, usable in a worker or on the main thread.
import type { CodecId, TransformOptions, TransformReport, WorkerStats } from "./mlsframe-client.js";

export const Codec: Readonly<{
  WHOLE_FRAME: 0;
  OPUS: 1;
  VP8: 2;
  VP9: 3;
  H264: 4;
  H265: 5;
  AV1: 6;
}>;

/** The codec id for an encoded frame's MIME type (e.g. "video/VP8" -> 2), or undefined. */
export function codecForMimeType(mimeType: string | undefined): CodecId | undefined;

/** 0 for "audio", 1 otherwise. */
export function defaultContext(kind: string | undefined): number;

/** The subset of the wasm Session the transforms use. */
export interface MediaSession {
  encryptor(context: number, codec: number): {
    encrypt(frame: Uint8Array): Uint8Array;
    takeKeyFrameRequest?(): boolean;
    free?(): void;
  };
  decryptor(): {
    decrypt(frame: Uint8Array, codec: number): Uint8Array;
    free?(): void;
  };
}

export class MediaTransforms {
  constructor(sessionProvider: () => MediaSession | undefined, options?: { onReport?: (report: TransformReport) => void });
  /** Pipes `readable` through a sealing ("send") or opening ("receive") transform into `writable`; returns its id. */
  attach(
    readable: ReadableStream,
    writable: WritableStream,
    options: TransformOptions & { role: "send" | "receive" },
    keyFrameRequester?: () => unknown,
  ): string;
  stats(): WorkerStats;
  dispose(): void;
}
