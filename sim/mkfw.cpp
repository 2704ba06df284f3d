// SPDX-License-Identifier: LGPL-2.1-or-later
// SPDX-FileCopyrightText: 2026 rpmsgd contributors
#include "mkfw.h"

#include "behaviour_spec.h"
#include "common/firmware_builder.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace rpmsgsim {

namespace {

constexpr const char* Usage =
    "Usage: rpmsg-sim mkfw --spec FILE --out FILE [--defect KIND]\n"
    "\n"
    "Build a simulated remote-processor firmware image (little-endian ELF32) from a behaviour\n"
    "spec. The image holds one PT_LOAD segment, a .resource_table (trace0 and an rpmsg vdev)\n"
    "and the behaviour JSON in a .rpmsg_sim section. See sim/README.md, \"Simulated firmware\".\n"
    "\n"
    "Options:\n"
    "  --spec FILE     behaviour spec (JSON); '-' reads standard input\n"
    "  --out FILE      image to write (replaced atomically, mode 0644)\n"
    "  --defect KIND   plant a defect that the kernel's loader rejects, for tests:\n";

void printUsage(std::ostream& out) {
    out << Usage;
    // The defect names, wrapped at 80 columns under the option text.
    const auto names = rpmsgd::fw::defectNames();
    const size_t indent = 18;
    size_t column = indent;
    out << std::string(indent, ' ');
    for (size_t i = 0; i < names.size(); ++i) {
        const std::string item = names[i] + (i + 1 < names.size() ? "," : "");
        if (column > indent && column + 1 + item.size() > 80) {
            out << "\n" << std::string(indent, ' ');
            column = indent;
        }
        if (column > indent) {
            out << ' ';
            ++column;
        }
        out << item;
        column += item.size();
    }
    out << "\n  -h, --help      show this help\n";
}

int usageError(const std::string& message) {
    std::cerr << "rpmsg-sim mkfw: " << message << "\nTry 'rpmsg-sim mkfw --help'.\n";
    return 2;
}

int failure(const std::string& message) {
    std::cerr << "rpmsg-sim mkfw: " << message << "\n";
    return 1;
}

std::string errnoText(int error) {
    return std::strerror(error);
}

bool readAll(int fd, std::string& out, int& error) {
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == 0) {
            return true;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            error = errno;
            return false;
        }
        out.append(buf, static_cast<size_t>(n));
    }
}

bool readSpec(const std::string& path, std::string& text, std::string& message) {
    int error = 0;
    if (path == "-") {
        if (!readAll(STDIN_FILENO, text, error)) {
            message = "<stdin>: cannot read: " + errnoText(error);
            return false;
        }
        return true;
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        message = path + ": cannot open: " + errnoText(errno);
        return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        message = path + ": is a directory";
        return false;
    }
    const bool ok = readAll(fd, text, error);
    ::close(fd);
    if (!ok) {
        message = path + ": cannot read: " + errnoText(error);
        return false;
    }
    return true;
}

bool writeAll(int fd, const uint8_t* data, size_t size, int& error) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            error = errno;
            return false;
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// A temporary file next to the target and rename(2), so readers never see a partial image.
bool writeAtomically(const std::string& path, const std::vector<uint8_t>& bytes,
                     std::string& message) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    if (base.empty() || base == "." || base == "..") {
        message = path + ": not a file name";
        return false;
    }
    std::string tmp = (slash == std::string::npos ? "" : dir) + "." + base + ".XXXXXX";
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) {
        message = path + ": cannot create a temporary file in " + dir + ": " + errnoText(errno);
        return false;
    }
    int error = 0;
    bool ok = ::fchmod(fd, 0644) == 0 || ((error = errno), false);
    ok = ok && writeAll(fd, bytes.data(), bytes.size(), error);
    ok = ok && (::fsync(fd) == 0 || ((error = errno), false));
    if (::close(fd) != 0 && ok) {
        error = errno;
        ok = false;
    }
    ok = ok && (::rename(tmp.c_str(), path.c_str()) == 0 || ((error = errno), false));
    if (!ok) {
        ::unlink(tmp.c_str());
        message = path + ": cannot write: " + errnoText(error);
        return false;
    }
    return true;
}

struct Arguments {
    std::optional<std::string> spec, out, defect;
    bool help = false;
};

// Returns an error message, or nothing when the arguments parse.
std::optional<std::string> parseArguments(int argc, char** argv, Arguments& args) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            args.help = true;
            continue;
        }
        std::optional<std::string>* target = nullptr;
        std::string name = arg, value;
        bool inlineValue = false;
        if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            inlineValue = true;
        }
        if (name == "--spec") {
            target = &args.spec;
        } else if (name == "--out") {
            target = &args.out;
        } else if (name == "--defect") {
            target = &args.defect;
        } else if (arg.rfind("-", 0) == 0 && arg != "-") {
            return "unknown option '" + arg + "'";
        } else {
            return "unexpected argument '" + arg + "'";
        }
        if (!inlineValue) {
            if (i + 1 >= argc) {
                return "option " + name + " needs a value";
            }
            value = argv[++i];
        }
        if (target->has_value()) {
            return "option " + name + " given twice";
        }
        if (value.empty()) {
            return "option " + name + " needs a non-empty value";
        }
        *target = value;
    }
    return std::nullopt;
}

} // namespace

int runMkfw(int argc, char** argv) {
    Arguments args;
    if (auto problem = parseArguments(argc, argv, args)) {
        return usageError(*problem);
    }
    if (args.help) {
        printUsage(std::cout);
        return 0;
    }
    if (!args.spec) {
        return usageError("missing --spec FILE");
    }
    if (!args.out) {
        return usageError("missing --out FILE");
    }

    rpmsgd::fw::BuildOptions options;
    if (args.defect) {
        const auto defect = rpmsgd::fw::defectFromName(*args.defect);
        if (!defect) {
            std::string list;
            for (const auto& name : rpmsgd::fw::defectNames()) {
                list += (list.empty() ? "" : ", ") + name;
            }
            return usageError("unknown defect '" + *args.defect + "' (expected one of " + list +
                              ")");
        }
        options.defect = *defect;
    }

    std::string text, message;
    if (!readSpec(*args.spec, text, message)) {
        return failure(message);
    }
    const BehaviourParse parsed = parseBehaviour(text);
    if (!parsed.ok) {
        return failure((*args.spec == "-" ? std::string("<stdin>") : *args.spec) + ": " +
                       parsed.error);
    }

    options.nameService = parsed.spec.image.nameService;
    options.traceLen = parsed.spec.image.traceLen;
    options.machine = parsed.spec.image.machine;
    options.behaviour = behaviourToJson(parsed.spec);
    const std::vector<uint8_t> image = rpmsgd::fw::build(options);
    if (!writeAtomically(*args.out, image, message)) {
        return failure(message);
    }
    return 0;
}

} // namespace rpmsgsim
