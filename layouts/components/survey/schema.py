"""survey: a form with required fields and validation; the submission is one outbox event.
Where a field asks for personal data (`personal: true`), a consent checkbox is required; a field
asking for sensitive personal information (`sensitive: true`, with its `purpose`) has a checkbox of
its own, and its answer cannot be sent without that separate consent.

    ::: survey feedback
    title: 活动问卷
    fields:
      - {name: age, label: 您的年龄段, type: choice, options: [18-25岁, 26-35岁, 36-50岁, 50岁以上], required: true}
      - {name: advice, label: 您的建议, type: textarea, max: 200}
      - {name: phone, label: 手机号（用于发放奖励）, type: phone, personal: true}
    :::
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from h5press.generator.config import Ident
from h5press.generator.schema import Strict

STATEFUL = True
ORDER = 37


class SurveyField(Strict):
    name: Ident = Field(description="key of the answer in the survey.submit event; unique")
    label: str = Field(min_length=1, description="the question shown beside the field")
    type: Literal["text", "textarea", "choice", "multi", "phone", "email", "number"] = "text"
    options: list[str] | None = Field(None, description="for choice and multi")
    required: bool = Field(False, description="the form cannot be sent without it")
    max: int | None = Field(None, ge=1, description="longest text, or most choices for multi")
    personal: bool = Field(False, description="personal data: asks for consent before submitting")
    sensitive: bool = Field(False, description=(
        "sensitive personal information (PIPL Art. 28: card or account numbers, ID numbers, health, precise location, "
        "biometrics, children's data): a separate consent checkbox with `purpose` guards this answer"))
    purpose: str | None = Field(None, min_length=1, description="sensitive: why this answer is needed, shown with its consent")

    @model_validator(mode="after")
    def _options(self) -> SurveyField:
        if self.type in ("choice", "multi") and not (self.options and len(self.options) >= 2):
            raise ValueError(f'a "{self.type}" field needs at least 2 options')
        if self.type not in ("choice", "multi") and self.options:
            raise ValueError(f'options are only for choice and multi fields, not "{self.type}"')
        if self.sensitive and not self.purpose:
            raise ValueError("a sensitive field needs its purpose (why the answer is needed), shown with its own consent")
        return self


class Schema(Strict):
    title: str = Field("活动问卷", min_length=1, description="heading of the form")
    fields: list[SurveyField] = Field(min_length=1, description="the form fields, in order")
    submit: str = Field("提交", min_length=1, description="the submit button")
    consent: str = Field("我同意为活动目的收集和使用以上个人信息", min_length=1,
                         description="text of the consent checkbox shown when a field is personal")
    action: str | None = Field("survey", description="the points action a submission counts as")
    points: int | None = Field(None, ge=0, description="points for submitting; default: campaign points.actions.<action>")

    @model_validator(mode="after")
    def _unique_names(self) -> Schema:
        names = [f.name for f in self.fields]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise ValueError(f'field name "{duplicate}" is used twice')
        return self
