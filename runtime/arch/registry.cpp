// The architectures strata runs, one file each in this directory. Adding one: write its file
// (GGUF/HF hyperparameters, HF tensor names, tensor schema, graph), add it to this list and a
// row to tests/test_zoo.cpp (docs/architecture.md, "Recipe: add an architecture").
#include "core/error.h"
#include "runtime/arch/arch.h"

namespace strata {

const Architecture& llama_architecture();
const Architecture& qwen2_architecture();
const Architecture& qwen3_architecture();
const Architecture& granite_architecture();
const Architecture& smollm3_architecture();
const Architecture& hunyuan_dense_architecture();
const Architecture& phi3_architecture();
const Architecture& qwen3moe_architecture();
const Architecture& olmoe_architecture();
const Architecture& gemma2_architecture();
const Architecture& gemma3_architecture();
const Architecture& gemma3n_architecture();

namespace {

const std::vector<const Architecture*>& all() {
    static const std::vector<const Architecture*> list = [] {
        std::vector<const Architecture*> l = {
            &llama_architecture(),
            &qwen2_architecture(),
            &qwen3_architecture(),
            &granite_architecture(),
            &smollm3_architecture(),
            &hunyuan_dense_architecture(),
            &phi3_architecture(),
            &qwen3moe_architecture(),
            &olmoe_architecture(),
            &gemma2_architecture(),
            &gemma3_architecture(),
            &gemma3n_architecture(),
        };
        for (const Architecture* a : l) register_arch(*a); // the formats side's registry
        return l;
    }();
    return list;
}

// Registered before main: importers and the .strata reader (formats/) find them by name.
const bool kRegistered = !all().empty();

} // namespace

const Architecture& architecture(const std::string& name) {
    for (const Architecture* a : all())
        if (name == a->name()) return *a;
    fail("unsupported architecture '" + name + "' (supported: " + arch_names() + ")");
}

Graph build_graph(const Model& m, int n, bool all_logits) {
    (void)kRegistered;
    GraphBuilder b(m, n, all_logits);
    const int logits = architecture(m.config().arch).build(b);
    return b.finish(logits);
}

} // namespace strata
