"""Data filtering: train on fewer, better examples.

Static filters run before training and cost almost nothing: a random share, a length window,
near-duplicates. The multistage filtering of Ouyang et al. (IJCAI 2023) runs inside the loop, as
their public code does it:

- stage 0 trains normally for a share of the first epoch; the loss threshold is the mean of the
  last 128 per-example losses, frozen when stage 0 ends;
- stage 1 runs a forward pass on every example and a backward pass only on those whose loss is at
  or above the threshold (queued and re-batched into full backward batches; the extra forward passes
  are counted), while a Bernoulli naive Bayes on bag-of-words features learns, online, to predict
  "loss above the threshold";
- stage 2 starts when that predictor's recent log-loss falls under a bound (or at the second epoch)
  and skips the forward pass too for the examples it predicts to be easy.

Hardest-first trains normally for a warm-up share of the first epoch, then scores every training
example once (forward passes charged to the run) and keeps the top share by loss.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from efficiency.errors import ConfigError
from efficiency.fields import setting
from efficiency.techniques.base import Technique, TechniqueContext
from efficiency.techniques.facts import TechniqueFacts, Work, share_in_words
from efficiency.techniques.registry import register

if TYPE_CHECKING:
    import torch

    from efficiency.data.splits import TextSplit


@dataclass
class FilterConfig:
    method: str = setting(
        "random",
        "random: a random share of the examples; length: drop very short and very long texts; "
        "dedup: drop near-duplicates; hardest: keep the examples with the highest loss after a warm-up; "
        "multistage: skip examples the model already gets right (Ouyang et al. 2023).",
        ("random", "length", "dedup", "hardest", "multistage"),
    )
    keep: float = setting(0.5, "random and hardest: the share of training examples to keep.")
    warmup_share: float = setting(
        1.0,
        "hardest and multistage: share of the first epoch trained normally first. On small datasets keep the whole "
        "epoch: measured on NusaX-senti (500 examples), at 0.3 the loss threshold is set while the model is still at "
        "chance and it never learns.",
    )
    window: int = setting(
        128, "multistage: the threshold is the mean loss of this many recent examples.", at_most=100_000
    )
    logloss_bound: float = setting(
        0.45, "multistage: stage 2 starts when the predictor's recent log-loss falls under this bound."
    )
    explore: float = setting(
        0.1, "multistage: share of the examples predicted easy that are still scored, so the predictor keeps learning."
    )
    min_tokens: int = setting(4, "length only: drop texts shorter than this many tokens.", at_most=8192)
    max_tokens: int = setting(512, "length only: drop texts longer than this many tokens.", at_most=8192)
    similarity: float = setting(
        0.9, "dedup only: cosine similarity of character 3-5 grams above which texts are duplicates."
    )

    def check(self) -> None:
        if not 0 < self.keep <= 1:
            raise ConfigError(f"filter.keep is {self.keep}: keep a share above 0, at most 1.")
        if self.min_tokens < 0 or self.max_tokens < self.min_tokens:
            raise ConfigError("filter: min_tokens must be 0 or more and at most max_tokens.")
        if not 0 < self.warmup_share <= 1:
            raise ConfigError(f"filter.warmup_share is {self.warmup_share}: use a share above 0, at most 1.")
        if not 0 <= self.explore <= 1:
            raise ConfigError(f"filter.explore is {self.explore}: use a share from 0 to 1.")
        if self.window < 1:
            raise ConfigError(f"filter.window is {self.window}: use at least 1.")
        if not 0 < self.similarity <= 1:
            raise ConfigError(f"filter.similarity is {self.similarity}: use a value above 0, at most 1.")


class Filter(Technique):
    """Data filtering's hooks: static filters before training, or an in-loop selector."""

    def make_selector(self, split: Any, pad_id: int, device: torch.device, autocast: Any, flops: Any) -> Any:
        if self.config.method == "multistage":
            return MultistageSelector(self.config, split, pad_id, device, autocast, flops, self.stats)
        if self.config.method == "hardest":
            return HardestSelector(self.config, split, pad_id, device, autocast, flops, self.stats)
        return None

    def filter_data(self, train: TextSplit, ctx: TechniqueContext) -> TextSplit:
        method = self.config.method
        if method in ("hardest", "multistage"):
            return train  # these select inside the training loop
        if method == "random":
            kept = _stratified_share(train.labels, self.config.keep, ctx.seed)
        elif method == "length":
            lengths = [len(ids) for ids in ctx.tokenizer(train.texts, truncation=False)["input_ids"]]
            kept = [i for i, n in enumerate(lengths) if self.config.min_tokens <= n <= self.config.max_tokens]
        else:
            kept = _dedup(train.texts, self.config.similarity)
        if len(set(train.labels[i] for i in kept)) < len(set(train.labels)):
            raise ConfigError(f"filter:{method} removed every example of a class: keep more.")
        self.stats.update(examples_before=len(train), examples_after=len(kept), examples_removed=len(train) - len(kept))
        return train.subset(kept)


def _stratified_share(labels: list[int], share: float, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    kept: list[int] = []
    for label in sorted(set(labels)):
        members = [i for i, y in enumerate(labels) if y == label]
        n = max(1, round(share * len(members)))
        kept.extend(rng.choice(members, size=n, replace=False).tolist())
    return sorted(kept)


def _dedup(texts: list[str], threshold: float, chunk: int = 2048) -> list[int]:
    """Keep the first of each group of near-duplicates (cosine of TF-IDF character 3-5 grams)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform(texts)
    dropped: set[int] = set()
    for start in range(0, len(texts), chunk):
        sims = (vectors[start : start + chunk] @ vectors.T).tocoo()
        for row, col, value in zip(sims.row, sims.col, sims.data, strict=True):
            i = start + row
            if col < i and value >= threshold and col not in dropped:
                dropped.add(i)
    return [i for i in range(len(texts)) if i not in dropped]


class _Queue:
    """Selected examples wait here until a full batch can go through a backward pass."""

    def __init__(self, split: Any, batch_size: int, pad_id: int, device: torch.device) -> None:
        self.split, self.batch_size, self.pad_id, self.device = split, batch_size, pad_id, device
        self.pending: list[int] = []

    def add(self, indices: list[int]) -> dict[str, torch.Tensor] | None:
        self.pending.extend(indices)
        if len(self.pending) < self.batch_size:
            return None
        ready, self.pending = self.pending[: self.batch_size], self.pending[self.batch_size :]
        return self._batch(ready)

    def flush(self) -> dict[str, torch.Tensor] | None:
        ready, self.pending = self.pending, []
        return self._batch(ready) if ready else None

    def _batch(self, indices: list[int]) -> dict[str, torch.Tensor]:
        from efficiency.batching import collate

        # Sorted by length: a re-batched queue mixes lengths, and padding is compute.
        return collate(self.split, sorted(indices, key=lambda i: len(self.split.ids[i])), self.pad_id, self.device)


class _Scorer:
    """No-grad forward passes that score examples by loss; counted in FLOPs and in the stage statistics."""

    def __init__(self, split: Any, pad_id: int, device: torch.device, autocast: Any, flops: Any) -> None:
        self.split, self.pad_id, self.device, self.autocast, self.flops = split, pad_id, device, autocast, flops

    def losses(self, model: torch.nn.Module, indices: list[int]) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        from efficiency.batching import collate, logits_of

        batch = collate(self.split, indices, self.pad_id, self.device)
        was_training = model.training
        model.eval()  # score without dropout, as the predictions the filter reasons about
        with torch.no_grad(), self.autocast():
            logits = logits_of(model, batch)
        model.train(was_training)
        if self.flops is not None:
            self.flops.add_train_step(*batch["input_ids"].shape, ran_backward=False)
        return F.cross_entropy(logits.float(), batch["labels"], reduction="none").cpu()


class MultistageSelector:
    """Stage 0 trains and sets the threshold; stage 1 scores and trains on the hard ones; stage 2 predicts."""

    def __init__(self, config: FilterConfig, split: Any, pad_id: int, device: torch.device, autocast: Any,
                 flops: Any, stats: dict[str, Any]) -> None:  # fmt: skip
        from sklearn.naive_bayes import BernoulliNB

        self.config, self.split, self.stats = config, split, stats
        self.scorer = _Scorer(split, pad_id, device, autocast, flops)
        self.queue: _Queue | None = None
        self.stage = 0
        self.recent: list[float] = []  # stage 0: the last per-example losses
        self.threshold: float | None = None
        self.stage1_epoch = 0
        self.predictor = BernoulliNB()
        self.predictor_seen = False
        self.recent_logloss: list[float] = []
        self.vocab = 1 + max((max(ids) for ids in split.ids if ids), default=0)
        self.rng = np.random.default_rng(0)
        self.counts = {
            f"stage{s}": {"examples": 0, "forward": 0, "backward": 0, "forward_skipped": 0} for s in (0, 1, 2)
        }
        stats["stages"] = self.counts

    def offer(self, batch: dict[str, torch.Tensor], model: torch.nn.Module, epoch: int, step_in_epoch: int,
              steps_per_epoch: int) -> dict[str, torch.Tensor] | None:  # fmt: skip
        indices = batch["index"].tolist()
        if self.queue is None:
            self.queue = _Queue(self.split, len(indices), self.scorer.pad_id, self.scorer.device)
        warmed_up = epoch > 0 or step_in_epoch > self.config.warmup_share * steps_per_epoch
        if self.stage == 0 and warmed_up and self.recent:  # the threshold needs losses to average
            self._start_stage(1, epoch)
        if self.stage == 1 and (epoch > self.stage1_epoch or self._predictor_ready()):
            self._start_stage(2)  # at the latest one epoch after stage 1 began
        counts = self.counts[f"stage{self.stage}"]
        counts["examples"] += len(indices)
        if self.stage == 0:
            counts["forward"] += len(indices)
            counts["backward"] += len(indices)
            return batch
        features = self._features(indices)
        if self.stage == 2:
            predicted_hard = self.predictor.predict(features).astype(bool)
            predicted_hard |= self.rng.random(len(indices)) < self.config.explore
            counts["forward_skipped"] += int((~predicted_hard).sum())
            indices = [i for i, hard in zip(indices, predicted_hard, strict=True) if hard]
            features = features[predicted_hard]
            if not indices:
                return None
        losses = self.scorer.losses(model, indices)
        counts["forward"] += len(indices)
        hard = (losses >= self.threshold).numpy()
        self._learn(features, hard)
        selected = [i for i, h in zip(indices, hard, strict=True) if h]
        ready = self.queue.add(selected)
        if ready is not None:
            counts["forward"] += len(ready["index"])  # the backward batch needs its own forward pass with grad
            counts["backward"] += len(ready["index"])
        return ready

    def observe(self, batch: dict[str, torch.Tensor], losses: torch.Tensor) -> None:
        if self.stage == 0:
            self.recent = (self.recent + losses.float().cpu().tolist())[-self.config.window :]

    def flush(self) -> dict[str, torch.Tensor] | None:
        ready = self.queue.flush() if self.queue else None
        if ready is not None:
            counts = self.counts[f"stage{self.stage}"]
            counts["forward"] += len(ready["index"])
            counts["backward"] += len(ready["index"])
        return ready

    def _start_stage(self, stage: int, epoch: int = 0) -> None:
        if stage == 1:
            self.stage1_epoch = epoch
            self.threshold = sum(self.recent) / max(1, len(self.recent))
            self.stats["threshold"] = self.threshold
        self.stage = stage
        self.stats.setdefault("stage_started_at_example", {})[f"stage{stage}"] = sum(
            c["examples"] for c in self.counts.values()
        )

    def _features(self, indices: list[int]) -> Any:
        from scipy.sparse import csr_matrix

        rows, cols = [], []
        for row, i in enumerate(indices):
            for token in set(self.split.ids[i]):
                rows.append(row)
                cols.append(token)
        return csr_matrix(([1] * len(rows), (rows, cols)), shape=(len(indices), self.vocab))

    def _learn(self, features: Any, hard: np.ndarray) -> None:
        if self.predictor_seen:  # judge the predictor on examples it has not learned from yet
            proba = self.predictor.predict_proba(features)
            classes = list(self.predictor.classes_)
            p_hard = proba[:, classes.index(True)] if True in classes else np.zeros(len(hard))
            p = np.clip(np.where(hard, p_hard, 1 - p_hard), 1e-6, 1)
            self.recent_logloss = (self.recent_logloss + (-np.log(p)).tolist())[-256:]
        self.predictor.partial_fit(features, hard, classes=[False, True])
        self.predictor_seen = True

    def _predictor_ready(self) -> bool:
        return len(self.recent_logloss) >= 64 and float(np.mean(self.recent_logloss)) < self.config.logloss_bound

    def summary(self) -> dict[str, Any]:
        return self.counts


class HardestSelector:
    """Warm up on the first share of epoch 1, score every example once, then train on the hardest share."""

    def __init__(self, config: FilterConfig, split: Any, pad_id: int, device: torch.device, autocast: Any,
                 flops: Any, stats: dict[str, Any]) -> None:  # fmt: skip
        self.config, self.split, self.stats = config, split, stats
        self.scorer = _Scorer(split, pad_id, device, autocast, flops)
        self.kept: set[int] | None = None
        self.queue: _Queue | None = None

    def offer(self, batch: dict[str, torch.Tensor], model: torch.nn.Module, epoch: int, step_in_epoch: int,
              steps_per_epoch: int) -> dict[str, torch.Tensor] | None:  # fmt: skip
        indices = batch["index"].tolist()
        if self.queue is None:
            self.queue = _Queue(self.split, len(indices), self.scorer.pad_id, self.scorer.device)
        if self.kept is None:
            if epoch == 0 and step_in_epoch <= self.config.warmup_share * steps_per_epoch:  # 1.0: the whole epoch
                self.stats["warmup_examples"] = self.stats.get("warmup_examples", 0) + len(indices)
                return batch
            self._score_all(model, len(indices))
        assert self.kept is not None
        return self.queue.add([i for i in indices if i in self.kept])

    def observe(self, batch: dict[str, torch.Tensor], losses: torch.Tensor) -> None:
        pass

    def flush(self) -> dict[str, torch.Tensor] | None:
        return self.queue.flush() if self.queue else None

    def _score_all(self, model: torch.nn.Module, batch_size: int) -> None:
        import torch

        was_training = model.training
        model.eval()
        order = sorted(range(len(self.split)), key=lambda i: len(self.split.ids[i]))
        losses = torch.zeros(len(self.split))
        for start in range(0, len(order), 64):
            chunk = order[start : start + 64]
            losses[chunk] = self.scorer.losses(model, chunk)
        model.train(was_training)
        n_keep = max(1, round(self.config.keep * len(self.split)))
        self.kept = set(torch.argsort(losses, descending=True)[:n_keep].tolist())
        self.stats.update(scored_examples=len(self.split), kept_examples=n_keep, scoring_forward_passes=len(self.split))


# --- cost rule of thumb (efficiency/estimate.py) -----------------------------------------------------
RULES = {
    "random / hardest": "the kept share of the examples (hardest adds its scoring passes)",
    "length / dedup / multistage": "not predicted: depends on the data; counted as all examples",
}


def _work(settings: Mapping[str, Any], num_layers: int | None) -> Work:
    method = settings["method"]
    if method == "random":
        return Work(RULES["random / hardest"], "random / hardest", data_share=settings["keep"])
    if method == "hardest":
        # scores every example once with the model after its warm-up: one more forward pass each (1/3 of a step)
        return Work(RULES["random / hardest"], "random / hardest", data_share=settings["keep"] + 1 / 3)
    return Work(RULES["length / dedup / multistage"], "length / dedup / multistage")


def in_words(settings: Mapping[str, Any]) -> str:
    """'Random half of the data', 'Hardest half of the data', 'Near-duplicates removed'."""
    share = share_in_words(settings["keep"])
    return {
        "random": f"Random {share} of the data",
        "hardest": f"Hardest {share} of the data",
        "length": "Too short and too long texts removed",
        "dedup": "Near-duplicates removed",
        "multistage": "Multistage filtering",
    }[settings["method"]]


register(
    TechniqueFacts(
        name="filter",
        title="Data filtering",
        pillar="data",
        stage="data",
        summary="Train on a filtered subset of the training data: fewer examples, less compute.",
        lesson=(
            "Compute grows with the examples seen. Many datasets hold redundant, near-duplicate or uninformative "
            "examples: removing them cuts training cost in proportion, often at a small cost in accuracy. Ouyang et al. "
            "(2023) go further and skip examples the model already gets right: up to 5.3x fewer examples and 6.8x "
            "less training time."
        ),
        citation=("Ouyang et al. (2023). Efficient NLP Model Finetuning via Multistage Data Filtering. IJCAI 2023."),
        config=FilterConfig,
        work=_work,
        rules=RULES,
        words=in_words,
    ),
    hooks=Filter,
)
