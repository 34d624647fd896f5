#include "formats/arch.h"

#include "core/error.h"

#include <algorithm>

namespace strata {

namespace {
std::vector<const ArchFormat*>& registry() {
    static std::vector<const ArchFormat*> r;
    return r;
}
} // namespace

void ArchFormat::read_hf(const HparamSource& cfg, ModelConfig&) const {
    fail(cfg.where() + ": Hugging Face import of architecture " + name() + " is not supported");
}

void register_arch(const ArchFormat& a) {
    for (const ArchFormat* r : registry())
        if (std::string(r->name()) == a.name()) return;
    registry().push_back(&a);
}

const ArchFormat& arch_format(const std::string& name) {
    for (const ArchFormat* a : registry())
        if (name == a->name()) return *a;
    fail("unsupported architecture '" + name + "' (supported: " + arch_names() + ")");
}

const ArchFormat* arch_for_gguf(const std::string& gguf_arch) {
    for (const ArchFormat* a : registry()) {
        const auto names = a->gguf_names();
        if (std::find(names.begin(), names.end(), gguf_arch) != names.end()) return a;
    }
    return nullptr;
}

const ArchFormat* arch_for_hf(const std::string& model_type) {
    for (const ArchFormat* a : registry()) {
        const auto types = a->hf_types();
        if (std::find(types.begin(), types.end(), model_type) != types.end()) return a;
    }
    return nullptr;
}

std::string arch_names() {
    if (registry().empty()) return "none registered: the runtime's architecture files register them";
    std::string s;
    for (const ArchFormat* a : registry()) s += (s.empty() ? "" : ", ") + std::string(a->name());
    return s;
}

} // namespace strata
