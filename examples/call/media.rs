//! The call demo's sample media: owns reading the bundled files in `examples/media/`
//! (VP8 frames from an IVF file, Opus packets from an Ogg file) and writing IVF files for
//! the decoder check.
//!
//! Ogg is read with the `ogg` crate. IVF is parsed and written here by hand: the format is
//! a 32-byte file header plus a 12-byte header per frame, and the one crate for it (`ivf`)
//! writes the AV1 fourcc unconditionally and panics on I/O errors.

use std::fs::File;
use std::io::{self, BufWriter, Cursor, Write};
use std::path::Path;

/// The bundled video: 10 s of 640x360 VP8 at 30 fps (see `examples/media/README.md`).
const VIDEO_IVF: &[u8] = include_bytes!("../media/video.ivf");
/// The bundled audio: 10 s of mono Opus in 20 ms packets.
const AUDIO_OGG: &[u8] = include_bytes!("../media/audio.opus");

/// Size of the IVF file header.
const IVF_HEADER_LEN: usize = 32;
/// Size of the header in front of each IVF frame.
const IVF_FRAME_HEADER_LEN: usize = 12;

/// The IVF file header fields a writer needs to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfHeader {
    /// Codec fourcc, `VP80` here.
    pub fourcc: [u8; 4],
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Time base denominator (frames per second when `scale` is 1).
    pub rate: u32,
    /// Time base numerator.
    pub scale: u32,
}

impl IvfHeader {
    /// Milliseconds between frame `index` and frame 0, from the time base.
    pub fn frame_time_ms(&self, index: u64) -> u64 {
        index * 1000 * u64::from(self.scale) / u64::from(self.rate.max(1))
    }
}

/// A parsed IVF file: its header and every frame's payload, in file order.
#[derive(Debug, Clone)]
pub struct IvfFile {
    /// The file header.
    pub header: IvfHeader,
    /// Frame payloads (one encoded video frame each).
    pub frames: Vec<Vec<u8>>,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses an IVF file.
///
/// # Errors
/// A description of what is wrong when the bytes are not a complete IVF file.
pub fn parse_ivf(bytes: &[u8]) -> Result<IvfFile, String> {
    if bytes.len() < IVF_HEADER_LEN || &bytes[..4] != b"DKIF" {
        return Err("not an IVF file (no DKIF signature)".into());
    }
    let header_len = usize::from(le16(bytes, 6));
    if header_len < IVF_HEADER_LEN || header_len > bytes.len() {
        return Err(format!("bad IVF header length {header_len}"));
    }
    let header = IvfHeader {
        fourcc: [bytes[8], bytes[9], bytes[10], bytes[11]],
        width: le16(bytes, 12),
        height: le16(bytes, 14),
        rate: le32(bytes, 16),
        scale: le32(bytes, 20),
    };
    let mut frames = Vec::new();
    let mut at = header_len;
    while at < bytes.len() {
        if bytes.len() - at < IVF_FRAME_HEADER_LEN {
            return Err(format!("truncated IVF frame header at byte {at}"));
        }
        let len = usize::try_from(le32(bytes, at)).map_err(|_| "frame too large")?;
        let start = at + IVF_FRAME_HEADER_LEN;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| format!("truncated IVF frame at byte {at}"))?;
        frames.push(bytes[start..end].to_vec());
        at = end;
    }
    Ok(IvfFile { header, frames })
}

/// Writes an IVF file with `header` and the given `(pts, payload)` frames.
///
/// # Errors
/// I/O errors, and frames or counts too large for IVF's 32-bit fields.
pub fn write_ivf<'a>(
    path: &Path,
    header: &IvfHeader,
    frames: impl ExactSizeIterator<Item = (u64, &'a [u8])>,
) -> io::Result<()> {
    let too_large = |_| io::Error::new(io::ErrorKind::InvalidInput, "too large for IVF");
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"DKIF")?;
    out.write_all(&0u16.to_le_bytes())?; // version
    out.write_all(&32u16.to_le_bytes())?; // header length
    out.write_all(&header.fourcc)?;
    out.write_all(&header.width.to_le_bytes())?;
    out.write_all(&header.height.to_le_bytes())?;
    out.write_all(&header.rate.to_le_bytes())?;
    out.write_all(&header.scale.to_le_bytes())?;
    out.write_all(
        &u32::try_from(frames.len())
            .map_err(too_large)?
            .to_le_bytes(),
    )?;
    out.write_all(&0u32.to_le_bytes())?; // unused
    for (pts, payload) in frames {
        out.write_all(
            &u32::try_from(payload.len())
                .map_err(too_large)?
                .to_le_bytes(),
        )?;
        out.write_all(&pts.to_le_bytes())?;
        out.write_all(payload)?;
    }
    out.flush()
}

/// The Opus packets of an Ogg Opus file, without the two header packets
/// (`OpusHead`, `OpusTags`), in stream order.
///
/// # Errors
/// A description of what is wrong when the bytes are not an Ogg Opus stream.
pub fn opus_packets(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut reader = ogg::reading::PacketReader::new(Cursor::new(bytes));
    let mut packets = Vec::new();
    while let Some(packet) = reader.read_packet().map_err(|e| format!("Ogg: {e}"))? {
        packets.push(packet.data);
    }
    if packets.len() < 2 || !packets[0].starts_with(b"OpusHead") {
        return Err("not an Ogg Opus stream (no OpusHead)".into());
    }
    if !packets[1].starts_with(b"OpusTags") {
        return Err("Ogg Opus stream without OpusTags".into());
    }
    Ok(packets.split_off(2))
}

/// Duration in milliseconds of one Opus packet, from its TOC byte (RFC 6716 §3.1).
pub fn opus_packet_ms(packet: &[u8]) -> Option<f64> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    let frame_ms = match config {
        0..=11 => [10.0, 20.0, 40.0, 60.0][usize::from(config % 4)],
        12..=15 => [10.0, 20.0][usize::from(config % 2)],
        _ => [2.5, 5.0, 10.0, 20.0][usize::from(config % 4)],
    };
    let frames = match toc & 0x03 {
        0 => 1.0,
        1 | 2 => 2.0,
        _ => f64::from(packet.get(1)? & 0x3f),
    };
    Some(frame_ms * frames)
}

/// The media every simulated participant sends: the bundled VP8 video and Opus audio.
#[derive(Debug, Clone)]
pub struct SampleMedia {
    /// VP8 frames and their IVF header.
    pub video: IvfFile,
    /// Opus packets, 20 ms each.
    pub audio: Vec<Vec<u8>>,
}

impl SampleMedia {
    /// Loads the bundled files (compiled into the binary).
    ///
    /// # Errors
    /// When a bundled file does not parse or is empty.
    pub fn bundled() -> Result<SampleMedia, String> {
        let video = parse_ivf(VIDEO_IVF).map_err(|e| format!("examples/media/video.ivf: {e}"))?;
        let audio =
            opus_packets(AUDIO_OGG).map_err(|e| format!("examples/media/audio.opus: {e}"))?;
        if video.frames.is_empty() || audio.is_empty() {
            return Err("bundled media has no frames".into());
        }
        if let Some(bad) = audio.iter().find(|p| opus_packet_ms(p) != Some(20.0)) {
            return Err(format!(
                "examples/media/audio.opus: a packet lasts {:?} ms, not 20",
                opus_packet_ms(bad)
            ));
        }
        Ok(SampleMedia { video, audio })
    }

    /// Total bytes of the bundled files.
    pub fn bundled_bytes() -> usize {
        VIDEO_IVF.len() + AUDIO_OGG.len()
    }
}
