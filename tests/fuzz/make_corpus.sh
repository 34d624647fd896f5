#!/usr/bin/env bash
# Seeds for the fuzz targets, from the fixtures and small files made here:
#   make_corpus.sh BUILD_DIR FIXTURES OUT_DIR   (BUILD_DIR holds strata-convert)
set -euo pipefail
build=$1 fixtures=$2 out=$3
mkdir -p "$out"/{fuzz_strata_file,fuzz_gguf,fuzz_safetensors,fuzz_tokenizer_files,fuzz_tokenize,fuzz_session_file}
"$build/strata-convert" --synthetic test-tiny --layers 1 --type q4_0 -q -o "$out/fuzz_strata_file/tiny-q4_0.strata"
"$build/strata-convert" --synthetic test-tiny --layers 2 --type q8_0 --cla 2 -q -o "$out/fuzz_strata_file/tiny-cla2.strata"
cp "$fixtures/stories260K/stories260K.gguf" "$out/fuzz_gguf/"
/usr/bin/python3 - "$out/fuzz_gguf/tiny.gguf" <<'PY'
# A small, valid llama GGUF (dim 32, one layer, 8 tokens): fast inputs for the fuzzer.
import struct, sys
def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b
def kv_str(k, v): return s(k) + struct.pack("<I", 8) + s(v)
def kv_u32(k, v): return s(k) + struct.pack("<II", 4, v)
def kv_arr_str(k, vs): return s(k) + struct.pack("<IIQ", 9, 8, len(vs)) + b"".join(s(v) for v in vs)
def kv_arr_f32(k, vs): return s(k) + struct.pack("<IIQ", 9, 6, len(vs)) + struct.pack("<%df" % len(vs), *vs)
dim, ff, vocab = 32, 64, 8
kvs = [kv_str("general.architecture", "llama"), kv_u32("llama.context_length", 64), kv_u32("llama.embedding_length", dim),
       kv_u32("llama.block_count", 1), kv_u32("llama.feed_forward_length", ff), kv_u32("llama.attention.head_count", 2),
       kv_u32("llama.attention.head_count_kv", 1), kv_str("tokenizer.ggml.model", "llama"),
       kv_arr_str("tokenizer.ggml.tokens", ["<unk>", "<s>", "</s>", "\u2581a", "b", "c", "\u2581ab", "bc"]),
       kv_arr_f32("tokenizer.ggml.scores", [0, 0, 0, -1, -2, -3, -4, -5])]
tensors = [("token_embd.weight", [dim, vocab]), ("blk.0.attn_norm.weight", [dim]), ("blk.0.attn_q.weight", [dim, dim]),
           ("blk.0.attn_k.weight", [dim, 16]), ("blk.0.attn_v.weight", [dim, 16]), ("blk.0.attn_output.weight", [dim, dim]),
           ("blk.0.ffn_norm.weight", [dim]), ("blk.0.ffn_gate.weight", [dim, ff]), ("blk.0.ffn_up.weight", [dim, ff]),
           ("blk.0.ffn_down.weight", [ff, dim]), ("output_norm.weight", [dim])]
head = struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(kvs)) + b"".join(kvs)
data, info, off = b"", b"", 0
for name, ne in tensors:
    n = 1
    for d in ne: n *= d
    info += s(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne) + struct.pack("<IQ", 0, off)
    blob = struct.pack("<%df" % n, *[0.01 * (i % 7) for i in range(n)])
    blob += bytes((-len(blob)) % 32)
    data += blob
    off += len(blob)
body = head + info
body += bytes((-len(body)) % 32)
open(sys.argv[1], "wb").write(body + data)
PY
/usr/bin/python3 - "$out" <<'PY'
import json, struct, sys
out = sys.argv[1]
# safetensors: two small tensors
hdr = json.dumps({"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
                  "b": {"dtype": "BF16", "shape": [4], "data_offsets": [16, 24]},
                  "__metadata__": {"format": "pt"}}).encode()
open(out + "/fuzz_safetensors/small.safetensors", "wb").write(struct.pack("<Q", len(hdr)) + hdr + bytes(24))
open(out + "/fuzz_safetensors/index.json", "w").write(json.dumps({"weight_map": {"a": "model-00001.safetensors"}}))
# tokenizer.json (byte-level BPE with a few merges) + \x01 + tokenizer_config.json
vocab = {chr(c): i for i, c in enumerate(range(33, 127))}
vocab.update({"he": 94, "ll": 95, "hell": 96, "<s>": 97})
tok = {"model": {"type": "BPE", "vocab": vocab, "merges": ["h e", "l l", "he ll"]},
       "added_tokens": [{"id": 97, "content": "<s>", "special": True}],
       "pre_tokenizer": {"type": "ByteLevel"}}
cfg = {"bos_token": "<s>", "add_bos_token": True, "chat_template": "{{ messages }}"}
open(out + "/fuzz_tokenizer_files/bpe.json", "wb").write(json.dumps(tok).encode() + b"\x01" + json.dumps(cfg).encode())
spm = dict(tok)
spm["model"] = dict(tok["model"], byte_fallback=True)
open(out + "/fuzz_tokenizer_files/spm.json", "wb").write(json.dumps(spm).encode())
PY
/usr/bin/python3 - "$fixtures/tokenizers/llama2-spm/tokenizer.model" "$out/fuzz_tokenizer_files/tokenizer.model" <<'PY'
# The Llama 2 tokenizer.model cut to its first 600 pieces (specials, the 256 byte pieces and the
# first merges) with its trainer and normalizer specs kept: a real file's structure, but small
# enough that each mutation parses in microseconds rather than milliseconds.
import sys
src = open(sys.argv[1], "rb").read()
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1
        v |= (c & 0x7F) << s; s += 7
        if c < 0x80: return v, i
def enc(v):
    o = b""
    while True:
        if v < 0x80: return o + bytes([v])
        o += bytes([(v & 0x7F) | 0x80]); v >>= 7
out, i, pieces = b"", 0, 0
while i < len(src):
    start = i
    key, i = varint(src, i)
    assert key & 7 == 2, "ModelProto's top-level fields are all length-delimited"
    n, i = varint(src, i)
    i += n
    if key >> 3 == 1:
        pieces += 1
        if pieces > 600: continue
    out += src[start:i]
open(sys.argv[2], "wb").write(out)
PY
i=0
for f in "$fixtures"/tokenizers/vectors/*.inp; do
  /usr/bin/python3 - "$f" "$out/fuzz_tokenize" "$i" <<'PY'
import sys
# fuzz_tokenize.cpp reads the first byte as the vocabulary to use: each text once per vocabulary.
texts = open(sys.argv[1], "rb").read().split(b"\n__ggml_vocab_test__\n")
for k, t in enumerate(texts):
    for v in range(3):
        open("%s/%s-%d-%d.txt" % (sys.argv[2], sys.argv[3], k, v), "wb").write(bytes([v]) + t)
PY
  i=$((i + 1))
done
/usr/bin/python3 - "$out/fuzz_session_file" <<'PY'
# Session files (docs/format.md) for fuzz_session_file.cpp's model shape and fingerprint:
# 2 source layers, 2 KV heads of 32, context 8, 5 committed tokens; F16 and Q8_0.
import struct, sys
M = (1 << 64) - 1
P1, P2 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F
def rotl(x, r): return ((x << r) | (x >> (64 - r))) & M
def mix(lane, w): return (rotl(lane ^ ((w * P2) & M), 31) * P1) & M
def checksum64(b):
    lane, i = [P1, P2, ~P1 & M, ~P2 & M], 0
    while i + 32 <= len(b):
        for k in range(4): lane[k] = mix(lane[k], struct.unpack_from("<Q", b, i + 8 * k)[0])
        i += 32
    h = (len(b) * P1) & M
    for k in range(4): h = mix(h, lane[k])
    while i + 8 <= len(b):
        h = mix(h, struct.unpack_from("<Q", b, i)[0]); i += 8
    if i < len(b): h = mix(h, int.from_bytes(b[i:] + bytes(8 - (len(b) - i)), "little") ^ 0xFF)
    h ^= h >> 33; h = (h * P2) & M; h ^= h >> 29
    return h
for name, type_id, row in (("f16", 1, 128), ("q8_0", 8, 68)):
    n_ctx, kv_bytes = 8, 2 * 2 * 8 * row
    h = b"STRATAKV" + struct.pack("<IIQIIIIIIQQQ", 1, 4096, 0x5354524154414b56, type_id, n_ctx, 2, 2, 32, 0,
                                   4096, 8192, kv_bytes)
    h += struct.pack("<QQ", checksum64(h), 5)
    tokens = struct.pack("<8i", 1, 5, 9, 300, 7, 0, 0, 0)
    kv = bytes((i * 37) % 251 for i in range(kv_bytes))
    open("%s/seed-%s.kv" % (sys.argv[1], name), "wb").write(h.ljust(4096, b"\0") + tokens.ljust(4096, b"\0") + kv)
PY
