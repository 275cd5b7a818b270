// The C++ wrapper driving a three-member call with a removal, through its throwing API:
// alice creates a group and adds bob and carol in one commit; everyone seals and opens a
// frame and the security codes agree; alice removes carol, bob follows, carol is locked
// out (NoKey on new frames, NotMember on encrypt). Also: errors as exceptions and as
// Result codes, and moves of every handle type.
//
// Built and run by bindings/cpp/run_tests.sh (g++ -std=c++17, ASan/UBSan). Prints
// "cpp call: OK" last and exits 0 only if every check passes.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mlsframe/mlsframe.hpp"

static unsigned g_checks;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        g_checks++;                                                                        \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);         \
            std::exit(1);                                                                  \
        }                                                                                  \
    } while (0)

// `expr` must throw mlsframe::Error with `want`.
#define CHECK_THROWS(want, expr)                                                           \
    do {                                                                                   \
        g_checks++;                                                                        \
        bool thrown_ = false;                                                              \
        try {                                                                              \
            (void)(expr);                                                                  \
        } catch (const mlsframe::Error &e) {                                               \
            thrown_ = e.code() == (want);                                                  \
            if (!thrown_)                                                                  \
                std::fprintf(stderr, "FAILED %s:%d: %s threw %u (%s)\n", __FILE__,         \
                             __LINE__, #expr, static_cast<unsigned>(e.code()), e.what());  \
        }                                                                                  \
        if (!thrown_) {                                                                    \
            std::fprintf(stderr, "FAILED %s:%d: %s did not throw %s\n", __FILE__,          \
                         __LINE__, #expr, #want);                                          \
            std::exit(1);                                                                  \
        }                                                                                  \
    } while (0)

using mlsframe::Code;

struct Member {
    std::string name;
    mlsframe::Session session;
    mlsframe::Encryptor enc;
    mlsframe::Decryptor dec;
};

// `from` seals `text`; each of `to` opens it and credits it to `from`.
static void send_frame(const Member &from, const std::vector<const Member *> &to,
                       const std::string &text) {
    std::vector<uint8_t> sealed = from.enc.encrypt(text, "rtp header");
    CHECK(sealed.size() > text.size());
    CHECK(sealed.size() <= from.enc.max_ciphertext_size(text.size()));
    uint32_t from_leaf = from.session.epoch().own_leaf;
    for (const Member *r : to) {
        mlsframe::Sender sender{};
        std::vector<uint8_t> plain = r->dec.decrypt(sealed, "rtp header", &sender);
        CHECK(std::string(plain.begin(), plain.end()) == text);
        CHECK(sender.leaf == from_leaf);
        CHECK(sender.context == 0);
        mlsframe::MemberIdentity who = r->dec.sender_identity(sender);
        CHECK(who.user_id.to_string() == from.name);
        CHECK(who.device_id.to_string() == "laptop");
        std::printf("  %s -> %s: \"%s\" (%zu -> %zu bytes, epoch %llu)\n", from.name.c_str(),
                    r->name.c_str(), text.c_str(), text.size(), sealed.size(),
                    static_cast<unsigned long long>(sender.epoch));
    }
}

int main() {
    std::printf("mlsframe %s C++ wrapper call\n", MLSFRAME_VERSION);

    // Errors: thrown by the conveniences, returned by the core.
    CHECK_THROWS(Code::MlsInvalidIdentity, mlsframe::Session::create("", "laptop"));
    mlsframe::Result<mlsframe::Session> bad = mlsframe::Session::try_create("x", "", "short");
    CHECK(!bad.ok() && bad.code() == Code::InvalidArgument && !*bad);
    CHECK(std::string(mlsframe::message(Code::NoKey)).size() > 0);

    Member alice{"alice", mlsframe::Session::create("alice", "laptop"), {}, {}};
    Member bob{"bob", mlsframe::Session::create("bob", "laptop"), {}, {}};
    Member carol{"carol", mlsframe::Session::create("carol", "laptop"), {}, {}};
    CHECK_THROWS(Code::MlsNoGroup, alice.session.epoch());

    std::printf("\n== alice creates the group and adds bob and carol\n");
    alice.session.create_group();
    mlsframe::Buffer kp_bob = bob.session.key_package();
    mlsframe::Buffer kp_carol = carol.session.key_package();
    mlsframe::Commit add = alice.session.add_members({kp_bob, kp_carol});
    CHECK(!add.commit.empty() && !add.welcome.empty());
    alice.session.confirm_commit();
    CHECK(bob.session.join(add.welcome) == 1);
    CHECK(carol.session.join(add.welcome) == 1);
    for (Member *m : {&alice, &bob, &carol}) {
        m->enc = m->session.encryptor(0);
        m->dec = m->session.decryptor();
        CHECK(m->session.epoch().epoch == 1);
    }
    CHECK_THROWS(Code::ContextInUse, alice.session.encryptor(0));
    CHECK(alice.session.roster().size() > 0);
    std::string code = alice.session.security_code().to_string();
    CHECK(bob.session.security_code().to_string() == code);
    CHECK(carol.session.security_code().to_string() == code);
    std::printf("  security code: %s\n", code.c_str());

    // Group facts every member agrees on.
    CHECK(alice.session.export_secret("app label", "ctx", 32).to_vector() ==
          bob.session.export_secret("app label", "ctx", 32).to_vector());
    CHECK(alice.session.epoch_authenticator().to_vector() ==
          carol.session.epoch_authenticator().to_vector());
    CHECK(bob.session.ciphersuite() == 1);
    mlsframe::ParamsInfo params = bob.session.params();
    CHECK(params.params.sframe_suite == 4 && params.params.epoch_bits == 4 &&
          params.source == MLSFRAME_PARAMS_GROUP_CONTEXT);
    CHECK(bob.session.ratchet_tree().to_vector() == alice.session.ratchet_tree().to_vector());
    CHECK(!alice.session.group_info().empty());
    mlsframe::MemberIdentity a = bob.session.member_identity(alice.session.epoch().own_leaf);
    CHECK(a.user_id.to_string() == "alice" && a.device_id.to_string() == "laptop");
    CHECK(bob.session.member_credential(0).type == 1);
    CHECK(bob.session.signature_algorithm() == MLSFRAME_SIGNATURE_ED25519);
    CHECK_THROWS(Code::MlsUnknownMember, bob.session.member_identity(99));

    send_frame(alice, {&bob, &carol}, "hello from alice");
    send_frame(bob, {&alice, &carol}, "hello from bob");
    send_frame(carol, {&alice, &bob}, "hello from carol");

    // Codec-aware framing: the VP8 key-frame header stays clear; a flipped clear bit, a
    // wrong codec and an unknown codec id are refused.
    {
        mlsframe::Encryptor vp8 = alice.session.encryptor(7, mlsframe::Codec::Vp8);
        const std::vector<uint8_t> frame = {0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80,
                                            0x02, 0xe0, 0x01, 1, 2, 3, 4, 5, 6};
        std::vector<uint8_t> sealed = vp8.encrypt(frame);
        CHECK(std::vector<uint8_t>(sealed.begin(), sealed.begin() + 10) ==
              std::vector<uint8_t>(frame.begin(), frame.begin() + 10));
        std::vector<uint8_t> tampered = sealed;
        tampered[6] ^= 0x01;
        CHECK_THROWS(Code::AuthFailed, bob.dec.decrypt_codec(mlsframe::Codec::Vp8, tampered));
        CHECK_THROWS(Code::MalformedLayout,
                     bob.dec.decrypt_codec(mlsframe::Codec::Vp8,
                                           mlsframe::Bytes(sealed.data(), sealed.size() - 1)));
        CHECK_THROWS(Code::UnsupportedCodec,
                     bob.dec.decrypt_codec(static_cast<mlsframe::Codec>(42), sealed));
        CHECK(bob.dec.decrypt_codec(mlsframe::Codec::Vp8, sealed) == frame);
        CHECK_THROWS(Code::UnsupportedCodec,
                     alice.session.encryptor(8, static_cast<mlsframe::Codec>(42)));
    }

    std::printf("\n== alice removes carol\n");
    uint32_t carol_leaf = carol.session.epoch().own_leaf;
    mlsframe::Buffer remove = alice.session.remove_member(carol_leaf);
    alice.session.confirm_commit();
    mlsframe::Outcome at_bob = bob.session.process(remove);
    CHECK(at_bob.kind == MLSFRAME_OUTCOME_EPOCH_CHANGED && at_bob.epoch == 2 &&
          at_bob.removed == 1);
    mlsframe::Outcome at_carol = carol.session.process(remove);
    CHECK(at_carol.kind == MLSFRAME_OUTCOME_REMOVED);
    CHECK(alice.session.security_code().to_string() == bob.session.security_code().to_string());

    send_frame(alice, {&bob}, "after the removal");
    std::vector<uint8_t> sealed = alice.enc.encrypt("not for carol");
    CHECK_THROWS(Code::NoKey, carol.dec.decrypt(sealed));
    CHECK_THROWS(Code::NotMember, carol.enc.encrypt("carol is out"));
    CHECK_THROWS(Code::MlsNotMember, carol.session.security_code());
    CHECK(bob.dec.decrypt(sealed).size() == 13);
    CHECK_THROWS(Code::Replay, bob.dec.decrypt(sealed));
    mlsframe::DecryptorStats stats = carol.dec.stats();
    CHECK(stats.no_key == 1);

    // A snapshot restores bob, who must self-update before sending again.
    mlsframe::Session bob2 = mlsframe::Session::restore(bob.session.snapshot());
    CHECK(bob2.epoch().epoch == 2);
    mlsframe::Encryptor bob2_enc = bob2.encryptor(5);
    CHECK_THROWS(Code::RekeyRequired, bob2_enc.encrypt("too early"));
    mlsframe::Buffer update = bob2.self_update();
    bob2.confirm_commit();
    CHECK(alice.session.process(update).kind == MLSFRAME_OUTCOME_EPOCH_CHANGED);
    std::vector<uint8_t> after_restore = bob2_enc.encrypt("after the restore");
    CHECK(alice.dec.decrypt(after_restore).size() == 17);

    // Moves: the handle goes with the object; the moved-from one is empty.
    mlsframe::Encryptor moved = std::move(bob.enc);
    CHECK(moved && !bob.enc);
    CHECK(moved.encrypt("still works").size() > 11);
    mlsframe::Session s2 = std::move(carol.session);
    CHECK(s2 && !carol.session);
    CHECK_THROWS(Code::NullArgument, carol.session.key_package());

    // The standalone SFrame context, app-keyed.
    mlsframe::SframeContext tx = mlsframe::SframeContext::create();
    mlsframe::SframeContext rx = mlsframe::SframeContext::create();
    const std::string key = "0123456789abcdef";
    tx.set_send_key(4, 7, key);
    rx.add_receive_key(4, 7, key);
    std::vector<uint8_t> frame = tx.encrypt("sframe only");
    uint64_t kid = 0;
    CHECK(rx.decrypt(frame, {}, &kid).size() == 11 && kid == 7);
    CHECK(tx.send_counter() == 1);

    std::printf("\n%u checks\ncpp call: OK\n", g_checks);
    return 0;
}
