// WebRTC's FrameEncryptorInterface and FrameDecryptorInterface on top of mlsframe.hpp, for
// WebRTC M120 (see webrtc_m120_frame_crypto_api.h for the namespaces it assumes).
//
// WebRTC builds with -fno-exceptions: this adapter uses only the wrapper's non-throwing
// core (`try_*`), never throws, and is compiled that way in its test. Like WebRTC's own
// implementations it leaves AddRef/Release to rtc::RefCountedObject: create it with
// `rtc::make_ref_counted<mlsframe::webrtc_adapter::FrameEncryptor>(std::move(enc))`.
//
// Mapping: media_type and ssrc are dropped (mlsframe seals every frame whole; README,
// "WebRTC"); csrcs too (the sender is in the authenticated SFrame KID). Decrypt's
// `Code::NoKey` is `kRecoverable` (the epoch's key may still arrive: keep the stream and
// drain `Decryptor::try_take_released` after processing MLS messages); any other failure
// is `kFailedToDecrypt`. Decrypt works in place (`frame.data() == encrypted_frame.data()`).
#ifndef MLSFRAME_WEBRTC_HPP
#define MLSFRAME_WEBRTC_HPP

#include <utility>
#include <vector>

#include "mlsframe/mlsframe.hpp"

#ifdef MLSFRAME_WEBRTC_USE_REAL_HEADERS
#include "api/crypto/frame_decryptor_interface.h"
#include "api/crypto/frame_encryptor_interface.h"
#else
#include "webrtc_m120_frame_crypto_api.h"
#endif

namespace mlsframe {
namespace webrtc_adapter {

/// Seals one RTP sender's frames with an mlsframe encryptor (one per stream context).
class FrameEncryptor : public webrtc::FrameEncryptorInterface {
  public:
    explicit FrameEncryptor(Encryptor encryptor) noexcept : enc_(std::move(encryptor)) {}

    /// 0 on success; otherwise the mlsframe code (non-zero) and `*bytes_written` 0.
    int Encrypt(cricket::MediaType /*media_type*/, uint32_t /*ssrc*/,
                rtc::ArrayView<const uint8_t> additional_data,
                rtc::ArrayView<const uint8_t> frame, rtc::ArrayView<uint8_t> encrypted_frame,
                size_t *bytes_written) override {
        if (bytes_written == nullptr) return static_cast<int>(Code::NullArgument);
        Result<size_t> r = enc_.try_encrypt(Bytes(frame.data(), frame.size()),
                                            Bytes(additional_data.data(), additional_data.size()),
                                            MutableBytes(encrypted_frame.data(), encrypted_frame.size()));
        *bytes_written = r.ok() ? *r : 0;
        return static_cast<int>(r.code());
    }

    size_t GetMaxCiphertextByteSize(cricket::MediaType /*media_type*/,
                                    size_t frame_size) override {
        return enc_.max_ciphertext_size(frame_size);
    }

    /// The wrapped encryptor (stats, key-frame callback).
    const Encryptor &encryptor() const noexcept { return enc_; }

  private:
    Encryptor enc_;
};

/// Opens one RTP receiver's frames with an mlsframe decryptor.
class FrameDecryptor : public webrtc::FrameDecryptorInterface {
  public:
    explicit FrameDecryptor(Decryptor decryptor) noexcept : dec_(std::move(decryptor)) {}

    Result Decrypt(cricket::MediaType /*media_type*/, const std::vector<uint32_t> & /*csrcs*/,
                   rtc::ArrayView<const uint8_t> additional_data,
                   rtc::ArrayView<const uint8_t> encrypted_frame,
                   rtc::ArrayView<uint8_t> frame) override {
        mlsframe::Result<Opened> r =
            dec_.try_decrypt(Bytes(encrypted_frame.data(), encrypted_frame.size()),
                             Bytes(additional_data.data(), additional_data.size()),
                             MutableBytes(frame.data(), frame.size()));
        return Result(status_of(r.code()), r.ok() ? r->size : 0);
    }

    size_t GetMaxPlaintextByteSize(cricket::MediaType /*media_type*/,
                                   size_t encrypted_frame_size) override {
        return dec_.max_plaintext_size(encrypted_frame_size);
    }

    /// The WebRTC status of an mlsframe decrypt code.
    static Result::Status status_of(Code code) noexcept {
        switch (code) {
            case Code::Ok:
                return Result::Status::kOk;
            case Code::NoKey:
                return Result::Status::kRecoverable;
            default:
                return Result::Status::kFailedToDecrypt;
        }
    }

    /// The wrapped decryptor (stats, held frames, sender identities).
    const Decryptor &decryptor() const noexcept { return dec_; }

  private:
    Decryptor dec_;
};

}  // namespace webrtc_adapter
}  // namespace mlsframe

#endif  // MLSFRAME_WEBRTC_HPP
