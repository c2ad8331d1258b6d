"""The page at `/` and the OpenAPI page at `/docs` in a real browser: Playwright driving Debian's chromium, headless.

Never `playwright install`: the browser is the system's /usr/bin/chromium. Where it (or the playwright package) is
missing these tests skip, saying why; under CI (CI or MEDVAL_REQUIRE_BROWSER set, as .ci/run does) they fail instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..conftest import FIXTURES, ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BROWSER_REQUIRED = bool(os.environ.get("MEDVAL_REQUIRE_BROWSER") or os.environ.get("CI"))


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if BROWSER_REQUIRED:
            pytest.fail(f"browser tests must run here (CI / MEDVAL_REQUIRE_BROWSER): {missing}")
        pytest.skip(f"browser test skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tmp_path_factory.mktemp("web") / "serve.log").open("wb")
    command = [sys.executable, "-m", "validator.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, f"medval serve did not start; see {log.name}"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    outside: list[str] = []
    page.on("request", lambda request: None if request.url.startswith((base_url, "data:")) else outside.append(request.url))
    yield page
    context.close()
    assert not outside, f"the page fetched from outside the server: {outside}"  # works offline


def _check_example(page: Any, name: str) -> dict[str, list[str]]:
    """Load an example, submit it, and read the verdict table: rule code -> [severity, sentence, FHIRPath, source]."""
    page.goto("/")
    page.wait_for_selector(f"#example option[value='{name}']", state="attached")
    page.select_option("#example", name)
    page.wait_for_selector(f"#status:has-text('Loaded {name}.')")  # (wait_for_function would need eval, which the page's CSP forbids)
    page.click("#validate")
    page.wait_for_selector("#issues tbody tr")
    rows = page.eval_on_selector_all(
        "#issues tbody tr", "rows => rows.map(r => [r.dataset.rule, ...Array.from(r.cells).map(c => c.textContent)])"
    )
    return {row[0]: [row[1], row[3], row[4], row[5]] for row in rows}


def test_an_order_over_the_maximum_shows_its_verdict_and_a_critical_card(page: Any) -> None:
    verdict = _check_example(page, "orders/oral-max-exceeded")
    severity, sentence, path, source = verdict["daily-dose-exceeds-maximum"]
    assert severity == "error" and "120 mg" in sentence and "80 mg" in sentence
    assert path.startswith("MedicationRequest.dosageInstruction") and "StatPearls" in source
    page.wait_for_selector(".card.critical")
    summaries = page.eval_on_selector_all(".card .summary", "cards => cards.map(c => c.textContent)")
    assert any("exceeds" in s and "80 mg" in s for s in summaries)
    assert page.locator(".card.critical .suggestions button").count() >= 1  # the suggested correction, as the EHR offers it


def test_a_clean_order_shows_no_error_and_no_critical_card(page: Any) -> None:
    verdict = _check_example(page, "orders/oral-tablet-tid")
    assert "daily-dose-exceeds-maximum" not in verdict
    assert all(severity not in ("error", "fatal") for severity, *_ in verdict.values())
    page.wait_for_selector("#cards > *")
    assert page.locator(".card.critical").count() == 0


def test_a_bundle_sends_its_record_as_prefetch(page: Any) -> None:
    verdict = _check_example(page, "context/renal-egfr-low")
    assert any(path.startswith("Bundle.entry[") for _, _, path, _ in verdict.values())
    page.wait_for_selector("#cards > *")
    assert "prefetch" in page.text_content("#cds-note")


def test_pasted_fhir_xml_is_checked(page: Any) -> None:
    page.goto("/")
    page.fill("#resource", (FIXTURES / "medval-xml" / "orders" / "oral-max-exceeded.xml").read_text())
    page.click("#validate")
    page.wait_for_selector("#issues tbody tr[data-rule='daily-dose-exceeds-maximum']")
    assert "JSON" in page.text_content("#cds-note")  # cards need JSON: said, not silently empty


def test_docs_work_offline_and_list_every_operation(page: Any) -> None:
    page.goto("/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = set(page.eval_on_selector_all(".opblock-summary-path", "nodes => nodes.map(n => n.getAttribute('data-path'))"))
    expected = {
        "/fhir/MedicationRequest/$validate",
        "/fhir/Bundle/$validate",
        "/fhir/metadata",
        "/cds-services",
        "/cds-services/{service_id}",
        "/cds-services/{service_id}/feedback",
        "/health",
    }
    assert expected <= paths, paths
