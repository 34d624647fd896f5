#!/usr/bin/env python3
"""synthetic_gguf.py: a random-weight GGUF (F16 matrices, F32 norms) in a real model's shape, so
llama.cpp's llama-bench and strata-bench can be run on the same file (compare.sh).

  synthetic_gguf.py SHAPE (--vocab VOCAB.gguf | --n-vocab N) -o OUT.gguf

SHAPE: tinyllama-1.1b | llama-3.2-1b | qwen3-0.6b | gemma-3-1b | phi-3-mini | olmoe-1b-7b, each
written with its architecture's GGUF keys and tensor names as llama.cpp's converter writes them
(qwen3/gemma3 per-head Q/K norms, gemma3's sandwich norms and sliding-window keys, phi3's fused
QKV and gate+up, olmoe's 3-D expert tensors and router).
VOCAB.gguf: any GGUF whose tokenizer.* keys are copied (a vocab-only file is enough, e.g.
../shared/fixtures/tokenizers/vectors/ggml-vocab-llama-spm.gguf for TinyLlama's 32000 pieces); its
token count sets n_vocab. --n-vocab N instead writes a made-up SentencePiece vocabulary of N pieces
(control tokens, the 256 byte tokens, then "▁t<i>"), so the output matrix has the real model's size
(N defaults to the shape's real vocabulary when neither option is given).
Quantize the result with llama-quantize (e.g. Q4_0, Q8_0, Q4_K_M) for the other types. Weights are
N(0, 0.02) values from a 1 Mi-value pool, repeated with a different start per tensor: speed does not
depend on them. Plain Python (no numpy), written once at about disk speed.
"""
import argparse
import random
import struct
import sys

# name: arch, n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx, rope base, rms eps, tied,
# head dim (0: n_embd / n_head), and per-architecture extras
SHAPES = {
    "tinyllama-1.1b": dict(arch="llama", vocab=32000, D=2048, L=22, H=32, HKV=4, F=5632, ctx=2048,
                           base=10000.0, eps=1e-5, tied=False),
    "llama-3.2-1b": dict(arch="llama", vocab=128256, D=2048, L=16, H=32, HKV=8, F=8192,
                         ctx=131072, base=500000.0, eps=1e-5, tied=True),
    "qwen3-0.6b": dict(arch="qwen3", vocab=151936, D=1024, L=28, H=16, HKV=8, F=3072, ctx=40960,
                       base=1000000.0, eps=1e-6, tied=True, HD=128),
    "gemma-3-1b": dict(arch="gemma3", vocab=262144, D=1152, L=26, H=4, HKV=1, F=6912, ctx=32768,
                       base=1000000.0, eps=1e-6, tied=True, HD=256, window=512, period=6,
                       base_swa=10000.0),
    # Phi-3's 32000 SentencePiece pieces, then its added chat tokens (llama.cpp's loader looks
    # <|endoftext|> up by name in any model named phi-3) and padding to 32064
    "phi-3-mini": dict(arch="phi3", vocab=32064, D=3072, L=32, H=32, HKV=32, F=8192, ctx=4096,
                       base=10000.0, eps=1e-5, tied=False, spm_pieces=32000,
                       added=["<|endoftext|>", "<|assistant|>"] +
                       [f"<|placeholder{i}|>" for i in range(1, 5)] +
                       ["<|system|>", "<|end|>", "<|placeholder5|>", "<|placeholder6|>",
                        "<|user|>"]),
    # OLMoE-1B-7B: 64 experts of width 1024, 8 per token
    "olmoe-1b-7b": dict(arch="olmoe", vocab=50304, D=2048, L=16, H=16, HKV=16, F=1024, ctx=4096,
                        base=10000.0, eps=1e-5, tied=False, experts=64, used=8),
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


def u32(key, v):
    return (key, 4, struct.pack("<I", v))


def f32(key, v):
    return (key, 6, struct.pack("<f", v))


def gguf_array(elem_type, packed, count):
    return struct.pack("<IQ", elem_type, count) + packed


def made_up_vocab(n, spm_pieces=None, added=()):
    """tokenizer.* keys of a SentencePiece ("llama") vocabulary of n pieces: <unk> <s> </s>, the
    256 byte pieces, then "▁t<i>" pieces up to spm_pieces (default n), then the added control
    tokens and "[PAD<i>]" pieces."""
    spm = spm_pieces or n
    if spm < 3 + 256 + 1 or spm + len(added) > n:
        sys.exit(f"--n-vocab {n}: at least 260 pieces and room for the added tokens")
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    pieces += [f"\u2581t{i}" for i in range(spm - len(pieces))]
    pieces += list(added) + [f"[PAD{i}]" for i in range(spm + len(added), n)]
    # unknown, control, byte, normal; added: control; padding: user-defined
    types = [2, 3, 3] + [6] * 256 + [1] * (spm - 259) + [3] * len(added)
    types += [4] * (n - len(types))
    scores = [0.0] * 259 + [-float(i) for i in range(spm - 259)] + [0.0] * (n - spm)
    return [
        ("tokenizer.ggml.model", 8, gguf_string("llama")),
        ("tokenizer.ggml.tokens", 9, gguf_array(8, b"".join(gguf_string(p) for p in pieces), n)),
        ("tokenizer.ggml.scores", 9, gguf_array(6, struct.pack(f"<{n}f", *scores), n)),
        ("tokenizer.ggml.token_type", 9, gguf_array(5, struct.pack(f"<{n}i", *types), n)),
        u32("tokenizer.ggml.unknown_token_id", 0),
        u32("tokenizer.ggml.bos_token_id", 1),
        u32("tokenizer.ggml.eos_token_id", 2),
    ]


def hparams(shape, n_vocab):
    """The architecture's GGUF keys, as llama.cpp's converter names them."""
    a, s = shape["arch"], shape
    hd = s.get("HD") or s["D"] // s["H"]
    kv = [
        ("general.architecture", 8, gguf_string(a)),
        u32(f"{a}.vocab_size", n_vocab),
        u32(f"{a}.context_length", s["ctx"]),
        u32(f"{a}.embedding_length", s["D"]),
        u32(f"{a}.block_count", s["L"]),
        u32(f"{a}.feed_forward_length", s["F"]),
        u32(f"{a}.attention.head_count", s["H"]),
        u32(f"{a}.attention.head_count_kv", s["HKV"]),
        u32(f"{a}.attention.key_length", hd),
        u32(f"{a}.attention.value_length", hd),
        u32(f"{a}.rope.dimension_count", hd),
        f32(f"{a}.rope.freq_base", s["base"]),
        f32(f"{a}.attention.layer_norm_rms_epsilon", s["eps"]),
    ]
    if "window" in s:
        kv += [u32(f"{a}.attention.sliding_window", s["window"]),
               u32(f"{a}.attention.sliding_window_pattern", s["period"]),
               f32(f"{a}.rope.freq_base_swa", s["base_swa"])]
    if "experts" in s:
        kv += [u32(f"{a}.expert_count", s["experts"]), u32(f"{a}.expert_used_count", s["used"])]
    return kv, hd


def tensor_list(shape, n_vocab, hd):
    """(name, dims innermost first, type) of every tensor, in the architecture's names."""
    s, F16, F32 = shape, GGUF_TYPE_F16, GGUF_TYPE_F32
    D, L, F, arch = s["D"], s["L"], s["F"], s["arch"]
    QD, KVD = s["H"] * hd, s["HKV"] * hd
    t = [("token_embd.weight", (D, n_vocab), F16)]
    for i in range(L):
        p = f"blk.{i}."
        t.append((p + "attn_norm.weight", (D,), F32))
        if arch == "phi3":
            t.append((p + "attn_qkv.weight", (D, QD + 2 * KVD), F16))
        else:
            t += [(p + "attn_q.weight", (D, QD), F16), (p + "attn_k.weight", (D, KVD), F16),
                  (p + "attn_v.weight", (D, KVD), F16)]
        if arch in ("qwen3", "gemma3"):  # per-head Q/K norms
            t += [(p + "attn_q_norm.weight", (hd,), F32), (p + "attn_k_norm.weight", (hd,), F32)]
        if arch == "olmoe":  # over the whole Q and K
            t += [(p + "attn_q_norm.weight", (QD,), F32), (p + "attn_k_norm.weight", (KVD,), F32)]
        t.append((p + "attn_output.weight", (QD, D), F16))
        if arch == "gemma3":
            t.append((p + "post_attention_norm.weight", (D,), F32))
        t.append((p + "ffn_norm.weight", (D,), F32))
        if arch == "olmoe":
            E = s["experts"]
            t += [(p + "ffn_gate_inp.weight", (D, E), F16),
                  (p + "ffn_gate_exps.weight", (D, F, E), F16),
                  (p + "ffn_up_exps.weight", (D, F, E), F16),
                  (p + "ffn_down_exps.weight", (F, D, E), F16)]
        elif arch == "phi3":
            t += [(p + "ffn_up.weight", (D, 2 * F), F16), (p + "ffn_down.weight", (F, D), F16)]
        else:
            t += [(p + "ffn_gate.weight", (D, F), F16), (p + "ffn_up.weight", (D, F), F16),
                  (p + "ffn_down.weight", (F, D), F16)]
        if arch == "gemma3":
            t.append((p + "post_ffw_norm.weight", (D,), F32))
    t.append(("output_norm.weight", (D,), F32))
    if not s["tied"]:
        t.append(("output.weight", (D, n_vocab), F16))
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("shape", choices=sorted(SHAPES))
    ap.add_argument("--vocab", help="GGUF whose tokenizer.* keys are copied")
    ap.add_argument("--n-vocab", type=int, help="a made-up vocabulary of this many pieces")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    shape = SHAPES[a.shape]

    if a.vocab:
        tok = [kv for kv in read_gguf_kv(a.vocab) if kv[0].startswith("tokenizer.")]
        n_vocab = None
        for key, t, raw in tok:
            if key == "tokenizer.ggml.tokens":
                n_vocab = struct.unpack_from("<IQ", raw, 0)[1]
        if not n_vocab:
            sys.exit(f"{a.vocab}: has no tokenizer.ggml.tokens")
    else:
        n_vocab = a.n_vocab or shape["vocab"]
        added = shape.get("added", ()) if n_vocab == shape["vocab"] else ()
        tok = made_up_vocab(n_vocab, shape.get("spm_pieces") if added else None, added)

    kv, hd = hparams(shape, n_vocab)
    kv += [("general.name", 8, gguf_string(f"synthetic {a.shape}")),
           ("general.file_type", 4, struct.pack("<I", 1))] + tok  # mostly F16
    tensors = tensor_list(shape, n_vocab, hd)

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
    with open(a.output, "wb") as f:
        f.write(head)
        for i, (name, dims, t) in enumerate(tensors):
            n = nbytes(dims, t)
            if t == GGUF_TYPE_F32:
                f.write(struct.pack("<f", 1.0) * (n // 4))
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
