#!/usr/bin/python3
"""An independent reference forward pass for llama-family .strata models, written from
docs/format.md and the model definition alone (it shares no code with the C++ runtime).

usage: llama_reference.py MODEL.strata OUT.bin TOKEN [TOKEN ...]

Reads f32/f16 tensors, runs the tokens through the model in float64 with a full-precision KV
cache, honouring GQA/MQA and kv_source (cross-layer attention), and writes the logits of every
position to OUT.bin as float64, row after row.
"""
import struct
import sys

import numpy as np


def read_strata(path):
    data = open(path, "rb").read()
    assert data[:8] == b"STRATA\0\0", "bad magic"
    version, header_bytes, file_bytes = struct.unpack_from("<IIQ", data, 8)
    assert version == 1 and file_bytes == len(data)
    meta_off, meta_len, dir_off, dir_len, data_off, data_len, n_tensors = struct.unpack_from("<QQQQQQI", data, 24)

    o = meta_off
    (n,) = struct.unpack_from("<I", data, o)
    o += 4
    meta = {}
    for _ in range(n):
        (klen,) = struct.unpack_from("<I", data, o)
        key = data[o + 4:o + 4 + klen].decode()
        o += 4 + klen
        (vtype,) = struct.unpack_from("<I", data, o)
        o += 4
        if vtype in (1, 2, 3):
            val = struct.unpack_from("<" + "Iif"[vtype - 1], data, o)[0]
            o += 4
        elif vtype == 4:
            val = struct.unpack_from("<Q", data, o)[0]
            o += 8
        elif vtype == 5:
            (slen,) = struct.unpack_from("<I", data, o)
            val = data[o + 4:o + 4 + slen].decode("utf-8", "replace")
            o += 4 + slen
        elif vtype in (6, 7):
            (cnt,) = struct.unpack_from("<Q", data, o)
            val = list(struct.unpack_from("<%d%s" % (cnt, "i" if vtype == 6 else "f"), data, o + 8))
            o += 8 + 4 * cnt
        elif vtype == 8:
            (cnt,) = struct.unpack_from("<Q", data, o)
            o += 8
            val = []
            for _ in range(cnt):
                (slen,) = struct.unpack_from("<I", data, o)
                val.append(data[o + 4:o + 4 + slen])
                o += 4 + slen
        else:
            raise ValueError("unknown metadata type %d" % vtype)
        meta[key] = val

    tensors = {}
    o = dir_off
    for _ in range(n_tensors):
        (nlen,) = struct.unpack_from("<I", data, o)
        name = data[o + 4:o + 4 + nlen].decode()
        o += 4 + nlen
        ttype, layout, ndims = struct.unpack_from("<III", data, o)
        o += 12
        shape = struct.unpack_from("<%dQ" % ndims, data, o)
        o += 8 * ndims
        off, nbytes, _checksum = struct.unpack_from("<QQQ", data, o)
        o += 24
        raw = data[data_off + off:data_off + off + nbytes]
        if layout != 0:
            raise ValueError("reference reads row-major tensors only; %s has layout %d" % (name, layout))
        if ttype == 0:
            arr = np.frombuffer(raw, dtype="<f4")
        elif ttype == 1:
            arr = np.frombuffer(raw, dtype="<f2")
        else:
            raise ValueError("reference reads f32/f16 tensors only; %s has type %d" % (name, ttype))
        tensors[name] = arr.astype(np.float64).reshape(shape)
    return meta, tensors


def rope(x, pos, inv_freq, rope_dim, neox):
    """x: (heads, head_dim) rotated in place at position pos."""
    half = rope_dim // 2
    ang = pos * inv_freq
    c, s = np.cos(ang), np.sin(ang)
    if neox:
        a, b = x[:, :half].copy(), x[:, half:rope_dim].copy()
        x[:, :half] = a * c - b * s
        x[:, half:rope_dim] = a * s + b * c
    else:
        a, b = x[:, 0:rope_dim:2].copy(), x[:, 1:rope_dim:2].copy()
        x[:, 0:rope_dim:2] = a * c - b * s
        x[:, 1:rope_dim:2] = a * s + b * c


def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x) + eps) * w


def forward(meta, t, tokens):
    D, L = meta["model.n_embd"], meta["model.n_layer"]
    H, KVH, HD = meta["model.n_head"], meta["model.n_head_kv"], meta["model.head_dim"]
    eps, src = meta["model.norm_eps"], meta["model.kv_source"]
    rope_dim, neox, theta = meta["rope.dim"], meta["rope.style"] == 1, meta["rope.theta"]
    assert meta["rope.scaling.type"] == "none"
    inv_freq = 1.0 / theta ** (np.arange(0, rope_dim, 2) / rope_dim)
    group = H // KVH
    out_w = t["token_embd.weight"] if meta["model.tied_output"] else t["output.weight"]
    keys = {l: [] for l in range(L) if src[l] == l}
    vals = {l: [] for l in range(L) if src[l] == l}
    logits = []
    for pos, tok in enumerate(tokens):
        x = t["token_embd.weight"][tok].copy()
        for l in range(L):
            p = "blk.%d." % l
            xn = rmsnorm(x, t[p + "attn_norm.weight"], eps)
            q = t[p + "attn_q.weight"] @ xn + t.get(p + "attn_q.bias", 0)
            q = q.reshape(H, HD)
            rope(q, pos, inv_freq, rope_dim, neox)
            if src[l] == l:
                k = (t[p + "attn_k.weight"] @ xn + t.get(p + "attn_k.bias", 0)).reshape(KVH, HD)
                v = (t[p + "attn_v.weight"] @ xn + t.get(p + "attn_v.bias", 0)).reshape(KVH, HD)
                rope(k, pos, inv_freq, rope_dim, neox)
                keys[l].append(k)
                vals[l].append(v)
            K = np.stack(keys[src[l]])  # (pos+1, KVH, HD)
            V = np.stack(vals[src[l]])
            att = np.zeros((H, HD))
            for h in range(H):
                g = h // group
                s = K[:, g, :] @ q[h] / np.sqrt(HD)
                s = np.exp(s - s.max())
                s /= s.sum()
                att[h] = s @ V[:, g, :]
            x = x + t[p + "attn_output.weight"] @ att.reshape(-1)
            xn = rmsnorm(x, t[p + "ffn_norm.weight"], eps)
            gate = t[p + "ffn_gate.weight"] @ xn
            up = t[p + "ffn_up.weight"] @ xn
            x = x + t[p + "ffn_down.weight"] @ (gate / (1 + np.exp(-gate)) * up)
        logits.append(out_w @ rmsnorm(x, t["output_norm.weight"], eps))
    return np.array(logits)


def main():
    path, out = sys.argv[1], sys.argv[2]
    tokens = [int(a) for a in sys.argv[3:]]
    meta, tensors = read_strata(path)
    forward(meta, tensors, tokens).astype("<f8").tofile(out)


if __name__ == "__main__":
    main()
