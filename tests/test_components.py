"""Component blocks: syntax, registry (theme + project), schemas, errors, per-page assets."""
from __future__ import annotations

import re

from h5fixtures import build

POLL = {
    "layouts/components/poll/schema.py": '''
from pydantic import Field, ValidationInfo, field_validator
from h5press.generator.schema import Strict

STATEFUL = True
ORDER = 60


class Schema(Strict):
    question: str
    options: list[str] = Field(min_length=2)
    answer: int | None = None

    @field_validator("answer")
    @classmethod
    def _in_range(cls, answer, info: ValidationInfo):
        options = info.data.get("options") or []
        if answer is not None and not 1 <= answer <= len(options):
            raise ValueError(f"{answer} is out of range ({len(options)} options)")
        return answer
''',
    "layouts/components/poll/template.html": '<section class="poll" data-id="{{ id }}"><h2>{{ c.question }}</h2>'
                                            '{% for o in c.options %}<button type="button">{{ o }}</button>{% endfor %}</section>\n',
    "layouts/components/poll/style.scss": ".poll { border-radius: $radius; }\n",
    "layouts/components/poll/script.js": "document.querySelectorAll('.poll').forEach(function (el) { el.dataset.ready = '1'; });\n",
}

PAGE = """---
title: 组件页
---

第一段。

::: poll green-poll
question: 你最常用的出行方式？
options: [地铁, 公交, 骑行]
:::

```
::: poll not-a-block
:::
```

::: disclosure
:::
"""


def test_blocks_render_with_their_assets_only_where_used(make_project):
    root = make_project({**POLL, "content/demo/blocks.md": PAGE})
    result = build(root, "--strict")
    assert result.exit_code == 0, result.output
    dist = root / "dist/demo"
    html = (dist / "blocks.html").read_text()
    assert '<section class=poll data-id=green-poll><h2>你最常用的出行方式？</h2><button type=button>地铁</button>' in html
    assert "::: poll not-a-block" in html  # inside a code fence a block is text
    assert "理财非存款，产品有风险，投资须谨慎。" in re.search(r"<aside.*?</aside>", html).group(0)
    assert re.findall(r"assets/c-(\w+)\.[0-9a-f]{10}\.js", html) == ["poll"]
    # one stylesheet: the theme's, then the components' in registry order (ORDER 10, then 60)
    assert re.findall(r"assets/(main[\w-]*)\.[0-9a-f]{10}\.css", html) == ["main-disclosure-poll"]
    article = (dist / "article.html").read_text()
    assert "c-poll" not in article and re.findall(r"assets/(main[\w-]*)\.[0-9a-f]{10}\.css", article) == ["main"]
    css = next((dist / "assets").glob("main-disclosure-poll.*.css")).read_text()
    assert ".poll{border-radius:8px}" in css and css.index(".h5c-disclosure") < css.index(".poll{")
    import json

    report = json.loads((root / "dist/build-report.json").read_text())
    page = next(p for p in report["campaigns"]["demo"]["pages"] if p["path"] == "demo/blocks.html")
    assert page["components"] == ["disclosure", "poll"] and page["js_br"] > 0


def test_component_errors_all_in_one_run(make_project):
    bad = """---
title: 坏组件
---

::: pol a
question: x
:::

::: poll
question: 没有id
options: [a, b]
:::

::: poll bad-answer
question: 题目
options: [a, b, c]
answer: 5
:::

::: poll green-poll
question: 第一次
options: [a, b]
:::

::: poll green-poll
question: 重复
options: [a, b]
:::

::: poll colourful
question: 多余的键
options: [a, b]
colour: red
:::

::: poll open
question: 没有结束
"""
    root = make_project({**POLL, "content/demo/bad.md": bad, "content/demo/campaign.yaml": "title: 无披露\n"})
    result = build(root)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    unknown = next(e for e in errors if ":5:" in e)
    assert unknown.startswith('error: content/demo/bad.md:5: unknown component "pol" (did you mean "poll"?); components: ')
    listed = unknown.split("; components: ")[1].split(", ")
    assert "poll" in listed and listed == sorted(listed)  # the project's component among the theme's, by name
    assert any(e.startswith("error: content/demo/bad.md:9: poll: an id is required") for e in errors)
    assert 'error: content/demo/bad.md:17: poll "bad-answer": answer: 5 is out of range (3 options)' in errors
    assert any(e.startswith('error: content/demo/bad.md:25: poll "green-poll": id already used at content/demo/bad.md:20') for e in errors)
    assert 'error: content/demo/bad.md:33: poll "colourful": colour: unknown key "colour"' in errors
    assert 'error: content/demo/bad.md:36: "::: poll open" is not closed by a ":::" line' in errors
    assert len(errors) == 6


def test_nested_blocks_and_component_campaign_checks(make_project):
    page = "---\ntitle: x\n---\n\n::: disclosure\n::: disclosure\n:::\n"
    root = make_project({"content/demo/x.md": page, "content/demo/campaign.yaml": "title: 无披露\n"})
    result = build(root)
    assert 'error: content/demo/x.md:5: "::: disclosure" is not closed by a ":::" line (blocks do not nest)' in result.stderr
    assert "error: content/demo/x.md:6: disclosure: text: is required when campaign.yaml has no `disclosure`" in result.stderr


def test_component_schema_type_error_names_key_path(make_project):
    page = "---\ntitle: x\n---\n\n::: disclosure\nlevel: loud\n:::\n"
    result = build(make_project({"content/demo/x.md": page}))
    assert "error: content/demo/x.md:6: disclosure: level: input should be 'info' or 'warning' (got 'loud')" in result.stderr
