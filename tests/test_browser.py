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


# ------------------------------------------------------------------ the five pages, both languages
# Issue 18: figures that cannot mislead a meeting. A walk through the five pages in Chinese and
# in English that fails on a legend missing an entry (or cut), a map that does not fit its
# region (or labels that collide, or Compare maps on different extents), an English word in
# Chinese mode (Chinese in English mode, place names and user data aside), and a Compare row
# whose label does not say the limit its scenario is judged at.

TEMPLATE = ROOT / "data" / "facilities_template.csv"
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'

ALLOWED_ASCII = frozenset(
    {
        # proper nouns, models, solvers, coordinate systems and formats
        "MCLP",
        "LSCP",
        "HIGHS",
        "HiGHS",
        "CBC",
        "WGS",
        "GCJ",
        "CGCS",
        "OpenStreetMap",
        "CARTO",
        "Leaflet",
        "Excel",
        "PDF",
        "PNG",
        "HTML",
        "GeoPackage",
        "GeoJSON",
        "CSV",
        "XLSX",
        "JSON",
        "GEOJSON",
        "GPKG",
        "ZIP",
        "Shapefile",
        "GIS",
        "cnmaps",
        "MIT",
        "scenario",
        "json",  # the file name scenario.json
        "csv",  # a file name's extension (the planner's upload)
        "osm",
        "pbf",  # the OpenStreetMap file format .osm.pbf
        "km",  # the unit on the scale bar and in labels
        "English",
        "Language",  # the language switch names itself in both languages
        "KANGLE",
        "TIANDITU",
        "KEY",
        "console",
        "tianditu",
        "gov",
        "cn",  # how to get a key
        "MB",  # the upload limit (Streamlit's own uploader texts are replaced: ui/style.py)
    }
)
"""ASCII words a Chinese page may show: proper nouns, units, formats, Streamlit's own text."""

PUTIAN_PLACES = ("莆田市", "福建省", "城厢区", "涵江区", "荔城区", "秀屿区", "仙游县")


def _page_text(page: Any) -> str:
    """Everything a reader sees: the page, its maps (iframes) and its tables' cells."""
    # Material icons are ligature words in a span ("directions_car"): not text a reader sees
    visible = """e => { const c = e.cloneNode(true);
        c.querySelectorAll('[data-testid="stIconMaterial"], span[role="img"][translate="no"]')
            .forEach(i => i.remove());
        document.body.appendChild(c); const t = c.innerText; c.remove(); return t; }"""
    parts = [
        page.locator("[data-testid='stMain']").evaluate(visible),
        page.locator("[data-testid='stSidebar']").evaluate(visible),
    ]
    frames = page.locator(MAP_FRAME)
    parts.extend(
        page.frame_locator(MAP_FRAME).nth(i).locator("body").inner_text()
        for i in range(frames.count())
        if frames.nth(i).is_visible()
    )
    tables = page.locator("[data-testid='stDataFrame'] table")  # cells of the visible tables
    parts.extend(tables.nth(i).text_content() or "" for i in range(tables.count()))
    return "\n".join(parts)


def _foreign(text: str, lang: str, *, allowed_cjk: set[str]) -> list[str]:
    """Words of the other language: English words on a Chinese page, Chinese on an English one."""
    import re  # noqa: PLC0415

    if lang == "zh":
        words = {w.strip("-'") for w in re.findall(r"[A-Za-z][A-Za-z'\-]+", text)}
        return sorted(w for w in words if len(w) > 1 and w not in ALLOWED_ASCII)
    pattern = r"[\u3400-\u9fff\uff08\uff09（）]+"
    runs = set(re.findall(pattern, text))
    pieces = {p for name in allowed_cjk for p in re.findall(pattern, name)}  # as they split
    out = []
    for run in runs:
        rest = run
        for name in sorted(pieces, key=len, reverse=True):
            rest = rest.replace(name, "")
        if re.search(r"[\u3400-\u9fff]", rest):
            out.append(run)
    return sorted(out)


def _check_language(page: Any, lang: str, where: str, *, allowed_cjk: set[str]) -> None:
    found = _foreign(_page_text(page), lang, allowed_cjk=allowed_cjk)
    assert not found, f"{where} ({lang}): words of the other language {found}"


def _check_maps(page: Any, *, expect: dict[int, set[str]] | None = None) -> list[str]:
    """Every map fits its region, names no county twice over another, keeps its legend whole.

    ``expect``: legend entries each map (by position) must show. Returns the maps' region
    extents in pixels (``data-region-px``).
    """
    frames = page.locator(MAP_FRAME)
    extents = []
    for i in range(frames.count()):
        if not frames.nth(i).is_visible():  # a map of the page's previous run, going away
            continue
        frame = page.frame_locator(MAP_FRAME).nth(i)
        box = frame.locator(".leaflet-container")
        box.wait_for(timeout=60_000)
        page.wait_for_timeout(800)
        px = box.get_attribute("data-region-px")
        assert px, f"map {i}: not fitted"
        x0, y0, x1, y1, w, h = (int(v) for v in px.split(","))
        # the region fills the map: most of its width or of its height, and stays inside
        assert (x1 - x0) / w >= 0.5 or (y1 - y0) / h >= 0.5, f"map {i}: region small {px}"
        assert x0 >= -2 and y0 >= -2 and x1 <= w + 2 and y1 <= h + 2, f"map {i}: cropped {px}"
        # and clear of the layer switch (left) and the legend (right)
        left = box.evaluate(
            "b => { const c = b.querySelector('.leaflet-control-layers');"
            " return c ? c.getBoundingClientRect().right : 0; }"
        )
        right = box.evaluate(
            "b => { const c = b.querySelector('.kangle-legend');"
            " return c ? c.parentNode.getBoundingClientRect().left : b.clientWidth; }"
        )
        if left < 0.3 * w and w - right < 0.42 * w:  # not capped on a narrow map
            assert x0 >= left - 4 and x1 <= right + 4, f"map {i}: under a control {px}"
        # county names never overlap
        rects = box.evaluate(
            """b => Array.from(b.querySelectorAll('.kangle-label'))
                .filter(e => getComputedStyle(e).visibility !== 'hidden')
                .map(e => { const r = e.getBoundingClientRect();
                            return [r.left, r.top, r.right, r.bottom]; })"""
        )
        assert all(r[2] > r[0] for r in rects), f"map {i}: county names without a size"
        for a in range(len(rects)):
            for b in range(a + 1, len(rects)):
                p, q = rects[a], rects[b]
                apart = p[2] <= q[0] or q[2] <= p[0] or p[3] <= q[1] or q[3] <= p[1]
                assert apart, f"map {i}: county names overlap {p} {q}"
        legend = frame.locator(".kangle-legend")
        if legend.count():
            cut = legend.evaluate(
                """l => { const p = l.parentNode; const r = p.getBoundingClientRect();
                          return p.scrollHeight > p.clientHeight + 1 || r.top < 0 ||
                                 r.bottom > window.innerHeight + 1; }"""
            )
            folded = legend.evaluate("l => l.querySelector('details') !== null")
            assert folded or not cut, f"map {i}: legend cut"
            entries = set(frame.locator(".kangle-legend-entry").all_text_contents())
            missing = (expect or {}).get(i, set()) - entries
            assert not missing, f"map {i}: legend lacks {missing} (has {entries})"
        extents.append(px)
    return extents


def _t(key: str, lang: str, **params: Any) -> str:
    from planning import i18n  # noqa: PLC0415

    return i18n.text(f"ui.{key}", lang, **params)


def i18n_text(key: str, lang: str) -> str:
    from planning import i18n  # noqa: PLC0415

    return i18n.text(key, lang)


def _r(key: str, lang: str) -> str:
    from planning import i18n  # noqa: PLC0415

    return i18n.text(f"report.{key}", lang)


def _goto(page: Any, lang: str, name: str) -> None:
    page.get_by_role("link", name=_t(name, lang)).click()
    page.wait_for_timeout(1_500)


def _table_rows(page: Any, index: int = 0) -> list[list[str]]:
    """The cells of a table (st.dataframe's accessible table, drawn once in view), by row."""
    frame = page.get_by_test_id("stDataFrame").nth(index)
    frame.scroll_into_view_if_needed()
    table = frame.locator("table")
    table.locator("tr").nth(1).wait_for(state="attached", timeout=60_000)
    rows = table.locator("tr")
    return [
        [c.strip() for c in rows.nth(i).locator("th, td").all_text_contents()]
        for i in range(rows.count())
    ]


def _walk(page: Any, lang: str, tmp_path: Path, allowed_cjk: set[str]) -> None:
    shot = f"{'1' if lang == 'zh' else '2'}"
    # ---- Scenario page: solve, figures with who they leave out, legend whole
    _goto(page, lang, "page_scenario")
    page.get_by_role("heading", name=_t("scenario_title", lang)).wait_for(timeout=60_000)
    page.get_by_role("button", name=_t("solve", lang), exact=True).click()
    page.get_by_test_id("stMetric").first.wait_for(timeout=240_000)
    page.get_by_text(_t("travel_note", lang, note="").strip()[:12]).first.wait_for(timeout=60_000)
    kinds = {_r("map.new", lang), _r("map.existing", lang), _r("map.rehab_existing", lang)}
    page.wait_for_timeout(2_000)
    _check_maps(page, expect={0: kinds})
    _check_language(page, lang, "scenario", allowed_cjk=allowed_cjk)
    _shot(page, f"{shot}1_{lang}_scenario.png", tmp_path)
    page.get_by_role("tab", name=_t("tab_sites", lang)).click()
    page.wait_for_timeout(1_000)
    _check_language(page, lang, "site table", allowed_cjk=allowed_cjk)
    # the province overview (#15): its map fitted, names apart, legend whole; one language
    page.get_by_role("tab", name=_t("tab_overview", lang)).click()
    page.get_by_text(_t("ov_milestones", lang)).first.wait_for(timeout=60_000)
    page.wait_for_timeout(2_000)
    offers = {i18n_text("regions.ov_map_offers", lang)}
    _check_maps(page, expect={1: offers})  # map 0: the plan's, above the tabs
    _check_language(page, lang, "province overview", allowed_cjk=allowed_cjk)

    # ---- Region page: the map fits Putian, names apart, facilities in the legend
    _goto(page, lang, "page_region")
    page.locator(MAP_FRAME).first.wait_for(timeout=60_000)
    page.wait_for_timeout(2_000)
    _check_maps(page)
    _check_language(page, lang, "region", allowed_cjk=allowed_cjk)
    _shot(page, f"{shot}2_{lang}_region.png", tmp_path)

    # ---- Compare: each scenario at its own limit, one extent, differences like with like
    _goto(page, lang, "page_compare")
    page.get_by_test_id("stMultiSelect").click()
    for name in ("A 30", "B 20"):
        page.get_by_role("option", name=name).click()
        page.get_by_test_id("stMultiSelect").click()
    page.keyboard.press("Escape")
    page.get_by_role("heading", name=_t("compare_maps", lang)).wait_for(timeout=300_000)
    page.wait_for_timeout(3_000)
    rows = {r[0]: r[1:] for r in _table_rows(page) if r}
    own = _t("m_share_within_own", lang, T="30 / 20")
    assert own in rows, f"no row judged at each plan's own limit: {list(rows)}"
    a, b, diff = rows[own][:3]
    assert a.endswith(_t("value_at_limit", lang, value="", T="30")), a
    assert b.endswith(_t("value_at_limit", lang, value="", T="20")), b
    assert diff == "—", diff  # a 20-minute share less a 30-minute share is no difference
    for label in rows:  # no row names one limit for both plans
        assert _t("m_share_within", lang, T="30") != label, label
    extents = _check_maps(page)
    assert len(extents) == 2 and extents[0] == extents[1], f"Compare maps differ: {extents}"
    _check_language(page, lang, "compare", allowed_cjk=allowed_cjk)
    _shot(page, f"{shot}3_{lang}_compare.png", tmp_path)

    # ---- Trade-off: the curve's travel on every plan's basis, who it leaves out
    _goto(page, lang, "page_tradeoff")
    page.get_by_role("button", name=_t("tradeoff_run", lang)).click()
    page.get_by_text(_t("curve_left_out", lang)).first.wait_for(state="attached", timeout=300_000)
    page.wait_for_timeout(2_000)
    _check_language(page, lang, "trade-off", allowed_cjk=allowed_cjk)
    _shot(page, f"{shot}4_{lang}_tradeoff.png", tmp_path)

    # ---- Rollout: planned once (kept across the language switch), its map and its note
    _goto(page, lang, "page_rollout")
    page.get_by_role("heading", name=_t("ro_title", lang)).wait_for(timeout=60_000)
    if lang == "zh":
        page.get_by_role("button", name=_t("ro_run", lang)).click()
    page.get_by_role("heading", name=_t("ro_table", lang)).wait_for(timeout=300_000)
    page.wait_for_timeout(2_000)
    page.get_by_text(_r("rollout_book.differs_note", lang)[:20]).first.wait_for(timeout=30_000)
    _check_maps(page)
    _check_language(page, lang, "rollout", allowed_cjk=allowed_cjk)
    _shot(page, f"{shot}5_{lang}_rollout.png", tmp_path)


def test_five_pages_in_both_languages(app_url: str, tmp_path: Path) -> None:
    import pandas as pd  # noqa: PLC0415

    facilities = pd.read_csv(TEMPLATE, encoding="utf-8-sig")
    # user data in the other language may show: scenario and facility names, place names
    allowed_cjk = {*PUTIAN_PLACES, "中文", "语言", "高德", "天地图", "莆田市示范方案", "莆田设施"}
    allowed_cjk.add("精康融合行动")  # the policy's name, given with its pinyin in English
    allowed_cjk |= {str(n) for n in facilities.iloc[:, 0]}
    with _browser_page() as (page, errors):
        page.goto(app_url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="康乐家园选址方案").wait_for(timeout=90_000)
        # facilities with a known capacity: the existing site's load against it, every type
        # of the legend
        _goto(page, "zh", "page_region")
        upload = tmp_path / "莆田设施.csv"  # a planner's own file name (shown as given)
        upload.write_bytes(TEMPLATE.read_bytes())
        page.locator("[data-testid='stMain'] input[type='file']").first.set_input_files(str(upload))
        page.get_by_role("button", name=_t("facilities_use", "zh")).click()
        page.get_by_text("已载入").first.wait_for(timeout=60_000)
        # two scenarios: 30 and 20 minutes
        _goto(page, "zh", "page_scenario")
        page.get_by_role("heading", name="康乐家园选址方案").wait_for(timeout=60_000)
        _save_scenario(page, "A 30")
        limit = page.get_by_role("spinbutton", name=_t("max_travel_min", "zh"))
        limit.fill("20")
        limit.press("Enter")
        page.wait_for_timeout(1_500)
        _save_scenario(page, "B 20")
        limit.fill("30")
        limit.press("Enter")
        page.wait_for_timeout(1_500)
        _walk(page, "zh", tmp_path, allowed_cjk)
        page.get_by_text("English", exact=True).click()
        page.wait_for_timeout(2_000)
        _walk(page, "en", tmp_path, allowed_cjk)
        assert not errors, errors
