// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// An Open's kernel steps run off the event loop (issue 17): rpmsg-sim's `ctl hold PROC create`
// keeps the CREATE_EPT ioctl of the next Open on PROC in flight while the test acts. Opens on
// other processors answer meanwhile; a processor stopped or a client gone while its Open is in
// flight leaves no endpoint behind (none in the sim, none in the fd store, none published).

#include "fixture.h"

#include <chrono>
#include <future>
#include <memory>
#include <string>

namespace itest {
namespace {

/// @brief Open on a channel from a connection of its own (with its event loop thread), whose
///        answer comes later; the connection can be dropped (the client leaves the bus).
class PendingOpen {
public:
    explicit PendingOpen(const std::string& channelPath)
        : conn_(sdbus::createSystemBusConnection()) {
        conn_->enterEventLoopAsync();
        proxy_ = sdbus::createProxy(*conn_, BusName, channelPath);
        auto promise = std::make_shared<std::promise<CallError>>();
        answer_ = promise->get_future().share();
        proxy_->callMethodAsync("Open")
            .onInterface(ChannelIface)
            .withArguments(std::map<std::string, sdbus::Variant>{})
            .withTimeout(60s)
            .uponReplyInvoke(
                [promise](const sdbus::Error* e, sdbus::UnixFd, sdbus::ObjectPath, uint32_t) {
                    promise->set_value(e ? CallError{e->getName(), e->getMessage()} : CallError{});
                });
    }
    ~PendingOpen() { leave(); }
    PendingOpen(const PendingOpen&) = delete;
    PendingOpen& operator=(const PendingOpen&) = delete;

    std::shared_future<CallError> answer() const { return answer_; }
    /// @brief Closes the connection: the client leaves the bus.
    void leave() {
        if (conn_) {
            conn_->leaveEventLoop();
            proxy_.reset();
            conn_.reset();
        }
    }

private:
    std::unique_ptr<sdbus::IConnection> conn_;
    std::unique_ptr<sdbus::IProxy> proxy_;
    std::shared_future<CallError> answer_;
};

class OpenRace : public DaemonTest {
protected:
    /// @brief Waits until the sim holds a CREATE_EPT ioctl (the Open is in flight).
    bool heldInTheSim() {
        return simtest::waitFor(
            [&] {
                return env().sim().log().find("holding the CREATE_EPT ioctl") != std::string::npos;
            },
            10s);
    }
    /// @brief Waits until the sim let the held ioctl go on.
    bool releasedInTheSim() {
        return simtest::waitFor(
            [&] {
                return env().sim().log().find("the held CREATE_EPT ioctl went on") !=
                       std::string::npos;
            },
            10s);
    }
    /// @brief Eptdevs rpmsgd made that are still there in the sim.
    size_t daemonEptdevs() {
        size_t n = 0;
        const nlohmann::json state = env().sim().dump();
        for (const auto& e : state.at("eptdevs")) {
            n += e["name"].get<std::string>().rfind("rpmsgd-", 0) == 0 && e["alive"].get<bool>();
        }
        return n;
    }
    /// @brief Endpoint objects rpmsgd publishes.
    size_t endpointObjects() {
        size_t n = 0;
        for (const auto& [path, ifaces] : root().managedObjects()) {
            n += ifaces.count(EndpointIface);
        }
        return n;
    }
    void expectNothingLeft() {
        EXPECT_TRUE(simtest::waitFor([&] { return daemonEptdevs() == 0; }, 5s))
            << env().sim().dump().dump(1) << env().daemonLog();
        EXPECT_EQ(endpointObjects(), 0u);
        if (ServiceManager* manager = env().serviceManager()) {
            EXPECT_TRUE(simtest::waitFor([&] { return manager->stored() == 0; }, 5s))
                << "the fd store keeps " << manager->stored();
        }
    }
};

TEST_F(OpenRace, AnOpenInFlightHoldsUpNoOtherCall) {
    const std::string dsp = root().processorPath("dsp");
    root().start(dsp);
    const std::string dspEcho = root().waitForChannel("rpmsg-echo", "dsp", 5000);
    const std::string cm4Echo = startCm4();
    ctlOk({"hold", "cm4", "create", "3"});
    PendingOpen held(cm4Echo);
    ASSERT_TRUE(heldInTheSim()) << env().logs();
    // Another Open (another processor), and a read, answer while cm4's Open is in flight.
    Opened o = root().open(dspEcho);
    EXPECT_EQ(roundTrip(o.fd.get(), "meanwhile"), "meanwhile");
    EXPECT_EQ(root().listProcessors().size(), 2u);
    EXPECT_EQ(held.answer().wait_for(0s), std::future_status::timeout)
        << "the held Open answered early: " << held.answer().get().str();
    ASSERT_EQ(held.answer().wait_for(30s), std::future_status::ready);
    EXPECT_TRUE(held.answer().get().ok()) << held.answer().get().str();
    EXPECT_EQ(endpointObjects(), 2u);
}

TEST_F(OpenRace, ProcessorStoppedDuringAnOpen) {
    const std::string echo = startCm4();
    ctlOk({"hold", "cm4", "create", "2"});
    PendingOpen held(echo);
    ASSERT_TRUE(heldInTheSim()) << env().logs();
    root().stop(cm4());
    ASSERT_EQ(held.answer().wait_for(30s), std::future_status::ready);
    EXPECT_DBUS_ERROR(held.answer().get(), err::Unavailable);
    expectNothingLeft();
    EXPECT_TRUE(env().daemonAlive()) << env().logs();
}

TEST_F(OpenRace, ClientGoneDuringAnOpen) {
    const std::string echo = startCm4();
    ctlOk({"hold", "cm4", "create", "2"});
    {
        PendingOpen held(echo);
        ASSERT_TRUE(heldInTheSim()) << env().logs();
        held.leave();
    }
    ASSERT_TRUE(releasedInTheSim()) << env().logs();
    EXPECT_TRUE(simtest::waitFor(
        [&] {
            return env().daemonLog().find("ended while it was being opened") != std::string::npos;
        },
        10s))
        << env().daemonLog();
    expectNothingLeft();
    // Nothing is left counted against anyone: the channel opens again.
    Opened again = root().open(echo);
    EXPECT_EQ(roundTrip(again.fd.get(), "again"), "again");
}

} // namespace
} // namespace itest
