// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Bad input from polkit (issue 16, "Bad input"): a fake org.freedesktop.PolicyKit1 authority,
// owned by the test on the private bus (with a policy that lets root own the name there), that
// answers CheckAuthorization with malformed replies or holds it while its caller leaves the
// bus. Each ends the call with a clear AccessDenied or drops it cleanly, and leaves nothing
// pending: the same client's next calls are not counted against limits.calls_per_client, and
// the daemon keeps answering. (A rule that throws is in polkit_test.cpp, against the real
// polkitd.) polkit's reply names no subject: it is bound to the check by the bus (the reply
// serial, from the name's owner only), so "an answer for the wrong subject" can only be a check
// asked about the wrong subject; the fake checks that each is asked about the caller.

#include "fixture.h"

#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <unistd.h>
#include <vector>

namespace itest {
namespace {

constexpr const char* PolkitBusPolicy =
    "/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf";
constexpr const char* AuthorityIface = "org.freedesktop.PolicyKit1.Authority";

using Subject = sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>>;

// The fake authority, served from its own connection's thread.
class FakeAuthority {
public:
    enum class Reply { WrongType, AllowedButShort, Hold };

    explicit FakeAuthority(Reply reply)
        : reply_(reply), conn_(sdbus::createSystemBusConnection("org.freedesktop.PolicyKit1")) {
        object_ = sdbus::createObject(*conn_, "/org/freedesktop/PolicyKit1/Authority");
        object_->registerMethod(AuthorityIface, "CheckAuthorization", "(sa{sv})sa{ss}us",
                                "(bba{ss})", [this](sdbus::MethodCall call) { check(call); });
        object_->registerMethod(AuthorityIface, "CancelCheckAuthorization", "s", "",
                                [this](sdbus::MethodCall call) {
                                    std::string id;
                                    call >> id;
                                    {
                                        std::lock_guard lock(mutex_);
                                        cancelled_.push_back(id);
                                    }
                                    call.createReply().send();
                                });
        object_->finishRegistration();
        conn_->enterEventLoopAsync();
    }
    ~FakeAuthority() { conn_->leaveEventLoop(); }
    FakeAuthority(const FakeAuthority&) = delete;
    FakeAuthority& operator=(const FakeAuthority&) = delete;

    /// @brief The bus names the checks asked about, in order.
    std::vector<std::string> subjects() {
        std::lock_guard lock(mutex_);
        return subjects_;
    }
    /// @brief The cancellation ids of the checks held (Reply::Hold), and of those cancelled.
    std::vector<std::string> held() {
        std::lock_guard lock(mutex_);
        return held_;
    }
    std::vector<std::string> cancelled() {
        std::lock_guard lock(mutex_);
        return cancelled_;
    }

private:
    void check(sdbus::MethodCall& call) {
        Subject subject;
        std::string action, cancellationId;
        std::map<std::string, std::string> details;
        uint32_t flags = 0;
        call >> subject >> action >> details >> flags >> cancellationId;
        std::string name = subject.get<0>() + ":";
        if (auto it = subject.get<1>().find("name"); it != subject.get<1>().end()) {
            name += it->second.get<std::string>();
        }
        std::lock_guard lock(mutex_);
        subjects_.push_back(name);
        switch (reply_) {
        case Reply::WrongType: {
            auto reply = call.createReply();
            reply << std::string("yes");
            reply.send();
            break;
        }
        case Reply::AllowedButShort: { // "authorized" without its details: not a polkit answer
            auto reply = call.createReply();
            reply << sdbus::Struct<bool, bool>{true, false};
            reply.send();
            break;
        }
        case Reply::Hold:
            held_.push_back(cancellationId);
            calls_.push_back(call); // never answered
            break;
        }
    }

    Reply reply_;
    std::unique_ptr<sdbus::IConnection> conn_;
    std::unique_ptr<sdbus::IObject> object_;
    std::mutex mutex_;
    std::vector<std::string> subjects_, held_, cancelled_;
    std::vector<sdbus::MethodCall> calls_;
};

// polkit's bus policy lets only the user polkitd own the name; on the test's private bus, root
// (the test) may own it too.
std::string fakeAuthorityPolicy() {
    const std::string path = "/tmp/rpmsgd-fake-polkit-" + std::to_string(::getpid()) + ".conf";
    std::ofstream(path) << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus "
                           "Configuration 1.0//EN\"\n"
                           " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                           "<busconfig><policy user=\"root\">"
                           "<allow own=\"org.freedesktop.PolicyKit1\"/>"
                           "</policy></busconfig>\n";
    return path;
}

class PolkitBadInput : public DaemonTest {
    void configure(EnvOptions& o) override {
        o.busPolicies.push_back(PolkitBusPolicy);
        o.busPolicies.push_back(fakeAuthorityPolicy());
        o.editConfig = [](nlohmann::json& c) {
            c["authorization"] = "polkit";
            c["limits"]["calls_per_client"] = 2;
        };
    }

protected:
    void SetUp() override {
        if (::access(PolkitBusPolicy, R_OK) != 0) {
            GTEST_SKIP() << PolkitBusPolicy << " is missing (Debian package polkitd)";
        }
        DaemonTest::SetUp();
    }
    void TearDown() override {
        DaemonTest::TearDown();
        ::unlink(("/tmp/rpmsgd-fake-polkit-" + std::to_string(::getpid()) + ".conf").c_str());
    }
};

// A stranger (uid nobody, group daemon) makes @p count SetRecovery calls on cm4, one after
// another on one connection, and reports its unique name and each answer.
std::string strangerCalls(int count) {
    return runAs(NobodyStranger, [count](Client& c) {
        std::string out = c.connection().getUniqueName();
        for (int i = 0; i < count; ++i) {
            try {
                c.setRecovery(c.processorPath("remoteproc0"), false);
                out += "\nallowed";
            } catch (const sdbus::Error& e) {
                out += "\nerror " + e.getName() + ": " + e.getMessage();
            }
        }
        return out;
    });
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= s.size()) {
        size_t end = s.find('\n', pos);
        if (end == std::string::npos) {
            end = s.size();
        }
        out.push_back(s.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

TEST_F(PolkitBadInput, MalformedRepliesAreARefusalAndLeaveNothingPending) {
    for (const auto reply :
         {FakeAuthority::Reply::WrongType, FakeAuthority::Reply::AllowedButShort}) {
        FakeAuthority polkit(reply);
        // More calls than limits.calls_per_client: a check left pending would make the third
        // LimitExceeded.
        const std::vector<std::string> got = lines(strangerCalls(4));
        ASSERT_EQ(got.size(), 5u);
        for (size_t i = 1; i < got.size(); ++i) {
            EXPECT_EQ(got[i].rfind("error " + err::AccessDenied + ": ", 0), 0u) << got[i];
            EXPECT_NE(got[i].find("polkit"), std::string::npos) << got[i];
        }
        // Each check was asked about the caller itself.
        EXPECT_EQ(polkit.subjects(), std::vector<std::string>(4, "system-bus-name:" + got[0]));
        EXPECT_EQ(root().get<std::string>(cm4(), ProcessorIface, "Recovery"), "enabled");
        EXPECT_TRUE(env().daemonAlive());
    }
}

TEST_F(PolkitBadInput, ACallerThatLeavesWhileItsCheckRunsIsDroppedAndTheCheckCancelled) {
    FakeAuthority polkit(FakeAuthority::Reply::Hold);
    Child child(NobodyStranger, [](ChildIo& io) {
        Client c;
        io.send(c.connection().getUniqueName());
        c.setCoredump(c.processorPath("remoteproc0"), "enabled"); // held: the parent kills us
        io.send("answered");
        return 0;
    });
    const auto name = child.readLine();
    ASSERT_TRUE(name.has_value());
    ASSERT_TRUE(simtest::waitFor([&] { return polkit.held().size() == 1; }, 10s));
    EXPECT_EQ(polkit.subjects(), std::vector<std::string>{"system-bus-name:" + *name});
    child.kill(SIGKILL);
    child.wait();
    // rpmsgd sees the caller go, cancels its check with polkit, and drops the call.
    EXPECT_TRUE(simtest::waitFor([&] { return polkit.cancelled() == polkit.held(); }, 10s))
        << "cancelled " << polkit.cancelled().size() << " of " << polkit.held().size();
    EXPECT_EQ(root().get<std::string>(cm4(), ProcessorIface, "Coredump"), "disabled");
    // Nothing changed, and the daemon answers.
    root().setCoredump(cm4(), "inline");
    EXPECT_EQ(root().get<std::string>(cm4(), ProcessorIface, "Coredump"), "inline");
    EXPECT_TRUE(env().daemonAlive());
}

} // namespace
} // namespace itest
