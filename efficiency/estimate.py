"""A run's cost predicted before it runs: FLOPs, time, energy and CO2, labelled as estimates.

The prediction rests on two measurements, never on a guess:
- a calibration of this machine, measured once per (host, device, model) by
  `python -m efficiency calibrate` (it waits for the device to be free, like a run): the FLOPs of one
  full training step on a probe batch, counted with torch.utils.flop_counter, and the step's wall
  time, so FLOPs per token and FLOPs per second on this device;
- the token counts of the chosen dataset after truncation (the page tokenizes it for its preview);
- for energy, the device's average power while it trained: from the latest finished run on the device,
  or else from the calibration's own timed steps (CodeCarbon's reading, with its method).

Techniques change the work in ways a rule of thumb captures (fewer examples, fewer layers, no
weight gradients for a frozen base: backward is about twice the forward, half of it for weight
gradients); each technique carries its own rule in its facts (efficiency/techniques/), computed for the
model's real layer count, and the rules are shown with the estimate. After the run, the page puts the
prediction beside the measurement, so how good the rules are is itself on display.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from efficiency import paths
from efficiency.config import RunConfig
from efficiency.measure.carbon import intensity_g_per_kwh
from efficiency.model_names import TFIDF

PROBE_BATCH = 16
PROBE_LENGTH = 64
TIMED_STEPS = 3
POWER_WINDOW_S = 6.0  # CodeCarbon samples every second here: a few samples make an average power
MAX_TIMED_STEPS = 10_000  # the window is set by time; this only bounds a pathological case
METHOD = (
    "calibration: FLOPs of one training step on a {batch}x{length} probe batch counted with "
    "torch.utils.flop_counter, and its median wall time over at least {steps} steps on {device} ({when}); "
    "scaled by the dataset's token counts and the techniques' rules of thumb"
)
# The base every technique's rule scales (efficiency/techniques/*: each technique's `work` and `rules`).
FULL_FINE_TUNING = {
    "full fine-tuning": "forward + backward = 3 x forward (backward: gradients of activations and of weights)"
}


@dataclass
class Calibration:
    model: str
    device: str
    host: str
    train_flops_per_token: float  # forward + backward of full fine-tuning
    flops_per_s: float  # training throughput of this device on this model
    step_wall_s: float
    measured_at: float
    torch_threads: int
    power_w: float | None = None  # average power during the timed steps (None: not measured)
    power_method: str = ""  # CodeCarbon's method: a counter (measured) or a power model (estimated)
    num_layers: int | None = None  # the model's transformer layers: rules such as freeze's top k read it

    def method(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.measured_at))
        return METHOD.format(batch=PROBE_BATCH, length=PROBE_LENGTH, steps=TIMED_STEPS, device=self.device, when=when)


def _calibration_file() -> Path:
    return paths.app_data_dir() / "calibration.json"


def _key(model: str, device: str) -> str:
    return f"{socket.gethostname()}|{device}|{model}"


def load_calibration(model: str, device: str) -> Calibration | None:
    """The stored calibration, or None: none yet, or one from before the layer count was measured."""
    try:
        stored = json.loads(_calibration_file().read_text(encoding="utf-8"))
        calibration = Calibration(**stored[_key(model, device)])
    except (OSError, KeyError, TypeError, json.JSONDecodeError):
        return None
    return calibration if calibration.num_layers else None  # without it the rules cannot be priced: measure again


def save_calibration(calibration: Calibration) -> None:
    path = _calibration_file()
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        stored = {}
    stored[_key(calibration.model, calibration.device)] = asdict(calibration)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(stored, indent=1), encoding="utf-8")
    tmp.replace(path)  # atomic: a page reading it never sees half a file


def _failure_file(model: str, device: str) -> Path:
    safe = f"{model}-{device}".replace("/", "_").replace(":", "-")
    return paths.app_data_dir() / f"calibration-failed-{safe}.txt"


def calibration_error(model: str, device: str) -> str | None:
    """Why the last calibration of this model and device failed, if it did."""
    try:
        return _failure_file(model, device).read_text(encoding="utf-8")
    except OSError:
        return None


def forget_failure(model: str, device: str) -> None:
    _failure_file(model, device).unlink(missing_ok=True)


def calibrate(model_name: str, device_name: str = "auto") -> Calibration:
    """Measure one full training step of `model_name` on the device and store it; a failure is kept too."""
    try:
        calibration = _calibrate(model_name, device_name)
    except Exception as exc:  # out of memory, a model that will not load, ...: the page must say so, not wait
        _failure_file(model_name, device_name).write_text(str(exc) or type(exc).__name__, encoding="utf-8")
        raise
    _failure_file(model_name, device_name).unlink(missing_ok=True)
    return calibration


def _calibrate(model_name: str, device_name: str) -> Calibration:
    import statistics

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from efficiency.devices import resolve_device
    from efficiency.models import load_classifier
    from efficiency.runs.slots import device_slot

    device = resolve_device(device_name)
    with device_slot(str(device), f"calibration of {model_name}"):
        loaded = load_classifier(model_name, ["a", "b", "c"], seed=0)
        model = loaded.model.to(device).train()
        generator = torch.Generator().manual_seed(0)
        vocab = loaded.tokenizer.vocab_size
        ids = torch.randint(1000, vocab, (PROBE_BATCH, PROBE_LENGTH), generator=generator).to(device)
        batch = {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "labels": torch.randint(0, 3, (PROBE_BATCH,), generator=generator).to(device),
        }
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)

        def step() -> None:
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if device.type == "cuda":
                torch.cuda.synchronize(device)

        with FlopCounterMode(display=False) as counter:
            step()
        flops = float(counter.get_total_flops())
        times, reading, window_s = _timed_steps(step, device)
        layers = int(model.config.num_hidden_layers)
    wall_s = statistics.median(times)
    power_w = reading.energy_kwh * 3.6e6 / window_s if reading.energy_kwh else None
    calibration = Calibration(
        model=model_name,
        device=str(device),
        host=socket.gethostname(),
        train_flops_per_token=flops / (PROBE_BATCH * PROBE_LENGTH),
        flops_per_s=flops / wall_s,
        step_wall_s=wall_s,
        measured_at=time.time(),
        torch_threads=torch.get_num_threads(),
        power_w=power_w,
        power_method=reading.provenance.method if power_w else "",
        num_layers=layers,
    )
    save_calibration(calibration)
    return calibration


def _timed_steps(step: Any, device: Any) -> tuple[list[float], Any, float]:
    """Time training steps under CodeCarbon, long enough for a few power samples."""
    from efficiency.measure.energy import EnergyMeter

    meter = EnergyMeter(device, measure_power_secs=1.0)
    meter.start()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < MAX_TIMED_STEPS and (len(times) < TIMED_STEPS or time.perf_counter() - started < POWER_WINDOW_S):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    reading = meter.stop()  # its last sample ends here: the window is start to stop
    return times, reading, time.perf_counter() - started


@dataclass
class TokenCounts:
    train: int
    valid: int
    test: int


def work_shares(config: RunConfig, num_layers: int | None = None) -> dict[str, Any]:
    """The techniques' effect on the work, each by its own rule, on a model of `num_layers` layers.

    None for the layer count: not known (a rule that needs it, such as freeze's, refuses).
    """
    from efficiency.techniques import facts_of
    from efficiency.techniques.base import parse_params

    data_share, layer_share, backward_share, teacher = 1.0, 1.0, 1.0, False
    rules = dict(FULL_FINE_TUNING)
    for spec in config.techniques:
        facts = facts_of(spec.name)
        settings = asdict(parse_params(facts.config, spec.params, spec.name))  # defaults filled in
        work = facts.work(settings, num_layers)
        data_share *= work.data_share
        layer_share *= work.layer_share
        backward_share = min(backward_share, work.backward_share)  # one technique chooses what trains
        teacher = teacher or work.teacher
        rules[f"{facts.title} ({work.case})" if work.case else facts.title] = work.rule
    return {
        "data_share": data_share,
        "layer_share": layer_share,
        "backward_share": backward_share,
        "teacher": teacher,
        "rules": rules,
    }


def estimate_run(
    config: RunConfig,
    tokens: TokenCounts,
    calibration: Calibration,
    power_w: float | None = None,
    power_source: str = "",
    country: str = "WORLD",
) -> dict[str, Any]:
    """Predicted FLOPs, training + evaluation time, energy and CO2 of `config`, with the method of each."""
    shares = work_shares(config, calibration.num_layers)
    forward_per_token = calibration.train_flops_per_token / 3  # backward = 2 x forward for full fine-tuning
    epochs = config.train.epochs
    student = forward_per_token * shares["layer_share"] * (1 + 2 * shares["backward_share"])
    train_flops = epochs * tokens.train * shares["data_share"] * student
    if shares["teacher"]:
        train_flops += epochs * tokens.train * calibration.train_flops_per_token + tokens.train * forward_per_token
    eval_flops = (epochs * tokens.valid + tokens.test) * forward_per_token * shares["layer_share"]
    wall_s = (train_flops + eval_flops) / calibration.flops_per_s
    out: dict[str, Any] = {
        "train_flops": train_flops,
        "eval_flops": eval_flops,
        "train_eval_wall_s": wall_s,
        "method": calibration.method(),
        "rules": shares["rules"],
        "calibration": asdict(calibration),
        "tokens": asdict(tokens),
        "energy_kwh": None,
        "co2_kg": None,
        "power_w": power_w,
        "power_source": power_source,
    }
    if power_w is not None:
        energy = power_w * wall_s / 3.6e6
        intensity, source = intensity_g_per_kwh(country)
        out.update(energy_kwh=energy, co2_kg=energy * intensity / 1000, country=country, carbon_source=source)
    return out


def average_power_w(metrics: dict[str, Any]) -> float | None:
    """Average power of a finished run: its energy over its training and evaluation time."""
    energy, train_s, eval_s = metrics.get("energy_kwh"), metrics.get("train_wall_s"), metrics.get("eval_wall_s")
    if not energy or not train_s:
        return None
    return energy * 3.6e6 / (train_s + (eval_s or 0.0))


def device_power_w(store: Any, device: str, calibration: Calibration | None = None) -> tuple[float | None, str]:
    """Average power on this device, for the energy estimate: the latest finished run's, else the calibration's."""
    for record in store.list(status="finished", limit=50):
        if record.device == device and record.model != TFIDF:
            watts = average_power_w(record.metrics or {})
            if watts:
                kind = (record.metrics or {}).get("energy_kind", "")
                return watts, f"average power of run {record.id} on {device} ({kind})"
    if calibration is not None and calibration.power_w:
        return calibration.power_w, f"average power during this machine's calibration ({calibration.power_method})"
    return None, ""
