// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// librpmsgd-client and the examples against the real rpmsgd, a private system-like bus and
// rpmsg-sim: lookups, endpoints (echo, close, the end of a lease), events in the caller's poll
// loop and on the library's thread, and the C++, Python and shell examples run as nobody.

#include "client_error.h"
#include "ctl_runner.h"
#include "fixture.h"
#include "rpmsgd/client.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <poll.h>

namespace ctltest {
namespace {

using itest::DaemonTest;
namespace rc = rpmsgd::client;
using namespace std::chrono_literals;

class ClientLib : public DaemonTest {};

TEST_F(ClientLib, LooksUpProcessorsAndChannels) {
    rc::Client client;
    EXPECT_EQ(client.daemonVersion(), RPMSGD_PROJECT_VERSION);
    const auto procs = client.processors();
    ASSERT_EQ(procs.size(), 2u);
    EXPECT_EQ(procs[0].id, "remoteproc0");
    EXPECT_EQ(client.processor("cm4").id, "remoteproc0");
    EXPECT_EQ(client.processor("remoteproc1").name, "dsp");
    EXPECT_EQ(harness::clientErrorFrom([&] { client.processor("nosuch"); }).code(),
              rc::ErrorCode::NotFound);

    client.start("cm4");
    client.start("dsp");
    client.waitForChannel("rpmsg-echo", "cm4", 10s);
    const auto onDsp = client.waitForChannel("rpmsg-echo", "dsp", 10s);
    EXPECT_EQ(onDsp.processor, "remoteproc1");
    EXPECT_EQ(onDsp.mtu, 496u);
    // The same name on two processors: the caller has to say which.
    const rc::Error ambiguous = harness::clientErrorFrom([&] { client.channel("rpmsg-echo"); });
    EXPECT_EQ(ambiguous.code(), rc::ErrorCode::InvalidArgument);
    EXPECT_NE(std::string(ambiguous.what()).find("remoteproc0, remoteproc1"), std::string::npos)
        << ambiguous.what();
    EXPECT_EQ(client.channel("rpmsg-echo", "dsp").path, onDsp.path);
    EXPECT_EQ(client.channels("cm4").size(), 3u);
    EXPECT_EQ(client.processor("cm4").channels,
              (std::vector<std::string>{"rpmsg-echo", "rpmsg-sensor", "rpmsg-sink"}));
    EXPECT_EQ(harness::clientErrorFrom([&] { client.channel("nosuch"); }).code(),
              rc::ErrorCode::NotFound);
}

TEST_F(ClientLib, EndpointsEchoCloseAndEndWithTheirProcessor) {
    startCm4();
    rc::Client client;
    auto ep = client.openChannel("rpmsg-echo", "cm4", 5s);
    EXPECT_EQ(ep.mtu(), 496u);
    EXPECT_NE(ep.path(), "");
    ep.send("over the fd");
    EXPECT_EQ(ep.receive(5s), "over the fd");
    EXPECT_EQ(client.channel("rpmsg-echo").endpoints, 1u);
    ep.close();
    EXPECT_TRUE(simtest::waitFor([&] { return client.channel("rpmsg-echo").endpoints == 0; }));

    // A raw endpoint to a service that does not announce itself.
    auto raw = client.openEndpoint("cm4", "hidden", 1027);
    raw.send("raw");
    EXPECT_EQ(raw.receive(5s), "raw");

    auto doomed = client.openChannel("rpmsg-echo", "", 5s);
    client.stop("cm4");
    const rc::Error ended = harness::clientErrorFrom([&] { doomed.receive(5s); });
    EXPECT_EQ(ended.code(), rc::ErrorCode::Unavailable) << ended.what();
    EXPECT_EQ(harness::clientErrorFrom([&] { doomed.send("x"); }).code(),
              rc::ErrorCode::Unavailable);
    doomed.close(); // the lease is already gone: not an error
    EXPECT_EQ(harness::clientErrorFrom([&] { client.openChannel("rpmsg-echo", "", 100ms); }).code(),
              rc::ErrorCode::Timeout);
}

TEST_F(ClientLib, EventsInTheCallersPollLoop) {
    rc::Client watcher;
    std::vector<rc::Event> events;
    watcher.onEvent([&](const rc::Event& e) { events.push_back(e); });
    rc::Client actor;
    actor.start("cm4");
    auto seen = [&](rc::Event::Type type, const std::string& what) {
        return std::any_of(events.begin(), events.end(), [&](const rc::Event& e) {
            return e.type == type && (e.channel == what || e.value == what);
        });
    };
    // The caller's own loop: poll what pollFd() says, then process().
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!(seen(rc::Event::Type::ChannelAdded, "rpmsg-echo") &&
             seen(rc::Event::Type::ProcessorChanged, "running")) &&
           std::chrono::steady_clock::now() < deadline) {
        const rc::PollFd p = watcher.pollFd();
        pollfd fd{p.fd, p.events, 0};
        ::poll(&fd, 1, p.timeoutMs < 0 || p.timeoutMs > 100 ? 100 : p.timeoutMs);
        watcher.process();
    }
    ASSERT_TRUE(seen(rc::Event::Type::ChannelAdded, "rpmsg-echo"));
    ASSERT_TRUE(seen(rc::Event::Type::ProcessorChanged, "running"));
    for (const auto& e : events) {
        if (e.type == rc::Event::Type::ChannelAdded) {
            EXPECT_EQ(e.processor, "remoteproc0");
        }
    }
}

TEST_F(ClientLib, EventsOnTheLibrarysThread) {
    startCm4();
    rc::Client watcher;
    std::mutex m;
    std::condition_variable cv;
    std::vector<rc::Event> events;
    watcher.onEvent([&](const rc::Event& e) {
        std::lock_guard lock(m);
        events.push_back(e);
        cv.notify_all();
    });
    watcher.startEventThread();
    auto waitFor = [&](const std::function<bool(const rc::Event&)>& pred) {
        std::unique_lock lock(m);
        return cv.wait_for(lock, 20s,
                           [&] { return std::any_of(events.begin(), events.end(), pred); });
    };
    rc::Client actor;
    {
        auto ep = actor.openChannel("rpmsg-echo", "", 5s);
        EXPECT_TRUE(waitFor([](const rc::Event& e) {
            return e.type == rc::Event::Type::EndpointOpened && e.channel == "rpmsg-echo";
        }));
    }
    EXPECT_TRUE(waitFor([](const rc::Event& e) {
        return e.type == rc::Event::Type::EndpointClosed && e.processor == "remoteproc0";
    }));
    actor.setRecovery("cm4", false);
    ctlOk({"crash", "cm4"});
    EXPECT_TRUE(waitFor([](const rc::Event& e) {
        return e.type == rc::Event::Type::Crashed && e.processor == "remoteproc0" &&
               e.crashCount == 1;
    }));
    actor.recover("cm4");
    actor.stop("cm4");
    EXPECT_TRUE(waitFor([](const rc::Event& e) {
        return e.type == rc::Event::Type::ChannelRemoved && e.channel == "rpmsg-sensor" &&
               e.processor == "remoteproc0";
    }));
    watcher.stopEventThread();
}

// ---- the examples, as the unprivileged user nobody ----

class Examples : public DaemonTest {
protected:
    void ok(const std::string& verb, const std::string& proc) {
        const Result r = ctl({verb, proc});
        ASSERT_EQ(r.code, 0) << r.str();
    }
    RunOptions asNobody() {
        RunOptions o;
        o.cred = &itest::NobodyChannelUser;
        o.env["PATH"] = pathWithRpmsgctl(true);
        return o;
    }
};

TEST_F(Examples, Cpp) {
    startCm4();
    const Result r = run({EXAMPLE_CPP_ECHO}, asNobody());
    EXPECT_EQ(r.code, 0) << r.str();
    EXPECT_EQ(r.out, "hello\n") << r.str();
}

TEST_F(Examples, CppEventsInAPollLoop) {
    Background watch({EXAMPLE_CPP_WATCH}, asNobody());
    ASSERT_EQ(watch.readLine(), "watching") << watch.errors();
    ok("start", "cm4");
    std::vector<std::string> seen;
    EXPECT_TRUE(watch.readUntil([](const std::string& l) { return l == "hello, new core"; }, seen))
        << watch.errors();
    EXPECT_NE(std::find(seen.begin(), seen.end(), "ChannelAdded remoteproc0 rpmsg-echo"),
              seen.end());
    EXPECT_NE(std::find(seen.begin(), seen.end(), "ProcessorChanged remoteproc0 running"),
              seen.end());
    EXPECT_EQ(watch.stop(0), 0) << watch.errors();
}

TEST_F(Examples, Python) {
    if (run({"/usr/bin/python3", "-c", "import dbus"}).code != 0) {
        GTEST_SKIP() << "python3-dbus is not installed for /usr/bin/python3";
    }
    startCm4();
    const Result r = run({"/usr/bin/python3", EXAMPLE_PYTHON_ECHO}, asNobody());
    EXPECT_EQ(r.code, 0) << r.str();
    EXPECT_EQ(r.out, "hello\nfrom Python\n") << r.str();
    // Its errors are one line too.
    const Result missing = run({"/usr/bin/python3", EXAMPLE_PYTHON_ECHO, "nosuch"}, asNobody());
    EXPECT_NE(missing.code, 0);
    EXPECT_NE(missing.err.find("org.rpmsgd.Broker1.Error.Timeout"), std::string::npos)
        << missing.str();
}

TEST_F(Examples, Shell) {
    if (::access("/usr/bin/busctl", X_OK) != 0) {
        GTEST_SKIP() << "busctl is not installed";
    }
    startCm4();
    const Result r = run({"/bin/bash", EXAMPLE_SHELL_ECHO}, asNobody());
    EXPECT_EQ(r.code, 0) << r.str();
    EXPECT_NE(r.out.find("channel rpmsg-echo: /org/rpmsgd/Broker1/"), std::string::npos) << r.str();
    EXPECT_NE(r.out.find("mtu 496\nhello\nfrom the shell\n"), std::string::npos) << r.str();
}

} // namespace
} // namespace ctltest

namespace ctltest {
namespace {

// The README shows examples/cpp/echo.cpp (without its licence header and its two comment lines)
// and the heart of examples/python/echo.py; both must stay what the tests run.
TEST(ReadmeExamples, ShowWhatTheTestsRun) {
    const std::string readme = simtest::readFile(README_PATH).data;
    ASSERT_FALSE(readme.empty()) << README_PATH;
    std::string cpp = simtest::readFile(EXAMPLE_CPP_SOURCE).data;
    ASSERT_FALSE(cpp.empty());
    while (cpp.rfind("// SPDX-", 0) == 0) {
        cpp.erase(0, cpp.find('\n') + 1);
    }
    for (int i = 0; i < 2; ++i) {
        cpp.erase(0, cpp.find('\n') + 1);
    }
    EXPECT_NE(readme.find("```cpp\n" + cpp + "```"), std::string::npos)
        << "README's C++ block differs from " << EXAMPLE_CPP_SOURCE;
    const std::string py = simtest::readFile(EXAMPLE_PYTHON_ECHO).data;
    for (const char* line :
         {"path = manager.WaitForChannel(", "fd, endpoint, mtu = chan.Open(dbus.Dictionary({}, "
                                            "signature='sv'))"}) {
        EXPECT_NE(py.find(line), std::string::npos) << line;
        EXPECT_NE(readme.find(line), std::string::npos) << line;
    }
}

} // namespace
} // namespace ctltest
