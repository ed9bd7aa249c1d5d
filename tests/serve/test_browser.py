"""The page in headless Chromium (Debian's package, driven by Playwright; ``make test`` installs
both): upload a photo, wait for the score and the suggestions, save a screenshot."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from redaes.serve import create_app
from tests.serve.test_process import free_port

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def live_url(assessor) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app({"tiny": assessor}), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_page_scores_explains_and_suggests(live_url, photo, tmp_path):
    assert CHROMIUM.is_file(), (
        "install Debian's chromium (make test does: apt-get install chromium)"
    )
    image = tmp_path / "photo.jpg"
    photo.resize((160, 160)).save(image, quality=92)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(live_url + "/")
            page.set_input_files("#file", str(image))
            page.wait_for_function(
                "document.querySelector('#score').textContent.match(/^\\d+\\.\\d\\d$/)",
                timeout=30_000,
            )
            page.wait_for_selector("#effects li", timeout=30_000)
            page.wait_for_function(
                "!document.querySelector('#suggestions').textContent.includes('searching')",
                timeout=60_000,
            )
            score = float(page.text_content("#score") or "nan")
            assert 0.0 <= score <= 10.0
            assert page.text_content("#error") == ""
            shown = page.locator(".suggestion").count()
            assert shown >= 1 or "no edit" in (page.text_content("#suggestions") or "")
            if shown:
                assert "gain +" in (page.text_content(".suggestion figcaption >> nth=1") or "")
            page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
            assert (tmp_path / "page.png").stat().st_size > 1000
        finally:
            browser.close()
