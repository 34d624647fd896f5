// libFuzzer target: the GGUF reader and its tokenizer import on arbitrary bytes.
#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/model_source.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        strata::GgufFile g = strata::GgufFile::from_memory(data, size, "fuzz.gguf");
        for (const auto& t : g.tensors())
            if (t.supported) (void)g.data(t)[t.bytes - 1];
        strata::tokenizer_from_gguf(g);
    } catch (const strata::Error&) {
    }
    return 0;
}
