// mlsframe.hpp: a header-only C++17 wrapper over the mlsframe C ABI (include/mlsframe.h).
// It owns every handle and buffer (move-only RAII), views caller bytes as pointer + size,
// and reports failures two ways: a non-throwing core (`try_*` methods returning
// `mlsframe::Result<T>`, usable with -fno-exceptions) and, when exceptions are enabled,
// throwing conveniences of the same names without `try_` (they throw `mlsframe::Error`).
//
// Every C export this header maps appears below qualified, as `::mlsframe_...` (and only
// exports are written that way), and every result code as a `Code` enumerator
// `= MLSFRAME_...,`: bindings/cpp/check_coverage.py
// compares both lists with include/mlsframe.h and fails on anything unmapped.
//
// Rules of the C ABI carry over (README, "Integrating from C"): a Session is driven from
// one thread at a time; Encryptor and Decryptor from any thread (calls on one handle are
// serialized by its own lock); each outlives the Session that made it. Buffer wipes its bytes when it is destroyed.
#ifndef MLSFRAME_HPP
#define MLSFRAME_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mlsframe.h"

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define MLSFRAME_CPP_EXCEPTIONS 1
#include <stdexcept>
#else
#define MLSFRAME_CPP_EXCEPTIONS 0
#endif

namespace mlsframe {

/// Every `mlsframe_result`, by name. Values are the C codes (stable, grouped by range).
enum class Code : uint32_t {
    Ok = MLSFRAME_OK,
    NullArgument = MLSFRAME_NULL_ARGUMENT,
    InvalidArgument = MLSFRAME_INVALID_ARGUMENT,
    BufferTooSmall = MLSFRAME_BUFFER_TOO_SMALL,
    InvalidConfig = MLSFRAME_INVALID_CONFIG,
    UnsupportedCodec = MLSFRAME_UNSUPPORTED_CODEC,
    NoKey = MLSFRAME_NO_KEY,
    AuthFailed = MLSFRAME_AUTH_FAILED,
    Replay = MLSFRAME_REPLAY,
    Malformed = MLSFRAME_MALFORMED,
    UnknownSender = MLSFRAME_UNKNOWN_SENDER,
    Superseded = MLSFRAME_SUPERSEDED,
    TooManyStreams = MLSFRAME_TOO_MANY_STREAMS,
    MalformedLayout = MLSFRAME_MALFORMED_LAYOUT,
    NotMember = MLSFRAME_NOT_MEMBER,
    CounterExhausted = MLSFRAME_COUNTER_EXHAUSTED,
    ContextInUse = MLSFRAME_CONTEXT_IN_USE,
    ContextTooLarge = MLSFRAME_CONTEXT_TOO_LARGE,
    UnknownSuite = MLSFRAME_UNKNOWN_SUITE,
    DuplicateKey = MLSFRAME_DUPLICATE_KEY,
    RekeyRequired = MLSFRAME_REKEY_REQUIRED,
    NoSendKey = MLSFRAME_NO_SEND_KEY,
    StartCodeEmulation = MLSFRAME_START_CODE_EMULATION,
    LayoutTooLarge = MLSFRAME_LAYOUT_TOO_LARGE,
    MlsMalformed = MLSFRAME_MLS_MALFORMED,
    MlsUnexpectedMessage = MLSFRAME_MLS_UNEXPECTED_MESSAGE,
    MlsInvalidKeyPackage = MLSFRAME_MLS_INVALID_KEY_PACKAGE,
    MlsInvalidIdentity = MLSFRAME_MLS_INVALID_IDENTITY,
    MlsWrongGroup = MLSFRAME_MLS_WRONG_GROUP,
    MlsWrongEpoch = MLSFRAME_MLS_WRONG_EPOCH,
    MlsRejected = MLSFRAME_MLS_REJECTED,
    MlsInvalidWelcome = MLSFRAME_MLS_INVALID_WELCOME,
    MlsInvalidParams = MLSFRAME_MLS_INVALID_PARAMS,
    MlsNoGroup = MLSFRAME_MLS_NO_GROUP,
    MlsAlreadyInGroup = MLSFRAME_MLS_ALREADY_IN_GROUP,
    MlsNotMember = MLSFRAME_MLS_NOT_MEMBER,
    MlsTerminated = MLSFRAME_MLS_TERMINATED,
    MlsCommitPending = MLSFRAME_MLS_COMMIT_PENDING,
    MlsNoPendingCommit = MLSFRAME_MLS_NO_PENDING_COMMIT,
    MlsAdmissionRefused = MLSFRAME_MLS_ADMISSION_REFUSED,
    MlsUnknownMember = MLSFRAME_MLS_UNKNOWN_MEMBER,
    MlsDuplicateMember = MLSFRAME_MLS_DUPLICATE_MEMBER,
    MlsCannotRemoveSelf = MLSFRAME_MLS_CANNOT_REMOVE_SELF,
    MlsWireFormat = MLSFRAME_MLS_WIRE_FORMAT,
    MlsDuplicateProposal = MLSFRAME_MLS_DUPLICATE_PROPOSAL,
    MlsTooManyProposals = MLSFRAME_MLS_TOO_MANY_PROPOSALS,
    MlsMessageTooLarge = MLSFRAME_MLS_MESSAGE_TOO_LARGE,
    MlsWelcomeTooLarge = MLSFRAME_MLS_WELCOME_TOO_LARGE,
    MlsKeyPackageTooLarge = MLSFRAME_MLS_KEY_PACKAGE_TOO_LARGE,
    MlsGroupFull = MLSFRAME_MLS_GROUP_FULL,
    MlsMissingRatchetTree = MLSFRAME_MLS_MISSING_RATCHET_TREE,
    MlsInvalidRatchetTree = MLSFRAME_MLS_INVALID_RATCHET_TREE,
    MlsUnsupportedCiphersuite = MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE,
    MlsCiphersuiteMismatch = MLSFRAME_MLS_CIPHERSUITE_MISMATCH,
    MlsMissingCapability = MLSFRAME_MLS_MISSING_CAPABILITY,
    MlsParamsChangeRefused = MLSFRAME_MLS_PARAMS_CHANGE_REFUSED,
    MlsUnsupportedProposal = MLSFRAME_MLS_UNSUPPORTED_PROPOSAL,
    MlsInvalidGroupInfo = MLSFRAME_MLS_INVALID_GROUP_INFO,
    MlsGroupInfoTooLarge = MLSFRAME_MLS_GROUP_INFO_TOO_LARGE,
    MlsUnauthorizedExternalSender = MLSFRAME_MLS_UNAUTHORIZED_EXTERNAL_SENDER,
    MlsForeignCredential = MLSFRAME_MLS_FOREIGN_CREDENTIAL,
    MlsInvalidSigningKey = MLSFRAME_MLS_INVALID_SIGNING_KEY,
    MlsUnsupportedSignatureAlgorithm = MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM,
    Panic = MLSFRAME_PANIC,
    Internal = MLSFRAME_INTERNAL,
};

/// A stream's framing (`mlsframe_codec`, docs/FRAMING.md): Whole is whole-frame SFrame; the
/// others keep the codec's headers clear and authenticated. Both ends name it per stream.
enum class Codec : uint32_t {
    Whole = MLSFRAME_CODEC_WHOLE,
    Opus = MLSFRAME_CODEC_OPUS,
    Vp8 = MLSFRAME_CODEC_VP8,
    Vp9 = MLSFRAME_CODEC_VP9,
    H264 = MLSFRAME_CODEC_H264,
    H265 = MLSFRAME_CODEC_H265,
    Av1 = MLSFRAME_CODEC_AV1,
};

/// A static English description of `code` (never null, never secret).
inline const char *message(Code code) noexcept {
    return ::mlsframe_result_message(static_cast<uint32_t>(code));
}

inline Code to_code(mlsframe_result result) noexcept { return static_cast<Code>(result); }

#if MLSFRAME_CPP_EXCEPTIONS
/// What the throwing conveniences throw: the code and its static message.
class Error : public std::runtime_error {
  public:
    explicit Error(Code code) : std::runtime_error(message(code)), code_(code) {}
    Code code() const noexcept { return code_; }

  private:
    Code code_;
};
#endif

/// Either a `T` (code `Code::Ok`) or a failure code: the non-throwing core's return type.
template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) noexcept : value_(std::move(value)), code_(Code::Ok) {}
    Result(Code code) noexcept : code_(code) {}

    bool ok() const noexcept { return code_ == Code::Ok; }
    explicit operator bool() const noexcept { return ok(); }
    Code code() const noexcept { return code_; }
    /// The value; only meaningful when ok() (a failed result holds a default `T`).
    T &operator*() & noexcept { return value_; }
    const T &operator*() const & noexcept { return value_; }
    T &&operator*() && noexcept { return std::move(value_); }
    T *operator->() noexcept { return &value_; }
    const T *operator->() const noexcept { return &value_; }
#if MLSFRAME_CPP_EXCEPTIONS
    /// The value, or throws Error.
    T value() && {
        if (!ok()) throw Error(code_);
        return std::move(value_);
    }
#endif

  private:
    T value_{};
    Code code_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result(Code code = Code::Ok) noexcept : code_(code) {}
    bool ok() const noexcept { return code_ == Code::Ok; }
    explicit operator bool() const noexcept { return ok(); }
    Code code() const noexcept { return code_; }
#if MLSFRAME_CPP_EXCEPTIONS
    void value() const {
        if (!ok()) throw Error(code_);
    }
#endif

  private:
    Code code_;
};

/// Read-only bytes the caller owns: pointer + size (what `std::span<const uint8_t>` is in
/// C++20). Views never own: keep the bytes alive for the call.
class Bytes {
  public:
    constexpr Bytes() noexcept = default;
    constexpr Bytes(const uint8_t *data, size_t size) noexcept : data_(data), size_(size) {}
    Bytes(const std::vector<uint8_t> &v) noexcept : data_(v.data()), size_(v.size()) {}
    Bytes(const std::string &s) noexcept
        : data_(reinterpret_cast<const uint8_t *>(s.data())), size_(s.size()) {}
    Bytes(const char *text) noexcept
        : data_(reinterpret_cast<const uint8_t *>(text)), size_(text ? std::strlen(text) : 0) {}
    constexpr const uint8_t *data() const noexcept { return data_; }
    constexpr size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }

  private:
    const uint8_t *data_ = nullptr;
    size_t size_ = 0;
};

/// Writable bytes the caller owns (an output buffer and its capacity).
class MutableBytes {
  public:
    constexpr MutableBytes() noexcept = default;
    constexpr MutableBytes(uint8_t *data, size_t size) noexcept : data_(data), size_(size) {}
    MutableBytes(std::vector<uint8_t> &v) noexcept : data_(v.data()), size_(v.size()) {}
    constexpr uint8_t *data() const noexcept { return data_; }
    constexpr size_t size() const noexcept { return size_; }

  private:
    uint8_t *data_ = nullptr;
    size_t size_ = 0;
};

/// Bytes the library owns (an `mlsframe_buffer`): move-only, wiped and freed on destruction.
class Buffer {
  public:
    Buffer() noexcept = default;
    ~Buffer() { ::mlsframe_buffer_free(&buf_); }
    Buffer(Buffer &&other) noexcept : buf_(other.buf_) { other.buf_ = {nullptr, 0}; }
    Buffer &operator=(Buffer &&other) noexcept {
        if (this != &other) {
            ::mlsframe_buffer_free(&buf_);
            buf_ = other.buf_;
            other.buf_ = {nullptr, 0};
        }
        return *this;
    }
    Buffer(const Buffer &) = delete;
    Buffer &operator=(const Buffer &) = delete;

    const uint8_t *data() const noexcept { return buf_.data; }
    size_t size() const noexcept { return buf_.len; }
    bool empty() const noexcept { return buf_.len == 0; }
    Bytes view() const noexcept { return Bytes(buf_.data, buf_.len); }
    operator Bytes() const noexcept { return view(); }
    std::vector<uint8_t> to_vector() const { return std::vector<uint8_t>(data(), data() + size()); }
    std::string to_string() const {
        return std::string(reinterpret_cast<const char *>(data()), size());
    }
    /// The C out-parameter: frees what it held, then hands the empty buffer to a call.
    mlsframe_buffer *out() noexcept {
        ::mlsframe_buffer_free(&buf_);
        return &buf_;
    }

  private:
    mlsframe_buffer buf_{nullptr, 0};
};

using SessionConfig = mlsframe_session_config;
using IdentityOptions = mlsframe_identity_options;
using GroupParams = mlsframe_group_params;
using GroupOptions = mlsframe_group_options;
using ExternalSender = mlsframe_external_sender;
using Candidate = mlsframe_candidate;
using Outcome = mlsframe_outcome;
using Sender = mlsframe_sender;
using EncryptorStats = mlsframe_encryptor_stats;
using DecryptorStats = mlsframe_decryptor_stats;

/// A member's user id and device id.
struct MemberIdentity {
    Buffer user_id;
    Buffer device_id;
};

/// A member's raw MLS credential: its type (1 = basic) and content.
struct Credential {
    uint16_t type = 0;
    Buffer content;
};

/// A commit to send to the group and, when it adds members, the welcome for them.
struct Commit {
    Buffer commit;
    Buffer welcome;
};

/// The commit of an external join and the epoch it makes.
struct ExternalJoin {
    Buffer commit;
    uint64_t epoch = 0;
};

/// The current epoch and our leaf.
struct EpochInfo {
    uint64_t epoch = 0;
    uint32_t own_leaf = 0;
};

/// The SFrame parameters in use and where they come from (`mlsframe_params_source`).
struct ParamsInfo {
    GroupParams params{};
    uint32_t source = 0;
};

/// What a decrypt wrote: the plaintext length and who sealed the frame.
struct Opened {
    size_t size = 0;
    Sender sender{};
};

/// What `take_released` wrote: whether a held frame was released, its size and sender.
struct Released {
    bool released = false;
    size_t size = 0;
    Sender sender{};
};

/// What a standalone SFrame decrypt wrote: the plaintext length and the frame's KID.
struct SframeOpened {
    size_t size = 0;
    uint64_t kid = 0;
};

namespace detail {
struct FreeSession {
    void operator()(mlsframe_session *p) const noexcept { ::mlsframe_session_free(p); }
};
struct FreeEncryptor {
    void operator()(mlsframe_encryptor *p) const noexcept { ::mlsframe_encryptor_free(p); }
};
struct FreeDecryptor {
    void operator()(mlsframe_decryptor *p) const noexcept { ::mlsframe_decryptor_free(p); }
};
struct FreeSframeContext {
    void operator()(mlsframe_sframe_context *p) const noexcept {
        ::mlsframe_sframe_context_free(p);
    }
};

/// `Result<T>` from a C code and the value the call wrote.
template <class T>
Result<T> make(mlsframe_result rc, T &&value) noexcept {
    if (rc != MLSFRAME_OK) return Result<T>(to_code(rc));
    return Result<T>(std::forward<T>(value));
}
inline Result<void> make(mlsframe_result rc) noexcept { return Result<void>(to_code(rc)); }
}  // namespace detail

/// Installs (or with a null callback removes) the process-wide log callback.
inline void set_log_callback(mlsframe_log_callback callback, void *user_data,
                             uint32_t max_level) noexcept {
    ::mlsframe_set_log_callback(callback, user_data, max_level);
}

/// Seals frames of one of our streams. Any thread (calls serialized per handle); outlives
/// its Session.
class Encryptor {
  public:
    Encryptor() noexcept = default;
    explicit Encryptor(mlsframe_encryptor *owned) noexcept : h_(owned) {}
    mlsframe_encryptor *get() const noexcept { return h_.get(); }
    explicit operator bool() const noexcept { return h_ != nullptr; }

    /// Upper bound on the sealed size of a `frame_len`-byte frame (SIZE_MAX on overflow).
    size_t max_ciphertext_size(size_t frame_len) const noexcept {
        return ::mlsframe_encryptor_max_ciphertext_size(h_.get(), frame_len);
    }
    /// Seals `frame` into `out`; the sealed length. In place: `frame` starts at `out.data()`.
    Result<size_t> try_encrypt(Bytes frame, Bytes additional_data, MutableBytes out) const noexcept {
        size_t written = 0;
        mlsframe_result rc = ::mlsframe_encryptor_encrypt(
            h_.get(), frame.data(), frame.size(), additional_data.data(),
            additional_data.size(), out.data(), out.size(), &written);
        return detail::make(rc, std::move(written));
    }
    Result<EncryptorStats> try_stats() const noexcept {
        EncryptorStats stats{};
        return detail::make(::mlsframe_encryptor_get_stats(h_.get(), &stats), std::move(stats));
    }
    /// Registers (null: clears) the key-frame callback; it must be thread-safe.
    Result<void> try_set_key_frame_callback(mlsframe_key_frame_callback callback,
                                            void *user_data) const noexcept {
        return detail::make(
            ::mlsframe_encryptor_set_key_frame_callback(h_.get(), callback, user_data));
    }
#if MLSFRAME_CPP_EXCEPTIONS
    /// Seals `frame` into a new vector of exactly the sealed size.
    std::vector<uint8_t> encrypt(Bytes frame, Bytes additional_data = {}) const {
        std::vector<uint8_t> out(max_ciphertext_size(frame.size()));
        out.resize(try_encrypt(frame, additional_data, out).value());
        return out;
    }
    EncryptorStats stats() const { return try_stats().value(); }
    void set_key_frame_callback(mlsframe_key_frame_callback callback, void *user_data) const {
        try_set_key_frame_callback(callback, user_data).value();
    }
#endif

  private:
    std::unique_ptr<mlsframe_encryptor, detail::FreeEncryptor> h_;
};

/// Opens other members' frames. Any thread (calls serialized per handle; one decryptor per
/// thread to open in parallel); outlives its Session.
class Decryptor {
  public:
    Decryptor() noexcept = default;
    explicit Decryptor(mlsframe_decryptor *owned) noexcept : h_(owned) {}
    mlsframe_decryptor *get() const noexcept { return h_.get(); }
    explicit operator bool() const noexcept { return h_ != nullptr; }

    /// The most plaintext a `frame_len`-byte frame can hold (never more than `frame_len`).
    size_t max_plaintext_size(size_t frame_len) const noexcept {
        return ::mlsframe_decryptor_max_plaintext_size(h_.get(), frame_len);
    }
    /// Opens `frame` into `out`. In place: `frame.data() == out.data()`, `out.size() >=
    /// frame.size()`. `Code::NoKey` is recoverable (the key may still arrive).
    Result<Opened> try_decrypt(Bytes frame, Bytes additional_data, MutableBytes out) const noexcept {
        Opened opened{};
        mlsframe_result rc = ::mlsframe_decryptor_decrypt(
            h_.get(), frame.data(), frame.size(), additional_data.data(),
            additional_data.size(), out.data(), out.size(), &opened.size, &opened.sender);
        return detail::make(rc, std::move(opened));
    }
    /// Opens `frame` sealed by a `codec` encryptor (the stream's codec; Whole is
    /// `try_decrypt`). A wrong codec gives `Code::AuthFailed` or `Code::MalformedLayout`.
    Result<Opened> try_decrypt_codec(Codec codec, Bytes frame, Bytes additional_data,
                                     MutableBytes out) const noexcept {
        Opened opened{};
        mlsframe_result rc = ::mlsframe_decryptor_decrypt_codec(
            h_.get(), static_cast<uint32_t>(codec), frame.data(), frame.size(),
            additional_data.data(), additional_data.size(), out.data(), out.size(),
            &opened.size, &opened.sender);
        return detail::make(rc, std::move(opened));
    }
    /// Writes at most one held frame, released after its epoch arrived, into `out`.
    Result<Released> try_take_released(MutableBytes out) const noexcept {
        Released r{};
        mlsframe_result rc = ::mlsframe_decryptor_take_released(
            h_.get(), out.data(), out.size(), &r.size, &r.sender, &r.released);
        return detail::make(rc, std::move(r));
    }
    /// Who held `sender.leaf` in `sender.epoch` (the frame's own epoch).
    Result<MemberIdentity> try_sender_identity(const Sender &sender) const noexcept {
        MemberIdentity id;
        mlsframe_result rc = ::mlsframe_decryptor_sender_identity(
            h_.get(), &sender, id.user_id.out(), id.device_id.out());
        return detail::make(rc, std::move(id));
    }
    Result<DecryptorStats> try_stats() const noexcept {
        DecryptorStats stats{};
        return detail::make(::mlsframe_decryptor_get_stats(h_.get(), &stats), std::move(stats));
    }
#if MLSFRAME_CPP_EXCEPTIONS
    /// Opens `frame` into a new vector of exactly the plaintext size.
    std::vector<uint8_t> decrypt(Bytes frame, Bytes additional_data = {},
                                 Sender *sender = nullptr) const {
        std::vector<uint8_t> out(max_plaintext_size(frame.size()));
        Opened opened = try_decrypt(frame, additional_data, out).value();
        out.resize(opened.size);
        if (sender) *sender = opened.sender;
        return out;
    }
    /// Opens a `codec` frame into a new vector of exactly the frame's size.
    std::vector<uint8_t> decrypt_codec(Codec codec, Bytes frame, Bytes additional_data = {},
                                       Sender *sender = nullptr) const {
        std::vector<uint8_t> out(frame.size());
        Opened opened = try_decrypt_codec(codec, frame, additional_data, out).value();
        out.resize(opened.size);
        if (sender) *sender = opened.sender;
        return out;
    }
    Released take_released(MutableBytes out) const { return try_take_released(out).value(); }
    MemberIdentity sender_identity(const Sender &sender) const {
        return try_sender_identity(sender).value();
    }
    DecryptorStats stats() const { return try_stats().value(); }
#endif

  private:
    std::unique_ptr<mlsframe_decryptor, detail::FreeDecryptor> h_;
};

/// One device's MLS membership. One thread at a time.
class Session {
  public:
    Session() noexcept = default;
    explicit Session(mlsframe_session *owned) noexcept : h_(owned) {}
    mlsframe_session *get() const noexcept { return h_.get(); }
    explicit operator bool() const noexcept { return h_ != nullptr; }

    /// A session with an Ed25519 identity; `seed` empty (fresh key) or 32 bytes.
    static Result<Session> try_create(Bytes user_id, Bytes device_id, Bytes seed = {},
                                      const SessionConfig *config = nullptr) noexcept {
        mlsframe_session *p = nullptr;
        mlsframe_result rc =
            ::mlsframe_session_new(user_id.data(), user_id.size(), device_id.data(),
                                   device_id.size(), seed.data(), seed.size(), config, &p);
        return detail::make(rc, Session(p));
    }
    /// A session for the identity `identity` describes (Ed25519 or P-256).
    static Result<Session> try_create_with(const IdentityOptions &identity,
                                           const SessionConfig *config = nullptr) noexcept {
        mlsframe_session *p = nullptr;
        mlsframe_result rc = ::mlsframe_session_new_with(&identity, config, &p);
        return detail::make(rc, Session(p));
    }
    /// A session from `snapshot()` bytes.
    static Result<Session> try_restore(Bytes snapshot,
                                       const SessionConfig *config = nullptr) noexcept {
        mlsframe_session *p = nullptr;
        mlsframe_result rc =
            ::mlsframe_session_restore(snapshot.data(), snapshot.size(), config, &p);
        return detail::make(rc, Session(p));
    }

    Result<Buffer> try_snapshot() const noexcept { return out_buffer(::mlsframe_session_snapshot); }
    Result<uint16_t> try_signature_algorithm() const noexcept {
        uint16_t alg = 0;
        return detail::make(::mlsframe_session_signature_algorithm(h_.get(), &alg), std::move(alg));
    }
    Result<Buffer> try_key_package() const noexcept {
        return out_buffer(::mlsframe_session_key_package);
    }
    Result<Buffer> try_key_package_for(uint16_t mls_ciphersuite) const noexcept {
        Buffer b;
        mlsframe_result rc =
            ::mlsframe_session_key_package_for(h_.get(), mls_ciphersuite, b.out());
        return detail::make(rc, std::move(b));
    }
    Result<void> try_create_group(uint16_t sframe_suite = 4, uint8_t epoch_bits = 4,
                                  bool plaintext_handshake = false) const noexcept {
        return detail::make(::mlsframe_session_create_group(h_.get(), sframe_suite, epoch_bits,
                                                            plaintext_handshake));
    }
    Result<void> try_create_group_with(const GroupOptions &options) const noexcept {
        return detail::make(::mlsframe_session_create_group_with(h_.get(), &options));
    }
    /// Joins from a welcome; the joined epoch.
    Result<uint64_t> try_join(Bytes welcome) const noexcept {
        uint64_t epoch = 0;
        mlsframe_result rc =
            ::mlsframe_session_join(h_.get(), welcome.data(), welcome.size(), &epoch);
        return detail::make(rc, std::move(epoch));
    }
    /// Joins with a ratchet tree given out of band and app-agreed SFrame parameters.
    Result<uint64_t> try_join_with(Bytes welcome, Bytes ratchet_tree = {},
                                   const GroupParams *params = nullptr) const noexcept {
        uint64_t epoch = 0;
        mlsframe_result rc = ::mlsframe_session_join_with(
            h_.get(), welcome.data(), welcome.size(), ratchet_tree.data(), ratchet_tree.size(),
            params, &epoch);
        return detail::make(rc, std::move(epoch));
    }
    Result<Buffer> try_group_info() const noexcept {
        return out_buffer(::mlsframe_session_group_info);
    }
    Result<ExternalJoin> try_join_by_external_commit(Bytes group_info, Bytes ratchet_tree = {},
                                                     const GroupParams *params = nullptr) const noexcept {
        ExternalJoin j;
        mlsframe_result rc = ::mlsframe_session_join_by_external_commit(
            h_.get(), group_info.data(), group_info.size(), ratchet_tree.data(),
            ratchet_tree.size(), params, j.commit.out(), &j.epoch);
        return detail::make(rc, std::move(j));
    }
    /// Adds members in one pending commit. (Allocates two small arrays: like every
    /// allocation in a noexcept function, running out of memory terminates.)
    Result<Commit> try_add_members(const std::vector<Bytes> &key_packages) const noexcept {
        std::vector<const uint8_t *> ptrs;
        std::vector<size_t> lens;
        ptrs.reserve(key_packages.size());
        lens.reserve(key_packages.size());
        for (const Bytes &kp : key_packages) {
            ptrs.push_back(kp.data());
            lens.push_back(kp.size());
        }
        Commit c;
        mlsframe_result rc =
            ::mlsframe_session_add_members(h_.get(), ptrs.data(), lens.data(), ptrs.size(),
                                           c.commit.out(), c.welcome.out());
        return detail::make(rc, std::move(c));
    }
    Result<Buffer> try_remove_member(uint32_t leaf) const noexcept {
        Buffer b;
        return detail::make(::mlsframe_session_remove_member(h_.get(), leaf, b.out()), std::move(b));
    }
    Result<Buffer> try_remove_user(Bytes user_id) const noexcept {
        Buffer b;
        mlsframe_result rc =
            ::mlsframe_session_remove_user(h_.get(), user_id.data(), user_id.size(), b.out());
        return detail::make(rc, std::move(b));
    }
    Result<Buffer> try_self_update() const noexcept {
        return out_buffer(::mlsframe_session_self_update);
    }
    Result<Commit> try_commit_pending_proposals() const noexcept {
        Commit c;
        mlsframe_result rc = ::mlsframe_session_commit_pending_proposals(
            h_.get(), c.commit.out(), c.welcome.out());
        return detail::make(rc, std::move(c));
    }
    Result<Buffer> try_leave() const noexcept { return out_buffer(::mlsframe_session_leave); }
    Result<void> try_confirm_commit() const noexcept {
        return detail::make(::mlsframe_session_confirm_commit(h_.get()));
    }
    Result<void> try_discard_commit() const noexcept {
        return detail::make(::mlsframe_session_discard_commit(h_.get()));
    }
    Result<void> try_receivers_ready() const noexcept {
        return detail::make(::mlsframe_session_receivers_ready(h_.get()));
    }
    Result<Outcome> try_process(Bytes message) const noexcept {
        Outcome o{};
        mlsframe_result rc =
            ::mlsframe_session_process(h_.get(), message.data(), message.size(), &o);
        return detail::make(rc, std::move(o));
    }
    Result<EpochInfo> try_epoch() const noexcept {
        EpochInfo e;
        mlsframe_result rc = ::mlsframe_session_epoch(h_.get(), &e.epoch, &e.own_leaf);
        return detail::make(rc, std::move(e));
    }
    Result<uint16_t> try_ciphersuite() const noexcept {
        uint16_t suite = 0;
        return detail::make(::mlsframe_session_ciphersuite(h_.get(), &suite), std::move(suite));
    }
    Result<ParamsInfo> try_params() const noexcept {
        ParamsInfo p;
        mlsframe_result rc = ::mlsframe_session_params(h_.get(), &p.params, &p.source);
        return detail::make(rc, std::move(p));
    }
    Result<Buffer> try_ratchet_tree() const noexcept {
        return out_buffer(::mlsframe_session_ratchet_tree);
    }
    Result<Buffer> try_security_code() const noexcept {
        return out_buffer(::mlsframe_session_security_code);
    }
    /// Confidential: never log or send it.
    Result<Buffer> try_epoch_authenticator() const noexcept {
        return out_buffer(::mlsframe_session_epoch_authenticator);
    }
    /// Secret: MLS-Exporter(label, context, length).
    Result<Buffer> try_export_secret(Bytes label, Bytes context, size_t length) const noexcept {
        Buffer b;
        mlsframe_result rc = ::mlsframe_session_export_secret(
            h_.get(), label.data(), label.size(), context.data(), context.size(), length, b.out());
        return detail::make(rc, std::move(b));
    }
    Result<Buffer> try_roster() const noexcept { return out_buffer(::mlsframe_session_roster); }
    Result<MemberIdentity> try_member_identity(uint32_t leaf) const noexcept {
        MemberIdentity id;
        mlsframe_result rc = ::mlsframe_session_member_identity(h_.get(), leaf, id.user_id.out(),
                                                                id.device_id.out());
        return detail::make(rc, std::move(id));
    }
    Result<Credential> try_member_credential(uint32_t leaf) const noexcept {
        Credential c;
        mlsframe_result rc =
            ::mlsframe_session_member_credential(h_.get(), leaf, &c.type, c.content.out());
        return detail::make(rc, std::move(c));
    }
    /// An encryptor for our stream `context` (0 audio, 1 video, ...).
    Result<Encryptor> try_encryptor(uint64_t context) const noexcept {
        mlsframe_encryptor *p = nullptr;
        mlsframe_result rc = ::mlsframe_session_encryptor_new(h_.get(), context, &p);
        return detail::make(rc, Encryptor(p));
    }
    /// An encryptor for our stream `context` framing in `codec` (docs/FRAMING.md).
    Result<Encryptor> try_encryptor(uint64_t context, Codec codec) const noexcept {
        mlsframe_encryptor *p = nullptr;
        mlsframe_result rc = ::mlsframe_session_encryptor_new_with_codec(
            h_.get(), context, static_cast<uint32_t>(codec), &p);
        return detail::make(rc, Encryptor(p));
    }
    Result<Decryptor> try_decryptor() const noexcept {
        mlsframe_decryptor *p = nullptr;
        mlsframe_result rc = ::mlsframe_session_decryptor_new(h_.get(), &p);
        return detail::make(rc, Decryptor(p));
    }

#if MLSFRAME_CPP_EXCEPTIONS
    static Session create(Bytes user_id, Bytes device_id, Bytes seed = {},
                          const SessionConfig *config = nullptr) {
        return try_create(user_id, device_id, seed, config).value();
    }
    static Session create_with(const IdentityOptions &identity,
                               const SessionConfig *config = nullptr) {
        return try_create_with(identity, config).value();
    }
    static Session restore(Bytes snapshot, const SessionConfig *config = nullptr) {
        return try_restore(snapshot, config).value();
    }
    Buffer snapshot() const { return try_snapshot().value(); }
    uint16_t signature_algorithm() const { return try_signature_algorithm().value(); }
    Buffer key_package() const { return try_key_package().value(); }
    Buffer key_package_for(uint16_t suite) const { return try_key_package_for(suite).value(); }
    void create_group(uint16_t sframe_suite = 4, uint8_t epoch_bits = 4,
                      bool plaintext_handshake = false) const {
        try_create_group(sframe_suite, epoch_bits, plaintext_handshake).value();
    }
    void create_group_with(const GroupOptions &options) const {
        try_create_group_with(options).value();
    }
    uint64_t join(Bytes welcome) const { return try_join(welcome).value(); }
    uint64_t join_with(Bytes welcome, Bytes ratchet_tree = {},
                       const GroupParams *params = nullptr) const {
        return try_join_with(welcome, ratchet_tree, params).value();
    }
    Buffer group_info() const { return try_group_info().value(); }
    ExternalJoin join_by_external_commit(Bytes group_info, Bytes ratchet_tree = {},
                                         const GroupParams *params = nullptr) const {
        return try_join_by_external_commit(group_info, ratchet_tree, params).value();
    }
    Commit add_members(const std::vector<Bytes> &key_packages) const {
        return try_add_members(key_packages).value();
    }
    Buffer remove_member(uint32_t leaf) const { return try_remove_member(leaf).value(); }
    Buffer remove_user(Bytes user_id) const { return try_remove_user(user_id).value(); }
    Buffer self_update() const { return try_self_update().value(); }
    Commit commit_pending_proposals() const { return try_commit_pending_proposals().value(); }
    Buffer leave() const { return try_leave().value(); }
    void confirm_commit() const { try_confirm_commit().value(); }
    void discard_commit() const { try_discard_commit().value(); }
    void receivers_ready() const { try_receivers_ready().value(); }
    Outcome process(Bytes message) const { return try_process(message).value(); }
    EpochInfo epoch() const { return try_epoch().value(); }
    uint16_t ciphersuite() const { return try_ciphersuite().value(); }
    ParamsInfo params() const { return try_params().value(); }
    Buffer ratchet_tree() const { return try_ratchet_tree().value(); }
    Buffer security_code() const { return try_security_code().value(); }
    Buffer epoch_authenticator() const { return try_epoch_authenticator().value(); }
    Buffer export_secret(Bytes label, Bytes context, size_t length) const {
        return try_export_secret(label, context, length).value();
    }
    Buffer roster() const { return try_roster().value(); }
    MemberIdentity member_identity(uint32_t leaf) const {
        return try_member_identity(leaf).value();
    }
    Credential member_credential(uint32_t leaf) const {
        return try_member_credential(leaf).value();
    }
    Encryptor encryptor(uint64_t context) const { return try_encryptor(context).value(); }
    Encryptor encryptor(uint64_t context, Codec codec) const {
        return try_encryptor(context, codec).value();
    }
    Decryptor decryptor() const { return try_decryptor().value(); }
#endif

  private:
    template <class F>
    Result<Buffer> out_buffer(F call) const noexcept {
        Buffer b;
        mlsframe_result rc = call(h_.get(), b.out());
        return detail::make(rc, std::move(b));
    }

    std::unique_ptr<mlsframe_session, detail::FreeSession> h_;
};

/// SFrame alone, with app-managed keys. Frame calls from any thread.
class SframeContext {
  public:
    SframeContext() noexcept = default;
    explicit SframeContext(mlsframe_sframe_context *owned) noexcept : h_(owned) {}
    mlsframe_sframe_context *get() const noexcept { return h_.get(); }

    /// `replay_window` 0 means 128 counters.
    static Result<SframeContext> try_create(uint32_t replay_window = 0) noexcept {
        mlsframe_sframe_context *p = nullptr;
        mlsframe_result rc = ::mlsframe_sframe_context_new(replay_window, &p);
        return detail::make(rc, SframeContext(p));
    }
    /// Upper bound on the sealed size of a `frame_len`-byte frame (SIZE_MAX on overflow).
    static size_t max_ciphertext_size(size_t frame_len) noexcept {
        return ::mlsframe_sframe_max_ciphertext_size(frame_len);
    }
    Result<void> try_set_send_key(uint16_t suite, uint64_t kid, Bytes base_key,
                                  uint64_t first_counter = 0) const noexcept {
        return detail::make(::mlsframe_sframe_context_set_send_key(
            h_.get(), suite, kid, base_key.data(), base_key.size(), first_counter));
    }
    Result<uint64_t> try_send_counter() const noexcept {
        uint64_t next = 0;
        return detail::make(::mlsframe_sframe_context_send_counter(h_.get(), &next),
                            std::move(next));
    }
    Result<void> try_add_receive_key(uint16_t suite, uint64_t kid, Bytes base_key) const noexcept {
        return detail::make(::mlsframe_sframe_context_add_receive_key(
            h_.get(), suite, kid, base_key.data(), base_key.size()));
    }
    Result<void> try_remove_receive_key(uint64_t kid) const noexcept {
        return detail::make(::mlsframe_sframe_context_remove_receive_key(h_.get(), kid));
    }
    Result<size_t> try_encrypt(Bytes frame, Bytes additional_data, MutableBytes out) const noexcept {
        size_t written = 0;
        mlsframe_result rc = ::mlsframe_sframe_context_encrypt(
            h_.get(), frame.data(), frame.size(), additional_data.data(),
            additional_data.size(), out.data(), out.size(), &written);
        return detail::make(rc, std::move(written));
    }
    Result<SframeOpened> try_decrypt(Bytes frame, Bytes additional_data,
                                     MutableBytes out) const noexcept {
        SframeOpened o;
        mlsframe_result rc = ::mlsframe_sframe_context_decrypt(
            h_.get(), frame.data(), frame.size(), additional_data.data(),
            additional_data.size(), out.data(), out.size(), &o.size, &o.kid);
        return detail::make(rc, std::move(o));
    }
#if MLSFRAME_CPP_EXCEPTIONS
    static SframeContext create(uint32_t replay_window = 0) {
        return try_create(replay_window).value();
    }
    void set_send_key(uint16_t suite, uint64_t kid, Bytes base_key,
                      uint64_t first_counter = 0) const {
        try_set_send_key(suite, kid, base_key, first_counter).value();
    }
    uint64_t send_counter() const { return try_send_counter().value(); }
    void add_receive_key(uint16_t suite, uint64_t kid, Bytes base_key) const {
        try_add_receive_key(suite, kid, base_key).value();
    }
    void remove_receive_key(uint64_t kid) const { try_remove_receive_key(kid).value(); }
    std::vector<uint8_t> encrypt(Bytes frame, Bytes additional_data = {}) const {
        std::vector<uint8_t> out(max_ciphertext_size(frame.size()));
        out.resize(try_encrypt(frame, additional_data, out).value());
        return out;
    }
    std::vector<uint8_t> decrypt(Bytes frame, Bytes additional_data = {},
                                 uint64_t *kid = nullptr) const {
        std::vector<uint8_t> out(frame.size());
        SframeOpened o = try_decrypt(frame, additional_data, out).value();
        out.resize(o.size);
        if (kid) *kid = o.kid;
        return out;
    }
#endif

  private:
    std::unique_ptr<mlsframe_sframe_context, detail::FreeSframeContext> h_;
};

}  // namespace mlsframe

#endif  // MLSFRAME_HPP
