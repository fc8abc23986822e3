"""story: a branching role-play in scenes (家庭保障规划): the reader makes choices, choices add
protection (`coverage`), and every path ends in an ending that sums up what the family has,
what gaps remain, and what to know about each gap.

    ::: story family-plan
    title: 小林一家的保障规划
    start: home
    coverage:
      - {id: medical, label: 医疗险, advice: 住院和手术费用可按合同报销，补上医保之外的自付部分。}
      - {id: life, label: 定期寿险, unit: 万元, need: 100, advice: 保额可参考房贷余额加几年家庭开支。}
    scenes:
      home:
        title: 新手爸妈
        text: 小林和妻子刚有了宝宝，房贷还剩 100 万元。
        choices:
          - {label: 先给全家配医疗险, next: hospital, adds: {medical: true}}
          - {label: 以后再说, next: hospital}
      hospital:
        text: 一场肺炎让宝宝住院一周。
        event: {title: 住院, text: 住院一周，花费约一万二千元。, cost: 12000}
        choices:
          - {label: 再为家庭经济支柱配一份定期寿险, next: end, adds: {life: 100}, note: 保额覆盖房贷。}
      end:
        text: 一年过去，小林一家回头看看这一年做的准备。
        ending: {title: 有备无患, text: 风险来临时，家庭财务不至于被打乱。}
    :::

A scene has either `choices` (one or more) or an `ending`. The build proves the graph: `start`
and every `next` name a scene, every scene can be reached from `start`, an ending can be reached
from every scene (a loop is fine if there is a way out of it), and `adds` only names coverage
ids, with an amount for coverage that has a `unit` and `true` for coverage that is a flag.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from h5press.generator.config import ID_RE, Ident
from h5press.generator.schema import Strict, did_you_mean

STATEFUL = True
ORDER = 45

Path = tuple[str | int, ...]
Problem = tuple[Path, str]


def _amount(value: Any) -> Any:
    """An amount (a number) or a flag (`true`): one clear message instead of a union's three."""
    if not isinstance(value, (bool, int, float)):
        raise ValueError("expected an amount (a number) or true (a flag)")
    return value


Amount = Annotated[bool | int | float, BeforeValidator(_amount)]


class Coverage(Strict):
    id: Ident = Field(description="unique; choices name it in adds")
    label: str = Field(min_length=1, description="e.g. 重疾险")
    unit: str | None = Field(None, description="with a unit (万元) choices add amounts; without one, coverage is a flag")
    need: float | None = Field(None, gt=0, description="with a unit: below this amount the ending counts a gap")
    advice: str = Field(min_length=1, description="what to know about this protection, shown for a gap")

    @model_validator(mode="after")
    def _need_has_unit(self) -> Coverage:
        if self.need is not None and self.unit is None:
            raise ValueError("need is an amount: give the coverage a unit (e.g. 万元) too")
        return self


class Event(Strict):
    title: str = Field("生活事件", min_length=1, description="heading of the event box")
    text: str = Field(min_length=1, description="what happened")
    cost: int | None = Field(None, ge=0, description="what it costs, in 元")


class Choice(Strict):
    label: str = Field(min_length=1, description="the button text")
    next: str = Field(description="id of the scene this choice leads to")
    adds: dict[str, Amount] = Field(default_factory=dict, description="coverage id: amount (with a unit) or true")
    note: str = Field("", description="shown after choosing, on the next scene")


class Ending(Strict):
    title: str = Field(min_length=1, description="heading of the ending")
    text: str = Field("", description="what this ending means for the family")


class Scene(Strict):
    title: str = Field("", description="short heading of the scene")
    text: str = Field(min_length=1, description="the scene; blank lines separate paragraphs")
    event: Event | None = Field(None, description="a life event happening in this scene")
    choices: list[Choice] = Field(default_factory=list, description="where the reader can go next")
    ending: Ending | None = Field(None, description="ends the story here (instead of choices)")


class Schema(Strict):
    title: str = Field("家庭保障规划", min_length=1, description="heading of the story")
    intro: str = Field("", description="one paragraph under the heading")
    start: str = Field(description="id of the first scene")
    coverage: list[Coverage] = Field(default_factory=list, description="the protection types choices add to")
    scenes: dict[str, Scene] = Field(min_length=1, description=(
        "scenes by id ([a-z0-9-]); each has choices or an ending, and every one is reachable from start"))
    disclosure: str | None = Field(None, description="shown with the coverage summary; default: the campaign's disclosure")
    action: str = Field("story", description="the points action reaching an ending counts as (once)")
    points: int | None = Field(None, ge=0, description="points for the first ending; default: campaign points.actions.<action>")

    @model_validator(mode="after")
    def _prove(self) -> Schema:
        problems = story_problems(self)
        if problems:
            raise ValidationError.from_exception_data(
                "story", [InitErrorDetails(type=PydanticCustomError("value_error", "{message}", {"message": message}),
                                           loc=path, input=None) for path, message in problems])
        return self


# --- the proofs, as small pure functions ------------------------------------------------------

def reachable(start: str, edges: Mapping[str, Iterable[str]]) -> list[str]:
    """Scenes reachable from `start` (itself included), in breadth-first order."""
    seen = {start}
    order = [start]
    queue = deque([start])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
                queue.append(nxt)
    return order


def reaching(targets: Iterable[str], edges: Mapping[str, Iterable[str]]) -> set[str]:
    """Scenes from which some target can be reached: a breadth-first search on reversed edges."""
    back: dict[str, list[str]] = {}
    for src, nexts in edges.items():
        for nxt in nexts:
            back.setdefault(nxt, []).append(src)
    found = set(targets)
    queue = deque(found)
    while queue:
        for src in back.get(queue.popleft(), ()):
            if src not in found:
                found.add(src)
                queue.append(src)
    return found


def graph_problems(start: str, edges: Mapping[str, list[str]], endings: set[str]) -> list[Problem]:
    """Unreachable scenes, and scenes from which no ending can be reached (dead ends, closed loops).
    `edges` has every scene as a key (endings with no edges), and only edges to existing scenes."""
    seen = set(reachable(start, edges))
    problems: list[Problem] = [(("scenes", s), f'cannot be reached from start "{start}": no choice leads here')
                               for s in edges if s not in seen]
    can_end = reaching(endings, edges)
    for scene in (s for s in edges if s not in can_end):
        problems.append((("scenes", scene), "no ending can be reached from this scene: every path from here stays among "
                                            + ", ".join(reachable(scene, edges))))
    return problems


def scene_problems(scenes: Mapping[str, Scene]) -> list[Problem]:
    """Scene ids, and the shape of each scene: either choices or an ending."""
    problems: list[Problem] = []
    for sid, scene in scenes.items():
        if not ID_RE.match(sid):
            problems.append((("scenes", sid), f'scene id "{sid}" must match [a-z0-9][a-z0-9-]* (it becomes an anchor)'))
        if scene.ending and scene.choices:
            problems.append((("scenes", sid), "has both choices and an ending: a scene is one or the other"))
        elif not scene.ending and not scene.choices:
            problems.append((("scenes", sid), "has neither choices nor an ending: add choices (1 or more) or an ending"))
    if not any(s.ending for s in scenes.values()):
        problems.append((("scenes",), "no scene has an ending: a story needs at least one"))
    return problems


def reference_problems(start: str, scenes: Mapping[str, Scene]) -> list[Problem]:
    """`start` and every `next` must name a scene."""
    ids = list(scenes)
    problems: list[Problem] = []
    if start not in scenes:
        problems.append((("start",), f'scene "{start}" does not exist{did_you_mean(start, ids)}'))
    for sid, scene in scenes.items():
        for i, choice in enumerate(scene.choices):
            if choice.next not in scenes:
                problems.append((("scenes", sid, "choices", i, "next"),
                                 f'scene "{choice.next}" does not exist{did_you_mean(choice.next, ids)}'))
    return problems


def coverage_problems(coverage: list[Coverage], scenes: Mapping[str, Scene]) -> list[Problem]:
    """Coverage ids are unique; `adds` names only them, an amount where there is a unit, else true."""
    problems: list[Problem] = []
    known = {c.id: c for c in coverage}
    ids = [c.id for c in coverage]
    for i, c in enumerate(coverage):
        if c.id in ids[:i]:
            problems.append((("coverage", i, "id"), f'"{c.id}" is used twice'))
    for sid, scene in scenes.items():
        for i, choice in enumerate(scene.choices):
            for key, value in choice.adds.items():
                path: Path = ("scenes", sid, "choices", i, "adds", key)
                cov = known.get(key)
                if cov is None:
                    listed = ", ".join(ids) if ids else "none (add a coverage list)"
                    problems.append((path, f'unknown coverage "{key}"{did_you_mean(key, ids)}; coverage ids: {listed}'))
                elif cov.unit is None and value is not True:
                    problems.append((path, f'"{cov.label}" has no unit, so it is a flag: write true'))
                elif cov.unit is not None and (isinstance(value, bool) or value <= 0):
                    problems.append((path, f'"{cov.label}" is counted in {cov.unit}: write an amount above 0, such as 50'))
    return problems


def story_problems(story: Schema) -> list[Problem]:
    """Everything wrong with a story, in one list. The graph is only proven once every name
    resolves and every scene has its shape, so one typo does not also report its consequences."""
    blocking = scene_problems(story.scenes) + reference_problems(story.start, story.scenes)
    problems = blocking + coverage_problems(story.coverage, story.scenes)
    if blocking:
        return problems
    edges = {sid: [c.next for c in scene.choices] for sid, scene in story.scenes.items()}
    return problems + graph_problems(story.start, edges, {sid for sid, s in story.scenes.items() if s.ending})
