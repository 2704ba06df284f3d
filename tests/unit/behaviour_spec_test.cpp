// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "sim/behaviour_spec.h"
#include "sim_harness.h"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace rpmsgsim;

namespace {

using simtest::ReadmeSpec;

std::string errorOf(const std::string& json) {
    const BehaviourParse r = parseBehaviour(json);
    EXPECT_FALSE(r.ok) << "accepted: " << json;
    return r.error;
}

std::string withService(const std::string& fields) {
    return R"({"services":[{"name":"a","addr":1024,"kind":"echo"},{)" + fields + "}]}";
}

} // namespace

TEST(BehaviourSpec, ReadmeExampleParses) {
    const BehaviourParse r = parseBehaviour(ReadmeSpec);
    ASSERT_TRUE(r.ok) << r.error;
    const BehaviourSpec& s = r.spec;
    EXPECT_EQ(s.bootMs, 20u);
    ASSERT_EQ(s.services.size(), 4u);
    EXPECT_EQ(s.services[0].name, "rpmsg-echo");
    EXPECT_EQ(s.services[0].addr, 1024u);
    EXPECT_EQ(s.services[0].kind, ServiceKind::Echo);
    EXPECT_TRUE(s.services[0].announce);
    EXPECT_EQ(s.services[1].kind, ServiceKind::Stream);
    EXPECT_EQ(s.services[1].rateHz, 100u);
    EXPECT_EQ(s.services[1].size, 64u);
    EXPECT_EQ(s.services[2].kind, ServiceKind::Sink);
    EXPECT_EQ(s.services[2].consumeEveryMs, 10u);
    EXPECT_FALSE(s.services[3].announce);
    EXPECT_EQ(s.trace, (std::vector<std::string>{"boot ok", "echo ready"}));
    EXPECT_EQ(s.crashAfterMessages, 0u);
    EXPECT_TRUE(s.image.nameService);
    EXPECT_EQ(s.image.traceLen, 1024u);
    EXPECT_EQ(s.image.machine, 40);
}

TEST(BehaviourSpec, Defaults) {
    const BehaviourParse r = parseBehaviour("{}");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.spec.bootMs, 0u);
    EXPECT_TRUE(r.spec.services.empty());
    EXPECT_TRUE(r.spec.trace.empty());
    EXPECT_EQ(r.spec.crashAfterMessages, 0u);
    EXPECT_TRUE(r.spec.image.nameService);
    EXPECT_EQ(r.spec.image.traceLen, 1024u);
    EXPECT_EQ(r.spec.image.machine, 40);

    const BehaviourParse s = parseBehaviour(
        R"({"services":[{"name":"s","addr":5,"kind":"stream"},{"name":"k","addr":6,"kind":"sink"}],
            "image":{"name_service":false,"trace_len":0,"machine":164},"crash_after_messages":7})");
    ASSERT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.spec.services[0].rateHz, 10u);
    EXPECT_EQ(s.spec.services[0].size, 16u);
    EXPECT_EQ(s.spec.services[1].consumeEveryMs, 0u);
    EXPECT_EQ(s.spec.services[1].rateHz, 0u);
    EXPECT_FALSE(s.spec.image.nameService);
    EXPECT_EQ(s.spec.image.traceLen, 0u);
    EXPECT_EQ(s.spec.image.machine, 164);
    EXPECT_EQ(s.spec.crashAfterMessages, 7u);
}

TEST(BehaviourSpec, Limits) {
    EXPECT_TRUE(parseBehaviour(R"({"boot_ms":600000})").ok);
    EXPECT_TRUE(
        parseBehaviour(
            withService(R"("name":"b","addr":0,"kind":"stream","size":496,"rate_hz":10000)"))
            .ok);
    EXPECT_TRUE(
        parseBehaviour(
            withService(
                R"("name":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","addr":4294967294,"kind":"stream","size":1,"rate_hz":1)"))
            .ok);
}

struct ErrorCase {
    const char* json;
    const char* error;
};

class BehaviourSpecError : public testing::TestWithParam<ErrorCase> {};

TEST_P(BehaviourSpecError, NamesThePath) {
    EXPECT_EQ(errorOf(GetParam().json), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BehaviourSpecError,
    testing::Values(
        ErrorCase{
            R"({"services":[{"name":"a","addr":1,"kind":"echo"},{"name":"b","addr":2,"kind":"pong"}]})",
            R"(/services/1/kind: expected one of echo, sink, stream, tty, got "pong")"},
        ErrorCase{R"({"services":[{"name":"b","addr":2,"kind":3}]})",
                  "/services/0/kind: expected one of echo, sink, stream, tty, got 3"},
        ErrorCase{"[]", "/: expected an object, got an array"},
        ErrorCase{"42", "/: expected an object, got an integer"},
        ErrorCase{R"({"bogus":1})",
                  "/bogus: unknown key (expected one of boot_ms, services, trace, "
                  "trace_every_ms, crash_after_messages, image)"},
        ErrorCase{R"({"boot_ms":600001})",
                  "/boot_ms: expected an integer from 0 to 600000, got 600001"},
        ErrorCase{R"({"boot_ms":-1})", "/boot_ms: expected an integer from 0 to 600000, got -1"},
        ErrorCase{R"({"boot_ms":1.5})",
                  "/boot_ms: expected an integer, got a floating-point number"},
        ErrorCase{R"({"boot_ms":"20"})", "/boot_ms: expected an integer, got a string"},
        ErrorCase{R"({"boot_ms":null})", "/boot_ms: expected an integer, got null"},
        ErrorCase{R"({"services":{}})", "/services: expected an array, got an object"},
        ErrorCase{R"({"services":["echo"]})", "/services/0: expected an object, got a string"},
        ErrorCase{R"({"services":[{"addr":1,"kind":"echo"}]})",
                  R"(/services/0: missing required key "name")"},
        ErrorCase{R"({"services":[{"name":"a","kind":"echo"}]})",
                  R"(/services/0: missing required key "addr")"},
        ErrorCase{R"({"services":[{"name":"a","addr":1}]})",
                  R"(/services/0: missing required key "kind")"},
        ErrorCase{R"({"services":[{"name":"a","addr":1,"kind":"echo","colour":"red"}]})",
                  "/services/0/colour: unknown key (expected one of name, addr, kind, announce, "
                  "rate_hz, size, consume_every_ms)"},
        ErrorCase{R"({"services":[{"a/b~":1}]})",
                  "/services/0/a~1b~0: unknown key (expected one of name, addr, kind, announce, "
                  "rate_hz, size, consume_every_ms)"},
        ErrorCase{R"({"services":[{"name":"","addr":1,"kind":"echo"}]})",
                  R"(/services/0/name: expected 1 to 31 bytes, got 0 (""))"},
        ErrorCase{
            R"({"services":[{"name":"abcdefghijklmnopqrstuvwxyz012345","addr":1,"kind":"echo"}]})",
            R"(/services/0/name: expected 1 to 31 bytes, got 32 ("abcdefghijklmnopqrstuvwxyz012345"))"},
        ErrorCase{R"({"services":[{"name":"a\u0000b","addr":1,"kind":"echo"}]})",
                  "/services/0/name: must not contain NUL characters"},
        ErrorCase{R"({"services":[{"name":7,"addr":1,"kind":"echo"}]})",
                  "/services/0/name: expected a string, got an integer"},
        ErrorCase{R"({"services":[{"name":"a","addr":53,"kind":"echo"}]})",
                  "/services/0/addr: 53 is the name service address"},
        ErrorCase{R"({"services":[{"name":"a","addr":4294967295,"kind":"echo"}]})",
                  "/services/0/addr: 4294967295 is RPMSG_ADDR_ANY, not an address"},
        ErrorCase{R"({"services":[{"name":"a","addr":4294967296,"kind":"echo"}]})",
                  "/services/0/addr: expected an integer from 0 to 4294967295, got 4294967296"},
        ErrorCase{R"({"services":[{"name":"a","addr":-5,"kind":"echo"}]})",
                  "/services/0/addr: expected an integer from 0 to 4294967295, got -5"},
        ErrorCase{
            R"({"services":[{"name":"a","addr":1,"kind":"echo"},{"name":"a","addr":2,"kind":"echo"}]})",
            R"(/services/1/name: duplicate service name "a")"},
        ErrorCase{
            R"({"services":[{"name":"a","addr":1,"kind":"echo"},{"name":"b","addr":1,"kind":"echo"}]})",
            "/services/1/addr: duplicate address 1"},
        ErrorCase{R"({"services":[{"name":"a","addr":1,"kind":"echo","announce":"yes"}]})",
                  R"(/services/0/announce: expected true or false, got "yes")"},
        ErrorCase{R"({"services":[{"name":"a","addr":1,"kind":"stream","size":0}]})",
                  "/services/0/size: expected an integer from 1 to 496, got 0"},
        ErrorCase{R"({"services":[{"name":"a","addr":1,"kind":"stream","size":497}]})",
                  "/services/0/size: expected an integer from 1 to 496, got 497"},
        ErrorCase{R"({"services":[{"name":"a","addr":1,"kind":"stream","rate_hz":0}]})",
                  "/services/0/rate_hz: expected an integer from 1 to 10000, got 0"},
        ErrorCase{R"({"services":[{"name":"a","addr":1,"kind":"stream","rate_hz":10001}]})",
                  "/services/0/rate_hz: expected an integer from 1 to 10000, got 10001"},
        ErrorCase{R"({"services":[{"name":"a","addr":1,"kind":"echo","rate_hz":5}]})",
                  "/services/0/rate_hz: only allowed for kind stream, this service is echo"},
        ErrorCase{R"({"services":[{"name":"a","addr":1,"kind":"sink","size":5}]})",
                  "/services/0/size: only allowed for kind stream, this service is sink"},
        ErrorCase{R"({"services":[{"name":"a","addr":1,"kind":"stream","consume_every_ms":5}]})",
                  "/services/0/consume_every_ms: only allowed for kind sink, this service is "
                  "stream"},
        ErrorCase{R"({"services":[{"name":"a","addr":1,"kind":"sink","consume_every_ms":600001}]})",
                  "/services/0/consume_every_ms: expected an integer from 0 to 600000, got "
                  "600001"},
        ErrorCase{R"({"trace":"boot ok"})", "/trace: expected an array of strings, got a string"},
        ErrorCase{R"({"trace":["ok",1]})", "/trace/1: expected a string, got an integer"},
        ErrorCase{R"({"crash_after_messages":-1})",
                  "/crash_after_messages: expected an integer from 0 to 4294967295, got -1"},
        ErrorCase{R"({"crash_after_messages":true})",
                  "/crash_after_messages: expected an integer, got a boolean"},
        ErrorCase{R"({"image":[]})", "/image: expected an object, got an array"},
        ErrorCase{R"({"image":{"nameservice":true}})",
                  "/image/nameservice: unknown key (expected one of name_service, trace_len, "
                  "machine)"},
        ErrorCase{R"({"image":{"name_service":1}})",
                  "/image/name_service: expected true or false, got 1"},
        ErrorCase{R"({"image":{"trace_len":1048577}})",
                  "/image/trace_len: expected an integer from 0 to 1048576, got 1048577"},
        ErrorCase{R"({"image":{"machine":65536}})",
                  "/image/machine: expected an integer from 0 to 65535, got 65536"}));

TEST(BehaviourSpec, InvalidJsonGivesTheParserMessage) {
    const std::string e = errorOf(R"({"boot_ms": })");
    EXPECT_EQ(e.rfind("invalid JSON: parse error at line 1, column 13:", 0), 0u) << e;
    EXPECT_EQ(e.find("[json.exception"), std::string::npos) << e;
    EXPECT_EQ(errorOf("").rfind("invalid JSON: ", 0), 0u);
    EXPECT_EQ(errorOf("{} trailing").rfind("invalid JSON: ", 0), 0u);
    EXPECT_EQ(errorOf("\"\xff\"").rfind("invalid JSON: ", 0), 0u);
}

TEST(BehaviourSpec, FirstErrorWins) {
    // Services are checked in order; the first bad one is reported.
    EXPECT_EQ(
        errorOf(
            R"({"services":[{"name":"a","addr":53,"kind":"echo"},{"name":"b","addr":1,"kind":"x"}]})"),
        "/services/0/addr: 53 is the name service address");
}

TEST(BehaviourSpec, ToJsonRoundTrips) {
    const BehaviourParse r = parseBehaviour(ReadmeSpec);
    ASSERT_TRUE(r.ok) << r.error;
    const std::string text = behaviourToJson(r.spec);
    const auto j = nlohmann::json::parse(text);
    EXPECT_FALSE(j.contains("image"));
    EXPECT_EQ(j["boot_ms"], 20);
    EXPECT_EQ(j["services"][1]["kind"], "stream");
    EXPECT_EQ(j["services"][1]["rate_hz"], 100);
    EXPECT_EQ(j["services"][1]["size"], 64);
    EXPECT_FALSE(j["services"][0].contains("rate_hz"));
    EXPECT_EQ(j["services"][2]["consume_every_ms"], 10);
    EXPECT_EQ(j["services"][3]["announce"], false);
    EXPECT_EQ(j["trace"][1], "echo ready");

    const BehaviourParse back = parseBehaviour(text);
    ASSERT_TRUE(back.ok) << back.error;
    ASSERT_EQ(back.spec.services.size(), r.spec.services.size());
    for (size_t i = 0; i < r.spec.services.size(); ++i) {
        const auto& a = r.spec.services[i];
        const auto& b = back.spec.services[i];
        EXPECT_EQ(a.name, b.name);
        EXPECT_EQ(a.addr, b.addr);
        EXPECT_EQ(a.kind, b.kind);
        EXPECT_EQ(a.announce, b.announce);
        EXPECT_EQ(a.rateHz, b.rateHz);
        EXPECT_EQ(a.size, b.size);
        EXPECT_EQ(a.consumeEveryMs, b.consumeEveryMs);
    }
    EXPECT_EQ(back.spec.bootMs, r.spec.bootMs);
    EXPECT_EQ(back.spec.trace, r.spec.trace);
    EXPECT_EQ(back.spec.crashAfterMessages, r.spec.crashAfterMessages);
}

TEST(BehaviourSpec, KindNames) {
    EXPECT_STREQ(kindName(ServiceKind::Echo), "echo");
    EXPECT_STREQ(kindName(ServiceKind::Sink), "sink");
    EXPECT_STREQ(kindName(ServiceKind::Stream), "stream");
    EXPECT_STREQ(kindName(ServiceKind::Tty), "tty");
}

TEST(BehaviourSpec, TtyIsAnnouncedAsRpmsgTty) {
    auto r = parseBehaviour(R"({"services":[{"name":"rpmsg-tty","addr":30,"kind":"tty"}]})");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.spec.services.at(0).kind, ServiceKind::Tty);
    auto back = parseBehaviour(behaviourToJson(r.spec));
    ASSERT_TRUE(back.ok) << back.error;
    EXPECT_EQ(back.spec.services.at(0).kind, ServiceKind::Tty);
    EXPECT_EQ(errorOf(R"({"services":[{"name":"console","addr":30,"kind":"tty"}]})"),
              R"(/services/0/name: a tty service is announced as "rpmsg-tty" (the name )"
              R"(rpmsg_tty binds), got "console")");
}
