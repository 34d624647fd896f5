#!/usr/bin/env bash
# Seeds for the fuzz targets, from the fixtures and small files made here:
#   make_corpus.sh BUILD_DIR FIXTURES OUT_DIR   (BUILD_DIR holds strata-convert)
set -euo pipefail
build=$1 fixtures=$2 out=$3
mkdir -p "$out"/{fuzz_strata_file,fuzz_gguf,fuzz_safetensors,fuzz_tokenizer_files,fuzz_tokenize}
"$build/strata-convert" --synthetic test-tiny --type q4_0 -q -o "$out/fuzz_strata_file/tiny-q4_0.strata"
"$build/strata-convert" --synthetic test-tiny --type f16 --cla 2 -q -o "$out/fuzz_strata_file/tiny-cla2.strata"
cp "$fixtures/stories260K/stories260K.gguf" "$out/fuzz_gguf/"
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
cp "$fixtures/tokenizers/llama2-spm/tokenizer.model" "$out/fuzz_tokenizer_files/"
i=0
for f in "$fixtures"/tokenizers/vectors/*.inp; do
  /usr/bin/python3 - "$f" "$out/fuzz_tokenize" "$i" <<'PY'
import sys
texts = open(sys.argv[1], "rb").read().split(b"\n__ggml_vocab_test__\n")
for k, t in enumerate(texts):
    open("%s/%s-%d.txt" % (sys.argv[2], sys.argv[3], k), "wb").write(t)
PY
  i=$((i + 1))
done
