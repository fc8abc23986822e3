"""Generate an N-article h5press site with realistic Chinese text, for build benchmarks (words chosen so
the text passes the compliance gate: a random 分享…积分 would read as a reward for sharing)."""
from __future__ import annotations

import random
from pathlib import Path

WORDS = ("绿色 金融 低碳 出行 储蓄 理财 风险 收益 保障 家庭 信用卡 账单 阅读 打卡 活动 银行 基金 保险 "
         "定投 复利 通胀 预算 消费 还款 额度 利率 存款 国债 资产 配置 长期 稳健 波动 回撤 目标").split()


def sentence(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18))) + "。"


def article(rng: random.Random, i: int, pages: int) -> str:
    parts = [f"---\ntitle: 第{i}篇 {rng.choice(WORDS)}{rng.choice(WORDS)}知识\ndescription: {sentence(rng)}\norder: {i}\n"
             f"date: 2026-11-{1 + i % 28:02d}\n---\n"]
    for h in range(3):
        parts.append(f"## 小节{h + 1} {rng.choice(WORDS)}\n\n" + "".join(sentence(rng) for _ in range(5)) + "\n")
        parts.append("\n".join(f"- {sentence(rng)}" for _ in range(4)) + "\n")
    parts.append("| 项目 | 数值 | 说明 |\n| --- | --- | --- |\n" +
                 "".join(f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} | {sentence(rng)} |\n" for _ in range(5)))
    parts.append("```python\nrate = 0.03\nvalue = 1000 * (1 + rate) ** 10\n```\n")
    parts.append(f"延伸阅读：[第{(i % pages) + 1}篇](a{(i % pages) + 1}.md)\n")
    return "\n".join(parts)


def make_site(root: Path, n: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    campaign = root / "content" / "bench"
    campaign.mkdir(parents=True, exist_ok=True)
    (root / "h5press.yaml").write_text("base_url: https://h5.example.com/\n", "utf-8")
    (campaign / "campaign.yaml").write_text("title: 基准测试\nstart: 2026-01-01\nend: 2026-12-31\n", "utf-8")
    (campaign / "index.md").write_text("---\ntitle: 基准测试\n---\n" + sentence(rng) + "\n", "utf-8")
    for i in range(1, n + 1):
        (campaign / f"a{i}.md").write_text(article(rng, i, n), "utf-8")
    return root
