// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "strict_json.h"

#include "common/json_path.h"

#include <set>
#include <string_view>
#include <utility>

namespace rpmsgd::config {

namespace {

using Json = nlohmann::json;
using json_path::child;

// "FILE: WHAT", appended piece by piece: chained operator+ on temporaries trips GCC 12's
// -Wrestrict.
std::string located(const std::string& file, std::string_view what, std::string_view more = {}) {
    std::string m = file;
    m += ": ";
    m += what;
    m += more;
    return m;
}

// Builds the DOM like nlohmann's own SAX DOM parser, and also reports duplicate keys (the
// default parser silently keeps the last one) and the syntax error with its line and column.
class DomBuilder {
public:
    DomBuilder(const std::string& file, Json& root, std::vector<std::string>& errors)
        : file_(file), root_(root), errors_(errors) {}

    bool null() { return add(nullptr); }
    bool boolean(bool v) { return add(v); }
    bool number_integer(Json::number_integer_t v) { return add(v); }
    bool number_unsigned(Json::number_unsigned_t v) { return add(v); }
    bool number_float(Json::number_float_t v, const std::string& /*text*/) { return add(v); }
    bool string(std::string& v) { return add(std::move(v)); }
    bool binary(Json::binary_t& v) { return add(std::move(v)); }

    bool start_object(std::size_t /*size*/) { return open(Json::object()); }
    bool start_array(std::size_t /*size*/) { return open(Json::array()); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }

    bool key(std::string& k) {
        Frame& f = stack_.back();
        if (!f.keys.insert(k).second) {
            errors_.push_back(located(file_, child(f.pointer, k), ": duplicate key"));
        }
        f.key = k;
        return true;
    }

    bool parse_error(std::size_t /*position*/, const std::string& /*lastToken*/,
                     const Json::exception& ex) {
        std::string_view what = ex.what();
        // "[json.exception.parse_error.101] parse error at line 2, column 3: syntax error ..."
        if (const size_t close = what.find("] ");
            what.starts_with("[json.exception.") && close != std::string_view::npos) {
            what.remove_prefix(close + 2);
        }
        if (const size_t at = what.find("at line "); at != std::string_view::npos) {
            what.remove_prefix(at + 3);
        }
        errors_.push_back(located(file_, what));
        return false;
    }

private:
    struct Frame {
        Json* container;
        std::string pointer;
        std::string key;
        std::set<std::string> keys;
    };

    // Where the next value goes: the root, the end of the array, or the current key.
    Json* slot(std::string* pointer) {
        if (stack_.empty()) {
            *pointer = "";
            return &root_;
        }
        Frame& f = stack_.back();
        if (f.container->is_array()) {
            *pointer = child(f.pointer, f.container->size());
            f.container->push_back(nullptr);
            return &f.container->back();
        }
        *pointer = child(f.pointer, f.key);
        return &(*f.container)[f.key];
    }

    template <typename V>
    bool add(V&& v) {
        std::string pointer;
        *slot(&pointer) = std::forward<V>(v);
        return true;
    }

    bool open(Json empty) {
        std::string pointer;
        Json* target = slot(&pointer);
        *target = std::move(empty);
        stack_.push_back(Frame{target, std::move(pointer), {}, {}});
        return true;
    }

    bool close() {
        stack_.pop_back();
        return true;
    }

    const std::string& file_;
    Json& root_;
    std::vector<std::string>& errors_;
    std::vector<Frame> stack_;
};

} // namespace

bool parseStrictJson(const std::string& file, const std::string& text, Json& root,
                     std::vector<std::string>& errors) {
    DomBuilder builder(file, root, errors);
    return Json::sax_parse(text, &builder);
}

} // namespace rpmsgd::config
