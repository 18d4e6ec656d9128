"""Real-browser smoke test: Debian's chromium (via Playwright) against `streamlit run app.py`.

The map renders (Leaflet inside the folium iframe), Solve produces metrics, and scenarios
saved from the sidebar appear on the Compare page; the Rollout page plans and draws its map
(its map was once blank in the browser only). Screenshots are kept in ``tests/artifacts/``
(git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium is not installed at /usr/bin/chromium "
        "(run .ci/install-system-deps.sh)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "KANGLE_SCENARIO_DIR": str(tmp_path / "scenarios"),
        "KANGLE_LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                text = (tmp_path / "streamlit.log").read_text()
                pytest.fail(f"streamlit did not start on {url}:\n{text[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


def _shot(page: object, name: str, tmp_path: Path) -> Path:
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / name
    except OSError:
        target = tmp_path / name
    # Streamlit scrolls inside its main block: use a tall window to catch the whole page
    page.set_viewport_size({"width": 1500, "height": 2600})  # type: ignore[attr-defined]
    page.wait_for_timeout(1_500)  # type: ignore[attr-defined]
    page.screenshot(path=str(target), full_page=True)  # type: ignore[attr-defined]
    page.set_viewport_size({"width": 1500, "height": 1100})  # type: ignore[attr-defined]
    print(f"screenshot: {target}")  # noqa: T201 - where to look
    return target


def _save_scenario(page: object, name: str) -> None:
    field = page.get_by_label("方案名称")  # type: ignore[attr-defined]
    field.fill(name)
    field.press("Enter")
    page.get_by_role("button", name="保存当前方案").click()  # type: ignore[attr-defined]
    page.get_by_text(f"已保存方案“{name}”。").wait_for(timeout=30_000)  # type: ignore[attr-defined]


@contextmanager
def _browser_page(*, console_errors: bool = False) -> Iterator[tuple[Any, list[str]]]:
    """A chromium page (Debian's binary) and the list its JavaScript errors are collected in."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1500, "height": 1100})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        if console_errors:
            page.on(
                "console",
                lambda msg: (
                    errors.append(msg.text)
                    if msg.type == "error" and "Failed to load resource" not in msg.text
                    else None
                ),
            )
        try:
            yield page, errors
        finally:
            context.close()
            browser.close()


def test_map_solve_save_compare(app_url: str, tmp_path: Path) -> None:
    with _browser_page() as (page, errors):
        page.goto(app_url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="康乐家园选址方案").wait_for(timeout=90_000)
        # the map renders: Leaflet draws inside the folium component's iframe
        frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first
        frame.locator(".leaflet-container").wait_for(timeout=60_000)
        # layers are drawn on a canvas (prefer_canvas), with the layer switch and labels
        frame.locator(".leaflet-overlay-pane canvas").first.wait_for(timeout=30_000)
        frame.locator(".leaflet-control-layers").first.wait_for(timeout=30_000)
        assert frame.get_by_text("估算（直线距离×绕行系数）").count() >= 1  # Chinese only (#18)

        # Solve produces metrics
        page.get_by_role("button", name="求解", exact=True).click()
        metric = page.get_by_test_id("stMetric").filter(has_text="30 分钟内患者占比")
        metric.wait_for(timeout=240_000)
        value = metric.get_by_test_id("stMetricValue").inner_text()
        assert value.endswith("%"), value
        assert 0.0 < float(value.rstrip("%")) <= 100.0
        page.get_by_text("已证明最优").or_(page.get_by_text("时间上限内的最好方案")).first.wait_for(
            timeout=30_000
        )
        frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first
        frame.locator(".leaflet-container").wait_for(timeout=60_000)
        page.wait_for_timeout(2_000)
        # hovering the map shows a Chinese tooltip (demand cell or county figures)
        box = page.locator('iframe[title="streamlit_folium.st_folium"]').first.bounding_box()
        assert box is not None
        tip = ""
        for dx in range(-240, 241, 40):
            page.mouse.move(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2)
            page.wait_for_timeout(300)
            tips = frame.locator(".leaflet-tooltip")
            if tips.count():
                tip = tips.first.inner_text()
                break
        assert "区县" in tip, tip
        _shot(page, "01_scenario_solved.png", tmp_path)

        # save two scenarios from the sidebar; both appear in Compare
        _save_scenario(page, "浏览器测试 A")
        # a second scenario with more sites (saved without solving)
        sites = page.get_by_role("spinbutton", name="站点数（含现有站点）")
        sites.fill("8")
        sites.press("Enter")
        page.get_by_text("参数已修改").wait_for(timeout=30_000)
        _save_scenario(page, "浏览器测试 B")
        page.get_by_role("link", name="方案对比").click()
        page.get_by_role("heading", name="方案对比").wait_for(timeout=30_000)
        page.get_by_text("选择 2–4 个已保存的方案").wait_for(timeout=30_000)
        page.get_by_test_id("stMultiSelect").click()
        options = page.get_by_role("option")
        options.first.wait_for(timeout=30_000)
        texts = options.all_inner_texts()
        assert "浏览器测试 A" in texts, texts
        assert "浏览器测试 B" in texts, texts
        _shot(page, "02_compare_options.png", tmp_path)
        page.get_by_role("option", name="浏览器测试 A").click()
        page.get_by_test_id("stMultiSelect").click()
        page.get_by_role("option", name="浏览器测试 B").click()
        page.keyboard.press("Escape")
        page.get_by_role("heading", name="地图对照").wait_for(timeout=300_000)
        page.get_by_role("heading", name="站点增减").wait_for(timeout=60_000)
        page.get_by_text("减少站点").wait_for(timeout=60_000)
        assert page.get_by_text("新增站点：0 个").count() == 0  # 8 sites vs 6
        frames = page.locator('iframe[title="streamlit_folium.st_folium"]')
        assert frames.count() == 2
        page.wait_for_timeout(3_000)
        _shot(page, "03_compare.png", tmp_path)
        assert not errors, errors


def test_rollout_page_plans_and_draws_its_map(app_url: str, tmp_path: Path) -> None:
    with _browser_page(console_errors=True) as (page, errors):
        page.goto(app_url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="康乐家园选址方案").wait_for(timeout=90_000)
        page.get_by_role("link", name="分期推进").click()
        page.get_by_role("heading", name="分期推进计划").wait_for(timeout=30_000)
        page.get_by_role("button", name="生成分期计划").click()
        page.get_by_role("heading", name="逐年进展与目标").wait_for(timeout=300_000)
        # the map renders: Leaflet inside the iframe, the year layers drawn and listed in
        # the layer switch (a layer added after the switch left the map blank), legend
        frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first
        frame.locator(".leaflet-container").wait_for(timeout=60_000)
        frame.locator(".leaflet-overlay-pane canvas").first.wait_for(timeout=30_000)
        frame.locator(".leaflet-control-layers").first.wait_for(timeout=30_000)
        overlays = frame.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        assert [o.strip() for o in overlays] == [
            "区县",
            "已有站点的县区（按首个站点年份）",
            "站点（按开设年份）",
        ], overlays
        frame.get_by_text("分期推进 · 截至2025年").wait_for(timeout=30_000)
        assert frame.get_by_text("2025年开设").count() >= 1
        assert frame.get_by_text("估算（直线距离×绕行系数）").count() >= 1  # Chinese only (#18)
        # the county names are drawn on the map (boundaries always shown, no tiles)
        assert frame.get_by_text("仙游县").count() >= 1
        page.get_by_text("2025 年开设的站点").wait_for(timeout=30_000)
        page.wait_for_timeout(2_000)
        _shot(page, "04_rollout.png", tmp_path)
        assert not errors, errors
