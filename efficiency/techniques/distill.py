"""Knowledge distillation: a smaller student learns from the teacher's softened predictions.

The student is the teacher's architecture with fewer layers, initialised from every other layer of
the teacher (DistilBERT style). The teacher is either trained first, in this job (its cost is charged
to the run, reported as its own phase), or a finished run kept with --save-model. Its logits on the
training set are computed once and cached, not recomputed each epoch. Loss per example:
alpha x cross-entropy + (1 - alpha) x T² x KL(teacher_T || student_T).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from efficiency.errors import ConfigError
from efficiency.fields import setting
from efficiency.techniques.base import Technique, TechniqueContext
from efficiency.techniques.facts import WHAT_TRAINS, TechniqueFacts, Work, share_of
from efficiency.techniques.registry import group, register

if TYPE_CHECKING:
    import torch


@dataclass
class DistillConfig:
    teacher: str = setting(
        "train",
        "'train': fine-tune the full model first, in this job (its cost is charged to this run); or the id of a "
        "finished full fine-tuning run of the same model and dataset whose model was kept (--save-model; on the "
        "page: Keep the trained model).",
        at_most=20,
    )
    student_share: float = setting(0.5, "Share of the teacher's layers the student drops (0.5: every other layer).")
    student: str = setting(
        "",
        "Empty: the student is the teacher with student_share of its layers dropped (DistilBERT style). Or a "
        "smaller model of its own (tiny, a Hub id or a local folder) that shares the teacher's tokenizer; it then "
        "starts from its own weights.",
        at_most=300,  # a model name, as the run's own (the run store's column)
    )
    alpha: float = setting(0.5, "Weight of the hard-label cross-entropy; 1 - alpha goes to matching the teacher.")
    temperature: float = setting(
        2.0, "Softening temperature T for both distributions (the KL term is scaled by T²).", at_most=100.0
    )

    def check(self) -> None:
        if not 0 < self.student_share < 1:
            raise ConfigError(f"distill.student_share is {self.student_share}: use a share above 0 and below 1.")
        if not 0 <= self.alpha <= 1:
            raise ConfigError(f"distill.alpha is {self.alpha}: use a weight from 0 to 1.")
        if self.temperature <= 0:
            raise ConfigError(f"distill.temperature is {self.temperature}: use a positive temperature (1 to 4).")
        if self.teacher != "train" and not self.teacher.isdigit():
            raise ConfigError(f"distill.teacher is '{self.teacher}': use 'train' or the id of a kept run, e.g. 12.")


class Distill(Technique):
    """Distillation's hooks: make the student from the teacher, then train it on soft targets."""

    priority: ClassVar[int] = 0  # within the model stage: make the student first, then prune it

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        super().__init__(params)
        self.teacher_logits: torch.Tensor | None = None

    def check(self, run: Any, device: torch.device) -> None:
        chosen = sorted({t.name for t in run.techniques} & {f.name for f in group(WHAT_TRAINS)})
        if chosen:
            raise ConfigError(
                f"Distillation trains the whole student (and a fully fine-tuned teacher): switch off {', '.join(chosen)}."
            )
        if self.config.teacher == "train" and run.train.measure_batch_size:
            # The teacher trains before the student's batch size is measured: the stored settings would not
            # say which batch size it had, and the run could not be reproduced from them.
            raise ConfigError(
                "Measuring the batch size and training the teacher in the same run cannot be combined: measure it "
                "in a run without distillation, then set that batch size here, or distil from a kept run's model."
            )

    def transform_model(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        if ctx.train_teacher is None or ctx.teacher_logits is None:
            raise ConfigError("Distillation needs the runner's training loop: run it through the lab's runner.")
        own_student = self._own_student(ctx) if self.config.student else None  # refused before the teacher trains
        if self.config.teacher == "train":
            teacher, figures = ctx.train_teacher(model)
            self.stats["teacher"] = {"source": "trained in this job", **figures}
        else:
            teacher = ctx.load_run_model(int(self.config.teacher)) if ctx.load_run_model else None
            if teacher is None:
                raise ConfigError(
                    f"Run {self.config.teacher} has no kept model: rerun it with its model kept (Keep the trained model; --save-model)."
                )
            self.stats["teacher"] = {"source": f"run {self.config.teacher}"}
        self.teacher_logits, logits_figures = ctx.teacher_logits(teacher)
        self.stats["teacher"].update(logits_figures)
        teacher_layers = teacher.config.num_hidden_layers
        if own_student is not None:
            student = own_student
            self.stats.update(
                teacher_layers=teacher_layers,
                student_layers=student.config.num_hidden_layers,
                student_source=self.config.student,
            )
        else:
            from efficiency.techniques.prune import drop_layers

            student = copy.deepcopy(teacher)
            kept = drop_layers(student, self.config.student_share)
            self.stats.update(teacher_layers=teacher_layers, student_layers=len(kept), student_layers_from_teacher=kept)
        del teacher
        return student

    def _own_student(self, ctx: TechniqueContext) -> torch.nn.Module:
        """A smaller model as the student; the teacher's logits are per example, so only the tokens must agree."""
        from efficiency.models import load_classifier

        loaded = load_classifier(self.config.student, ctx.label_names, seed=ctx.seed)
        if ctx.tokenizer is not None and loaded.tokenizer.get_vocab() != ctx.tokenizer.get_vocab():
            raise ConfigError(
                f"The student '{self.config.student}' uses another tokenizer than the teacher: the run's data is "
                "tokenised once, for the teacher. Choose a student of the same family (same vocabulary), or leave "
                "the student empty to drop layers of the teacher."
            )
        return loaded.model

    def example_losses(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        import torch.nn.functional as F

        assert self.teacher_logits is not None
        t, alpha = self.config.temperature, self.config.alpha
        logits = logits.float()
        hard = F.cross_entropy(logits, batch["labels"], reduction="none")
        teacher = self.teacher_logits[batch["index"].to(self.teacher_logits.device)].to(logits.device)
        soft = F.kl_div(
            F.log_softmax(logits / t, dim=-1), F.log_softmax(teacher / t, dim=-1), log_target=True, reduction="none"
        ).sum(-1) * (t * t)
        self.stats["kl_batches"] = self.stats.get("kl_batches", 0) + 1
        return alpha * hard + (1 - alpha) * soft


RULES = {
    "": "the kept share of the layers (a student of its own model is priced the same way); a teacher trained in "
    "the job adds a full fine-tuning and one forward pass over the training set for its logits",
}


def _work(settings: Mapping[str, Any], num_layers: int | None) -> Work:
    return Work(RULES[""], layer_share=settings["student_share"], teacher=str(settings["teacher"]) == "train")


def in_words(settings: Mapping[str, Any]) -> str:
    """'Distilled, half the layers' or 'Distilled into tiny'."""
    if settings["student"]:
        return f"Distilled into {settings['student']}"
    return f"Distilled, {share_of(1 - settings['student_share'], 'layers')}"


register(
    TechniqueFacts(
        name="distill",
        title="Distillation",
        pillar="compute",
        stage="model",
        summary="Train a smaller student (every other layer) to match a fine-tuned teacher's predictions.",
        lesson=(
            "A fine-tuned teacher's probabilities carry more than the hard label: which wrong classes are nearly right. "
            "A student with half the layers, started from the teacher's own layers and trained on those soft targets, "
            "keeps most of the accuracy at about half the inference cost. Training the teacher is not free: the lab "
            "charges it to the run unless you reuse a kept teacher."
        ),
        citation=(
            "Hinton, Vinyals & Dean (2015). Distilling the Knowledge in a Neural Network; Sanh et al. (2019). "
            "DistilBERT; Mirashi et al. (2024). On Importance of Pruning and Distillation for Efficient Low Resource NLP."
        ),
        config=DistillConfig,
        work=_work,
        rules=RULES,
        words=in_words,
        reshapes_model=True,
        teacher_setting="teacher",
    ),
    hooks=Distill,
)
