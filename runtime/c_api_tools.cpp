// The C API's machine and file side: the kernels in use, the roofline measurement, conversion
// to .strata, and describing or verifying a .strata file. See include/strata.h.
#include "runtime/c_api_internal.h"

#include "core/interleave.h"
#include "formats/convert.h"
#include "formats/model_source.h"
#include "formats/quant_mix.h"
#include "formats/strata_describe.h"
#include "formats/strata_reader.h"
#include "ops/kernels.h"
#include "runtime/roofline.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace strata::capi;

namespace {

thread_local std::string t_text; // strata_file_describe's text
thread_local struct { std::string types, fallbacks, notes; } t_report;

int convert_with(strata::ModelSource& source, const char* out, const strata_convert_options& o,
                 strata_convert_report* report) {
    strata::ConvertOptions opt;
    opt.cla = o.cla > 1 ? uint32_t(o.cla) : 0;
    opt.interleave = o.row_major == 0;
    opt.dry_run = o.dry_run != 0;
    const std::string type = o.type ? o.type : "";
    if (auto base = strata::quant_mix_base(type)) {
        opt.type = *base;
        opt.mix = type;
    } else if (!type.empty()) {
        auto t = strata::dtype_from_name(type);
        if (!t || !strata::dtype_info(*t).weight)
            return error(STRATA_INVALID_ARGUMENT,
                         "type '" + type + "' is not one of " + strata_convert_types());
        opt.type = *t;
    }
    strata::StrataWriter::Progress progress;
    if (o.progress)
        progress = [&o](size_t done, size_t total, uint64_t bytes_done, uint64_t bytes_total) {
            o.progress(o.user, int(done), int(total), int64_t(bytes_done), int64_t(bytes_total));
        };
    const strata::ConvertReport r = strata::convert_model(source, out, opt, progress);
    std::map<std::string, int> counts;
    t_report = {};
    int32_t interleaved = 0;
    for (const auto& t : r.tensors) {
        counts[strata::dtype_name(t.to)]++;
        interleaved += t.layout == strata::TensorLayout::Interleave8;
        if (t.fallback)
            t_report.fallbacks.append(t_report.fallbacks.empty() ? "" : ", ")
                .append(t.name)
                .append(" (")
                .append(strata::dtype_name(t.to))
                .append(")");
    }
    for (const auto& [name, n] : counts)
        t_report.types.append(t_report.types.empty() ? "" : " ")
            .append(name)
            .append(" x")
            .append(std::to_string(n));
    for (const auto& n : r.notes)
        t_report.notes.append(t_report.notes.empty() ? "" : "\n").append(n);
    if (report) {
        report->n_params = int64_t(r.parameters);
        report->kv_bytes_per_token = int64_t(r.config.kv_bytes_per_token(2.0));
        report->tensor_types = t_report.types.c_str();
        report->fallbacks = t_report.fallbacks.c_str();
        report->notes = t_report.notes.c_str();
        report->n_interleaved = interleaved;
        report->file_bytes = int64_t(r.file_bytes);
        report->n_layers = int32_t(r.config.n_layer);
        report->n_kv_layers = int32_t(r.config.n_kv_layers());
    }
    return ok();
}

strata_convert_options options_or_defaults(const strata_convert_options* options) {
    strata_convert_options o;
    strata_convert_options_init(&o);
    return options ? *options : o;
}

} // namespace

extern "C" {

const char* strata_kernels(void) {
    try {
        return strata::kernels().name;
    } catch (const std::exception& e) { // STRATA_ISA names kernels this CPU lacks
        error(STRATA_NOT_SUPPORTED, e.what());
        return nullptr;
    }
}

int strata_roofline(const int* threads, int n, double* read_gbps, double* fma_gflops) {
    if (!threads || n <= 0 || !read_gbps || !fma_gflops)
        return error(STRATA_INVALID_ARGUMENT, "strata_roofline: NULL argument or n <= 0");
    for (int i = 0; i < n; i++)
        if (threads[i] < 1 || threads[i] > 1024)
            return error(STRATA_INVALID_ARGUMENT, "strata_roofline: thread count " +
                                                      std::to_string(threads[i]) +
                                                      " is out of range");
    return guarded([&] {
        const strata::Roofline r = strata::measure_roofline(std::vector<int>(threads, threads + n));
        for (int i = 0; i < n; i++)
            read_gbps[i] = r.read_gbps[size_t(i)], fma_gflops[i] = r.fma_gflops[size_t(i)];
        return ok();
    });
}

const char* strata_convert_types(void) {
    static const std::string names = strata::convert_type_names(); // (from the type table)
    return names.c_str();
}

const char* strata_kv_types(void) {
    static const std::string names = strata::kv_type_names();
    return names.c_str();
}

const char* strata_interleave8_types(void) {
    static const std::string names = strata::interleave8_type_names();
    return names.c_str();
}

const char* strata_synthetic_shapes(void) {
    static const std::string names = [] {
        std::string out;
        for (const std::string& n : strata::synthetic_shape_names())
            out.append(out.empty() ? "" : " ").append(n);
        return out;
    }();
    return names.c_str();
}

double strata_type_bytes_per_value(const char* type) {
    const std::optional<strata::DType> t = strata::dtype_from_name(type ? type : "");
    if (!t) return 0.0;
    const strata::DTypeInfo& info = strata::dtype_info(*t);
    return double(info.block_bytes) / info.block_size;
}

void strata_convert_options_init(strata_convert_options* o) {
    if (!o) return;
    *o = strata_convert_options{};
    o->seed = 1;
}

int strata_convert(const char* src, const char* out, const strata_convert_options* options,
                   strata_convert_report* report) {
    if (!src || !out)
        return error(STRATA_INVALID_ARGUMENT, "strata_convert: src and out must not be NULL");
    const strata_convert_options o = options_or_defaults(options);
    return guarded([&] {
        strata::ModelSource source = strata::with_status(strata::Status::format, [&] {
            return strata::import_model(src, o.tokenizer ? o.tokenizer : "");
        });
        return convert_with(source, out, o, report);
    });
}

int strata_convert_synthetic(const char* shape, const char* out,
                             const strata_convert_options* options, strata_convert_report* report) {
    if (!shape || !out)
        return error(STRATA_INVALID_ARGUMENT,
                     "strata_convert_synthetic: shape and out must not be NULL");
    const strata_convert_options o = options_or_defaults(options);
    if (o.layers < 0 || o.kv_heads < 0)
        return error(STRATA_INVALID_ARGUMENT, "strata_convert_synthetic: negative override");
    return guarded([&] {
        strata::SyntheticOptions syn;
        syn.shape = shape, syn.layers = o.layers, syn.kv_heads = o.kv_heads, syn.seed = o.seed;
        strata::ModelSource source = strata::make_synthetic(syn);
        return convert_with(source, out, o, report);
    });
}

int strata_file_describe(const char* path, const char** text) {
    if (!path || !text)
        return error(STRATA_INVALID_ARGUMENT, "strata_file_describe: NULL argument");
    *text = "";
    return guarded([&] {
        t_text = strata::with_status(strata::Status::format,
                                     [&] { return strata::describe_strata_file(path); });
        *text = t_text.c_str();
        return ok();
    });
}

int strata_file_verify(const char* path, int* n_tensors) {
    if (!path) return error(STRATA_INVALID_ARGUMENT, "strata_file_verify: NULL path");
    return guarded([&] {
        strata::StrataFile f = strata::with_status(strata::Status::format,
                                                   [&] { return strata::StrataFile::open(path); });
        if (n_tensors) *n_tensors = int(f.tensors().size());
        const auto problems = f.verify_checksums();
        if (problems.empty()) return ok();
        std::string m;
        for (const auto& p : problems)
            m.append(m.empty() ? "" : "\n").append(path).append(": ").append(p);
        return error(STRATA_FORMAT_ERROR, m);
    });
}

} // extern "C"
