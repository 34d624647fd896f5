#include "formats/convert.h"

#include "core/error.h"
#include "core/interleave.h"
#include "core/quantize_ref.h"
#include "formats/quant_mix.h"
#include "formats/strata_reader.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <vector>

namespace strata {

const char* strata_version() { return "0.1.0"; }

namespace {

bool is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// Converts rows of `cols` values from one type to another through float.
void convert_rows(DType from, const uint8_t* src, DType to, uint8_t* dst, uint64_t rows,
                  uint64_t cols) {
    const size_t in_row = row_bytes(from, cols), out_row = row_bytes(to, cols);
#pragma omp parallel
    {
        std::vector<float> buf(cols);
#pragma omp for schedule(dynamic, 16)
        for (int64_t r = 0; r < int64_t(rows); r++) {
            dequantize_row_ref(from, src + size_t(r) * in_row, buf.data(), int64_t(cols));
            quantize_row_ref(to, buf.data(), dst + size_t(r) * out_row, int64_t(cols));
        }
    }
}

} // namespace

bool q4_k_m_wants_q6_k(const std::string& name, uint32_t n_layer) {
    return quant_mix_type("q4_k_m", name, {n_layer, 1}) == DType::Q6_K;
}

std::string convert_type_names() { return weight_type_names() + " " + quant_mix_names(); }

ConvertReport convert_model(ModelSource& src, const std::string& out, const ConvertOptions& opt,
                            const StrataWriter::Progress& progress) {
    if (opt.type && !dtype_info(*opt.type).weight)
        fail(std::string(dtype_name(*opt.type)) +
             " is an activation type; it cannot be a weight type");
    if (!opt.mix.empty()) {
        const auto base = quant_mix_base(opt.mix);
        if (!base) fail("unknown quantization mix '" + opt.mix + "' (" + quant_mix_names() + ")");
        if (opt.type != base) fail("the " + opt.mix + " mix is built on " + dtype_name(*base));
    }
    ConvertReport report;
    ModelConfig config = src.config;
    if (opt.cla > 1) {
        if (config.n_kv_layers() != config.n_layer)
            fail("--cla: the model already shares K/V across layers (kv_source is set)");
        if (opt.cla > config.n_layer)
            fail("--cla " + std::to_string(opt.cla) + " exceeds the layer count");
        config.kv_source = cla_kv_source(config.n_layer, opt.cla);
        report.notes.push_back(
            "--cla " + std::to_string(opt.cla) + ": " +
            std::to_string(config.n_layer - config.n_kv_layers()) +
            " layers now reuse an earlier layer's K/V and lose their K/V projections; "
            "unless this model was trained with cross-layer attention, its quality drops");
    }
    config.validate();
    src.tokenizer.validate(config.n_vocab);

    // Every tensor the configuration calls for must be in the source with the same shape; a
    // CLA consumer's K/V projections are dropped; nothing else may be left over.
    std::map<std::string, const SourceTensor*> by_name;
    for (const auto& t : src.tensors) by_name[t.name] = &t;
    std::vector<std::pair<TensorSpec, const SourceTensor*>> plan;
    for (const auto& spec : expected_tensors(config)) {
        auto it = by_name.find(spec.name);
        if (it == by_name.end()) fail("the source has no tensor " + spec.name);
        if (it->second->shape != spec.shape)
            fail("tensor " + spec.name + " has shape " + shape_string(it->second->shape) +
                 " but the hyperparameters say " + shape_string(spec.shape));
        plan.push_back({spec, it->second});
        by_name.erase(it);
    }
    for (const auto& [name, t] : by_name) {
        const bool dropped_kv = opt.cla > 1 && (name.find(".attn_k.") != std::string::npos ||
                                                name.find(".attn_v.") != std::string::npos);
        if (!dropped_kv) fail("the source has a tensor the model does not use: " + name);
    }

    Metadata meta;
    write_metadata(meta, config, src.tokenizer, {src.description, strata_version()});
    meta.set("general.requested_type", !opt.mix.empty() ? opt.mix
                                       : opt.type       ? std::string(dtype_name(*opt.type))
                                                        : std::string("source"));
    StrataWriter writer(std::move(meta));
    for (auto& [spec, t] : plan) {
        const SourceTensor* st = t;
        DType want = spec.is_matrix
                         ? opt.type.value_or(st->generate && !st->keep_type ? DType::F16 : st->type)
                         : DType::F32;
        if (spec.is_matrix && !opt.mix.empty())
            want = quant_mix_type(opt.mix, spec.name,
                                  {config.n_layer, config.n_head / std::max(1u, config.n_head_kv)});
        ConvertedTensor ct{spec.name, st->type, want, spec.shape, false};
        if (row_bytes(want, spec.shape.back()) == 0) {
            // A super-block row that is not whole 256-value blocks: the type's 32-value fallback
            // of about its size (core/dtype.h) where the row fills those, else a float type.
            const DType near = dtype_info(want).fallback32;
            if (near != want && row_bytes(near, spec.shape.back()) != 0)
                ct.to = near;
            else
                ct.to =
                    is_float(st->type) && (!st->generate || st->keep_type) ? st->type : DType::F16;
            ct.fallback = true;
        }
        if (opt.interleave && spec.is_matrix &&
            (spec.shape.size() == 2 || spec.shape.size() == 3) && !is_embedding_table(spec.name) &&
            can_interleave8(ct.to, spec.shape[spec.shape.size() - 2]))
            ct.layout = TensorLayout::Interleave8;
        report.tensors.push_back(ct);
        const DType to = ct.to;
        const uint64_t cols = spec.shape.back();
        const bool interleaved = ct.layout == TensorLayout::Interleave8;
        writer.add_tensor(
            spec.name, to, spec.shape,
            [st, to, cols, interleaved](uint8_t* dst, uint64_t bytes) {
                std::vector<uint8_t> rows;
                uint8_t* out = dst;
                if (interleaved) { // row-major first, then rearranged into dst
                    rows.resize(bytes);
                    out = rows.data();
                }
                if (st->generate) {
                    st->generate(to, out, bytes);
                } else if (st->type == to) {
                    std::memcpy(out, st->data, bytes); // bit for bit
                } else {
                    convert_rows(st->type, st->data, to, out, st->bytes / row_bytes(st->type, cols),
                                 cols);
                }
                if (interleaved) interleave8(to, out, dst, bytes / row_bytes(to, cols), cols);
            },
            ct.layout);
    }
    report.file_bytes = writer.file_bytes();
    if (!opt.dry_run) writer.write(out, progress);
    report.parameters = parameter_count(config);
    report.config = config;
    for (const auto& n : src.notes) report.notes.push_back(n);
    return report;
}

} // namespace strata
