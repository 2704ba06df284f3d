// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Kernel writes with a deadline (issue 16, limits.kernel_write_timeout_ms): rpmsg-sim's
// `ctl hold` makes a processor's next `start` (or `firmware`, `recovery`, `coredump`) write
// block as a slow firmload does on a board. The held
// call fails with Timeout at the deadline; meanwhile rpmsgd answers everything else; the held
// processor refuses lifecycle calls naming the pending write; when the write returns, the state
// is re-read and LastError cleared or set.

#include "fixture.h"

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <tuple>
#include <unistd.h>

namespace itest {
namespace {

using Clock = std::chrono::steady_clock;

// A connection with its own event loop thread, for calls whose answer comes later.
class AsyncCaller {
public:
    AsyncCaller() : conn_(sdbus::createSystemBusConnection()) { conn_->enterEventLoopAsync(); }
    ~AsyncCaller() { conn_->leaveEventLoop(); }
    AsyncCaller(const AsyncCaller&) = delete;
    AsyncCaller& operator=(const AsyncCaller&) = delete;

    /// @brief Calls @p method (with @p args, ignoring its results) on @p path.
    template <typename... Args>
    std::shared_future<CallError> call(const std::string& path, const std::string& method,
                                       const Args&... args) {
        auto promise = std::make_shared<std::promise<CallError>>();
        auto proxy = sdbus::createProxy(*conn_, BusName, path);
        proxy->callMethodAsync(method)
            .onInterface(ProcessorIface)
            .withArguments(args...)
            .withTimeout(60s)
            .uponReplyInvoke([promise](const sdbus::Error* e) {
                promise->set_value(e ? CallError{e->getName(), e->getMessage()} : CallError{});
            });
        proxies_.push_back(std::move(proxy));
        return promise->get_future().share();
    }

private:
    std::unique_ptr<sdbus::IConnection> conn_;
    std::vector<std::unique_ptr<sdbus::IProxy>> proxies_;
};

// A generous bound for "answers at once" (the machine may be loaded): far below the hold.
constexpr auto Promptly = 1500ms;

class KernelWriteDeadline : public DaemonTest {
    void configure(EnvOptions& o) override {
        o.editConfig = [](nlohmann::json& c) {
            c["limits"]["kernel_write_timeout_ms"] = 500;
        };
    }

protected:
    std::string lastError(const std::string& path) {
        return root().get<std::string>(path, ProcessorIface, "LastError");
    }
    std::string state(const std::string& path) {
        return root().get<std::string>(path, ProcessorIface, "State");
    }
};

TEST_F(KernelWriteDeadline, HeldStartTimesOutWhileEverythingElseAnswers) {
    const std::string dsp = root().processorPath("dsp");
    const std::string dspEcho = [&] {
        root().start(dsp);
        return root().waitForChannel("rpmsg-echo", "dsp", 5000);
    }();
    const std::string cm4Path = cm4();
    ctlOk({"hold", "cm4", "start", "4"});

    AsyncCaller caller;
    const auto sent = Clock::now();
    auto start = caller.call(cm4Path, "Start");

    // While the write is held: reads, and an Open on the other processor, by root and by
    // another client, all answer (and before the held call's deadline even passed).
    auto promptly = [&](const std::function<void()>& fn, const char* what) {
        const auto t0 = Clock::now();
        const CallError e = errorOf(fn);
        EXPECT_TRUE(e.ok()) << what << ": " << e.str();
        EXPECT_LT(Clock::now() - t0, Promptly) << what;
    };
    promptly([&] { EXPECT_EQ(root().listProcessors().size(), 2u); }, "ListProcessors");
    promptly([&] { EXPECT_EQ(root().getProcessor("dsp"), dsp); }, "GetProcessor");
    promptly([&] { EXPECT_EQ(state(cm4Path), "offline"); }, "Get State of the held processor");
    promptly(
        [&] {
            Opened o = root().open(dspEcho);
            EXPECT_EQ(roundTrip(o.fd.get(), "while held"), "while held");
        },
        "Open on dsp");
    EXPECT_EQ(start.wait_for(0s), std::future_status::timeout)
        << "the held Start answered early: " << start.get().str();
    EXPECT_EQ(runAs(NobodyChannelUser,
                    [&](Client& c) {
                        c.listProcessors();
                        Opened o = c.open(dspEcho);
                        return roundTrip(o.fd.get(), "other client");
                    }),
              "other client");

    // The deadline: Timeout, long before the write returns.
    ASSERT_EQ(start.wait_for(3s), std::future_status::ready);
    EXPECT_LT(Clock::now() - sent, 3500ms);
    EXPECT_DBUS_ERROR(start.get(), err::Timeout);
    EXPECT_NE(start.get().message.find("limits.kernel_write_timeout_ms"), std::string::npos)
        << start.get().str();
    EXPECT_NE(lastError(cm4Path).find("'start' written at "), std::string::npos)
        << lastError(cm4Path);

    // The held processor refuses lifecycle calls, naming the pending write.
    for (const char* method : {"Start", "Stop", "Restart"}) {
        const CallError e = caller.call(cm4Path, method).get();
        EXPECT_DBUS_ERROR(e, err::InvalidState) << method;
        EXPECT_NE(e.message.find("a 'start' written at "), std::string::npos) << e.str();
        EXPECT_NE(e.message.find("has not returned"), std::string::npos) << e.str();
    }
    // Others still act.
    EXPECT_TRUE(errorOf([&] { root().stop(dsp); }).ok());

    // The write returns: the state is re-read, LastError cleared, lifecycle calls work again.
    EXPECT_TRUE(simtest::waitFor([&] { return state(cm4Path) == "running"; }, 10s))
        << state(cm4Path);
    EXPECT_TRUE(simtest::waitFor([&] { return lastError(cm4Path).empty(); }, 5s))
        << lastError(cm4Path);
    EXPECT_TRUE(errorOf([&] { root().stop(cm4Path); }).ok());
    EXPECT_EQ(state(cm4Path), "offline");
}

TEST_F(KernelWriteDeadline, AHeldWriteThatFailsSetsLastErrorWhenItReturns) {
    const std::string cm4Path = cm4();
    // The firmware file goes while the write is held: the start then fails in the kernel.
    const std::string copy = env().firmwareDir() + "/gone.elf";
    std::filesystem::copy_file(env().firmwareDir() + "/echo.elf", copy);
    root().setFirmware(cm4Path, "gone.elf");
    ctlOk({"hold", "cm4", "start", "2"});
    AsyncCaller caller;
    auto start = caller.call(cm4Path, "Start");
    ASSERT_EQ(start.wait_for(5s), std::future_status::ready);
    EXPECT_DBUS_ERROR(start.get(), err::Timeout);
    ASSERT_EQ(::unlink(copy.c_str()), 0);
    EXPECT_TRUE(
        simtest::waitFor([&] { return lastError(cm4Path).rfind("start failed: ", 0) == 0; }, 10s))
        << lastError(cm4Path);
    EXPECT_EQ(state(cm4Path), "offline");
    // Not held any more: lifecycle calls are the kernel's to answer again.
    const CallError again = caller.call(cm4Path, "Start").get();
    EXPECT_NE(again.name, err::Timeout) << again.str();
    EXPECT_EQ(again.message.find("has not returned"), std::string::npos) << again.str();
}

TEST_F(KernelWriteDeadline, HeldFirmwareWriteTimesOutWhileEverythingElseAnswers) {
    const std::string dsp = root().processorPath("dsp");
    root().start(dsp);
    const std::string dspEcho = root().waitForChannel("rpmsg-echo", "dsp", 5000);
    const std::string cm4Path = cm4();
    std::filesystem::copy_file(env().firmwareDir() + "/echo.elf",
                               env().firmwareDir() + "/other.elf");
    ctlOk({"hold", "cm4", "firmware", "4"});

    AsyncCaller caller;
    auto set = caller.call(cm4Path, "SetFirmware", std::string("other.elf"));

    // The loop is not stuck behind the write: List, Get and Open on the other processor answer
    // (by root and by another client) while the write is still held.
    EXPECT_EQ(root().listProcessors().size(), 2u);
    EXPECT_EQ(root().getProcessor("dsp"), dsp);
    {
        Opened o = root().open(dspEcho);
        EXPECT_EQ(roundTrip(o.fd.get(), "while held"), "while held");
    }
    EXPECT_EQ(runAs(NobodyChannelUser,
                    [&](Client& c) {
                        c.listProcessors();
                        Opened o = c.open(dspEcho);
                        return roundTrip(o.fd.get(), "other client");
                    }),
              "other client");
    EXPECT_EQ(set.wait_for(0s), std::future_status::timeout)
        << "the held SetFirmware answered before the others: " << set.get().str();

    // The deadline: Timeout naming the write and the limit.
    ASSERT_EQ(set.wait_for(3s), std::future_status::ready);
    EXPECT_DBUS_ERROR(set.get(), err::Timeout);
    EXPECT_NE(set.get().message.find("'firmware'"), std::string::npos) << set.get().str();
    EXPECT_NE(set.get().message.find("limits.kernel_write_timeout_ms"), std::string::npos)
        << set.get().str();
    EXPECT_NE(lastError(cm4Path).find("'firmware' written at "), std::string::npos)
        << lastError(cm4Path);

    // Lifecycle and firmware calls on cm4 are refused while the write is pending, naming it.
    for (const char* method : {"Start", "Stop"}) {
        const CallError e = caller.call(cm4Path, method).get();
        EXPECT_DBUS_ERROR(e, err::InvalidState) << method;
        EXPECT_NE(e.message.find("a 'firmware' written at "), std::string::npos) << e.str();
    }
    const CallError again = caller.call(cm4Path, "SetFirmware", std::string("echo.elf")).get();
    EXPECT_DBUS_ERROR(again, err::InvalidState);
    EXPECT_NE(again.message.find("a 'firmware' written at "), std::string::npos) << again.str();

    // The write returns: the property shows the new name, LastError is cleared, Start works.
    EXPECT_TRUE(simtest::waitFor(
        [&] { return root().get<std::string>(cm4Path, ProcessorIface, "Firmware") == "other.elf"; },
        10s));
    EXPECT_TRUE(simtest::waitFor([&] { return lastError(cm4Path).empty(); }, 5s))
        << lastError(cm4Path);
    EXPECT_TRUE(errorOf([&] { root().start(cm4Path); }).ok());
    EXPECT_EQ(state(cm4Path), "running");
}

TEST_F(KernelWriteDeadline, HeldRecoveryAndCoredumpWritesTimeOutThenTakeEffect) {
    const std::string cm4Path = cm4();
    using Case = std::tuple<std::string, std::string, std::string>; // hold word, method, value
    for (const auto& [word, method, value] : std::vector<Case>{
             {"recovery", "SetRecovery", ""}, {"coredump", "SetCoredump", "inline"}}) {
        ctlOk({"hold", "cm4", word, "2"});
        AsyncCaller caller;
        auto call = word == "recovery" ? caller.call(cm4Path, method, false)
                                       : caller.call(cm4Path, method, value);
        ASSERT_EQ(call.wait_for(5s), std::future_status::ready) << word;
        EXPECT_DBUS_ERROR(call.get(), err::Timeout) << word;
        EXPECT_NE(call.get().message.find("'" + word + "'"), std::string::npos) << call.get().str();
        const CallError start = caller.call(cm4Path, "Start").get();
        EXPECT_DBUS_ERROR(start, err::InvalidState) << word;
        EXPECT_NE(start.message.find("a '" + word + "' written at "), std::string::npos)
            << start.str();
        const std::string want = word == "recovery" ? "disabled" : "inline";
        const std::string prop = word == "recovery" ? "Recovery" : "Coredump";
        EXPECT_TRUE(simtest::waitFor(
            [&] { return root().get<std::string>(cm4Path, ProcessorIface, prop) == want; }, 10s))
            << prop;
        EXPECT_TRUE(simtest::waitFor([&] { return lastError(cm4Path).empty(); }, 5s))
            << lastError(cm4Path);
    }
}

} // namespace
} // namespace itest
