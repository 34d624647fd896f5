#!/usr/bin/env python3
"""synthetic_gguf.py: a random-weight GGUF (F16 matrices, F32 norms) in a real model's shape, so
llama.cpp's llama-bench and strata-bench can be run on the same file (compare.sh).

  synthetic_gguf.py SHAPE --vocab VOCAB.gguf -o OUT.gguf

SHAPE: tinyllama-1.1b | llama-3.2-1b. VOCAB.gguf: any GGUF whose tokenizer.* keys are copied
(a vocab-only file is enough, e.g. ../shared/fixtures/tokenizers/vectors/ggml-vocab-llama-spm.gguf
for TinyLlama's 32000 pieces); its token count sets n_vocab. Quantize the result with
llama-quantize (e.g. Q4_0, Q8_0, Q4_K_M) for the other types. Weights are N(0, 0.02) values from
a 1 Mi-value pool, repeated with a different start per tensor: speed does not depend on them.
Plain Python (no numpy), written once at about disk speed.
"""
import argparse
import random
import struct
import sys

SHAPES = {
    # name: (n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx, rope_base, tied)
    "tinyllama-1.1b": (2048, 22, 32, 4, 5632, 2048, 10000.0, False),
    "llama-3.2-1b": (2048, 16, 32, 8, 8192, 131072, 500000.0, True),
}
GGUF_TYPE_F32, GGUF_TYPE_F16 = 0, 1
ALIGN = 32


def read_gguf_kv(path):
    """The metadata of a GGUF file: list of (key, value type, raw value bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"GGUF":
        sys.exit(f"{path}: not a GGUF file")
    version, n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)
    if version not in (2, 3):
        sys.exit(f"{path}: GGUF version {version} is not supported")
    pos = 24
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip_value(p, t):
        if t in sizes:
            return p + sizes[t]
        if t == 8:
            (n,) = struct.unpack_from("<Q", data, p)
            return p + 8 + n
        if t == 9:
            et, count = struct.unpack_from("<IQ", data, p)
            p += 12
            if et in sizes:
                return p + count * sizes[et]
            for _ in range(count):
                p = skip_value(p, et)
            return p
        sys.exit(f"{path}: unknown GGUF value type {t}")

    out = []
    for _ in range(n_kv):
        (n,) = struct.unpack_from("<Q", data, pos)
        key = data[pos + 8 : pos + 8 + n].decode()
        pos += 8 + n
        (t,) = struct.unpack_from("<I", data, pos)
        pos += 4
        end = skip_value(pos, t)
        out.append((key, t, data[pos:end]))
        pos = end
    return out


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("shape", choices=sorted(SHAPES))
    ap.add_argument("--vocab", required=True, help="GGUF whose tokenizer.* keys are copied")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    D, L, H, HKV, F, CTX, BASE, tied = SHAPES[a.shape]
    HD = D // H

    tok = [kv for kv in read_gguf_kv(a.vocab) if kv[0].startswith("tokenizer.")]
    n_vocab = None
    for key, t, raw in tok:
        if key == "tokenizer.ggml.tokens":
            n_vocab = struct.unpack_from("<IQ", raw, 0)[1]
    if not n_vocab:
        sys.exit(f"{a.vocab}: has no tokenizer.ggml.tokens")

    kv = [
        ("general.architecture", 8, gguf_string("llama")),
        ("general.name", 8, gguf_string(f"synthetic {a.shape}")),
        ("general.file_type", 4, struct.pack("<I", 1)),  # mostly F16
        ("llama.vocab_size", 4, struct.pack("<I", n_vocab)),
        ("llama.context_length", 4, struct.pack("<I", CTX)),
        ("llama.embedding_length", 4, struct.pack("<I", D)),
        ("llama.block_count", 4, struct.pack("<I", L)),
        ("llama.feed_forward_length", 4, struct.pack("<I", F)),
        ("llama.attention.head_count", 4, struct.pack("<I", H)),
        ("llama.attention.head_count_kv", 4, struct.pack("<I", HKV)),
        ("llama.rope.dimension_count", 4, struct.pack("<I", HD)),
        ("llama.rope.freq_base", 6, struct.pack("<f", BASE)),
        ("llama.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-5)),
    ] + tok

    # (name, dims innermost first, type)
    tensors = [("token_embd.weight", (D, n_vocab), GGUF_TYPE_F16)]
    for i in range(L):
        p = f"blk.{i}."
        tensors += [
            (p + "attn_norm.weight", (D,), GGUF_TYPE_F32),
            (p + "attn_q.weight", (D, H * HD), GGUF_TYPE_F16),
            (p + "attn_k.weight", (D, HKV * HD), GGUF_TYPE_F16),
            (p + "attn_v.weight", (D, HKV * HD), GGUF_TYPE_F16),
            (p + "attn_output.weight", (H * HD, D), GGUF_TYPE_F16),
            (p + "ffn_norm.weight", (D,), GGUF_TYPE_F32),
            (p + "ffn_gate.weight", (D, F), GGUF_TYPE_F16),
            (p + "ffn_up.weight", (D, F), GGUF_TYPE_F16),
            (p + "ffn_down.weight", (F, D), GGUF_TYPE_F16),
        ]
    tensors.append(("output_norm.weight", (D,), GGUF_TYPE_F32))
    if not tied:
        tensors.append(("output.weight", (D, n_vocab), GGUF_TYPE_F16))

    def nbytes(dims, t):
        n = 1
        for d in dims:
            n *= d
        return n * (4 if t == GGUF_TYPE_F32 else 2)

    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    for key, t, raw in kv:
        head += gguf_string(key) + struct.pack("<I", t) + raw
    offset = 0
    for name, dims, t in tensors:
        head += gguf_string(name) + struct.pack("<I", len(dims))
        head += b"".join(struct.pack("<Q", d) for d in dims)
        head += struct.pack("<IQ", t, offset)
        offset += nbytes(dims, t)
        offset += -offset % ALIGN
    head += b"\0" * (-len(head) % ALIGN)

    rng = random.Random(a.seed)
    pool_n = 1 << 20
    pool = struct.pack(f"<{pool_n}e", *(rng.gauss(0.0, 0.02) for _ in range(pool_n)))
    ones = struct.pack("<f", 1.0) * D
    with open(a.output, "wb") as f:
        f.write(head)
        for i, (name, dims, t) in enumerate(tensors):
            n = nbytes(dims, t)
            if t == GGUF_TYPE_F32:
                f.write(ones)
            else:
                start = (i * 7919 * 2) % len(pool)
                buf = pool[start:] + pool[:start]
                while n > 0:
                    f.write(buf[: min(n, len(buf))])
                    n -= len(buf)
            f.write(b"\0" * (-nbytes(dims, t) % ALIGN))
    print(f"wrote {a.output}: {a.shape}, vocab {n_vocab}, {len(tensors)} tensors")


if __name__ == "__main__":
    main()
