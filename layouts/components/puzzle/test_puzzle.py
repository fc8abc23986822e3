"""puzzle: schema and image errors, the image processed like a Markdown image; in Chromium, a swap
puzzle solved by tapping (state across reloads, points once) and slide puzzles solved by taps and
arrow keys along a breadth-first solution, every shuffle checked solvable."""
from __future__ import annotations

import re
from collections import deque
from functools import cache
from pathlib import Path

import pytest

from h5fixtures import build, layout_shift, one_page_site, open_served, png, write_tree

CAMPAIGN = "title: t\nstart: 2020-01-01\nend: 2099-12-31\n"
SWAP = """::: puzzle scenery
image: images/scene.png
alt: 一片绿色的山坡
grid: 3
seed: 7
timer: true
points: 10
:::
"""
SLIDE = """::: puzzle small
image: images/scene.png
alt: 一片绿色的山坡
grid: 2
mode: slide
points: 3
:::

::: puzzle classic
image: images/scene.png
alt: 一片绿色的山坡
title: 滑块拼图
grid: 3
mode: slide
seed: 5
action: slide
points: 5
:::
"""


def site(tmp_path: Path, body: str, campaign: str = CAMPAIGN) -> Path:
    root = one_page_site(tmp_path, body, campaign)
    return write_tree(root, {"content/c/images/scene.png": png(600, 600)})


def test_schema_errors(tmp_path):
    result = build(site(tmp_path, SWAP.replace("grid: 3", "grid: 6").replace("timer: true", "mode: rotate")))
    assert 'content/c/index.md:8: puzzle "scenery": grid: input should be less than or equal to 5' in result.stderr
    assert "content/c/index.md:10: puzzle \"scenery\": mode: input should be 'swap' or 'slide'" in result.stderr
    result = build(site(tmp_path, "::: puzzle\nimage: images/scene.png\nalt: a\n:::\n"))
    assert "content/c/index.md:5: puzzle: an id is required" in result.stderr
    result = build(site(tmp_path, SWAP.replace("points: 10\n", "")))
    assert 'content/c/index.md:5: puzzle "scenery": points: is required: campaign.yaml has no points.actions.puzzle' \
        in result.stderr


def test_missing_or_remote_image_is_an_error_at_its_line(tmp_path):
    result = build(site(tmp_path, SWAP.replace("images/scene.png", "images/nope.png")))
    assert result.exit_code != 0
    assert 'content/c/index.md:6: puzzle "scenery": image: image not found: "images/nope.png" (looked in content/c/)' \
        in result.stderr
    result = build(site(tmp_path, SWAP.replace("images/scene.png", "https://example.com/a.png")))
    assert 'content/c/index.md:6: puzzle "scenery": image: remote image "https://example.com/a.png": ' \
           "the Content-Security-Policy allows only the bundle's own images" in result.stderr


def test_image_is_processed_relative_to_its_page_and_shown_before_the_script(tmp_path):
    root = site(tmp_path, "[拼图](more/game.md)\n")
    write_tree(root, {"content/c/more/game.md": "---\ntitle: 拼图\n---\n\n" + SWAP.replace("images/", "../images/")})
    assert build(root).exit_code == 0
    html = (root / "dist/c/more/game.html").read_text()
    section = html[html.index('data-h5c=puzzle'):html.index("</section>")]
    assert "h5img:" not in section
    img = re.search(r"<img [^>]*>", section)
    assert img and "src=../assets/scene-600." in img[0] and "height=600" in img[0] and "width=600" in img[0]
    assert "alt=一片绿色的山坡" in img[0]
    assert re.search(r'<button class="h5-btn h5c-puzzle__go" disabled type=button>开始拼图</button>', section)
    assert section.count("class=h5c-puzzle__tile ") == 9 and "class=h5c-puzzle__tiles hidden" in section


# --- in the browser ------------------------------------------------------------------------------

def arrangement(box) -> list[int]:  # type: ignore[no-untyped-def]
    return [int(x) for x in box.locator(".h5c-puzzle__tile").evaluate_all("bs => bs.map(b => b.dataset.piece)")]


def outbox(page) -> list[dict]:  # type: ignore[no-untyped-def]
    return page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")


def solve_by_swaps(box, order: list[int], stop: int | None = None) -> int:  # type: ignore[no-untyped-def]
    """Put each piece in place with one swap, tapping the two tiles; returns the swaps made."""
    tiles = box.locator(".h5c-puzzle__tile")
    swaps = 0
    for pos in range(len(order)):
        if order[pos] != pos and swaps != stop:
            other = order.index(pos)
            tiles.nth(pos).tap()
            assert tiles.nth(pos).get_attribute("aria-pressed") == "true"
            tiles.nth(other).tap()
            order[pos], order[other] = order[other], order[pos]
            swaps += 1
    return swaps


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_swap_puzzle_solved_by_tapping_keeps_its_state_and_awards_once(tmp_path, serve, browser, width):
    server, context, page, errors = open_served(site(tmp_path, SWAP), serve, browser, "c/index.html", width, "block")
    assert layout_shift(page) == 0
    box = page.locator('[data-h5c="puzzle"]')
    assert box.get_by_role("img", name="一片绿色的山坡").is_visible()
    assert not box.locator(".h5c-puzzle__tile").first.is_visible()
    box.get_by_role("button", name="开始拼图").tap()
    order = arrangement(box)
    assert sorted(order) == list(range(9)) and order != list(range(9))
    tile = box.locator(".h5c-puzzle__tile").first
    size = tile.bounding_box()
    assert size and size["height"] >= 44 and size["width"] >= 44
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    label = tile.get_attribute("aria-label")
    assert label == f"第 {order[0] + 1} 块，第 1 行第 1 列"
    tile.tap()
    tile.tap()  # a second tap on the same tile cancels the choice
    assert tile.get_attribute("aria-pressed") == "false" and box.locator("[data-moves]").inner_text() == "0"

    done = solve_by_swaps(box, order, stop=1)  # one swap, then a reload in the middle of the game
    page.reload()
    box = page.locator('[data-h5c="puzzle"]')
    assert arrangement(box) == order and box.locator("[data-moves]").inner_text() == str(done)
    assert box.get_by_role("button", name="重新打乱").is_enabled()
    done += solve_by_swaps(box, order)
    assert box.locator("[data-moves]").inner_text() == str(done)
    status = box.get_by_role("status")
    assert re.fullmatch(rf"拼图完成！用了 {done} 步，用时 \d+:\d\d，获得 10 积分", status.inner_text())
    assert not box.locator(".h5c-puzzle__tile").first.is_visible() and box.get_by_role("img").is_visible()
    assert page.evaluate("() => h5press.wallet().total") == 10

    page.reload()
    assert layout_shift(page) == 0
    box = page.locator('[data-h5c="puzzle"]')
    assert re.fullmatch(rf"拼图完成！用了 {done} 步，用时 \d+:\d\d，获得 10 积分", box.get_by_role("status").inner_text())
    box.get_by_role("button", name="再玩一次").tap()  # a new shuffle; its completion earns nothing more
    again = arrangement(box)
    assert again != order and box.locator("[data-moves]").inner_text() == "0"
    more = solve_by_swaps(box, again)
    assert box.get_by_role("status").inner_text().startswith(f"拼图完成！用了 {more} 步")
    assert "积分" not in box.get_by_role("status").inner_text()
    assert page.evaluate("() => h5press.wallet().total") == 10

    events = [(e["type"], e["component"], e["payload"]) for e in outbox(page) if e["type"] not in ("view", "dwell")]
    assert [t for t, *_ in events] == ["puzzle.start", "points", "puzzle.complete", "completion",
                                       "puzzle.start", "puzzle.complete", "completion"]
    assert {c for _, c, _ in events} == {"scenery"}
    completes = [p for t, _, p in events if t == "puzzle.complete"]
    assert [(p["moves"], p["grid"], p["mode"]) for p in completes] == [(done, 3, "swap"), (more, 3, "swap")]
    assert all(isinstance(p["ms"], int) and p["ms"] >= 0 for p in completes)
    assert [p["points"] for t, _, p in events if t == "points"] == [10]
    assert page.evaluate("() => h5press.selftest()") == []
    assert errors == []
    server.stop()
    context.close()


@cache
def solutions(n: int) -> dict[tuple[int, ...], tuple[int, ...] | None]:
    """Every arrangement a slide puzzle of n × n can reach from solved (the empty cell is piece
    n*n - 1), each mapped to the next arrangement on a shortest way back."""
    goal = tuple(range(n * n))
    nxt: dict[tuple[int, ...], tuple[int, ...] | None] = {goal: None}
    queue = deque([goal])
    while queue:
        state = queue.popleft()
        empty = state.index(n * n - 1)
        for step in (-n, n, -1, 1):
            other = empty + step
            if 0 <= other < n * n and (abs(step) == n or other // n == empty // n):
                moved = list(state)
                moved[empty], moved[other] = moved[other], moved[empty]
                key = tuple(moved)
                if key not in nxt:
                    nxt[key] = state
                    queue.append(key)
    return nxt


def path(n: int, order: list[int]) -> list[tuple[int, int]]:
    """(empty cell, tile that moves into it) for each move of a shortest solution."""
    known = solutions(n)
    state, moves = tuple(order), []
    while (following := known[state]) is not None:
        moves.append((state.index(n * n - 1), following.index(n * n - 1)))
        state = following
    return moves


KEY_FOR = {-1: "ArrowRight", 1: "ArrowLeft"}  # tile left of the empty cell moves right, and so on


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_slide_puzzles_are_solvable_and_solved_by_taps_and_arrow_keys(tmp_path, serve, browser, width):
    campaign = CAMPAIGN + "points:\n  actions:\n    slide: {points: 5, per_campaign: 1}\n"
    server, context, page, errors = open_served(site(tmp_path, SLIDE, campaign), serve, browser, "c/index.html", width,
                                                "block")
    small = page.locator('[data-id="small"]')
    small.get_by_role("button", name="开始拼图").tap()
    for _ in range(8):  # every shuffle (random here, no seed) is solvable and not already solved
        order = arrangement(small)
        assert tuple(order) in solutions(2) and order != [0, 1, 2, 3]
        small.get_by_role("button", name="重新打乱").tap()
    order = arrangement(small)
    assert small.locator(".is-empty").get_attribute("aria-label").startswith("空位，")
    tiles = small.locator(".h5c-puzzle__tile")
    far = next(i for i in range(4) if i + order.index(3) == 3)  # the cell diagonal to the empty one does not move
    tiles.nth(far).tap()
    assert arrangement(small) == order and small.get_by_role("status").inner_text() == "只能移动空位旁边的图块"
    taps = path(2, order)
    for _, tile in taps:
        tiles.nth(tile).tap()
    assert small.get_by_role("status").inner_text().startswith(f"拼图完成！用了 {len(taps)} 步")

    classic = page.locator('[data-id="classic"]')
    start = classic.get_by_role("button", name="开始拼图")
    start.focus()
    page.keyboard.press("Enter")  # started from the keyboard: focus moves to the board
    assert classic.evaluate("el => el.contains(document.activeElement)") and page.evaluate(
        "() => document.activeElement.dataset.pos") == "0"
    order = arrangement(classic)
    assert tuple(order) in solutions(3) and order != list(range(9))
    steps = path(3, order)
    for empty, tile in steps:
        step = tile - empty
        page.keyboard.press(KEY_FOR.get(step) or ("ArrowUp" if step == 3 else "ArrowDown"))
    assert classic.locator("[data-moves]").inner_text() == str(len(steps))
    assert classic.get_by_role("status").inner_text().startswith(f"拼图完成！用了 {len(steps)} 步")
    assert classic.get_by_role("button", name="再玩一次").evaluate("b => b === document.activeElement")
    assert page.evaluate("() => h5press.wallet().total") == 8
    page.reload()
    assert page.locator('[data-id="classic"] [data-moves]').inner_text() == str(len(steps))
    completes = [(e["component"], e["payload"]["moves"], e["payload"]["mode"]) for e in outbox(page)
                 if e["type"] == "puzzle.complete"]
    assert completes == [("small", len(taps), "slide"), ("classic", len(steps), "slide")]
    assert page.evaluate("() => h5press.selftest()") == []
    assert errors == []
    server.stop()
    context.close()
