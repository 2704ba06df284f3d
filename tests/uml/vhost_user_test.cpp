// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// `rpmsg-sim remote --vhost-user` against a front end written here (the part of UML's
// virtio_uml that matters: the handshake of docs/real-kernel-lane.md §3, guest memory in a memfd,
// two split vrings), so the backend's protocol, ring handling and bad-input paths run in the
// normal suite and under the sanitizers, without a kernel. No root needed.

#include "lane_remote.h"
#include "sim_harness.h"

#include <cstring>
#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using simtest::Fd;

constexpr uint32_t SetOwner = 3, GetFeatures = 1, SetFeatures = 2, SetMemTable = 5, SetVringNum = 8,
                   SetVringAddr = 9, SetVringBase = 10, SetVringKick = 12, SetVringCall = 13,
                   GetProtocolFeatures = 15, SetProtocolFeatures = 16, SetVringEnable = 18,
                   SetSlaveReqFd = 21;
constexpr uint32_t NeedReply = 0x8;
constexpr uint64_t GuestBase = 0x40000000; // where "guest physical" memory starts
constexpr size_t MemSize = 1 << 20;
constexpr uint16_t Num = 16;

// Guest memory layout (offsets): vq N at N*0x3000 (desc, avail, used on consecutive pages),
// buffers from 0x10000, 512 bytes each: RX 0..15, TX 16..31.
constexpr uint64_t ringBase(int vq) {
    return uint64_t(vq) * 0x3000;
}
constexpr uint64_t bufOff(int i) {
    return 0x10000 + uint64_t(i) * 512;
}

std::string fwSpec() {
    return R"({"services": [
        {"name": "rpmsg-echo", "addr": 1024, "kind": "echo"},
        {"name": "rpmsg-sink", "addr": 1026, "kind": "sink", "consume_every_ms": 0}]})";
}

class FrontEnd : public ::testing::Test {
protected:
    void SetUp() override {
        tmp_ = std::make_unique<simtest::TempDir>("vhost-user-test");
        const auto fw = simtest::runCommand({simtest::simBinary(), "mkfw", "--spec", writeSpec(),
                                             "--out", tmp_->path() + "/fw.elf"});
        ASSERT_EQ(fw.exitCode, 0) << fw.err;
        socket_ = tmp_->path() + "/vu.sock";
        control_ = tmp_->path() + "/control.sock";
        simtest::SpawnOptions opts;
        opts.logPath = tmp_->path() + "/remote.log";
        opts.captureStdout = true;
        std::string error;
        remote_ =
            simtest::spawnLogged({simtest::simBinary(), "remote", "--vhost-user", socket_,
                                  "--firmware", tmp_->path() + "/fw.elf", "--control", control_},
                                 opts, error);
        ASSERT_GT(remote_.pid, 0) << error;
        std::string line;
        ASSERT_TRUE(simtest::waitFor(
            [&] {
                char buf[256];
                pollfd p{remote_.stdoutFd, POLLIN, 0};
                if (::poll(&p, 1, 10) > 0) {
                    const ssize_t n = ::read(remote_.stdoutFd, buf, sizeof buf);
                    if (n > 0) {
                        line.append(buf, size_t(n));
                    }
                }
                return line.find('\n') != std::string::npos;
            },
            10s))
            << log();
        ASSERT_EQ(line, "ready " + socket_ + "\n");
        memFd_ = ::memfd_create("guest", MFD_CLOEXEC);
        ASSERT_EQ(::ftruncate(memFd_, MemSize), 0);
        mem_ = static_cast<uint8_t*>(
            ::mmap(nullptr, MemSize, PROT_READ | PROT_WRITE, MAP_SHARED, memFd_, 0));
        ASSERT_NE(mem_, MAP_FAILED);
    }

    void TearDown() override {
        conn_.reset();
        if (remote_.pid > 0) {
            ::kill(remote_.pid, SIGTERM);
            exitStatus();
        }
        if (remote_.stdoutFd >= 0) {
            ::close(remote_.stdoutFd);
        }
        if (mem_ && mem_ != MAP_FAILED) {
            ::munmap(mem_, MemSize);
        }
        if (memFd_ >= 0) {
            ::close(memFd_);
        }
        if (HasFailure()) {
            std::cerr << log();
        }
        const std::string report = simtest::sanitizerReport(log());
        EXPECT_EQ(report, "");
    }

    std::string writeSpec() {
        const std::string p = tmp_->path() + "/fw.json";
        simtest::writeTextFile(p, fwSpec());
        return p;
    }
    std::string log() const { return simtest::readFile(tmp_->path() + "/remote.log").data; }

    /// Waits for the remote to exit; its status (-1 on timeout: then it is killed).
    int exitStatus(std::chrono::milliseconds timeout = 10s) {
        int status = -1;
        const bool done = simtest::waitFor(
            [&] { return ::waitpid(remote_.pid, &status, WNOHANG) == remote_.pid; }, timeout);
        if (!done) {
            ::kill(remote_.pid, SIGKILL);
            ::waitpid(remote_.pid, &status, 0);
            status = -1;
        }
        remote_.pid = -1;
        return status;
    }

    void connect() {
        conn_ = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, socket_.c_str(), sizeof a.sun_path - 1);
        ASSERT_EQ(::connect(conn_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    }

    /// Sends one message (header + payload, fds as SCM_RIGHTS). False when the remote has
    /// closed the connection.
    bool send(uint32_t request, const std::vector<uint8_t>& payload, std::vector<int> fds = {},
              uint32_t flags = 0x1) {
        std::vector<uint8_t> msg(12 + payload.size());
        const uint32_t h[3] = {htole32(request), htole32(flags), htole32(uint32_t(payload.size()))};
        std::memcpy(msg.data(), h, 12);
        if (!payload.empty()) {
            std::memcpy(msg.data() + 12, payload.data(), payload.size());
        }
        iovec iov{msg.data(), msg.size()};
        msghdr m{};
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)] = {};
        if (!fds.empty()) {
            m.msg_control = control;
            m.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
            cmsghdr* c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
            std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
        }
        return ::sendmsg(conn_.get(), &m, MSG_NOSIGNAL) == ssize_t(msg.size());
    }
    /// Reads one reply's u64 payload (nullopt on EOF/timeout).
    std::optional<uint64_t> reply(uint32_t request) {
        pollfd p{conn_.get(), POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) {
            return std::nullopt;
        }
        uint8_t buf[20];
        if (::recv(conn_.get(), buf, sizeof buf, MSG_WAITALL) != ssize_t(sizeof buf)) {
            return std::nullopt;
        }
        uint32_t h[3];
        uint64_t v;
        std::memcpy(h, buf, 12);
        std::memcpy(&v, buf + 12, 8);
        EXPECT_EQ(le32toh(h[0]), request);
        EXPECT_EQ(le32toh(h[1]), 0x5u);
        EXPECT_EQ(le32toh(h[2]), 8u);
        return le64toh(v);
    }
    static std::vector<uint8_t> u64(uint64_t v) {
        std::vector<uint8_t> out(8);
        v = htole64(v);
        std::memcpy(out.data(), &v, 8);
        return out;
    }
    static std::vector<uint8_t> u32pair(uint32_t a, uint32_t b) {
        std::vector<uint8_t> out(8);
        a = htole32(a);
        b = htole32(b);
        std::memcpy(out.data(), &a, 4);
        std::memcpy(out.data() + 4, &b, 4);
        return out;
    }
    template <typename T>
    T& at(uint64_t off) {
        return *reinterpret_cast<T*>(mem_ + off);
    }

    /// The whole handshake, as UML sends it, with both rings enabled.
    void handshake(uint64_t ringAddrShift = 0) {
        ASSERT_NO_FATAL_FAILURE(connect());
        ASSERT_TRUE(send(SetOwner, {}));
        ASSERT_TRUE(send(GetFeatures, {}));
        const auto features = reply(GetFeatures);
        ASSERT_TRUE(features);
        EXPECT_EQ(*features, (1ull << 32) | (1ull << 30) | 1ull) << "VERSION_1|PROTOCOL|NS";
        ASSERT_TRUE(send(GetProtocolFeatures, {}));
        const auto proto = reply(GetProtocolFeatures);
        ASSERT_TRUE(proto);
        EXPECT_EQ(*proto, 0x28u) << "REPLY_ACK|SLAVE_REQ";
        ASSERT_TRUE(send(SetProtocolFeatures, u64(0x28), {}, 0x1 | NeedReply));
        EXPECT_EQ(reply(SetProtocolFeatures), 0u);
        int slave[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, slave), 0);
        slave_ = Fd(slave[0]);
        ASSERT_TRUE(send(SetSlaveReqFd, {}, {slave[1]}, 0x1 | NeedReply));
        ::close(slave[1]);
        EXPECT_EQ(reply(SetSlaveReqFd), 0u);
        ASSERT_TRUE(send(SetFeatures, u64((1ull << 32) | 1ull), {}, 0x1 | NeedReply));
        EXPECT_EQ(reply(SetFeatures), 0u);
        std::vector<uint8_t> table(8 + 32);
        const uint64_t region[4] = {htole64(GuestBase), htole64(MemSize), htole64(GuestBase), 0};
        table[0] = 1;
        std::memcpy(table.data() + 8, region, 32);
        ASSERT_TRUE(send(SetMemTable, table, {memFd_}, 0x1 | NeedReply));
        EXPECT_EQ(reply(SetMemTable), 0u);
        for (int vq = 0; vq < 2; ++vq) {
            int call[2];
            ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, call),
                      0);
            call_[vq] = Fd(call[0]);
            ASSERT_TRUE(send(SetVringCall, u64(uint64_t(vq)), {call[1]}, 0x1 | NeedReply));
            ::close(call[1]);
            EXPECT_EQ(reply(SetVringCall), 0u);
            ASSERT_TRUE(send(SetVringNum, u32pair(uint32_t(vq), Num), {}, 0x1 | NeedReply));
            EXPECT_EQ(reply(SetVringNum), 0u);
            ASSERT_TRUE(send(SetVringBase, u32pair(uint32_t(vq), 0), {}, 0x1 | NeedReply));
            EXPECT_EQ(reply(SetVringBase), 0u);
            std::vector<uint8_t> addr(40, 0);
            const uint64_t b = GuestBase + ringBase(vq) + ringAddrShift;
            const uint64_t fields[4] = {htole64(b), htole64(b + 0x2000), htole64(b + 0x1000), 0};
            const uint32_t idx = htole32(uint32_t(vq));
            std::memcpy(addr.data(), &idx, 4);
            std::memcpy(addr.data() + 8, fields, 32);
            if (!send(SetVringAddr, addr, {}, 0x1 | NeedReply) || !reply(SetVringAddr)) {
                return; // refused: the caller checks
            }
        }
        for (int vq = 0; vq < 2; ++vq) {
            kick_[vq] = Fd(::eventfd(0, EFD_CLOEXEC));
            ASSERT_TRUE(send(SetVringKick, u64(uint64_t(vq)), {kick_[vq].get()}, 0x1 | NeedReply));
            EXPECT_EQ(reply(SetVringKick), 0u);
            ASSERT_TRUE(send(SetVringEnable, u32pair(uint32_t(vq), 1), {}, 0x1 | NeedReply));
            EXPECT_EQ(reply(SetVringEnable), 0u);
        }
    }

    void setDesc(int vq, uint16_t i, uint64_t off, uint32_t len, uint16_t flags) {
        uint8_t* d = mem_ + ringBase(vq) + 16 * i;
        const uint64_t addr = htole64(GuestBase + off);
        const uint32_t l = htole32(len);
        const uint16_t f = htole16(flags), next = 0;
        std::memcpy(d, &addr, 8);
        std::memcpy(d + 8, &l, 4);
        std::memcpy(d + 12, &f, 2);
        std::memcpy(d + 14, &next, 2);
    }
    uint16_t& availIdx(int vq) { return at<uint16_t>(ringBase(vq) + 0x1000 + 2); }
    uint16_t& availRing(int vq, uint16_t i) {
        return at<uint16_t>(ringBase(vq) + 0x1000 + 4 + 2 * (i % Num));
    }
    uint16_t usedIdx(int vq) {
        return __atomic_load_n(&at<uint16_t>(ringBase(vq) + 0x2000 + 2), __ATOMIC_ACQUIRE);
    }
    std::pair<uint32_t, uint32_t> usedElem(int vq, uint16_t i) {
        const uint64_t e = ringBase(vq) + 0x2000 + 4 + 8 * (i % Num);
        return {at<uint32_t>(e), at<uint32_t>(e + 4)};
    }
    void kick(int vq) {
        const uint64_t one = 1;
        ASSERT_EQ(::write(kick_[vq].get(), &one, 8), 8);
    }

    /// Posts all 16 RX buffers and kicks vq 0: the driver is up.
    void postRxBuffers() {
        for (uint16_t i = 0; i < Num; ++i) {
            setDesc(0, i, bufOff(i), 512, 2 /* WRITE */);
            availRing(0, i) = i;
        }
        __atomic_store_n(&availIdx(0), Num, __ATOMIC_RELEASE);
        kick(0);
    }

    struct Msg {
        uint32_t src, dst;
        std::string payload;
    };
    /// The RX messages the remote has used since @p from (waits for at least @p count).
    std::vector<Msg> rxMessages(uint16_t from, uint16_t count) {
        simtest::waitFor([&] { return uint16_t(usedIdx(0) - from) >= count; }, 5s);
        std::vector<Msg> out;
        for (uint16_t i = from; i != usedIdx(0); ++i) {
            const auto [id, len] = usedElem(0, i);
            const uint8_t* b = mem_ + bufOff(int(id));
            Msg m;
            m.src = *reinterpret_cast<const uint32_t*>(b);
            m.dst = *reinterpret_cast<const uint32_t*>(b + 4);
            const uint16_t plen = *reinterpret_cast<const uint16_t*>(b + 12);
            EXPECT_EQ(len, 16u + plen);
            m.payload.assign(reinterpret_cast<const char*>(b + 16), plen);
            out.push_back(m);
        }
        return out;
    }
    /// Sends one rpmsg message from Linux on vq 1 (TX buffer @p slot).
    void sendTx(uint16_t slot, uint32_t src, uint32_t dst, const std::string& payload) {
        uint8_t* b = mem_ + bufOff(16 + slot);
        std::memset(b, 0, 16);
        std::memcpy(b, &src, 4);
        std::memcpy(b + 4, &dst, 4);
        const uint16_t len = uint16_t(payload.size());
        std::memcpy(b + 12, &len, 2);
        std::memcpy(b + 16, payload.data(), payload.size());
        setDesc(1, slot, bufOff(16 + slot), uint32_t(16 + payload.size()), 0);
        const uint16_t idx = availIdx(1);
        availRing(1, idx) = slot;
        __atomic_store_n(&availIdx(1), uint16_t(idx + 1), __ATOMIC_RELEASE);
        kick(1);
    }
    bool callArrived(int vq) {
        pollfd p{call_[vq].get(), POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) {
            return false;
        }
        uint64_t v = 0;
        return ::read(call_[vq].get(), &v, 8) == 8 && v == 1;
    }

    std::unique_ptr<simtest::TempDir> tmp_;
    std::string socket_, control_;
    simtest::Spawned remote_;
    int memFd_ = -1;
    uint8_t* mem_ = nullptr;
    Fd conn_, slave_, call_[2], kick_[2];
};

TEST_F(FrontEnd, HandshakeThenNameServiceAnnouncementsOnceTheDriverIsUp) {
    ASSERT_NO_FATAL_FAILURE(handshake());
    // Nothing is sent before the first RX kick (vhost-user has no device status).
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(usedIdx(0), 0);
    postRxBuffers();
    ASSERT_TRUE(callArrived(0));
    const auto msgs = rxMessages(0, 2);
    ASSERT_EQ(msgs.size(), 2u);
    for (const auto& m : msgs) {
        EXPECT_EQ(m.dst, 53u);
        ASSERT_EQ(m.payload.size(), 40u);
        const uint32_t addr = *reinterpret_cast<const uint32_t*>(m.payload.data() + 32);
        const uint32_t flags = *reinterpret_cast<const uint32_t*>(m.payload.data() + 36);
        EXPECT_EQ(m.src, addr);
        EXPECT_EQ(flags, 0u) << "create";
        EXPECT_EQ(std::string(m.payload.c_str()), addr == 1024 ? "rpmsg-echo" : "rpmsg-sink");
    }
}

TEST_F(FrontEnd, EchoComesBackAndTxBuffersAreRecycled) {
    ASSERT_NO_FATAL_FAILURE(handshake());
    postRxBuffers();
    ASSERT_EQ(rxMessages(0, 2).size(), 2u);
    const uint16_t base = usedIdx(0);
    // More messages than there are TX descriptors: every buffer must come back to be reused.
    for (int i = 0; i < 40; ++i) {
        const uint16_t slot = uint16_t(i % Num);
        sendTx(slot, 1030, 1024, "ping " + std::to_string(i));
        ASSERT_TRUE(simtest::waitFor([&] { return usedIdx(1) == uint16_t(i + 1); }, 5s))
            << "TX buffer " << i << " was not returned";
        EXPECT_EQ(usedElem(1, uint16_t(i)).first, slot);
        ASSERT_TRUE(simtest::waitFor([&] { return usedIdx(0) == uint16_t(base + i + 1); }, 5s));
        const auto [id, len] = usedElem(0, uint16_t(base + i));
        const auto echo = rxMessages(uint16_t(base + i), 1);
        ASSERT_FALSE(echo.empty());
        EXPECT_EQ(echo[0].src, 1024u);
        EXPECT_EQ(echo[0].dst, 1030u);
        EXPECT_EQ(echo[0].payload, "ping " + std::to_string(i));
        // Give the RX buffer back, as virtio_rpmsg_bus does after consuming it.
        const uint16_t a = availIdx(0);
        availRing(0, a) = uint16_t(id);
        __atomic_store_n(&availIdx(0), uint16_t(a + 1), __ATOMIC_RELEASE);
        kick(0);
    }
    lane::StreamRemote ctl(control_);
    // A UNIX socket is no tty: StreamRemote still speaks the protocol over it.
    const auto peer = ctl.command({"peer", "1024"});
    EXPECT_TRUE(peer.ok) << peer.error;
    EXPECT_EQ(peer.output, "1030\n");
}

TEST_F(FrontEnd, MessagesWaitForRxBuffersInsteadOfBeingLost) {
    ASSERT_NO_FATAL_FAILURE(handshake());
    // Only 2 RX buffers: both NS announcements fill them.
    for (uint16_t i = 0; i < 2; ++i) {
        setDesc(0, i, bufOff(i), 512, 2);
        availRing(0, i) = i;
    }
    __atomic_store_n(&availIdx(0), uint16_t(2), __ATOMIC_RELEASE);
    kick(0);
    ASSERT_EQ(rxMessages(0, 2).size(), 2u);
    lane::StreamRemote ctl(control_);
    for (int i = 0; i < 3; ++i) {
        const auto r = ctl.command({"send", "1024", "1030", "queued " + std::to_string(i)});
        ASSERT_TRUE(r.ok) << r.error;
    }
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(usedIdx(0), 2) << "no buffer, so nothing may be written";
    for (uint16_t i = 2; i < 5; ++i) {
        setDesc(0, i, bufOff(i), 512, 2);
        availRing(0, i) = i;
    }
    __atomic_store_n(&availIdx(0), uint16_t(5), __ATOMIC_RELEASE);
    kick(0);
    const auto msgs = rxMessages(2, 3);
    ASSERT_EQ(msgs.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(msgs[size_t(i)].payload, "queued " + std::to_string(i));
    }
}

TEST_F(FrontEnd, StallHoldsTxBuffersAndResumeReturnsThem) {
    ASSERT_NO_FATAL_FAILURE(handshake());
    postRxBuffers();
    ASSERT_EQ(rxMessages(0, 2).size(), 2u);
    lane::StreamRemote ctl(control_);
    ASSERT_TRUE(ctl.command({"stall"}).ok);
    for (uint16_t i = 0; i < 4; ++i) {
        sendTx(i, 1030, 1026, "held");
    }
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(usedIdx(1), 0);
    const auto status = ctl.command({"status"});
    EXPECT_NE(status.output.find("\"held\":4"), std::string::npos) << status.output;
    ASSERT_TRUE(ctl.command({"resume"}).ok);
    EXPECT_TRUE(simtest::waitFor([&] { return usedIdx(1) == 4; }, 5s));
}

TEST_F(FrontEnd, TheGuestGoingAwayEndsTheRemoteCleanly) {
    ASSERT_NO_FATAL_FAILURE(handshake());
    postRxBuffers();
    ASSERT_EQ(rxMessages(0, 2).size(), 2u);
    conn_.reset();
    const int status = exitStatus();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_NE(log().find("the guest went away"), std::string::npos) << log();
}

TEST_F(FrontEnd, HangupClosesTheConnectionAndSaysSo) {
    ASSERT_NO_FATAL_FAILURE(handshake());
    postRxBuffers();
    lane::StreamRemote ctl(control_);
    const auto r = ctl.command({"hangup"});
    EXPECT_TRUE(r.ok) << r.error;
    pollfd p{conn_.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);
    char c;
    EXPECT_EQ(::recv(conn_.get(), &c, 1, 0), 0) << "the connection must be closed";
    // The call fds are closed too: that is how UML notices.
    EXPECT_TRUE(simtest::waitFor(
        [&] {
            uint64_t v;
            return ::read(call_[0].get(), &v, 8) == 0;
        },
        5s))
        << "call fd of vring 0 still open";
    const auto after = ctl.command({"send", "1024", "1030", "x"});
    EXPECT_FALSE(after.ok);
    EXPECT_EQ(after.error, "the remote hung up");
}

TEST_F(FrontEnd, ARingOutsideGuestMemoryEndsTheConnectionNamingIt) {
    ASSERT_NO_FATAL_FAILURE(handshake(MemSize)); // every ring address past the region
    pollfd p{conn_.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);
    char c;
    EXPECT_EQ(::recv(conn_.get(), &c, 1, 0), 0);
    EXPECT_EQ(exitStatus(), 0);
    EXPECT_NE(log().find("a vring lies outside guest memory"), std::string::npos) << log();
}

TEST_F(FrontEnd, MalformedMessagesEndTheConnectionNamingThem) {
    ASSERT_NO_FATAL_FAILURE(connect());
    // A payload far beyond any vhost-user message.
    const uint32_t h[3] = {htole32(SetMemTable), htole32(1), htole32(1u << 20)};
    ASSERT_EQ(::send(conn_.get(), h, 12, MSG_NOSIGNAL), 12);
    EXPECT_EQ(exitStatus(), 0);
    EXPECT_NE(log().find("1048576-byte payload"), std::string::npos) << log();
}

TEST_F(FrontEnd, BadControlRequestsGetErrorsAndTheStreamStays) {
    lane::StreamRemote ctl(control_);
    EXPECT_EQ(ctl.command({"announce", "x", "53"}).error, "no guest is connected");
    ASSERT_NO_FATAL_FAILURE(handshake());
    postRxBuffers();
    EXPECT_EQ(ctl.command({"announce", "x", "53"}).error,
              "address \"53\" is not a valid remote address");
    EXPECT_EQ(ctl.command({"announce", std::string(32, 'n'), "80"}).error,
              "channel name must be 1 to 31 bytes");
    EXPECT_EQ(ctl.command({"send", "1", "2", std::string(497, 'x')}).error,
              "TEXT is longer than 496 bytes");
    EXPECT_NE(ctl.command({"fly"}).error.find("unknown command \"fly\""), std::string::npos);
    EXPECT_EQ(ctl.command({"peer", "1024"}).error, "no message has reached service 1024 yet");
    EXPECT_TRUE(ctl.command({"ping"}).ok);
}

TEST(RemoteCommandLine, RefusesMissingAndBadArguments) {
    auto r = simtest::runCommand({simtest::simBinary(), "remote", "--vhost-user", "/tmp/x"});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("--firmware FW.elf are required"), std::string::npos) << r.err;
    simtest::TempDir tmp("vhost-user-cli");
    simtest::writeTextFile(tmp.path() + "/not.elf", "hello");
    r = simtest::runCommand({simtest::simBinary(), "remote", "--vhost-user", tmp.path() + "/s",
                             "--firmware", tmp.path() + "/not.elf"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("not.elf"), std::string::npos) << r.err;
    r = simtest::runCommand({simtest::simBinary(), "remote", "--vhost-user", tmp.path() + "/s",
                             "--firmware", tmp.path() + "/missing.elf"});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("cannot read " + tmp.path() + "/missing.elf: No such file"),
              std::string::npos)
        << r.err;
}

} // namespace
