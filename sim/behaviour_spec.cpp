// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "behaviour_spec.h"

#include "common/json_path.h"
#include "common/rpmsg_abi.h"

#include <initializer_list>
#include <set>
#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

namespace rpmsgsim {

namespace {

namespace rpmsg = rpmsgd::rpmsg;
using nlohmann::json;
using rpmsgd::json_path::child;

constexpr uint32_t MaxBootMs = 600000;
constexpr uint32_t MaxTraceEveryMs = 3600000; // an hour
constexpr uint32_t MaxConsumeEveryMs = 600000;
constexpr uint32_t MaxRateHz = 10000;
constexpr uint32_t DefaultRateHz = 10;
constexpr uint32_t DefaultSize = 16;
constexpr uint32_t MaxTraceLen = 1u << 20;
constexpr size_t MaxNameLen = rpmsg::NameSize - 1; // name[32] with its NUL

// The first error ends parsing; its text already names the JSON path.
struct SpecError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void error(const std::string& path, const std::string& what) {
    throw SpecError((path.empty() ? std::string("/") : path) + ": " + what);
}

// A short rendering of the offending value for messages. Not json_path::describe: that one
// names containers instead of showing them and cuts at another length, and the messages stay
// as they were.
std::string shown(const json& value) {
    std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > 40) {
        text = text.substr(0, 37) + "...";
    }
    return text;
}

const char* typeName(const json& value) {
    switch (value.type()) {
    case json::value_t::null:
        return "null";
    case json::value_t::object:
        return "an object";
    case json::value_t::array:
        return "an array";
    case json::value_t::string:
        return "a string";
    case json::value_t::boolean:
        return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
        return "an integer";
    case json::value_t::number_float:
        return "a floating-point number";
    default:
        return "an unsupported value";
    }
}

void expectObject(const json& value, const std::string& path,
                  std::initializer_list<std::string_view> allowed) {
    if (!value.is_object()) {
        error(path, std::string("expected an object, got ") + typeName(value));
    }
    for (const auto& item : value.items()) {
        bool known = false;
        for (auto key : allowed) {
            known = known || item.key() == key;
        }
        if (!known) {
            std::string list;
            for (auto key : allowed) {
                list += (list.empty() ? "" : ", ") + std::string(key);
            }
            error(child(path, item.key()), "unknown key (expected one of " + list + ")");
        }
    }
}

uint32_t unsignedValue(const json& value, const std::string& path, uint64_t min, uint64_t max) {
    if (!value.is_number_unsigned() && !value.is_number_integer()) {
        error(path, std::string("expected an integer, got ") + typeName(value));
    }
    if (value.is_number_integer() && !value.is_number_unsigned() && value.get<int64_t>() < 0) {
        error(path, "expected an integer from " + std::to_string(min) + " to " +
                        std::to_string(max) + ", got " + shown(value));
    }
    const uint64_t v = value.get<uint64_t>();
    if (v < min || v > max) {
        error(path, "expected an integer from " + std::to_string(min) + " to " +
                        std::to_string(max) + ", got " + shown(value));
    }
    return static_cast<uint32_t>(v);
}

bool boolValue(const json& value, const std::string& path) {
    if (!value.is_boolean()) {
        error(path, std::string("expected true or false, got ") + shown(value));
    }
    return value.get<bool>();
}

std::string stringValue(const json& value, const std::string& path) {
    if (!value.is_string()) {
        error(path, std::string("expected a string, got ") + typeName(value));
    }
    return value.get<std::string>();
}

ServiceKind kindValue(const json& value, const std::string& path) {
    const char* expected = "expected one of echo, sink, stream, tty, got ";
    if (!value.is_string()) {
        error(path, expected + shown(value));
    }
    const auto text = value.get<std::string>();
    for (auto kind :
         {ServiceKind::Echo, ServiceKind::Sink, ServiceKind::Stream, ServiceKind::Tty}) {
        if (text == kindName(kind)) {
            return kind;
        }
    }
    error(path, expected + shown(value));
}

const json& required(const json& object, const std::string& path, const char* key) {
    auto it = object.find(key);
    if (it == object.end()) {
        error(path, std::string("missing required key \"") + key + "\"");
    }
    return *it;
}

ServiceSpec parseService(const json& value, const std::string& path) {
    expectObject(value, path,
                 {"name", "addr", "kind", "announce", "rate_hz", "size", "consume_every_ms"});
    ServiceSpec s;
    s.name = stringValue(required(value, path, "name"), child(path, "name"));
    if (s.name.empty() || s.name.size() > MaxNameLen) {
        error(child(path, "name"), "expected 1 to " + std::to_string(MaxNameLen) + " bytes, got " +
                                       std::to_string(s.name.size()) + " (" + shown(value["name"]) +
                                       ")");
    }
    if (s.name.find('\0') != std::string::npos) {
        error(child(path, "name"), "must not contain NUL characters");
    }

    const std::string addrPath = child(path, "addr");
    s.addr = unsignedValue(required(value, path, "addr"), addrPath, 0, rpmsg::AddrAny);
    if (s.addr == rpmsg::NsAddr) {
        error(addrPath, std::to_string(rpmsg::NsAddr) + " is the name service address");
    }
    if (s.addr == rpmsg::AddrAny) {
        error(addrPath, std::to_string(rpmsg::AddrAny) + " is RPMSG_ADDR_ANY, not an address");
    }

    s.kind = kindValue(required(value, path, "kind"), child(path, "kind"));
    if (s.kind == ServiceKind::Tty && s.name != TtyServiceName) {
        // drivers/tty/rpmsg_tty.c binds only this name (rpmsg_driver_tty_id_table).
        error(child(path, "name"), std::string("a tty service is announced as \"") +
                                       TtyServiceName + "\" (the name rpmsg_tty binds), got " +
                                       shown(value["name"]));
    }
    if (auto it = value.find("announce"); it != value.end()) {
        s.announce = boolValue(*it, child(path, "announce"));
    }

    const auto onlyFor = [&](const char* key, ServiceKind kind) -> const json* {
        auto it = value.find(key);
        if (it == value.end()) {
            return nullptr;
        }
        if (s.kind != kind) {
            error(child(path, key), std::string("only allowed for kind ") + kindName(kind) +
                                        ", this service is " + kindName(s.kind));
        }
        return &*it;
    };
    if (s.kind == ServiceKind::Stream) {
        s.rateHz = DefaultRateHz;
        s.size = DefaultSize;
    }
    if (const json* v = onlyFor("rate_hz", ServiceKind::Stream)) {
        s.rateHz = unsignedValue(*v, child(path, "rate_hz"), 1, MaxRateHz);
    }
    if (const json* v = onlyFor("size", ServiceKind::Stream)) {
        s.size = unsignedValue(*v, child(path, "size"), 1, rpmsg::Mtu);
    }
    if (const json* v = onlyFor("consume_every_ms", ServiceKind::Sink)) {
        s.consumeEveryMs = unsignedValue(*v, child(path, "consume_every_ms"), 0, MaxConsumeEveryMs);
    }
    return s;
}

ImageSpec parseImage(const json& value, const std::string& path) {
    expectObject(value, path, {"name_service", "trace_len", "machine"});
    ImageSpec image;
    if (auto it = value.find("name_service"); it != value.end()) {
        image.nameService = boolValue(*it, child(path, "name_service"));
    }
    if (auto it = value.find("trace_len"); it != value.end()) {
        image.traceLen = unsignedValue(*it, child(path, "trace_len"), 0, MaxTraceLen);
    }
    if (auto it = value.find("machine"); it != value.end()) {
        image.machine =
            static_cast<uint16_t>(unsignedValue(*it, child(path, "machine"), 0, 0xFFFF));
    }
    return image;
}

BehaviourSpec parseRoot(const json& root) {
    const std::string path;
    expectObject(
        root, path,
        {"boot_ms", "services", "trace", "trace_every_ms", "crash_after_messages", "image"});
    BehaviourSpec spec;
    if (auto it = root.find("boot_ms"); it != root.end()) {
        spec.bootMs = unsignedValue(*it, "/boot_ms", 0, MaxBootMs);
    }
    if (auto it = root.find("services"); it != root.end()) {
        if (!it->is_array()) {
            error("/services", std::string("expected an array, got ") + typeName(*it));
        }
        std::set<std::string> names;
        std::set<uint32_t> addrs;
        for (size_t i = 0; i < it->size(); ++i) {
            const std::string sp = child("/services", i);
            ServiceSpec s = parseService((*it)[i], sp);
            if (!names.insert(s.name).second) {
                error(child(sp, "name"), "duplicate service name \"" + s.name + "\"");
            }
            if (!addrs.insert(s.addr).second) {
                error(child(sp, "addr"), "duplicate address " + std::to_string(s.addr));
            }
            spec.services.push_back(std::move(s));
        }
    }
    if (auto it = root.find("trace"); it != root.end()) {
        if (!it->is_array()) {
            error("/trace", std::string("expected an array of strings, got ") + typeName(*it));
        }
        for (size_t i = 0; i < it->size(); ++i) {
            spec.trace.push_back(stringValue((*it)[i], child("/trace", i)));
        }
    }
    if (auto it = root.find("trace_every_ms"); it != root.end()) {
        spec.traceEveryMs = unsignedValue(*it, "/trace_every_ms", 0, MaxTraceEveryMs);
    }
    if (auto it = root.find("crash_after_messages"); it != root.end()) {
        spec.crashAfterMessages = unsignedValue(*it, "/crash_after_messages", 0, 0xFFFFFFFFu);
    }
    if (auto it = root.find("image"); it != root.end()) {
        spec.image = parseImage(*it, "/image");
    }
    return spec;
}

// nlohmann prefixes "[json.exception.parse_error.101] "; users need only the rest.
std::string parserMessage(const std::string& what) {
    if (!what.empty() && what.front() == '[') {
        if (auto end = what.find("] "); end != std::string::npos) {
            return what.substr(end + 2);
        }
    }
    return what;
}

} // namespace

const char* kindName(ServiceKind kind) {
    switch (kind) {
    case ServiceKind::Echo:
        return "echo";
    case ServiceKind::Sink:
        return "sink";
    case ServiceKind::Stream:
        return "stream";
    case ServiceKind::Tty:
        return "tty";
    }
    return "unknown";
}

BehaviourParse parseBehaviour(const std::string& text) {
    BehaviourParse result;
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        result.error = "invalid JSON: " + parserMessage(e.what());
        return result;
    }
    try {
        result.spec = parseRoot(root);
        result.ok = true;
    } catch (const SpecError& e) {
        result.error = e.what();
    }
    return result;
}

std::string behaviourToJson(const BehaviourSpec& spec) {
    json services = json::array();
    for (const auto& s : spec.services) {
        json service = {{"name", s.name},
                        {"addr", s.addr},
                        {"kind", kindName(s.kind)},
                        {"announce", s.announce}};
        if (s.kind == ServiceKind::Stream) {
            service["rate_hz"] = s.rateHz;
            service["size"] = s.size;
        }
        if (s.kind == ServiceKind::Sink) {
            service["consume_every_ms"] = s.consumeEveryMs;
        }
        services.push_back(std::move(service));
    }
    json root = {{"boot_ms", spec.bootMs},
                 {"services", std::move(services)},
                 {"trace", spec.trace},
                 {"crash_after_messages", spec.crashAfterMessages}};
    if (spec.traceEveryMs) {
        root["trace_every_ms"] = spec.traceEveryMs;
    }
    // Strings came from parsed (valid UTF-8) JSON; replace keeps a hand-built spec from throwing.
    return root.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace rpmsgsim
