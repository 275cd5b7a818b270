package org.mlsframe;

/**
 * How a stream's frames are framed ({@code mlsframe_codec}, see {@code docs/FRAMING.md}):
 * {@link #WHOLE} is whole-frame RFC 9605 SFrame (the default); the others keep the codec's
 * headers clear, for an SFU or packetizer to read, and authenticated with the layout. Both
 * ends name the same codec for a stream ({@link Session#encryptor(long, Codec)},
 * {@link Decryptor#decrypt(java.nio.ByteBuffer, java.nio.ByteBuffer, Codec)}); the codec
 * is authenticated, so a frame opened under another codec fails.
 */
public enum Codec {
    /** Whole-frame SFrame: nothing clear ({@code MLSFRAME_CODEC_WHOLE}, 0). */
    WHOLE(0),
    /** Opus: the TOC byte clear ({@code MLSFRAME_CODEC_OPUS}, 1). */
    OPUS(1),
    /** VP8: frame tag, key-frame start code and size clear ({@code MLSFRAME_CODEC_VP8}, 2). */
    VP8(2),
    /** VP9: uncompressed header to the frame size, superframe index clear ({@code MLSFRAME_CODEC_VP9}, 3). */
    VP9(3),
    /** H.264 Annex B: NAL headers, parameter sets, slice headers to the PPS id clear ({@code MLSFRAME_CODEC_H264}, 4). */
    H264(4),
    /** H.265 Annex B: NAL headers, parameter sets, slice headers to the PPS id clear ({@code MLSFRAME_CODEC_H265}, 5). */
    H265(5),
    /** AV1: OBU headers and sizes, sequence headers clear ({@code MLSFRAME_CODEC_AV1}, 6). */
    AV1(6);

    private final int id;

    Codec(int id) {
        this.id = id;
    }

    /** The C ABI's {@code mlsframe_codec} value. */
    public int id() {
        return id;
    }
}
