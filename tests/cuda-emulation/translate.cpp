// Translates the CUDA sources (native/cuda/*.cu) into plain C++ for the CUDA emulation tests: every kernel
// launch `k<<<grid, block, shmem, stream>>>(args);` becomes a loop that runs the kernel body once
// per (block, thread), one after another, and block_add (the one shared-memory reduction) becomes
// a plain sum. Together with the host-memory cuda_runtime.h next to this file and the
// libcublas.so.13 shim (fake_cublas.cpp), the CUDA backend's host logic and kernel arithmetic then
// run on any machine. Launch syntax inside // comments is left alone.
// What this cannot check: races, warp-level behaviour, real cuBLAS and driver errors.
//
// usage: translate OUT.cpp RUNTIME_HEADER IN.cu [IN.cu ...]
// The inputs become one translation unit: each quoted include of a .cuh header is replaced by the
// header's translated text (once: the first file to include it gets it), their other relative
// includes are made absolute, <cuda_runtime.h> becomes RUNTIME_HEADER, and the emulation's globals
// (thread indices, launch count) are defined at the end.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

static std::vector<std::string> split_top_level(const std::string& s) {
    std::vector<std::string> parts(1);
    int depth = 0;
    for (char c : s) {
        if (c == '(' || c == '[' || c == '{') ++depth;
        if (c == ')' || c == ']' || c == '}') --depth;
        if (c == ',' && depth == 0) parts.emplace_back();
        else parts.back() += c;
    }
    return parts;
}

static int fail(const std::string& msg) {
    std::cerr << "translate: " << msg << "\n";
    return 1;
}

// Replaces each `#include "NAME.cuh"` of src (a file in folder here) by the header's text, headers
// included in it likewise; a header already inlined into the output becomes nothing.
static bool inline_headers(std::string& src, const std::filesystem::path& here, std::set<std::string>& inlined) {
    const std::string tag = "#include \"";
    for (size_t pos = 0; (pos = src.find(tag, pos)) != std::string::npos;) {
        const size_t close = src.find('"', pos + tag.size());
        if (close == std::string::npos) return fail("unterminated include") == 0;
        const std::string name = src.substr(pos + tag.size(), close - pos - tag.size());
        if (name.size() < 4 || name.compare(name.size() - 4, 4, ".cuh") != 0) {
            pos = close;
            continue;
        }
        const std::filesystem::path path = std::filesystem::absolute(here / name).lexically_normal();
        std::string body;
        if (inlined.insert(path.string()).second) {
            std::ifstream in(path);
            if (!in) return fail("cannot read " + path.string()) == 0;
            std::stringstream buf;
            buf << in.rdbuf();
            body = buf.str();
            if (!inline_headers(body, path.parent_path(), inlined)) return false;
            body = "// ---- " + path.string() + "\n" + body;
        }
        const size_t line_end = src.find('\n', close);
        src.replace(pos, (line_end == std::string::npos ? src.size() : line_end) - pos, body);
        pos += body.size();
    }
    return true;
}

// The translation of one source (its .cuh headers inlined): block_add (if present) and every launch.
static bool translate(std::string src, const std::string& dir, const std::string& runtime, std::string& out, int& launches) {
    const std::string block_add = "__device__ void block_add(";
    if (const size_t b = src.find(block_add); b != std::string::npos) {
        const size_t e = src.find("\n}\n", b);
        if (e == std::string::npos) return fail("end of block_add not found") == 0;
        src.replace(b, e + 3 - b, "void block_add(double v, double* out) { *out += v; }  // emulation: the threads run one after another\n");
    }
    for (size_t p; (p = src.find("#include \"../")) != std::string::npos;) src.replace(p, 13, "#include \"" + dir + "/");
    for (size_t p; (p = src.find("#include <cuda_runtime.h>")) != std::string::npos;) src.replace(p, 25, "#include \"" + runtime + "\"");
    size_t pos = 0;
    for (size_t p; (p = src.find("<<<", pos)) != std::string::npos;) {
        const size_t line = src.rfind('\n', p) + 1;  // npos + 1 = 0 on the first line
        if (src.substr(line, p - line).find("//") != std::string::npos) {
            out += src.substr(pos, p + 3 - pos);
            pos = p + 3;
            continue;
        }
        size_t k = p;
        while (k > 0 && (std::isalnum(static_cast<unsigned char>(src[k - 1])) || src[k - 1] == '_')) --k;
        if (k == p) return fail("a launch without a kernel name at offset " + std::to_string(p)) == 0;
        const std::string name = src.substr(k, p - k);
        const size_t q = src.find(">>>", p);
        if (q == std::string::npos || src[q + 3] != '(') return fail("malformed launch of " + name) == 0;
        const std::vector<std::string> cfg = split_top_level(src.substr(p + 3, q - p - 3));
        if (cfg.size() < 2) return fail("launch of " + name + " without grid and block") == 0;
        size_t r = q + 3;
        int depth = 0;
        for (; r < src.size(); ++r) {
            if (src[r] == '(') ++depth;
            if (src[r] == ')' && --depth == 0) break;
        }
        if (r + 1 >= src.size() || src[r + 1] != ';') return fail("launch of " + name + " not followed by ';'") == 0;
        const std::string args = src.substr(q + 4, r - q - 4);
        out += src.substr(pos, k - pos);
        const std::string stream = cfg.size() >= 4 ? "(void)(" + cfg[3] + "); " : "";  // evaluated as on the device, then unused
        out += "{ " + stream + "const long long emu_g = (" + cfg[0] + "), emu_b = (" + cfg[1] + "); emu_launch(emu_g, emu_b, [&] { " + name + "(" + args +
               "); }); }";
        pos = r + 2;
        ++launches;
    }
    out += src.substr(pos);
    return true;
}

int main(int argc, char** argv) {
    if (argc < 4) return fail("usage: translate OUT.cpp RUNTIME_HEADER IN.cu [IN.cu ...]");
    namespace fs = std::filesystem;
    const std::string runtime = fs::absolute(argv[2]).lexically_normal().string();
    std::string out = "// generated by tests/cuda-emulation/translate.cpp; do not edit\n";
    int launches = 0;
    std::set<std::string> inlined;
    for (int i = 3; i < argc; ++i) {
        std::ifstream in(argv[i]);
        if (!in) return fail(std::string("cannot read ") + argv[i]);
        std::stringstream buf;
        buf << in.rdbuf();
        std::string src = buf.str();
        const fs::path here = fs::absolute(argv[i]).parent_path().lexically_normal();
        if (!inline_headers(src, here, inlined)) return 1;
        out += "// ---- " + std::string(argv[i]) + "\n";
        if (!translate(src, here.parent_path().string(), runtime, out, launches)) return 1;
    }
    if (launches == 0) return fail("no kernel launches found");
    out += "\n// the emulation's globals (declared in the runtime header)\nemu_dim3 blockIdx, threadIdx, blockDim, gridDim;\nlong long emu_launches = 0;\n";
    std::ofstream o(argv[1]);
    o << out;
    if (!o) return fail(std::string("cannot write ") + argv[1]);
    std::printf("translate: %d launches from %d file(s)\n", launches, argc - 3);
    return 0;
}
