"""Every registered technique on the tiny model, each checked for its real, measured effect."""

from __future__ import annotations

import json

import pytest
import torch

from efficiency.cli import main
from efficiency.config import TechniqueSpec
from efficiency.errors import ConfigError
from efficiency.models import load_classifier
from efficiency.runs.runner import run_experiment
from efficiency.techniques import REGISTRY, Pipeline, describe
from efficiency.techniques.amp import Amp, cpu_has_native_bf16
from efficiency.techniques.prune import drop_layers, slice_heads
from tests.conftest import needs_shared_data, tiny_config

pytestmark = needs_shared_data
BASE_WEIGHT = "bert.encoder.layer.0.attention.self.query.weight"


def run_with(*specs: tuple[str, dict], **train):
    config = tiny_config(**train)
    config.techniques = [TechniqueSpec(name, params) for name, params in specs]
    return run_experiment(config)


# --- the table: technique, settings, and the effect that must be measurable --------------------------
def check_lora(result):
    t = result.metrics["techniques"]["lora"]
    assert t["trainable_params"] <= 0.05 * t["total_params"]
    assert result.metrics["trainable_params"] == t["trainable_params"]


def check_adapter_small(name):
    def check(result):
        t = result.metrics["techniques"][name]
        assert 0 < t["trainable_params"] < 0.05 * t["total_params"]

    return check


def check_freeze(result):
    assert result.metrics["techniques"]["freeze"]["frozen_layers"] == 1
    assert result.metrics["trainable_params"] < result.metrics["total_params"]


def check_prune_magnitude(result):
    t = result.metrics["techniques"]["prune"]
    assert abs(t["sparsity_reached"] - 0.5) <= 0.01
    assert t["size_sparse_mb"] > 0 and t["size_dense_mb"] > 0
    assert result.metrics["latency_ms_b1"] > 0  # measured, so the (absent) speed-up can be shown
    before, after = t["before"], t["after"]  # one-shot: the dense model measured, then the pruned one
    assert before["latency_ms_b1"] > 0 and after["latency_ms_b1"] > 0
    assert after["model_size_mb"] == pytest.approx(before["model_size_mb"], rel=0.01), "zeros stored dense"
    assert after["accuracy"] == result.metrics["accuracy"], "the pruned model is the one tested"


def check_prune_gradual(result):
    assert abs(result.metrics["techniques"]["prune"]["sparsity_reached"] - 0.3) <= 0.01


def check_heads(result):
    t = result.metrics["techniques"]["prune"]
    assert t["heads_removed"] == 2 and t["heads_total"] == 4
    assert result.metrics["total_params"] < 2_057_731


def check_layers(result):
    assert result.metrics["techniques"]["prune"]["layers_kept"] == [0]


def check_filter(result):
    t = result.metrics["techniques"]["filter"]
    assert t["examples_before"] == 120 and abs(t["examples_after"] - 60) <= 2  # half of each class, rounded
    assert result.metrics["examples_seen"] == 2 * t["examples_after"]  # two epochs over the kept half


def check_quant(result):
    t = result.metrics["techniques"]["quant"]
    assert t["quantized_linear_layers"] > 0
    assert t["after"]["model_size_mb"] < t["before"]["model_size_mb"]
    assert abs(t["after"]["accuracy"] - t["before"]["accuracy"]) <= 0.1, "the int8 model still predicts"
    assert t["after"]["accuracy"] == result.metrics["accuracy"], "the int8 model is the one tested"


def check_amp(result):
    t = result.metrics["techniques"]["amp"]
    assert t["dtype"] == "bf16" and t["emulated"] == (not cpu_has_native_bf16())
    assert (t["before_label"], t["after_label"]) == ("fp32", "bf16 autocast")
    assert t["before"]["step_ms"] > 0 and t["after"]["step_ms"] > 0, "the speed effect is measured"
    assert t["step_speedup"] == pytest.approx(t["before"]["step_ms"] / t["after"]["step_ms"])
    assert t["optimizer"] == "AdamW, fused", "on a CPU the optimiser steps fused under amp"


def check_distill(result):
    t = result.metrics["techniques"]["distill"]
    assert t["teacher_layers"] == 2 and t["student_layers"] == 1
    assert t["kl_batches"] > 0, "the student's loss used the teacher"
    assert t["teacher"]["source"] == "trained in this job" and 0 <= t["teacher"]["accuracy"] <= 1
    m = result.metrics
    assert m["teacher_wall_s"] > 0 and m["train_wall_s"] > m["student_train_wall_s"], "the teacher is charged"
    assert m["teacher_flops"] > 0 and m["train_flops"] > m["teacher_flops"]


def check_multistage(result):
    t = result.metrics["techniques"]["filter"]
    stages = t["stages"]
    offered = sum(s["examples"] for s in stages.values())
    assert offered == 3 * 120, "every example of every epoch went through the selector"
    backward = sum(s["backward"] for s in stages.values())
    assert backward == result.metrics["examples_seen"], "the counts add up to what the optimiser saw"
    assert backward < offered, "backward passes were skipped"
    assert stages["stage1"]["forward"] > stages["stage1"]["backward"], "stage 1 scores more than it trains on"
    assert t["threshold"] > 0
    assert stages["stage2"]["examples"] > 0, "stage 2 began (at the latest one epoch after stage 1)"
    assert result.metrics["train_forward_flops"] > result.metrics["train_backward_flops"] / 2.5, "scoring is counted"


def check_hardest(result):
    t = result.metrics["techniques"]["filter"]
    assert t["scored_examples"] == 120 and t["kept_examples"] == 60
    assert result.metrics["examples_seen"] < 3 * 120


TABLE = [
    ("distill", {"student_share": 0.5}, check_distill),
    ("lora", {"r": 4}, check_lora),
    ("prefix", {"virtual_tokens": 5}, check_adapter_small("prefix")),
    ("ia3", {}, check_adapter_small("ia3")),
    ("bitfit", {}, check_adapter_small("bitfit")),
    ("freeze", {"train_top_layers": 1}, check_freeze),
    ("probe", {}, check_adapter_small("probe")),
    ("prune", {"method": "magnitude", "sparsity": 0.5}, check_prune_magnitude),
    ("prune", {"method": "magnitude", "sparsity": 0.3, "schedule": "gradual", "prune_every": 2}, check_prune_gradual),
    ("prune", {"method": "heads", "sparsity": 0.5}, check_heads),
    ("prune", {"method": "layers", "sparsity": 0.5}, check_layers),
    ("filter", {"method": "random", "keep": 0.5}, check_filter),
    ("filter", {"method": "multistage", "warmup_share": 0.3}, check_multistage),
    ("filter", {"method": "hardest", "keep": 0.5}, check_hardest),
    ("quant", {}, check_quant),
    ("amp", {"dtype": "bf16", "allow_emulated": True}, check_amp),
]


def test_the_table_covers_the_registry():
    assert {name for name, _, _ in TABLE} == set(REGISTRY)


@pytest.mark.parametrize(("name", "params", "check"), TABLE, ids=[f"{n}-{p.get('method', '')}" for n, p, _ in TABLE])
def test_each_technique_runs_and_has_its_effect(name, params, check):
    result = run_with((name, params), epochs=3 if params.get("method") in ("multistage", "hardest") else 2)
    assert result.status == "finished"
    assert name in result.metrics["techniques"]
    outcome = check(result)
    assert outcome in (None, True)


@pytest.mark.parametrize(("name", "params", "frozen", "trained"), [
    ("lora", {}, ["encoder.layer.0.attention.self.query.base_layer.weight"], ["encoder.layer.0.attention.self.query.lora_A.default.weight"]),
    ("bitfit", {}, [BASE_WEIGHT], ["bert.encoder.layer.0.attention.self.query.bias"]),
    ("freeze", {"train_top_layers": 1}, [BASE_WEIGHT], ["bert.encoder.layer.1.attention.self.query.weight"]),
    ("probe", {}, [BASE_WEIGHT, "bert.encoder.layer.1.output.dense.bias"], ["classifier.weight"]),
])  # fmt: skip
def test_restricted_training_leaves_frozen_weights_unchanged(name, params, frozen, trained):
    from efficiency.batching import encode
    from efficiency.config import DataConfig, TrainConfig
    from efficiency.data import load_dataset
    from efficiency.measure.timer import PhaseTimer
    from efficiency.techniques import REGISTRY
    from efficiency.techniques.base import TechniqueContext
    from efficiency.training import train

    ds = load_dataset(DataConfig(dataset="nusax-senti/javanese", limit_train=48), seed=0)
    loaded = load_classifier("tiny", ds.label_names, seed=0)
    pipeline = Pipeline([REGISTRY[name](params)])
    model = pipeline.transform_model(loaded.model, TechniqueContext(run=None, device=torch.device("cpu")))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    encoded = [encode(loaded.tokenizer, split, 64) for split in (ds.train, ds.valid, ds.test)]
    train(model, *encoded, cfg=TrainConfig(epochs=1, batch_size=16), learning_rate=1e-2, seed=0,
          device=torch.device("cpu"), pad_id=loaded.tokenizer.pad_token_id, num_labels=3, timer=PhaseTimer(),
          techniques=pipeline)  # fmt: skip
    after = model.state_dict()

    def find(key: str) -> str:
        return next(k for k in after if k.endswith(key))

    for key in frozen:
        assert torch.equal(after[find(key)], before[find(key)]), f"{key} should be frozen"
    for key in trained:
        assert not torch.equal(after[find(key)], before[find(key)]), f"{key} should have trained"


def test_distill_from_a_kept_run_and_prune_the_student():
    teacher_config = tiny_config()
    teacher_config.save_model = True
    teacher = run_experiment(teacher_config)
    result = run_with(("distill", {"teacher": str(teacher.run_id)}), ("prune", {"method": "heads", "sparsity": 0.5}))
    t = result.metrics["techniques"]
    assert t["distill"]["teacher"]["source"] == f"run {teacher.run_id}"
    assert t["distill"]["student_layers"] == 1
    assert t["prune"]["heads_removed"] == 1 and t["prune"]["heads_total"] == 2, "the student (1 layer) was pruned"
    assert "teacher_wall_s" in result.metrics  # the logits pass is still this run's cost


def test_distill_refuses_a_missing_teacher():
    with pytest.raises(ConfigError, match="no kept model"):
        run_with(("distill", {"teacher": "999"}))


def test_slicing_no_head_keeps_outputs_equal():
    model = load_classifier("tiny", ["a", "b"], seed=0).model.eval()
    inputs = {"input_ids": torch.randint(1000, 2000, (2, 9)), "attention_mask": torch.ones(2, 9, dtype=torch.long)}
    before = model(**inputs).logits
    for layer in model.bert.encoder.layer:
        slice_heads(layer, [])
    assert torch.allclose(model(**inputs).logits, before, atol=1e-6)
    slice_heads(model.bert.encoder.layer[0], [1])
    assert model.bert.encoder.layer[0].attention.self.query.out_features == 32
    assert model(**inputs).logits.shape == (2, 2)


def test_sparse_storage_pays_only_at_high_sparsity():
    from efficiency.techniques.prune import _bytes_dense, _bytes_sparse

    layer = torch.nn.Linear(256, 256)
    with torch.no_grad():
        layer.weight[torch.rand(256, 256) < 0.9] = 0  # 90% zeros
    assert _bytes_sparse(layer) < 0.5 * _bytes_dense(layer)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(256, 256))
        layer.weight[torch.rand(256, 256) < 0.3] = 0  # 30% zeros: CSR costs more than dense
    assert _bytes_sparse(layer) > _bytes_dense(layer)


def test_drop_layers_keeps_every_other_layer():
    from transformers import BertConfig, BertForSequenceClassification

    model = BertForSequenceClassification(
        BertConfig(hidden_size=32, num_hidden_layers=6, num_attention_heads=2, intermediate_size=64)
    )
    assert drop_layers(model, 0.5) == [0, 2, 4]
    assert len(model.bert.encoder.layer) == 3 and model.config.num_hidden_layers == 3


def test_autocast_uses_the_configured_dtype():
    model = load_classifier("tiny", ["a", "b"], seed=0).model
    pipeline = Pipeline([Amp({"dtype": "bf16", "allow_emulated": True})])
    with pipeline.autocast(torch.device("cpu")):
        hidden = model.bert.encoder.layer[0].attention.self.query(torch.randn(1, 4, 64))
    assert hidden.dtype == torch.bfloat16
    with Pipeline([]).autocast(torch.device("cpu")):
        assert model.bert.encoder.layer[0].attention.self.query(torch.randn(1, 4, 64)).dtype == torch.float32


@pytest.mark.parametrize(
    ("specs", "phrase"),
    [
        ([("amp", {"dtype": "fp16"})], "fp16 needs a CUDA GPU"),
        ([("lora", {}), ("bitfit", {})], "switch on one of them"),
        ([("prefix", {}), ("prune", {"method": "heads"})], "Prefix tuning needs every attention head"),
        ([("lora", {"rank": 8})], "lora has no setting rank"),
        ([("lora", {"r": 0})], "rank of at least 1"),
        ([("prune", {"method": "weird"})], "choose one of magnitude, heads, layers"),
        ([("prune", {"method": "heads", "schedule": "gradual"})], "gradual applies to magnitude"),
        ([("lora", {"r": "eight"})], "lora.r is 'eight'"),
        ([("distill", {}), ("lora", {})], "switch off lora"),
        ([("distill", {}), ("bitfit", {})], "switch off bitfit"),
        ([("quant", {}), ("amp", {"allow_emulated": True})], "do not mix"),
        ([("lora", {"merge": False}), ("quant", {})], "unmerged lora adapter"),
        ([("lora", {}), ("quant", {"method": "bnb-4bit"})], "needs a CUDA GPU"),
    ],
)
def test_impossible_combinations_are_refused_with_what_to_change(specs, phrase):
    config = tiny_config()
    config.techniques = [TechniqueSpec(n, p) for n, p in specs]
    with pytest.raises(ConfigError, match=phrase):
        run_experiment(config)


def test_qlora_checks_on_a_gpu_machine_name_what_is_missing():
    import types

    from efficiency.techniques import build

    cuda = types.SimpleNamespace(type="cuda")
    config = tiny_config()
    config.model.name = "minilm"
    config.techniques = [TechniqueSpec("quant", {"method": "bnb-4bit"})]
    quant = build(config).items[0]
    with pytest.raises(ConfigError, match=r"bitsandbytes|add an adapter"):
        quant.check(config, cuda)  # without bitsandbytes installed, or without an adapter: a message, not a crash
    config.techniques.insert(0, TechniqueSpec("lora"))
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="pip install bitsandbytes"):
            quant.check(config, cuda)


def test_amp_without_native_bf16_is_refused_unless_allowed():
    from efficiency.techniques.amp import cpu_has_native_bf16

    if cpu_has_native_bf16():
        pytest.skip("this CPU has native bf16")
    with pytest.raises(ConfigError, match="no native bf16"):
        run_with(("amp", {}))


def test_techniques_list_json_gives_fields_defaults_and_citations(capsys):
    assert main(["techniques", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(REGISTRY)
    lora = rows["lora"]
    assert lora["citation"].startswith("Hu et al.")
    assert {f["name"]: f["default"] for f in lora["fields"]}["r"] == 8
    assert all(f["help"] for row in rows.values() for f in row["fields"])
    assert describe("prune")["fields"][0]["choices"] == ["magnitude", "heads", "layers"]


def test_cli_technique_flag_reaches_the_run(capsys):
    code = main(["train", "--model", "tiny", "--dataset", "nusax-senti/javanese", "--limit-train", "60", "--epochs", "1",
                 "--latency-repeats", "1", "--technique", "lora:r=4,target_modules=query+key", "--json", "--quiet"])  # fmt: skip
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["config"]["techniques"] == [{"name": "lora", "params": {"r": 4, "target_modules": ["query", "key"]}}]
    assert payload["config"]["train"]["learning_rate"] == 5e-3, "LoRA's own default rate"
    assert payload["trainable_params"] < payload["total_params"] * 0.05


def test_distillation_into_a_smaller_model_of_its_own(tmp_path):
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from efficiency.models import minilm_path

    tokenizer = AutoTokenizer.from_pretrained(minilm_path())  # the tiny teacher's tokenizer
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, num_labels=3)  # fmt: skip
    student = BertForSequenceClassification(config)
    student.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    result = run_with(("distill", {"student": str(tmp_path)}), epochs=1)
    t = result.metrics["techniques"]["distill"]
    assert result.status == "finished"
    assert t["student_layers"] == 1 < t["teacher_layers"] == 2
    assert t["kl_batches"] > 0, "the student's loss used the teacher"
    assert result.metrics["total_params"] == sum(p.numel() for p in student.parameters()), "measured: the student"
    assert result.metrics["model_source"].startswith(f"{tmp_path} (student)")


def test_a_student_with_another_tokenizer_is_refused(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "apik": 4}
    raw = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    )
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, num_labels=3)  # fmt: skip
    BertForSequenceClassification(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    from efficiency.store import RunStore

    with pytest.raises(ConfigError, match="another tokenizer than the teacher"):
        run_with(("distill", {"student": str(tmp_path)}), epochs=1)
    (record,) = RunStore().list()
    assert record.status == "failed" and "Choose a student of the same family" in record.error
    assert not RunStore().progress_of(record.id), "refused before any teacher step ran"


def test_amp_s_timed_step_can_be_left_out_where_emulated_bf16_makes_it_cost_minutes():
    from types import SimpleNamespace

    calls: list[object] = []
    ctx = SimpleNamespace(time_steps=lambda model, dtype: calls.append(dtype) or {"step_ms": 2.0})
    for timed, expected in ((True, [None, torch.bfloat16]), (False, [])):
        calls.clear()
        amp = Amp({"allow_emulated": True, "timed_step": timed})
        amp.after_training(torch.nn.Linear(2, 2), ctx)
        assert calls == expected and ("step_speedup" in amp.stats) == timed
