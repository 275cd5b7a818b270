// The smallest declaration of WebRTC's frame encryption hooks that the mlsframe adapter
// (mlsframe_webrtc.hpp) needs, written from WebRTC's public API documentation for
// milestone M120 (branch-heads/6099): api/crypto/frame_encryptor_interface.h,
// api/crypto/frame_decryptor_interface.h, api/array_view.h, api/media_types.h and the
// ref-count interface they derive from (rtc_base/ref_count.h; api/ref_count.h in later
// milestones). No WebRTC source text is copied. It exists only so the adapter can be
// compiled and tested here, without WebRTC.
//
// Namespaces at M120: the interfaces in `webrtc`, `cricket::MediaType`, `rtc::ArrayView`,
// `rtc::RefCountInterface`. Later milestones move these into `webrtc` (webrtc::MediaType,
// webrtc::ArrayView, webrtc::RefCountInterface), keeping the old names as aliases for a
// while: when building inside WebRTC, define MLSFRAME_WEBRTC_USE_REAL_HEADERS and the
// adapter includes the real headers instead of this file.
//
// Only what the adapter touches is declared: ArrayView is reduced to data()/size(), the
// media types to their values, and RefCountInterface to AddRef/Release.
#ifndef MLSFRAME_WEBRTC_M120_FRAME_CRYPTO_API_H
#define MLSFRAME_WEBRTC_M120_FRAME_CRYPTO_API_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cricket {
enum MediaType {
    MEDIA_TYPE_AUDIO,
    MEDIA_TYPE_VIDEO,
    MEDIA_TYPE_DATA,
    MEDIA_TYPE_UNSUPPORTED,
};
}  // namespace cricket

namespace rtc {

// A non-owning view of `size()` elements of type T (api/array_view.h, reduced).
template <typename T>
class ArrayView {
  public:
    ArrayView() = default;
    ArrayView(T *data, size_t size) : data_(data), size_(size) {}
    template <typename U>
    ArrayView(std::vector<U> &v) : data_(v.data()), size_(v.size()) {}
    template <typename U>
    ArrayView(const std::vector<U> &v) : data_(v.data()), size_(v.size()) {}
    T *data() const { return data_; }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

  private:
    T *data_ = nullptr;
    size_t size_ = 0;
};

enum class RefCountReleaseStatus { kDroppedLastRef, kOtherRefsRemained };

// Objects WebRTC holds through rtc::scoped_refptr.
class RefCountInterface {
  public:
    virtual void AddRef() const = 0;
    virtual RefCountReleaseStatus Release() const = 0;

  protected:
    virtual ~RefCountInterface() = default;
};

}  // namespace rtc

namespace webrtc {

// Called once per outgoing encoded frame, on the encoder's thread.
class FrameEncryptorInterface : public rtc::RefCountInterface {
  public:
    ~FrameEncryptorInterface() override = default;

    // Encrypts `frame` into `encrypted_frame` (sized by GetMaxCiphertextByteSize) and sets
    // `*bytes_written`; 0 on success, any other value is an error.
    virtual int Encrypt(cricket::MediaType media_type, uint32_t ssrc,
                        rtc::ArrayView<const uint8_t> additional_data,
                        rtc::ArrayView<const uint8_t> frame,
                        rtc::ArrayView<uint8_t> encrypted_frame, size_t *bytes_written) = 0;

    // The most bytes Encrypt can write for a `frame_size`-byte frame.
    virtual size_t GetMaxCiphertextByteSize(cricket::MediaType media_type,
                                            size_t frame_size) = 0;
};

// Called once per incoming encrypted frame, on the receive thread.
class FrameDecryptorInterface : public rtc::RefCountInterface {
  public:
    struct Result {
        enum class Status { kOk, kRecoverable, kFailedToDecrypt };
        Result(Status status, size_t bytes_written)
            : status(status), bytes_written(bytes_written) {}
        bool IsOk() const { return status == Status::kOk; }
        const Status status;
        const size_t bytes_written;
    };

    ~FrameDecryptorInterface() override = default;

    // Decrypts `encrypted_frame` into `frame` (sized by GetMaxPlaintextByteSize).
    virtual Result Decrypt(cricket::MediaType media_type, const std::vector<uint32_t> &csrcs,
                           rtc::ArrayView<const uint8_t> additional_data,
                           rtc::ArrayView<const uint8_t> encrypted_frame,
                           rtc::ArrayView<uint8_t> frame) = 0;

    // The most plaintext bytes Decrypt can write for an `encrypted_frame_size`-byte frame.
    virtual size_t GetMaxPlaintextByteSize(cricket::MediaType media_type,
                                           size_t encrypted_frame_size) = 0;
};

}  // namespace webrtc

#endif  // MLSFRAME_WEBRTC_M120_FRAME_CRYPTO_API_H
