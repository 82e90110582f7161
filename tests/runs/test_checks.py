import pytest

from efficiency.config import RunConfig, TechniqueSpec
from efficiency.errors import ConfigError
from efficiency.model_names import TFIDF
from efficiency.runs.checks import checked_device, device_name, problem


def test_the_baseline_always_takes_the_cpu():
    config = RunConfig()
    config.model.name, config.device = TFIDF, "auto"
    assert str(checked_device(config)) == "cpu"
    assert device_name(config) == "cpu"


def test_techniques_are_checked_with_the_config():
    config = RunConfig(techniques=[TechniqueSpec("lora"), TechniqueSpec("bitfit")])
    config.validate()  # the config's own fields are fine...
    with pytest.raises(ConfigError, match="switch on one of them"):
        checked_device(config)  # ...but two ways of choosing what trains are not
    assert "switch on one of them" in problem(config)


def test_a_technique_on_the_baseline_is_refused_in_words():
    config = RunConfig(techniques=[TechniqueSpec("lora")])
    config.model.name = TFIDF
    assert "choose a transformer model" in problem(config)


def test_a_missing_gpu_is_refused_without_starting_cuda():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    config = RunConfig(device="cuda:1")
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        checked_device(config)
    assert problem(RunConfig()) is None
