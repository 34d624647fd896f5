// libFuzzer target: the safetensors header parser and the shard index parser.
#include "core/error.h"
#include "formats/safetensors.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        strata::SafetensorsFile f =
            strata::SafetensorsFile::from_memory(data, size, "fuzz.safetensors");
        for (const auto& [name, t] : f.tensors())
            if (t.bytes) (void)t.data[t.bytes - 1];
    } catch (const strata::Error&) {
    }
    try {
        strata::parse_safetensors_index(std::string(reinterpret_cast<const char*>(data), size),
                                        "fuzz.index.json");
    } catch (const strata::Error&) {
    }
    return 0;
}
