// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// Who may do what (daemon/policy.h): the decision every acting D-Bus method asks for in its
// authorise step, the config's processors[] entries, and the policy a configuration gives.

#include "config/config.h"
#include "daemon/policy.h"
#include "dbus/errors.h"
#include "test_callers.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using rpmsgd::Action;
using rpmsgd::Caller;
using rpmsgd::ErrorCode;
using rpmsgd::Policy;

using namespace unit; // the callers of test_callers.h

// The error authorise() throws, or nullopt when it allows.
std::optional<rpmsgd::Error> refusal(const Policy& policy, const Caller& caller,
                                     const Action& action) {
    try {
        policy.authorise(caller, action);
    } catch (const rpmsgd::Error& e) {
        return e;
    }
    return std::nullopt;
}

#define EXPECT_ALLOWED(policy, caller, action)                                                     \
    do {                                                                                           \
        auto e_ = refusal((policy), (caller), (action));                                           \
        EXPECT_FALSE(e_) << (caller).sender << ": " << (e_ ? e_->what() : "");                     \
    } while (0)

#define EXPECT_REFUSED(policy, caller, action, text)                                               \
    do {                                                                                           \
        auto e_ = refusal((policy), (caller), (action));                                           \
        ASSERT_TRUE(e_) << (caller).sender << " was allowed";                                      \
        EXPECT_EQ(e_->code(), ErrorCode::AccessDenied) << e_->what();                              \
        EXPECT_NE(std::string(e_->what()).find(text), std::string::npos)                           \
            << '"' << e_->what() << "\" does not name " << (text);                                 \
    } while (0)

class PolicyTest : public ::testing::Test {
protected:
    Policy policy = testPolicy();
};

TEST_F(PolicyTest, ManagersByUidAndByGroup) {
    EXPECT_TRUE(policy.isManager(root));
    EXPECT_TRUE(policy.isManager(admin));
    EXPECT_TRUE(policy.isManager(adminByGroup));
    EXPECT_FALSE(policy.isManager(user));
    EXPECT_FALSE(policy.isManager(stranger));
}

TEST_F(PolicyTest, ManagementNeedsRootOrAManager) {
    const Action start = Action::manage("Starting a processor", "remoteproc0");
    for (const Caller& c : {root, admin, adminByGroup}) {
        EXPECT_ALLOWED(policy, c, start);
    }
    EXPECT_REFUSED(policy, user, start,
                   "Starting a processor needs root or a manager (uid 2000 is neither");
    EXPECT_REFUSED(policy, stranger, start, "\"managers\" in the configuration");
}

TEST_F(PolicyTest, ReloadNeedsRoot) {
    EXPECT_ALLOWED(policy, root, Action::reload());
    EXPECT_REFUSED(policy, admin, Action::reload(), "Reload needs root");
    EXPECT_REFUSED(policy, user, Action::reload(), "Reload needs root");
}

TEST_F(PolicyTest, AnyoneMayWait) {
    for (const Caller& c : {root, admin, user, stranger}) {
        EXPECT_ALLOWED(policy, c, Action::wait());
    }
}

TEST_F(PolicyTest, FirstMatchingChannelRuleDecides) {
    Policy::ChannelRule echoOnly;
    echoOnly.match = "rpmsg-echo*";
    echoOnly.who.uids = {stranger.uid};
    Policy::ChannelRule rest; // would let the rpmsg group in, but comes second
    rest.who.gids = {RpmsgGroup};
    policy.channelRules = {echoOnly, rest};

    const Action echo = Action::openChannel("rpmsg-echo", "remoteproc0", "m4");
    const Action tty = Action::openChannel("rpmsg-tty", "remoteproc0", "m4");
    EXPECT_REFUSED(policy, user, echo,
                   "uid 2000 may not open channel rpmsg-echo on remoteproc0 (m4)");
    EXPECT_REFUSED(policy, user, echo, "\"channels\" in the configuration");
    EXPECT_ALLOWED(policy, stranger, echo);
    EXPECT_ALLOWED(policy, user, tty);
    EXPECT_REFUSED(policy, stranger, tty, "uid 3000");
    // Raw endpoints follow the same rules, by endpoint name.
    EXPECT_REFUSED(policy, user, Action::openEndpoint("rpmsg-echo-raw", "remoteproc0", "m4"),
                   "uid 2000 may not open raw endpoint rpmsg-echo-raw on remoteproc0 (m4)");
    EXPECT_ALLOWED(policy, user, Action::openEndpoint("my-raw", "remoteproc0", "m4"));
}

TEST_F(PolicyTest, ChannelRuleProcessorGlobMatchesIdOrName) {
    Policy::ChannelRule m4Only;
    m4Only.processor = "m4";
    m4Only.who.gids = {RpmsgGroup};
    Policy::ChannelRule byId;
    byId.processor = "remoteproc2";
    byId.who.gids = {RpmsgGroup};
    policy.channelRules = {m4Only, byId};

    EXPECT_ALLOWED(policy, user, Action::openChannel("a", "remoteproc0", "m4"));
    EXPECT_REFUSED(policy, user, Action::openChannel("a", "remoteproc1", "dsp"), "dsp");
    EXPECT_ALLOWED(policy, user, Action::openChannel("a", "remoteproc2", "gpu"));
    EXPECT_TRUE(policy.channelAllowed(user, "a", "remoteproc2", "gpu"));
    EXPECT_FALSE(policy.channelAllowed(user, "a", "remoteproc1", "dsp"));
}

TEST_F(PolicyTest, RootAndManagersMayOpenWhatNoRuleAllows) {
    policy.channelRules.clear();
    const Action echo = Action::openChannel("rpmsg-echo", "remoteproc0", "m4");
    const Action raw = Action::openEndpoint("raw", "remoteproc0", "m4");
    for (const Caller& c : {root, admin, adminByGroup}) {
        EXPECT_ALLOWED(policy, c, echo);
        EXPECT_ALLOWED(policy, c, raw);
    }
    EXPECT_REFUSED(policy, user, echo, "uid 2000");
    EXPECT_REFUSED(policy, user, raw, "uid 2000");
}

TEST_F(PolicyTest, AnEndpointIsClosedByItsOwnerOrAManager) {
    const Action close = Action::closeEndpoint(7, user.sender);
    EXPECT_ALLOWED(policy, user, close);
    EXPECT_ALLOWED(policy, adminByGroup, close);
    EXPECT_ALLOWED(policy, root, close);
    Caller sameUidOtherConnection = user;
    sameUidOtherConnection.sender = ":1.9";
    EXPECT_REFUSED(policy, sameUidOtherConnection, close,
                   "Only the owner of endpoint 7 or a manager may close it");
    EXPECT_REFUSED(policy, stranger, close, "endpoint 7");
}

TEST_F(PolicyTest, ProcessorRuleFirstMatchByNameOrId) {
    Policy::ProcessorRule byName;
    byName.match = "m4*";
    byName.firmware = "m4.elf";
    Policy::ProcessorRule byId;
    byId.match = "remoteproc1";
    byId.firmware = "one.elf";
    Policy::ProcessorRule any;
    any.firmware = "any.elf";
    policy.processorRules = {byName, byId, any};

    EXPECT_EQ(policy.ruleFor("remoteproc1", "m4-core")->firmware, "m4.elf");
    EXPECT_EQ(policy.ruleFor("remoteproc1", "dsp")->firmware, "one.elf");
    EXPECT_EQ(policy.ruleFor("remoteproc5", "gpu")->firmware, "any.elf");
    policy.processorRules.pop_back();
    EXPECT_EQ(policy.ruleFor("remoteproc5", "gpu"), nullptr);
}

TEST(PolicyFromConfig, CarriesRulesLimitsAndTheKernelWords) {
    rpmsgd::config::Config cfg;
    cfg.managers.users = {"root"};
    cfg.managers.groups = {};
    cfg.channels = {rpmsgd::config::ChannelRule{"rpmsg-*", "m4", {"root"}, {}}};
    rpmsgd::config::ProcessorPolicy pp;
    pp.match = "m4";
    pp.firmware = "m4.elf";
    pp.autostart = true;
    pp.recovery = rpmsgd::RecoveryMode::Disabled;
    pp.coredump = rpmsgd::CoredumpMode::Inline;
    pp.restart = rpmsgd::config::RestartPolicy{3, 60};
    cfg.processors = {pp};
    cfg.limits.endpointsPerClient = 4;
    cfg.limits.endpointsTotal = 40;
    cfg.limits.coredumpsKept = 2;
    cfg.limits.firmwareMaxBytes = 1000;

    std::vector<std::string> warnings;
    const Policy p = rpmsgd::policyFrom(cfg, warnings);
    EXPECT_TRUE(warnings.empty());
    EXPECT_EQ(p.managers.uids, std::set<uint32_t>{0});
    ASSERT_EQ(p.channelRules.size(), 1u);
    EXPECT_EQ(p.channelRules[0].match, "rpmsg-*");
    EXPECT_EQ(p.channelRules[0].processor, "m4");
    EXPECT_EQ(p.channelRules[0].who.uids, std::set<uint32_t>{0});
    ASSERT_EQ(p.processorRules.size(), 1u);
    const Policy::ProcessorRule& r = p.processorRules[0];
    EXPECT_EQ(r.match, "m4");
    EXPECT_EQ(r.firmware, "m4.elf");
    EXPECT_TRUE(r.autostart);
    EXPECT_EQ(r.recovery, rpmsgd::RecoveryMode::Disabled);
    EXPECT_EQ(r.coredump, rpmsgd::CoredumpMode::Inline);
    EXPECT_TRUE(r.hasRestart);
    EXPECT_EQ(r.maxCrashes, 3u);
    EXPECT_EQ(r.windowS, 60u);
    EXPECT_EQ(p.endpointsPerClient, 4u);
    EXPECT_EQ(p.endpointsTotal, 40u);
    EXPECT_EQ(p.coredumpsKept, 2u);
    EXPECT_EQ(p.firmwareMaxBytes, 1000u);
}

TEST(PolicyFromConfig, UnknownNamesAreWarningsAndLeftOut) {
    rpmsgd::config::Config cfg;
    cfg.managers.users = {"no-such-user-rpmsgd-test"};
    cfg.managers.groups = {};
    cfg.channels = {};
    std::vector<std::string> warnings;
    const Policy p = rpmsgd::policyFrom(cfg, warnings);
    EXPECT_TRUE(p.managers.uids.empty());
    ASSERT_FALSE(warnings.empty());
    EXPECT_NE(warnings[0].find("no-such-user-rpmsgd-test"), std::string::npos) << warnings[0];
}

} // namespace
