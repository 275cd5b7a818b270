// The WebRTC adapter (webrtc/mlsframe_webrtc.hpp) as WebRTC would drive it, compiled with
// -fno-exceptions -fno-rtti like WebRTC: sizes, encrypt then decrypt out of place and in
// place, kRecoverable for a frame of an epoch the receiver does not have yet (NO_KEY, then
// released once the commit is processed), kFailedToDecrypt for tampering, a replay and a
// partial overlap, and reference counting through a stand-in for rtc::RefCountedObject.
//
// Built and run by bindings/cpp/run_tests.sh (g++ -std=c++17, ASan/UBSan). Prints
// "cpp webrtc adapter: OK" last and exits 0 only if every check passes.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "mlsframe_webrtc.hpp"

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#error "this test must be compiled with -fno-exceptions, as WebRTC is"
#endif

static unsigned g_checks;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        g_checks++;                                                                        \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);         \
            std::exit(1);                                                                  \
        }                                                                                  \
    } while (0)

// The value of a Result that must be Ok (no exceptions here: fail the test instead).
template <class T>
static T must(mlsframe::Result<T> &&r, int line) {
    if (!r.ok()) {
        std::fprintf(stderr, "FAILED line %d: code %u (%s)\n", line,
                     static_cast<unsigned>(r.code()), mlsframe::message(r.code()));
        std::exit(1);
    }
    return std::move(*r);
}
static void must(mlsframe::Result<void> &&r, int line) {
    if (!r.ok()) {
        std::fprintf(stderr, "FAILED line %d: code %u (%s)\n", line,
                     static_cast<unsigned>(r.code()), mlsframe::message(r.code()));
        std::exit(1);
    }
}
#define MUST(expr) must((expr), __LINE__)

// Stand-in for rtc::RefCountedObject<T>: WebRTC creates adapters through it.
static int g_live_objects;
template <class T>
class RefCounted final : public T {
  public:
    template <class... Args>
    explicit RefCounted(Args &&...args) : T(std::forward<Args>(args)...) {
        g_live_objects++;
    }
    void AddRef() const override { refs_.fetch_add(1); }
    rtc::RefCountReleaseStatus Release() const override {
        if (refs_.fetch_sub(1) == 1) {
            delete this;
            return rtc::RefCountReleaseStatus::kDroppedLastRef;
        }
        return rtc::RefCountReleaseStatus::kOtherRefsRemained;
    }

  private:
    ~RefCounted() override { g_live_objects--; }
    mutable std::atomic<int> refs_{0};
};

using mlsframe::Code;
using mlsframe::webrtc_adapter::FrameDecryptor;
using mlsframe::webrtc_adapter::FrameEncryptor;
using Status = webrtc::FrameDecryptorInterface::Result::Status;

static rtc::ArrayView<const uint8_t> view(const std::string &s) {
    return rtc::ArrayView<const uint8_t>(reinterpret_cast<const uint8_t *>(s.data()), s.size());
}

int main() {
    std::printf("mlsframe %s WebRTC adapter (M120 interfaces, -fno-exceptions)\n",
                MLSFRAME_VERSION);

    // alice and bob in a group, through the non-throwing core only.
    mlsframe::Session alice = MUST(mlsframe::Session::try_create("alice", "phone"));
    mlsframe::Session bob = MUST(mlsframe::Session::try_create("bob", "phone"));
    MUST(alice.try_create_group());
    mlsframe::Buffer kp = MUST(bob.try_key_package());
    mlsframe::Commit add = MUST(alice.try_add_members({kp}));
    MUST(alice.try_confirm_commit());
    CHECK(MUST(bob.try_join(add.welcome)) == 1);

    auto *enc = new RefCounted<FrameEncryptor>(MUST(alice.try_encryptor(1)));
    auto *dec = new RefCounted<FrameDecryptor>(MUST(bob.try_decryptor()));
    webrtc::FrameEncryptorInterface *encryptor = enc;
    webrtc::FrameDecryptorInterface *decryptor = dec;
    encryptor->AddRef();
    decryptor->AddRef();
    CHECK(g_live_objects == 2);

    const auto video = cricket::MEDIA_TYPE_VIDEO;
    const std::vector<uint32_t> csrcs;
    const std::string header = "rtp header bytes";  // additional data
    const std::string frame = "an encoded VP8 key frame, 40 bytes long!";

    std::printf("== sizes\n");
    size_t max_ct = encryptor->GetMaxCiphertextByteSize(video, frame.size());
    CHECK(max_ct > frame.size() && max_ct < frame.size() + 64);
    CHECK(encryptor->GetMaxCiphertextByteSize(cricket::MEDIA_TYPE_AUDIO, 0) > 0);
    CHECK(decryptor->GetMaxPlaintextByteSize(video, max_ct) <= max_ct);
    CHECK(decryptor->GetMaxPlaintextByteSize(video, 0) == 0);
    {
        std::vector<uint8_t> small(frame.size());  // no room for header and tag
        size_t written = 123;
        int rc = encryptor->Encrypt(video, 1234, view(header), view(frame), small, &written);
        CHECK(rc == static_cast<int>(Code::BufferTooSmall) && written == 0);
        CHECK(encryptor->Encrypt(video, 1234, view(header), view(frame), small, nullptr) ==
              static_cast<int>(Code::NullArgument));
    }

    std::printf("== encrypt, decrypt out of place\n");
    std::vector<uint8_t> sealed(max_ct);
    size_t sealed_len = 0;
    CHECK(encryptor->Encrypt(video, 1234, view(header), view(frame), sealed, &sealed_len) == 0);
    CHECK(sealed_len > frame.size() && sealed_len <= max_ct);
    sealed.resize(sealed_len);
    {
        std::vector<uint8_t> out(decryptor->GetMaxPlaintextByteSize(video, sealed.size()));
        auto r = decryptor->Decrypt(video, csrcs, view(header), sealed, out);
        CHECK(r.IsOk() && r.status == Status::kOk && r.bytes_written == frame.size());
        CHECK(std::memcmp(out.data(), frame.data(), frame.size()) == 0);
        // The same frame again is a replay: not recoverable.
        auto again = decryptor->Decrypt(video, csrcs, view(header), sealed, out);
        CHECK(again.status == Status::kFailedToDecrypt && again.bytes_written == 0);
    }

    std::printf("== encrypt, decrypt in place\n");
    {
        std::vector<uint8_t> buf(max_ct);
        size_t n = 0;
        CHECK(encryptor->Encrypt(video, 1234, view(header), view(frame), buf, &n) == 0);
        rtc::ArrayView<uint8_t> whole(buf.data(), n);
        auto r = decryptor->Decrypt(video, csrcs, view(header),
                                    rtc::ArrayView<const uint8_t>(buf.data(), n), whole);
        CHECK(r.IsOk() && r.bytes_written == frame.size());
        CHECK(std::memcmp(buf.data(), frame.data(), frame.size()) == 0);
    }

    std::printf("== tampering, wrong additional data, partial overlap: kFailedToDecrypt\n");
    {
        std::vector<uint8_t> ct(max_ct);
        size_t n = 0;
        CHECK(encryptor->Encrypt(video, 1234, view(header), view(frame), ct, &n) == 0);
        ct.resize(n);
        std::vector<uint8_t> out(n);
        std::vector<uint8_t> tampered = ct;
        tampered[n - 1] ^= 0x01;
        auto r = decryptor->Decrypt(video, csrcs, view(header), tampered, out);
        CHECK(r.status == Status::kFailedToDecrypt && r.bytes_written == 0);
        auto wrong_ad = decryptor->Decrypt(video, csrcs, view("other header"), ct, out);
        CHECK(wrong_ad.status == Status::kFailedToDecrypt);
        std::vector<uint8_t> shifted(n + 1);
        std::memcpy(shifted.data(), ct.data(), n);
        auto overlap =
            decryptor->Decrypt(video, csrcs, view(header),
                               rtc::ArrayView<const uint8_t>(shifted.data(), n),
                               rtc::ArrayView<uint8_t>(shifted.data() + 1, n));
        CHECK(overlap.status == Status::kFailedToDecrypt);
        // The untouched frame still opens: failures did not burn its counter.
        auto ok = decryptor->Decrypt(video, csrcs, view(header), ct, out);
        CHECK(ok.IsOk() && ok.bytes_written == frame.size());
    }

    std::printf("== a frame of an epoch bob does not have yet: kRecoverable (NO_KEY)\n");
    {
        mlsframe::Buffer update = MUST(alice.try_self_update());
        MUST(alice.try_confirm_commit());  // alice seals in epoch 2 at once
        std::vector<uint8_t> ct(max_ct);
        size_t n = 0;
        CHECK(encryptor->Encrypt(video, 1234, view(header), view(frame), ct, &n) == 0);
        std::vector<uint8_t> out(n);
        auto r = decryptor->Decrypt(video, csrcs, view(header),
                                    rtc::ArrayView<const uint8_t>(ct.data(), n), out);
        CHECK(r.status == Status::kRecoverable && r.bytes_written == 0);
        CHECK(MUST(dec->decryptor().try_stats()).no_key == 1);
        // bob processes the commit; the held frame is released, then new frames open.
        mlsframe::Outcome o = MUST(bob.try_process(update));
        CHECK(o.kind == MLSFRAME_OUTCOME_EPOCH_CHANGED && o.epoch == 2);
        mlsframe::Released rel = MUST(dec->decryptor().try_take_released(out));
        CHECK(rel.released && rel.size == frame.size() && rel.sender.epoch == 2);
        CHECK(std::memcmp(out.data(), frame.data(), frame.size()) == 0);
        CHECK(!MUST(dec->decryptor().try_take_released(out)).released);
        CHECK(encryptor->Encrypt(video, 1234, view(header), view(frame), ct, &n) == 0);
        auto next = decryptor->Decrypt(video, csrcs, view(header),
                                       rtc::ArrayView<const uint8_t>(ct.data(), n), out);
        CHECK(next.IsOk());
    }

    std::printf("== a frame of another group's epoch 3: kRecoverable, never opened\n");
    {
        mlsframe::Session eve = MUST(mlsframe::Session::try_create("eve", "laptop"));
        MUST(eve.try_create_group());
        for (int i = 0; i < 3; i++) {  // epoch 3: one bob has not reached
            mlsframe::Buffer u = MUST(eve.try_self_update());
            MUST(eve.try_confirm_commit());
        }
        RefCounted<FrameEncryptor> *eve_enc =
            new RefCounted<FrameEncryptor>(MUST(eve.try_encryptor(1)));
        eve_enc->AddRef();
        std::vector<uint8_t> ct(max_ct);
        size_t n = 0;
        CHECK(eve_enc->Encrypt(video, 9, view(header), view(frame), ct, &n) == 0);
        std::vector<uint8_t> out(n);
        auto r = decryptor->Decrypt(video, csrcs, view(header),
                                    rtc::ArrayView<const uint8_t>(ct.data(), n), out);
        CHECK(r.status == Status::kRecoverable && r.bytes_written == 0);
        CHECK(eve_enc->Release() == rtc::RefCountReleaseStatus::kDroppedLastRef);
    }

    std::printf("== status mapping\n");
    CHECK(FrameDecryptor::status_of(Code::Ok) == Status::kOk);
    CHECK(FrameDecryptor::status_of(Code::NoKey) == Status::kRecoverable);
    for (Code c : {Code::AuthFailed, Code::Replay, Code::Malformed, Code::UnknownSender,
                   Code::Superseded, Code::TooManyStreams, Code::BufferTooSmall,
                   Code::InvalidArgument, Code::Panic})
        CHECK(FrameDecryptor::status_of(c) == Status::kFailedToDecrypt);

    // The session may go first: the adapters keep working on their own handles.
    alice = mlsframe::Session();
    size_t n = 0;
    std::vector<uint8_t> ct(max_ct);
    CHECK(encryptor->Encrypt(video, 1234, view(header), view(frame), ct, &n) ==
          static_cast<int>(Code::NotMember));

    CHECK(encryptor->Release() == rtc::RefCountReleaseStatus::kDroppedLastRef);
    CHECK(decryptor->Release() == rtc::RefCountReleaseStatus::kDroppedLastRef);
    CHECK(g_live_objects == 0);

    std::printf("\n%u checks\ncpp webrtc adapter: OK\n", g_checks);
    return 0;
}
