"""quiz: knowledge questions with an answer and explanation, or a scored profile questionnaire.

Knowledge mode (every question has `answer`, counted from 1):

    ::: quiz deposit-insurance
    title: 存款保险知识小测
    points: 10
    questions:
      - q: 以下哪一项受存款保险保障？
        options: [银行定期存款, 银行理财产品, 公募基金]
        answer: 1
        explanation: 存款保险保障的是存款，理财产品和基金不在其中。
    :::

Profile mode (every question has `scores`, one per option; the total picks a band in `results`),
the shape of a 风险测评 questionnaire. Either way points are awarded once, on completion.
"""
from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator, model_validator

from h5press.generator.schema import Strict

STATEFUL = True
ORDER = 30


class Question(Strict):
    q: str = Field(min_length=1, description="the question")
    options: list[str] = Field(min_length=2, max_length=8, description="2 to 8 choices")
    answer: int | None = Field(None, description="knowledge mode: the right option, counted from 1")
    explanation: str = Field("", description="shown after answering")
    scores: list[float] | None = Field(None, description="profile mode: a score per option")

    @field_validator("answer")
    @classmethod
    def _answer_in_range(cls, answer: int | None, info: ValidationInfo) -> int | None:
        options = info.data.get("options") or []
        if answer is not None and not 1 <= answer <= len(options):
            raise ValueError(f"{answer} is out of range ({len(options)} options; answers count from 1)")
        return answer

    @field_validator("scores")
    @classmethod
    def _score_per_option(cls, scores: list[float] | None, info: ValidationInfo) -> list[float] | None:
        options = info.data.get("options") or []
        if scores is not None and len(scores) != len(options):
            raise ValueError(f"expected {len(options)} scores, one per option, got {len(scores)}")
        return scores


class Band(Strict):
    min: float = Field(description="lowest total score of this band")
    title: str = Field(min_length=1, description="e.g. 稳健型")
    text: str = Field("", description="what the band means, shown with the result")


class Schema(Strict):
    title: str = Field("知识小测", description="heading of the quiz")
    intro: str = Field("", description="one paragraph under the heading")
    points: int | None = Field(None, ge=0, description="points on completion; default: campaign points.actions.<action>")
    action: str = Field("quiz", description="the points action in campaign.yaml that counts it")
    questions: list[Question] = Field(min_length=1, description="asked in this order")
    results: list[Band] | None = Field(None, description="profile mode: result bands by total score")

    @model_validator(mode="after")
    def _one_mode(self) -> Schema:
        key = "scores" if self.results else "answer"
        missing = [i for i, q in enumerate(self.questions) if getattr(q, key) is None]
        if missing:
            mode = "a profile quiz (it has results)" if self.results else "a knowledge quiz (no results)"
            raise ValueError(f"questions[{missing[0]}] needs `{key}` in {mode}")
        return self

