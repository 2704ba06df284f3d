// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
// The D-Bus contract (docs/dbus-api.md) against dbus/*.xml, the error-name table, and the
// generated sdbus-c++ adaptors. The table below is the contract in code: a member missing from the
// XML, a changed signature, or an XML member the table does not know all fail here.

#include "dbus/errors.h"
#include "dbus/org.rpmsgd.Broker1.Channel.adaptor.h"
#include "dbus/org.rpmsgd.Broker1.Channel.proxy.h"
#include "dbus/org.rpmsgd.Broker1.Endpoint.adaptor.h"
#include "dbus/org.rpmsgd.Broker1.Endpoint.proxy.h"
#include "dbus/org.rpmsgd.Broker1.Manager.adaptor.h"
#include "dbus/org.rpmsgd.Broker1.Manager.proxy.h"
#include "dbus/org.rpmsgd.Broker1.Processor.adaptor.h"
#include "dbus/org.rpmsgd.Broker1.Processor.proxy.h"

#include <cctype>
#include <cerrno>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#ifndef RPMSGD_DBUS_XML_DIR
#error "RPMSGD_DBUS_XML_DIR must name the source dbus/ directory (dbus_contract_test_dep)"
#endif

namespace {

// ---------------------------------------------------------------------------------------------
// A small XML reader, enough for introspection and bus-config files: elements, attributes,
// comments, a DOCTYPE without internal subset, the XML declaration. Text content is an error
// (neither format has any). Each element remembers the comment right before it.

struct XmlNode {
    std::string name;
    std::map<std::string, std::string> attrs;
    std::vector<XmlNode> children;
    std::string comment; ///< the comment directly before this element, if any

    std::string attr(const std::string& key) const {
        auto it = attrs.find(key);
        return it == attrs.end() ? std::string() : it->second;
    }
    bool has(const std::string& key) const { return attrs.count(key) != 0; }
    std::vector<const XmlNode*> all(std::string_view childName) const {
        std::vector<const XmlNode*> out;
        for (const auto& c : children) {
            if (c.name == childName) {
                out.push_back(&c);
            }
        }
        return out;
    }
};

struct XmlDocument {
    std::string doctype; ///< whitespace-normalized text between "<!DOCTYPE" and ">"
    XmlNode root;
};

class XmlReader {
public:
    XmlReader(std::string text, std::string source)
        : s_(std::move(text)), src_(std::move(source)) {}

    XmlDocument read() {
        XmlDocument doc;
        bool haveRoot = false;
        std::string comment;
        for (;;) {
            skipSpace();
            if (pos_ >= s_.size()) {
                break;
            }
            if (starts("<?")) {
                skipPast("?>");
            } else if (starts("<!--")) {
                comment = readComment();
            } else if (starts("<!DOCTYPE")) {
                pos_ += 9;
                auto end = s_.find('>', pos_);
                if (end == std::string::npos) {
                    fail("unterminated DOCTYPE");
                }
                doc.doctype = normalize(s_.substr(pos_, end - pos_));
                if (doc.doctype.find('[') != std::string::npos) {
                    fail("DOCTYPE internal subsets are not supported");
                }
                pos_ = end + 1;
            } else if (starts("<")) {
                if (haveRoot) {
                    fail("more than one root element");
                }
                doc.root = readElement(comment);
                haveRoot = true;
            } else {
                fail("text outside the root element");
            }
        }
        if (!haveRoot) {
            fail("no root element");
        }
        return doc;
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        throw std::runtime_error(src_ + ": byte " + std::to_string(pos_) + ": " + why);
    }
    bool starts(std::string_view p) const { return s_.compare(pos_, p.size(), p) == 0; }
    void skipSpace() {
        while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) {
            ++pos_;
        }
    }
    void skipPast(std::string_view end) {
        auto at = s_.find(end, pos_);
        if (at == std::string::npos) {
            fail("missing '" + std::string(end) + "'");
        }
        pos_ = at + end.size();
    }
    static std::string normalize(const std::string& text) {
        std::istringstream in(text);
        std::string word, out;
        while (in >> word) {
            out += (out.empty() ? "" : " ") + word;
        }
        return out;
    }
    std::string readComment() {
        pos_ += 4;
        auto end = s_.find("-->", pos_);
        if (end == std::string::npos) {
            fail("unterminated comment");
        }
        std::string text = s_.substr(pos_, end - pos_);
        if (text.find("--") != std::string::npos) {
            fail("'--' inside a comment");
        }
        pos_ = end + 3;
        return normalize(text);
    }
    std::string readName() {
        auto begin = pos_;
        while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                    std::string_view(":_-.").find(s_[pos_]) != std::string::npos)) {
            ++pos_;
        }
        if (begin == pos_) {
            fail("expected a name");
        }
        return s_.substr(begin, pos_ - begin);
    }
    std::string decode(const std::string& raw) {
        static const std::map<std::string, char> entities = {
            {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
        std::string out;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] != '&') {
                out += raw[i];
                continue;
            }
            auto semi = raw.find(';', i);
            auto it = semi == std::string::npos ? entities.end()
                                                : entities.find(raw.substr(i + 1, semi - i - 1));
            if (it == entities.end()) {
                fail("unknown entity in '" + raw + "'");
            }
            out += it->second;
            i = semi;
        }
        return out;
    }
    XmlNode readElement(std::string& pendingComment) {
        XmlNode node;
        node.comment = std::move(pendingComment);
        pendingComment.clear();
        ++pos_; // '<'
        node.name = readName();
        for (;;) {
            skipSpace();
            if (starts("/>")) {
                pos_ += 2;
                return node;
            }
            if (starts(">")) {
                ++pos_;
                break;
            }
            std::string key = readName();
            skipSpace();
            if (!starts("=")) {
                fail("expected '=' after attribute " + key);
            }
            ++pos_;
            skipSpace();
            if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) {
                fail("expected a quoted value for attribute " + key);
            }
            char quote = s_[pos_++];
            auto end = s_.find(quote, pos_);
            if (end == std::string::npos) {
                fail("unterminated value of attribute " + key);
            }
            if (!node.attrs.emplace(key, decode(s_.substr(pos_, end - pos_))).second) {
                fail("duplicate attribute " + key);
            }
            pos_ = end + 1;
        }
        std::string comment;
        for (;;) {
            skipSpace();
            if (pos_ >= s_.size()) {
                fail("unterminated element <" + node.name + ">");
            }
            if (starts("</")) {
                pos_ += 2;
                if (readName() != node.name) {
                    fail("mismatched end tag for <" + node.name + ">");
                }
                skipSpace();
                if (!starts(">")) {
                    fail("expected '>'");
                }
                ++pos_;
                return node;
            }
            if (starts("<!--")) {
                comment = readComment();
            } else if (starts("<")) {
                node.children.push_back(readElement(comment));
            } else {
                fail("unexpected text in <" + node.name + ">");
            }
        }
    }

    std::string s_;
    std::string src_;
    std::size_t pos_ = 0;
};

XmlDocument readXmlFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot open " + path);
    }
    std::stringstream buf;
    buf << in.rdbuf();
    return XmlReader(buf.str(), path).read();
}

std::string dbusFile(const std::string& name) {
    return std::string(RPMSGD_DBUS_XML_DIR) + "/" + name;
}

// ---------------------------------------------------------------------------------------------
// The contract (docs/dbus-api.md), version 1. Output-argument names are ours (the contract
// gives only their types) except where it names them (processors, channels, fd/endpoint/mtu).

struct Arg {
    std::string name, type;
};
struct MethodSpec {
    std::string name;
    std::vector<Arg> in, out;
    bool async = false; ///< org.freedesktop.DBus.Method.Async = server
};
struct PropertySpec {
    std::string name, type;
    bool isConst = false; ///< EmitsChangedSignal = const (else true)
};
struct SignalSpec {
    std::string name;
    std::vector<Arg> args;
};
struct InterfaceSpec {
    std::string shortName; ///< e.g. "Manager"
    std::vector<MethodSpec> methods;
    std::vector<PropertySpec> properties;
    std::vector<SignalSpec> signals;

    std::string name() const { return "org.rpmsgd.Broker1." + shortName; }
    std::string file() const { return name() + ".xml"; }
};

constexpr bool Async = true;
constexpr bool Const = true;
constexpr bool Emits = false;

const std::vector<InterfaceSpec>& contract() {
    static const std::vector<InterfaceSpec> c = {
        {"Manager",
         {
             {"ListProcessors", {}, {{"processors", "a(ssso)"}}},
             {"ListChannels", {}, {{"channels", "a(ssuo)"}}},
             {"GetProcessor", {{"key", "s"}}, {{"processor", "o"}}},
             {"WaitForChannel",
              {{"name", "s"}, {"processor", "s"}, {"timeout_ms", "u"}},
              {{"channel", "o"}},
              Async},
             {"Reload", {}, {}, Async},
         },
         {{"Version", "s", Const}, {"ApiVersion", "s", Const}},
         {}},
        {"Processor",
         {
             {"Start", {}, {}, Async},
             {"Stop", {}, {}, Async},
             {"Restart", {}, {}, Async},
             {"SetFirmware", {{"name", "s"}}, {}, Async},
             {"LoadFirmware", {{"fd", "h"}, {"name", "s"}}, {{"firmware", "s"}}, Async},
             {"SetRecovery", {{"enabled", "b"}}, {}, Async},
             {"SetCoredump", {{"mode", "s"}}, {}, Async},
             {"Recover", {}, {}, Async},
             {"ReadTrace", {{"index", "u"}}, {{"trace", "s"}}, Async},
             {"OpenEndpoint",
              {{"name", "s"}, {"remote_address", "u"}, {"options", "a{sv}"}},
              {{"fd", "h"}, {"endpoint", "o"}, {"mtu", "u"}},
              Async},
         },
         {
             {"Id", "s", Const},
             {"Name", "s", Const},
             {"State", "s", Emits},
             {"Firmware", "s", Emits},
             {"Recovery", "s", Emits},
             {"Coredump", "s", Emits},
             {"Channels", "ao", Emits},
             {"CrashCount", "u", Emits},
             {"StartCount", "u", Emits},
             {"RunningSince", "t", Emits},
             {"LastError", "s", Emits},
             {"LastCoredump", "s", Emits},
         },
         {{"Crashed", {{"count", "u"}, {"coredump", "s"}}},
          {"TraceLines", {{"index", "u"}, {"lines", "as"}}}}},
        {"Channel",
         {
             {"Open",
              {{"options", "a{sv}"}},
              {{"fd", "h"}, {"endpoint", "o"}, {"mtu", "u"}},
              Async},
         },
         {
             {"Name", "s", Const},
             {"Processor", "o", Const},
             {"RemoteAddress", "u", Const},
             {"Device", "s", Const},
             {"Kind", "s", Const},
             {"Mtu", "u", Const},
             {"Endpoints", "u", Emits},
             {"OpenCount", "u", Emits},
         },
         {}},
        {"Endpoint",
         {{"Close", {}, {}, Async}},
         {
             {"Channel", "o", Const},
             {"Processor", "o", Const},
             {"Name", "s", Const},
             {"RemoteAddress", "u", Const},
             {"Device", "s", Const},
             {"Owner", "s", Const},
             {"OwnerUid", "u", Const},
         },
         {}},
    };
    return c;
}

// Names the interface in gtest's messages instead of dumping the struct's bytes.
void PrintTo(const InterfaceSpec& spec, std::ostream* os) {
    *os << spec.name();
}

std::string describe(const std::vector<Arg>& args) {
    std::string out;
    for (const auto& a : args) {
        out += (out.empty() ? "" : ", ") + a.type + " " + a.name;
    }
    return "(" + out + ")";
}

std::vector<Arg> argsOf(const XmlNode& member, const std::string& direction) {
    std::vector<Arg> out;
    for (const auto* a : member.all("arg")) {
        // Method args default to "in"; signal args have no direction at all.
        std::string dir = a->has("direction") ? a->attr("direction") : "in";
        if (direction.empty() || dir == direction) {
            out.push_back({a->attr("name"), a->attr("type")});
        }
    }
    return out;
}

std::map<std::string, std::string> annotationsOf(const XmlNode& member) {
    std::map<std::string, std::string> out;
    for (const auto* a : member.all("annotation")) {
        out[a->attr("name")] = a->attr("value");
    }
    return out;
}

const std::string introspectDoctype =
    "node PUBLIC \"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\" "
    "\"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\"";

class DbusContractXml : public ::testing::TestWithParam<InterfaceSpec> {
protected:
    void SetUp() override {
        ASSERT_NO_THROW(doc_ = readXmlFile(dbusFile(GetParam().file())));
        ASSERT_EQ(doc_.root.name, "node");
        auto ifaces = doc_.root.all("interface");
        ASSERT_EQ(ifaces.size(), 1u) << GetParam().file() << " must hold exactly one interface";
        iface_ = ifaces[0];
    }
    const XmlNode* member(const std::string& kind, const std::string& name) const {
        for (const auto* m : iface_->all(kind)) {
            if (m->attr("name") == name) {
                return m;
            }
        }
        return nullptr;
    }

    XmlDocument doc_;
    const XmlNode* iface_ = nullptr;
};

TEST_P(DbusContractXml, IsOneStandardIntrospectionInterface) {
    EXPECT_EQ(doc_.doctype, introspectDoctype);
    EXPECT_EQ(iface_->attr("name"), GetParam().name());
    for (const auto& child : doc_.root.children) {
        EXPECT_EQ(child.name, "interface") << "unexpected <" << child.name << "> in <node>";
    }
    for (const auto& child : iface_->children) {
        EXPECT_TRUE(child.name == "method" || child.name == "property" || child.name == "signal")
            << "unexpected <" << child.name << "> in " << GetParam().name();
    }
}

TEST_P(DbusContractXml, HasEveryMethodWithItsExactSignature) {
    for (const auto& spec : GetParam().methods) {
        SCOPED_TRACE(GetParam().name() + "." + spec.name);
        const XmlNode* m = member("method", spec.name);
        ASSERT_NE(m, nullptr) << "method missing";
        EXPECT_EQ(describe(argsOf(*m, "in")), describe(spec.in));
        EXPECT_EQ(describe(argsOf(*m, "out")), describe(spec.out));
        for (const auto* a : m->all("arg")) {
            EXPECT_TRUE(a->attr("direction") == "in" || a->attr("direction") == "out")
                << "arg " << a->attr("name") << ": direction must be given as in or out";
        }
        auto notes = annotationsOf(*m);
        if (spec.async) {
            EXPECT_EQ(notes["org.freedesktop.DBus.Method.Async"], "server");
        } else {
            EXPECT_EQ(notes.count("org.freedesktop.DBus.Method.Async"), 0u);
        }
    }
}

TEST_P(DbusContractXml, HasEveryPropertyReadOnlyWithItsChangeBehaviour) {
    for (const auto& spec : GetParam().properties) {
        SCOPED_TRACE(GetParam().name() + "." + spec.name);
        const XmlNode* p = member("property", spec.name);
        ASSERT_NE(p, nullptr) << "property missing";
        EXPECT_EQ(p->attr("type"), spec.type);
        EXPECT_EQ(p->attr("access"), "read");
        EXPECT_EQ(annotationsOf(*p)["org.freedesktop.DBus.Property.EmitsChangedSignal"],
                  spec.isConst ? "const" : "true");
    }
}

TEST_P(DbusContractXml, HasEverySignalWithItsExactSignature) {
    for (const auto& spec : GetParam().signals) {
        SCOPED_TRACE(GetParam().name() + "." + spec.name);
        const XmlNode* s = member("signal", spec.name);
        ASSERT_NE(s, nullptr) << "signal missing";
        EXPECT_EQ(describe(argsOf(*s, "")), describe(spec.args));
        for (const auto* a : s->all("arg")) {
            EXPECT_FALSE(a->has("direction")) << "signal args have no direction";
        }
    }
}

// Additions are allowed by the contract, but they must be made on purpose: in docs/dbus-api.md and
// in the table above. This also catches a misspelt member that would otherwise only be "missing".
TEST_P(DbusContractXml, HasNoMemberTheContractDoesNotKnow) {
    std::set<std::string> known;
    for (const auto& m : GetParam().methods) {
        known.insert("method " + m.name);
    }
    for (const auto& p : GetParam().properties) {
        known.insert("property " + p.name);
    }
    for (const auto& s : GetParam().signals) {
        known.insert("signal " + s.name);
    }
    for (const auto& child : iface_->children) {
        EXPECT_TRUE(known.count(child.name + " " + child.attr("name")))
            << GetParam().name() << ": " << child.name << " " << child.attr("name")
            << " is not in docs/dbus-api.md's table (add it there and here)";
    }
}

// docs/toolchain.md: sdbus-c++ 1.2 rejects a vtable whose method args are only partly named.
TEST_P(DbusContractXml, NamesEveryArgument) {
    for (const auto& child : iface_->children) {
        for (const auto* a : child.all("arg")) {
            EXPECT_FALSE(a->attr("name").empty())
                << GetParam().name() << "." << child.attr("name") << ": unnamed argument";
        }
    }
}

TEST_P(DbusContractXml, UsesOnlyKnownAnnotations) {
    const std::map<std::string, std::set<std::string>> allowed = {
        {"org.freedesktop.DBus.Method.Async", {"server"}},
        {"org.freedesktop.DBus.Property.EmitsChangedSignal", {"true", "const"}},
    };
    for (const auto& child : iface_->children) {
        for (const auto& [name, value] : annotationsOf(child)) {
            auto it = allowed.find(name);
            EXPECT_TRUE(it != allowed.end() && it->second.count(value))
                << GetParam().name() << "." << child.attr("name") << ": annotation " << name << "="
                << value;
        }
    }
    EXPECT_TRUE(annotationsOf(*iface_).empty());
}

// Every member and argument carries a comment that starts its text with its own name
// ("Name: ..."), so the installed XML is the API reference.
TEST_P(DbusContractXml, DocumentsEveryMemberAndArgument) {
    EXPECT_FALSE(doc_.root.comment.empty()) << GetParam().file() << ": no file comment";
    for (const auto& child : iface_->children) {
        const std::string name = child.attr("name");
        EXPECT_NE(child.comment.find(name + ":"), std::string::npos)
            << GetParam().name() << "." << name << ": no comment starting with '" << name
            << ":' right before it";
        for (const auto* a : child.all("arg")) {
            EXPECT_NE(a->comment.find(a->attr("name") + ":"), std::string::npos)
                << GetParam().name() << "." << name << ": argument " << a->attr("name")
                << " has no comment starting with '" << a->attr("name") << ":' before it";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(DbusContract, DbusContractXml, ::testing::ValuesIn(contract()),
                         [](const auto& info) { return info.param.shortName; });

TEST(DbusContractXmlFiles, EveryInterfaceHasAFileAndNoOtherInterfaceExists) {
    // A guard against the table and dbus/meson.build drifting apart.
    EXPECT_EQ(contract().size(), 4u);
    std::set<std::string> names;
    for (const auto& spec : contract()) {
        EXPECT_TRUE(names.insert(spec.name()).second) << spec.name() << " twice";
    }
}

// ---------------------------------------------------------------------------------------------
// The bus policy: only root owns the name; everyone may call our interfaces and the standard ones
// on it; every send rule is scoped to our destination; nothing else.

TEST(DbusContractPolicy, OnlyRootOwnsAndEveryoneMaySendToOurInterfaces) {
    XmlDocument doc;
    ASSERT_NO_THROW(doc = readXmlFile(dbusFile("org.rpmsgd.Broker1.conf")));
    EXPECT_EQ(doc.doctype,
              "busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" "
              "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\"");
    ASSERT_EQ(doc.root.name, "busconfig");

    std::set<std::string> owners, sendInterfaces;
    for (const auto& policy : doc.root.children) {
        ASSERT_EQ(policy.name, "policy");
        const bool isRoot = policy.attr("user") == "root" && policy.attrs.size() == 1;
        const bool isDefault = policy.attr("context") == "default" && policy.attrs.size() == 1;
        ASSERT_TRUE(isRoot || isDefault) << "only <policy user=\"root\"> and "
                                            "<policy context=\"default\"> are expected";
        for (const auto& rule : policy.children) {
            ASSERT_EQ(rule.name, "allow") << "our file only allows";
            if (rule.has("own")) {
                EXPECT_TRUE(isRoot) << "own allowed outside the root policy";
                EXPECT_EQ(rule.attrs.size(), 1u);
                owners.insert(rule.attr("own"));
                continue;
            }
            EXPECT_EQ(rule.attr("send_destination"), "org.rpmsgd.Broker1")
                << "an allow rule without our send_destination";
            for (const auto& [key, value] : rule.attrs) {
                EXPECT_TRUE(key == "send_destination" || key == "send_interface")
                    << "unexpected attribute " << key << "=" << value;
            }
            EXPECT_TRUE(isDefault) << "send rules belong in the default context";
            sendInterfaces.insert(rule.attr("send_interface"));
        }
    }
    EXPECT_EQ(owners, std::set<std::string>{"org.rpmsgd.Broker1"});
    std::set<std::string> expected = {
        "org.freedesktop.DBus.Properties",
        "org.freedesktop.DBus.Introspectable",
        "org.freedesktop.DBus.Peer",
        "org.freedesktop.DBus.ObjectManager",
    };
    for (const auto& spec : contract()) {
        expected.insert(spec.name());
    }
    EXPECT_EQ(sendInterfaces, expected);
}

// ---------------------------------------------------------------------------------------------
// Errors: one table, complete, round-tripping, with the names of docs/dbus-api.md.

using rpmsgd::allErrorCodes;
using rpmsgd::Error;
using rpmsgd::ErrorCode;

TEST(DbusContractErrors, EveryCodeHasTheContractName) {
    const std::map<ErrorCode, std::string> expected = {
        {ErrorCode::NotFound, "org.rpmsgd.Broker1.Error.NotFound"},
        {ErrorCode::InvalidArgument, "org.rpmsgd.Broker1.Error.InvalidArgument"},
        {ErrorCode::InvalidState, "org.rpmsgd.Broker1.Error.InvalidState"},
        {ErrorCode::InvalidFirmware, "org.rpmsgd.Broker1.Error.InvalidFirmware"},
        {ErrorCode::LimitExceeded, "org.rpmsgd.Broker1.Error.LimitExceeded"},
        {ErrorCode::Timeout, "org.rpmsgd.Broker1.Error.Timeout"},
        {ErrorCode::Unavailable, "org.rpmsgd.Broker1.Error.Unavailable"},
        {ErrorCode::KernelError, "org.rpmsgd.Broker1.Error.KernelError"},
        {ErrorCode::Internal, "org.rpmsgd.Broker1.Error.Internal"},
        {ErrorCode::AccessDenied, "org.freedesktop.DBus.Error.AccessDenied"},
        {ErrorCode::NotSupported, "org.rpmsgd.Broker1.Error.NotSupported"},
    };
    EXPECT_EQ(expected.size(), allErrorCodes.size());
    for (auto code : allErrorCodes) {
        ASSERT_TRUE(expected.count(code)) << rpmsgd::errorCodeString(code);
        EXPECT_EQ(rpmsgd::errorName(code), expected.at(code));
        if (code != ErrorCode::AccessDenied) {
            EXPECT_EQ(rpmsgd::errorName(code),
                      std::string(rpmsgd::errorNamePrefix) + rpmsgd::errorCodeString(code));
        }
    }
}

TEST(DbusContractErrors, NamesRoundTripAndAreUnique) {
    std::set<std::string> seen;
    for (auto code : allErrorCodes) {
        const std::string name = rpmsgd::errorName(code);
        EXPECT_TRUE(seen.insert(name).second) << name << " used twice";
        EXPECT_EQ(rpmsgd::errorCodeFromName(name), code) << name;
    }
    EXPECT_EQ(rpmsgd::errorCodeFromName("org.freedesktop.DBus.Error.NoReply"), std::nullopt);
    EXPECT_EQ(rpmsgd::errorCodeFromName("org.rpmsgd.Broker1.Error.Nope"), std::nullopt);
    EXPECT_EQ(rpmsgd::errorCodeFromName("org.rpmsgd.Broker1.Error.notfound"), std::nullopt);
    EXPECT_EQ(rpmsgd::errorCodeFromName(""), std::nullopt);
}

TEST(DbusContractErrors, ErrorCarriesCodeNameAndMessage) {
    try {
        throw Error::notFound("no processor 'remoteproc9'");
    } catch (const std::runtime_error& e) {
        auto* err = dynamic_cast<const Error*>(&e);
        ASSERT_NE(err, nullptr);
        EXPECT_EQ(err->code(), ErrorCode::NotFound);
        EXPECT_STREQ(err->name(), "org.rpmsgd.Broker1.Error.NotFound");
        EXPECT_STREQ(e.what(), "no processor 'remoteproc9'");
        EXPECT_EQ(err->message(), "no processor 'remoteproc9'");
    }
    EXPECT_EQ(Error::invalidArgument("x").code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(Error::invalidState("x").code(), ErrorCode::InvalidState);
    EXPECT_EQ(Error::invalidFirmware("x").code(), ErrorCode::InvalidFirmware);
    EXPECT_EQ(Error::limitExceeded("x").code(), ErrorCode::LimitExceeded);
    EXPECT_EQ(Error::timeout("x").code(), ErrorCode::Timeout);
    EXPECT_EQ(Error::unavailable("x").code(), ErrorCode::Unavailable);
    EXPECT_EQ(Error::internal("x").code(), ErrorCode::Internal);
    EXPECT_EQ(Error::accessDenied("x").code(), ErrorCode::AccessDenied);
    EXPECT_STREQ(Error::accessDenied("x").name(), "org.freedesktop.DBus.Error.AccessDenied");
    EXPECT_EQ(Error::notSupported("x").code(), ErrorCode::NotSupported);
    EXPECT_STREQ(Error::notSupported("x").name(), "org.rpmsgd.Broker1.Error.NotSupported");
}

TEST(DbusContractErrors, KernelErrorMessageNamesFileAndErrno) {
    EXPECT_EQ(rpmsgd::kernelErrorMessage("write 'start' to remoteproc0/state", ENOENT),
              "write 'start' to remoteproc0/state: No such file or directory (ENOENT)");
    // sd-* style negative errno values read the same.
    EXPECT_EQ(rpmsgd::kernelErrorMessage("read remoteproc0/state", -EBUSY),
              "read remoteproc0/state: Device or resource busy (EBUSY)");
    auto e = Error::kernel("write 'stop' to remoteproc1/state", EINVAL);
    EXPECT_EQ(e.code(), ErrorCode::KernelError);
    EXPECT_STREQ(e.what(), "write 'stop' to remoteproc1/state: Invalid argument (EINVAL)");
}

TEST(DbusContractErrors, ErrnoNames) {
    EXPECT_EQ(rpmsgd::errnoName(ENOENT), "ENOENT");
    EXPECT_EQ(rpmsgd::errnoName(EPIPE), "EPIPE");
    EXPECT_EQ(rpmsgd::errnoName(-ENODEV), "ENODEV");
    EXPECT_EQ(rpmsgd::errnoName(EAGAIN), "EAGAIN");
    EXPECT_EQ(rpmsgd::errnoName(99999), "errno 99999");
#ifdef __GLIBC__
    EXPECT_EQ(rpmsgd::errnoName(EDQUOT), "EDQUOT"); // not in our table: glibc's name
#endif
}

// ---------------------------------------------------------------------------------------------
// The generated code: the headers compile (with the project's warnings) and the adaptors have
// exactly the pure virtuals below, which the daemon's glue must implement. If xml2cpp or the XML
// changes these signatures, this stops compiling.

namespace gen = org::rpmsgd::Broker1;
using Fd = sdbus::UnixFd;
using Path = sdbus::ObjectPath;
using Options = std::map<std::string, sdbus::Variant>;

static_assert(std::string_view(gen::Manager_adaptor::INTERFACE_NAME) ==
              "org.rpmsgd.Broker1.Manager");
static_assert(std::string_view(gen::Processor_adaptor::INTERFACE_NAME) ==
              "org.rpmsgd.Broker1.Processor");
static_assert(std::string_view(gen::Channel_adaptor::INTERFACE_NAME) ==
              "org.rpmsgd.Broker1.Channel");
static_assert(std::string_view(gen::Endpoint_adaptor::INTERFACE_NAME) ==
              "org.rpmsgd.Broker1.Endpoint");
static_assert(std::string_view(gen::Manager_proxy::INTERFACE_NAME) == "org.rpmsgd.Broker1.Manager");
static_assert(std::string_view(gen::Processor_proxy::INTERFACE_NAME) ==
              "org.rpmsgd.Broker1.Processor");
static_assert(std::string_view(gen::Channel_proxy::INTERFACE_NAME) == "org.rpmsgd.Broker1.Channel");
static_assert(std::string_view(gen::Endpoint_proxy::INTERFACE_NAME) ==
              "org.rpmsgd.Broker1.Endpoint");
static_assert(std::is_abstract_v<gen::Manager_adaptor> &&
              std::is_abstract_v<gen::Processor_adaptor> &&
              std::is_abstract_v<gen::Channel_adaptor> &&
              std::is_abstract_v<gen::Endpoint_adaptor>);

// Never instantiated (that needs a bus): compiling them is the check.
class ManagerGlue final : public gen::Manager_adaptor {
public:
    explicit ManagerGlue(sdbus::IObject& o) : Manager_adaptor(o) {}

private:
    std::vector<sdbus::Struct<std::string, std::string, std::string, Path>>
    ListProcessors() override {
        return {};
    }
    std::vector<sdbus::Struct<std::string, std::string, uint32_t, Path>> ListChannels() override {
        return {};
    }
    Path GetProcessor(const std::string&) override { return {}; }
    void WaitForChannel(sdbus::Result<Path>&&, std::string, std::string, uint32_t) override {}
    void Reload(sdbus::Result<>&&) override {}
    std::string Version() override { return {}; }
    std::string ApiVersion() override { return {}; }
};

class ProcessorGlue final : public gen::Processor_adaptor {
public:
    explicit ProcessorGlue(sdbus::IObject& o) : Processor_adaptor(o) {}

private:
    void Start(sdbus::Result<>&&) override {}
    void Stop(sdbus::Result<>&&) override {}
    void Restart(sdbus::Result<>&&) override {}
    void SetFirmware(sdbus::Result<>&&, std::string) override {}
    void LoadFirmware(sdbus::Result<std::string>&&, Fd, std::string) override {}
    void SetRecovery(sdbus::Result<>&&, bool) override {}
    void SetCoredump(sdbus::Result<>&&, std::string) override {}
    void Recover(sdbus::Result<>&&) override {}
    void ReadTrace(sdbus::Result<std::string>&&, uint32_t) override {}
    void OpenEndpoint(sdbus::Result<Fd, Path, uint32_t>&&, std::string, uint32_t,
                      Options) override {}
    std::string Id() override { return {}; }
    std::string Name() override { return {}; }
    std::string State() override { return {}; }
    std::string Firmware() override { return {}; }
    std::string Recovery() override { return {}; }
    std::string Coredump() override { return {}; }
    std::vector<Path> Channels() override { return {}; }
    uint32_t CrashCount() override { return 0; }
    uint32_t StartCount() override { return 0; }
    uint64_t RunningSince() override { return 0; }
    std::string LastError() override { return {}; }
    std::string LastCoredump() override { return {}; }
};

class ChannelGlue final : public gen::Channel_adaptor {
public:
    explicit ChannelGlue(sdbus::IObject& o) : Channel_adaptor(o) {}

private:
    void Open(sdbus::Result<Fd, Path, uint32_t>&&, Options) override {}
    std::string Name() override { return {}; }
    Path Processor() override { return {}; }
    uint32_t RemoteAddress() override { return 0; }
    std::string Device() override { return {}; }
    std::string Kind() override { return {}; }
    uint32_t Mtu() override { return 0; }
    uint32_t Endpoints() override { return 0; }
    uint32_t OpenCount() override { return 0; }
};

class EndpointGlue final : public gen::Endpoint_adaptor {
public:
    explicit EndpointGlue(sdbus::IObject& o) : Endpoint_adaptor(o) {}

private:
    void Close(sdbus::Result<>&&) override {}
    Path Channel() override { return {}; }
    Path Processor() override { return {}; }
    std::string Name() override { return {}; }
    uint32_t RemoteAddress() override { return 0; }
    std::string Device() override { return {}; }
    std::string Owner() override { return {}; }
    uint32_t OwnerUid() override { return 0; }
};

static_assert(!std::is_abstract_v<ManagerGlue> && !std::is_abstract_v<ProcessorGlue> &&
              !std::is_abstract_v<ChannelGlue> && !std::is_abstract_v<EndpointGlue>);

TEST(DbusContractGenerated, AdaptorsHaveExactlyTheExpectedPureVirtuals) {
    // Compile-time checks above; here only what needs an expression.
    // The Crashed emitter exists with the contract's argument types.
    using Emit = void (gen::Processor_adaptor::*)(const uint32_t&, const std::string&);
    EXPECT_NE(static_cast<Emit>(&gen::Processor_adaptor::emitCrashed), nullptr);
}

} // namespace
