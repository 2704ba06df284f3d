// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Authorization with polkit (issue 16; docs/dbus-api.md, "Authorization with polkit") against the
// real polkitd (Debian's polkitd, /usr/lib/polkit-1/polkitd) on the test's private system-like
// bus. polkitd runs in a private mount namespace where the test's rules directory and an actions
// directory holding our dbus/org.rpmsgd.policy are bind-mounted over /etc/polkit-1/rules.d and
// /usr/share/polkit-1/actions: nothing on the machine changes. Without polkitd installed, the
// cases that need it skip saying so; `auto` without polkit on the bus is version 1.

#include "fixture.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

namespace itest {
namespace {

namespace fs = std::filesystem;

constexpr const char* Polkitd = "/usr/lib/polkit-1/polkitd";
constexpr const char* PolkitBusPolicy =
    "/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf";

std::string readAll(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string polkitSkipReason() {
    if (::access(Polkitd, X_OK) != 0) {
        return std::string(Polkitd) + " is not installed (Debian package polkitd)";
    }
    if (::access(PolkitBusPolicy, R_OK) != 0) {
        return std::string(PolkitBusPolicy) + " is missing";
    }
    if (::access("/etc/polkit-1/rules.d", F_OK) != 0 ||
        ::access("/usr/share/polkit-1/actions", F_OK) != 0) {
        return "polkit's rules.d or actions directory is missing";
    }
    return "";
}

// polkitd on the test bus, with the test's rules, in its own mount namespace.
class PolkitDaemon {
public:
    PolkitDaemon(DaemonEnv& env, const std::string& rules) : env_(env) {
        const std::string dir = env.root() + "/polkit";
        rulesDir_ = dir + "/rules.d";
        actionsDir_ = dir + "/actions";
        log_ = dir + "/polkitd.log";
        fs::create_directories(rulesDir_);
        fs::create_directories(actionsDir_);
        fs::copy_file(RPMSGD_POLKIT_POLICY, actionsDir_ + "/org.rpmsgd.policy",
                      fs::copy_options::overwrite_existing);
        std::ofstream(rulesDir_ + "/50-rpmsgd-test.rules") << rules;
        for (const auto& p : {dir, rulesDir_, actionsDir_}) {
            ::chmod(p.c_str(), 0755);
        }
        ::chmod((rulesDir_ + "/50-rpmsgd-test.rules").c_str(), 0644);
        ::chmod((actionsDir_ + "/org.rpmsgd.policy").c_str(), 0644);
    }
    ~PolkitDaemon() { kill(SIGTERM); }
    PolkitDaemon(const PolkitDaemon&) = delete;
    PolkitDaemon& operator=(const PolkitDaemon&) = delete;

    /// @brief Starts polkitd and waits for its name; "" or why not (with its log).
    std::string start() {
        const std::string script = "mount --make-rprivate / && mount --bind '" + rulesDir_ +
                                   "' /etc/polkit-1/rules.d && mount --bind '" + actionsDir_ +
                                   "' /usr/share/polkit-1/actions && exec " + Polkitd;
        simtest::SpawnOptions spawn;
        spawn.logPath = log_;
        spawn.appendLog = true;
        spawn.env = {"DBUS_SYSTEM_BUS_ADDRESS=" + env_.busAddress(),
                     "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
        std::string error;
        pid_ = simtest::spawnLogged({"unshare", "-m", "/bin/sh", "-c", script}, spawn, error).pid;
        if (pid_ < 0) {
            return "polkitd did not start: " + error;
        }
        Client probe;
        auto bus =
            sdbus::createProxy(probe.connection(), "org.freedesktop.DBus", "/org/freedesktop/DBus");
        const bool up = simtest::waitFor(
            [&] {
                bool has = false;
                bus->callMethod("NameHasOwner")
                    .onInterface("org.freedesktop.DBus")
                    .withArguments(std::string("org.freedesktop.PolicyKit1"))
                    .storeResultsTo(has);
                return has;
            },
            10s, 50ms);
        return up ? "" : "polkitd did not take its name; its log:\n" + log();
    }

    void kill(int sig) {
        if (pid_ > 0) {
            ::kill(pid_, sig);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }

    std::string log() const { return readAll(log_); }

private:
    DaemonEnv& env_;
    std::string rulesDir_, actionsDir_, log_;
    pid_t pid_ = -1;
};

// Rules for the cases below. Every rpmsgd check logs the details polkit passed to the rules.
constexpr const char* TestRules = R"JS(
polkit.addRule(function(action, subject) {
    if (action.id.indexOf("org.rpmsgd.") != 0) {
        return polkit.Result.NOT_HANDLED;
    }
    var keys = [];
    for (var k in action) {
        if (k.indexOf("_detail_") == 0) {
            keys.push(k.substring(8) + "=" + action[k]);
        }
    }
    keys.sort();
    polkit.log("rpmsgd-check " + action.id + " user=" + subject.user + " " + keys.join(" "));
    if (subject.user != "nobody") {
        return polkit.Result.NOT_HANDLED;
    }
    if (action.id == "org.rpmsgd.manage") {
        if (action.lookup("method") == "SetCoredump") {
            polkit.spawn(["/bin/sleep", "5"]); // a slow decision, to be killed
            return polkit.Result.YES;
        }
        if (action.lookup("method") == "SetFirmware") {
            return polkit.Result.AUTH_ADMIN;
        }
        if (action.lookup("method") == "ReadTrace") {
            throw "a rule that throws";
        }
        return action.lookup("processor") == "cm4" ? polkit.Result.YES : polkit.Result.NO;
    }
    if (action.id == "org.rpmsgd.open-channel") {
        return action.lookup("channel") == "rpmsg-echo" ? polkit.Result.YES : polkit.Result.NO;
    }
    return polkit.Result.NO;
});
)JS";

class PolkitAuthorization : public DaemonTest {
protected:
    void configure(EnvOptions& o) override {
        o.busPolicies.push_back(PolkitBusPolicy);
        o.editConfig = [this](nlohmann::json& c) {
            c["authorization"] = mode();
        };
    }
    virtual std::string mode() const { return "polkit"; }

    void SetUp() override {
        const std::string why = polkitSkipReason();
        if (!why.empty()) {
            GTEST_SKIP() << why;
        }
        DaemonTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        polkit_ = std::make_unique<PolkitDaemon>(env(), TestRules);
        const std::string error = polkit_->start();
        ASSERT_EQ(error, "");
    }
    void TearDown() override {
        if (polkit_ && HasFailure()) {
            std::cerr << "--- polkitd log ---\n" << polkit_->log();
        }
        polkit_.reset();
        DaemonTest::TearDown();
    }

    std::unique_ptr<PolkitDaemon> polkit_;
};

// A stranger (uid nobody, group daemon): no manager group, no channel rule. polkit decides.
std::string asStranger(const std::function<void(Client&)>& body) {
    return runAs(NobodyStranger, [&](Client& c) {
        body(c);
        return std::string("allowed");
    });
}

bool isAccessDenied(const std::string& r) {
    return r.rfind("error " + err::AccessDenied, 0) == 0;
}

TEST_F(PolkitAuthorization, ARuleLetsNobodyManageCm4ButNotDsp) {
    EXPECT_EQ(asStranger([](Client& c) { c.setRecovery(c.processorPath("remoteproc0"), false); }),
              "allowed");
    EXPECT_EQ(root().get<std::string>(cm4(), ProcessorIface, "Recovery"), "disabled");
    const std::string dsp =
        asStranger([](Client& c) { c.setRecovery(c.processorPath("remoteproc1"), false); });
    EXPECT_TRUE(isAccessDenied(dsp)) << dsp;
    EXPECT_NE(dsp.find("org.rpmsgd.manage"), std::string::npos) << dsp;
    EXPECT_EQ(
        root().get<std::string>(root().processorPath("remoteproc1"), ProcessorIface, "Recovery"),
        "enabled");
}

TEST_F(PolkitAuthorization, AnOpenChannelRuleForOneChannelName) {
    const std::string echo = startCm4();
    const std::string sensor = root().waitForChannel("rpmsg-sensor", "cm4", 5000);
    EXPECT_EQ(runAs(NobodyStranger,
                    [&](Client& c) {
                        Opened o = c.open(echo);
                        return roundTrip(o.fd.get(), "by polkit");
                    }),
              "by polkit");
    const std::string other = asStranger([&](Client& c) { c.open(sensor); });
    EXPECT_TRUE(isAccessDenied(other)) << other;
    EXPECT_NE(other.find("org.rpmsgd.open-channel"), std::string::npos) << other;
}

TEST_F(PolkitAuthorization, TheRulesSeeTheDetailsAsSpecified) {
    const std::string echo = startCm4();
    EXPECT_EQ(asStranger([](Client& c) { c.setRecovery(c.processorPath("remoteproc0"), true); }),
              "allowed");
    EXPECT_EQ(asStranger([&](Client& c) { c.open(echo); }), "allowed");
    const std::string log = polkit_->log();
    EXPECT_NE(log.find("rpmsgd-check org.rpmsgd.manage user=nobody method=SetRecovery "
                       "processor=cm4 processor_id=remoteproc0\n"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("rpmsgd-check org.rpmsgd.open-channel user=nobody channel=rpmsg-echo "
                       "processor=cm4 processor_id=remoteproc0\n"),
              std::string::npos)
        << log;
    // Root, managers and the channel rules are not asked about.
    root().setRecovery(cm4(), false);
    EXPECT_EQ(runAs(NobodyManager,
                    [](Client& c) {
                        c.setRecovery(c.processorPath("remoteproc0"), true);
                        return std::string("allowed");
                    }),
              "allowed");
    EXPECT_EQ(runAs(NobodyChannelUser,
                    [&](Client& c) {
                        c.open(echo);
                        return std::string("allowed");
                    }),
              "allowed");
    EXPECT_EQ(polkit_->log().find("user=root"), std::string::npos) << polkit_->log();
    EXPECT_EQ(polkit_->log(), log) << "polkit was asked about what the config allows";
}

TEST_F(PolkitAuthorization, ARuleThatThrowsIsARefusal) {
    const std::string r =
        asStranger([](Client& c) { c.readTrace(c.processorPath("remoteproc0"), 0); });
    EXPECT_TRUE(isAccessDenied(r)) << r;
    EXPECT_TRUE(env().daemonAlive());
}

TEST_F(PolkitAuthorization, PolkitdKilledMidCheckFailsTheCallCleanlyAndTheNextOneWorks) {
    Child child(NobodyStranger, [](ChildIo& io) {
        Client c;
        io.send("calling");
        try {
            c.setCoredump(c.processorPath("remoteproc0"), "enabled");
            io.send("allowed");
        } catch (const sdbus::Error& e) {
            io.send("error " + e.getName() + ": " + e.getMessage());
        }
        return 0;
    });
    ASSERT_EQ(child.readLine(), "calling");
    ASSERT_TRUE(simtest::waitFor(
        [&] { return polkit_->log().find("method=SetCoredump") != std::string::npos; }, 10s))
        << polkit_->log();
    polkit_->kill(SIGKILL);
    const auto answer = child.readLine(5s);
    ASSERT_TRUE(answer.has_value()) << "the call did not end when polkitd died";
    EXPECT_TRUE(isAccessDenied(*answer)) << *answer;
    EXPECT_NE(answer->find("polkit"), std::string::npos) << *answer;
    EXPECT_EQ(root().get<std::string>(cm4(), ProcessorIface, "Coredump"), "disabled");
    ASSERT_EQ(polkit_->start(), "");
    EXPECT_EQ(asStranger([](Client& c) { c.setRecovery(c.processorPath("remoteproc0"), false); }),
              "allowed");
    EXPECT_TRUE(env().daemonAlive());
}

// The header flag ALLOW_INTERACTIVE_AUTHORIZATION on a call, which sdbus-c++ 1.2 cannot set.
struct MessageAccess : sdbus::Message {
    static sd_bus_message* raw(sdbus::Message& m) {
        return static_cast<sd_bus_message*>(m.*(&MessageAccess::msg_));
    }
};

std::string setFirmwareAsStranger(bool interactive) {
    return runAs(NobodyStranger, [interactive](Client& c) {
        auto proxy = c.proxy(c.processorPath("remoteproc0"));
        auto call = proxy->createMethodCall(ProcessorIface, "SetFirmware");
        call << std::string("echo.elf");
        sd_bus_message_set_allow_interactive_authorization(MessageAccess::raw(call), interactive);
        proxy->callMethod(call);
        return std::string("allowed");
    });
}

TEST_F(PolkitAuthorization, TheInteractiveAuthorizationFlagIsHonoured) {
    // auth_admin without interaction allowed: polkit says a challenge would be needed.
    const std::string quiet = setFirmwareAsStranger(false);
    EXPECT_TRUE(isAccessDenied(quiet)) << quiet;
    EXPECT_NE(quiet.find("did not allow interactive authorization"), std::string::npos) << quiet;
    // With it, polkit is asked to involve an agent (none runs here): no longer the "not
    // allowed to ask" refusal.
    const std::string asked = setFirmwareAsStranger(true);
    EXPECT_TRUE(isAccessDenied(asked)) << asked;
    EXPECT_EQ(asked.find("did not allow interactive authorization"), std::string::npos) << asked;
    EXPECT_NE(asked.find("no authentication agent"), std::string::npos) << asked;
}

class PolkitAbsent : public DaemonTest {
protected:
    std::string mode_;
    void configure(EnvOptions& o) override {
        o.editConfig = [this](nlohmann::json& c) {
            c["authorization"] = mode_;
        };
    }
};

class PolkitAbsentAuto : public PolkitAbsent {
    void SetUp() override {
        mode_ = "auto";
        PolkitAbsent::SetUp();
    }
};

TEST_F(PolkitAbsentAuto, WithoutPolkitOnTheBusAutoIsVersion1GroupsBehaviour) {
    EXPECT_EQ(runAs(NobodyManager,
                    [](Client& c) {
                        c.setRecovery(c.processorPath("remoteproc0"), false);
                        return std::string("allowed");
                    }),
              "allowed");
    const std::string r =
        asStranger([](Client& c) { c.setRecovery(c.processorPath("remoteproc0"), true); });
    EXPECT_TRUE(isAccessDenied(r)) << r;
    EXPECT_EQ(r.find("polkit"), std::string::npos) << "auto without polkit is groups: " << r;
}

class PolkitAbsentRequired : public PolkitAbsent {
    void SetUp() override {
        mode_ = "polkit";
        PolkitAbsent::SetUp();
    }
};

TEST_F(PolkitAbsentRequired, WithoutPolkitOnTheBusPolkitModeDeniesSayingWhy) {
    const std::string r =
        asStranger([](Client& c) { c.setRecovery(c.processorPath("remoteproc0"), false); });
    EXPECT_TRUE(isAccessDenied(r)) << r;
    EXPECT_NE(r.find("polkit is not running"), std::string::npos) << r;
    // What the config allows needs no polkit.
    EXPECT_EQ(runAs(NobodyManager,
                    [](Client& c) {
                        c.setRecovery(c.processorPath("remoteproc0"), false);
                        return std::string("allowed");
                    }),
              "allowed");
}

} // namespace
} // namespace itest
