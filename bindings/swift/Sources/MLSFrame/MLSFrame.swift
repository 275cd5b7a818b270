// Small Swift classes over the mlsframe C ABI: every handle is owned by one object whose
// deinit frees it, failures throw MLSFrameError, bytes are Data. One Session per device,
// driven from one thread (an actor or a serial queue); Encryptor and Decryptor from any
// thread, and each outlives its Session. Not compiled in CI: see README.md.
import CMLSFrame
import Foundation

/// A failed call: the C result code and its static description (never secret).
public struct MLSFrameError: Error, CustomStringConvertible {
    public let code: UInt32
    public var description: String { String(cString: mlsframe_result_message(code)) }

    /// No key for the frame yet (MLSFRAME_NO_KEY): keep the stream, the key may arrive.
    public var isRecoverable: Bool { code == 200 }
    /// We are not (or no longer) a member (MLSFRAME_NOT_MEMBER).
    public var isNotMember: Bool { code == 300 }
}

@inline(__always)
private func check(_ rc: UInt32) throws {
    if rc != 0 { throw MLSFrameError(code: rc) }
}

extension Data {
    /// The bytes as (pointer, length) for a C call; NULL with 0 when empty.
    fileprivate func withBytes<R>(_ body: (UnsafePointer<UInt8>?, Int) throws -> R) rethrows -> R {
        try withUnsafeBytes { raw in try body(raw.bindMemory(to: UInt8.self).baseAddress, raw.count) }
    }
}

/// Copies a library-owned buffer into Data, then wipes and frees it.
private func take(_ buf: inout mlsframe_buffer) -> Data {
    defer { mlsframe_buffer_free(&buf) }
    guard let p = buf.data, buf.len > 0 else { return Data() }
    return Data(bytes: p, count: buf.len)
}

/// Calls `body` with an empty buffer and returns its bytes, or throws its code.
private func buffer(_ body: (UnsafeMutablePointer<mlsframe_buffer>) -> UInt32) throws -> Data {
    var buf = mlsframe_buffer(data: nil, len: 0)
    let rc = body(&buf)
    let bytes = take(&buf)
    try check(rc)
    return bytes
}

/// One device's MLS membership.
public final class Session {
    let handle: OpaquePointer

    private init(handle: OpaquePointer) { self.handle = handle }

    /// A session with an Ed25519 identity; `seed` nil (a fresh key) or the 32 bytes the app
    /// persists.
    public convenience init(userId: Data, deviceId: Data, seed: Data? = nil) throws {
        var out: OpaquePointer?
        let seedBytes = seed ?? Data()
        let rc = userId.withBytes { u, ul in
            deviceId.withBytes { d, dl in
                seedBytes.withBytes { s, sl in mlsframe_session_new(u, ul, d, dl, s, sl, nil, &out) }
            }
        }
        try check(rc)
        self.init(handle: out!)
    }

    /// A session from `snapshot()` bytes.
    public static func restore(_ snapshot: Data) throws -> Session {
        var out: OpaquePointer?
        try check(snapshot.withBytes { p, n in mlsframe_session_restore(p, n, nil, &out) })
        return Session(handle: out!)
    }

    deinit { mlsframe_session_free(handle) }

    /// Secret: encrypt it at rest.
    public func snapshot() throws -> Data { try buffer { mlsframe_session_snapshot(handle, $0) } }
    public func keyPackage() throws -> Data { try buffer { mlsframe_session_key_package(handle, $0) } }

    public func createGroup(sframeSuite: UInt16 = 4, epochBits: UInt8 = 4,
                            plaintextHandshake: Bool = false) throws {
        try check(mlsframe_session_create_group(handle, sframeSuite, epochBits, plaintextHandshake))
    }

    /// Joins from a welcome; the joined epoch.
    @discardableResult
    public func join(welcome: Data) throws -> UInt64 {
        var epoch: UInt64 = 0
        try check(welcome.withBytes { p, n in mlsframe_session_join(handle, p, n, &epoch) })
        return epoch
    }

    /// Adds members in one pending commit: send `commit` to the group, `welcome` to them,
    /// then `confirmCommit()` once the delivery service accepts it.
    public func addMembers(keyPackages: [Data]) throws -> (commit: Data, welcome: Data) {
        // Copies that stay alive for the call.
        let copies = keyPackages.map { [UInt8]($0) }
        var commit = mlsframe_buffer(data: nil, len: 0)
        var welcome = mlsframe_buffer(data: nil, len: 0)
        let rc = withPointers(copies) { ptrs in
            let lens = copies.map { $0.count }
            return mlsframe_session_add_members(handle, ptrs, lens, copies.count, &commit, &welcome)
        }
        let result = (commit: take(&commit), welcome: take(&welcome))
        try check(rc)
        return result
    }

    public func removeMember(leaf: UInt32) throws -> Data {
        try buffer { mlsframe_session_remove_member(handle, leaf, $0) }
    }
    public func selfUpdate() throws -> Data { try buffer { mlsframe_session_self_update(handle, $0) } }
    public func confirmCommit() throws { try check(mlsframe_session_confirm_commit(handle)) }
    public func discardCommit() throws { try check(mlsframe_session_discard_commit(handle)) }

    /// Processes an incoming MLS message; `kind` is an MLSFRAME_OUTCOME_* value.
    public func process(_ message: Data) throws -> mlsframe_outcome {
        var outcome = mlsframe_outcome()
        try check(message.withBytes { p, n in mlsframe_session_process(handle, p, n, &outcome) })
        return outcome
    }

    public func epoch() throws -> (epoch: UInt64, ownLeaf: UInt32) {
        var epoch: UInt64 = 0
        var leaf: UInt32 = 0
        try check(mlsframe_session_epoch(handle, &epoch, &leaf))
        return (epoch, leaf)
    }

    /// Digits in groups of five, the same at every member: compare out of band.
    public func securityCode() throws -> String {
        String(decoding: try buffer { mlsframe_session_security_code(handle, $0) }, as: UTF8.self)
    }

    /// An encryptor for our stream `context` (0 audio, 1 video, ...), framing each frame
    /// for `codec` (docs/FRAMING.md; `.whole` is whole-frame RFC 9605).
    public func encryptor(context: UInt64, codec: Codec = .whole) throws -> Encryptor {
        var out: OpaquePointer?
        try check(mlsframe_session_encryptor_new_with_codec(handle, context, codec.rawValue, &out))
        return Encryptor(handle: out!)
    }

    public func decryptor() throws -> Decryptor {
        var out: OpaquePointer?
        try check(mlsframe_session_decryptor_new(handle, &out))
        return Decryptor(handle: out!)
    }
}

/// How a stream's frames are framed: whole-frame RFC 9605, or codec-aware with the codec's
/// headers left clear and authenticated (the C enum `mlsframe_codec`, docs/FRAMING.md).
/// The receiver is told the codec of each stream; a frame never opens in another mode.
public enum Codec: UInt32 {
    case whole = 0, opus = 1, vp8 = 2, vp9 = 3, h264 = 4, h265 = 5, av1 = 6
}

/// Calls `body` with a C array of pointers to each element's bytes.
private func withPointers<R>(_ arrays: [[UInt8]],
                             _ body: (UnsafePointer<UnsafePointer<UInt8>?>?) -> R) -> R {
    func go(_ i: Int, _ acc: [UnsafePointer<UInt8>?]) -> R {
        if i == arrays.count { return acc.withUnsafeBufferPointer { body($0.baseAddress) } }
        return arrays[i].withUnsafeBufferPointer { go(i + 1, acc + [$0.baseAddress]) }
    }
    return go(0, [])
}

/// Seals frames of one of our streams. Any thread.
public final class Encryptor {
    let handle: OpaquePointer
    init(handle: OpaquePointer) { self.handle = handle }
    deinit { mlsframe_encryptor_free(handle) }

    public func maxCiphertextSize(_ frameSize: Int) -> Int {
        mlsframe_encryptor_max_ciphertext_size(handle, frameSize)
    }

    public func encrypt(_ frame: Data, additionalData: Data = Data()) throws -> Data {
        var out = Data(count: maxCiphertextSize(frame.count))
        var written = 0
        let rc = frame.withBytes { f, fl in
            additionalData.withBytes { a, al in
                out.withUnsafeMutableBytes { o in
                    mlsframe_encryptor_encrypt(handle, f, fl, a, al,
                                               o.bindMemory(to: UInt8.self).baseAddress, o.count,
                                               &written)
                }
            }
        }
        try check(rc)
        out.count = written
        return out
    }
}

/// Opens other members' frames. Any thread.
public final class Decryptor {
    let handle: OpaquePointer
    init(handle: OpaquePointer) { self.handle = handle }
    deinit { mlsframe_decryptor_free(handle) }

    /// The plaintext and who sealed it (epoch, leaf, context: claimed within the group).
    /// Throws MLSFrameError; `isRecoverable` (NO_KEY) means the key may still arrive.
    public func decrypt(_ frame: Data, additionalData: Data = Data(), codec: Codec = .whole) throws
        -> (plaintext: Data, sender: mlsframe_sender)
    {
        var out = Data(count: mlsframe_decryptor_max_plaintext_size(handle, frame.count))
        var written = 0
        var sender = mlsframe_sender()
        let rc = frame.withBytes { f, fl in
            additionalData.withBytes { a, al in
                out.withUnsafeMutableBytes { o in
                    mlsframe_decryptor_decrypt_codec(handle, codec.rawValue, f, fl, a, al,
                                                     o.bindMemory(to: UInt8.self).baseAddress,
                                                     o.count, &written, &sender)
                }
            }
        }
        try check(rc)
        out.count = written
        return (out, sender)
    }
}
