"""The Space in a real browser: `app.py` served on 127.0.0.1 (offline, without the moodreader_hf package), driven by
Debian's headless Chromium through Selenium; uploads an EDF, a simulated example and a corrupt file."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import mne
import numpy as np
import pytest

from moodreader_hf import hub
from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
from moodreader_hf.space import build_space

from .test_hub import save_tiny_model

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
MISSING = [name for name, present in [
    (str(CHROMIUM), CHROMIUM.is_file()),
    (str(CHROMEDRIVER), CHROMEDRIVER.is_file()),
    ("gradio", importlib.util.find_spec("gradio") is not None),
    ("selenium", importlib.util.find_spec("selenium") is not None),
] if not present]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"browser test needs {', '.join(MISSING)} (apt-get install chromium chromium-driver; "
                          "pip install 'moodreader-hf[dev,space]')")
STARTUP_LIMIT = 600.0
"""Seconds to wait for the app to be ready: importing torch, transformers and gradio and loading the model through
remote code takes about 20 s on an idle 2-core machine and several times that when other jobs share it. The wait
ends as soon as the app is ready (its page and its Gradio configuration answer); it fails at once if the app exits.
The time it took is printed, not asserted."""
RESULT_LIMIT = 180.0
"""Seconds to wait for a result in the page (one analysis of a 13 s recording: about 2 s idle)."""
BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1700")
RUN_WITHOUT_PACKAGE = ("import runpy, sys; sys.modules['moodreader_hf'] = None; "
                       "runpy.run_path('app.py', run_name='__main__')")
"""`python app.py` with the moodreader_hf package made unimportable, as on a Space."""


def app_ready(url: str) -> bool:
    """Whether the app serves its page and its Gradio configuration (the components the page builds itself from)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as page, urllib.request.urlopen(f"{url}config", timeout=5) as config:
            return page.status == 200 and config.status == 200 and b"components" in config.read()
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``(url, space folder)`` of the running app; prints how long it took to answer."""
    root = tmp_path_factory.mktemp("space-browser")
    space = build_space(save_tiny_model(root / "model"), root / "space", copy_model=True, example_seconds=12.0)
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "HF_HOME": str(root / "hf_home"),
           "PYTHONPATH": "", "MPLCONFIGDIR": str(root / "mpl")}
    log = (root / "app.log").open("w")
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", RUN_WITHOUT_PACKAGE], cwd=space, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"app.py exited with {process.returncode}:\n{(root / 'app.log').read_text()[-3000:]}")
            if app_ready(url):
                break
            if time.perf_counter() - started > STARTUP_LIMIT:
                pytest.fail(f"app.py did not answer within {STARTUP_LIMIT} s:\n{(root / 'app.log').read_text()}")
            time.sleep(0.2)
        print(f"\napp.py answered after {time.perf_counter() - started:.1f} s")
        yield url, space
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Debian's Chromium, headless, through its chromedriver; selenium-manager is told to download nothing."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, url: str):
    from selenium.webdriver.common.by import By

    driver.get(url)
    wait_for(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#recording input[type=file]"), "the upload box")


def wait_for(driver, condition, what: str, limit: float = RESULT_LIMIT):
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    from selenium.webdriver.common.by import By

    status = " ".join(element.text for element in driver.find_elements(By.ID, "status"))
    pytest.fail(f"the page did not show {what} within {limit} s (status box: {status!r})")


def rendered_images(driver) -> list:
    """Images of the timeline and topomap outputs that the browser has decoded (naturalWidth > 0)."""
    from selenium.webdriver.common.by import By

    images = driver.find_elements(By.CSS_SELECTOR, "#timeline img, #topomap img")
    return [image for image in images if driver.execute_script("return arguments[0].naturalWidth", image) > 0]


def shown_result(driver) -> tuple[str, dict[str, int]]:
    """The overall label and each class's percentage as the page shows them."""
    from selenium.webdriver.common.by import By

    label = driver.find_element(By.CSS_SELECTOR, "#overall [data-testid='label-output-value']").text
    percentages = {}
    for row in driver.find_elements(By.CSS_SELECTOR, "#overall .confidence-set"):
        name = row.find_element(By.CSS_SELECTOR, ".text").text
        percentages[name] = int(row.find_element(By.CSS_SELECTOR, ".confidence").text.rstrip("%"))
    return label, percentages


def assert_shows(driver, expected: dict) -> None:
    label, percentages = shown_result(driver)
    assert label == expected["label"]
    assert set(percentages) == {entry["label"] for entry in expected["scores"]}
    for entry in expected["scores"]:
        assert abs(percentages[entry["label"]] - 100 * entry["score"]) <= 0.51


def test_upload_edf_shows_label_timeline_and_topomap(served, browser, tmp_path):
    from selenium.webdriver.common.by import By

    url, space = served
    names = [name for name in SEED_CHANNEL_NAMES if name not in ("CB1", "CB2")]
    signals = 20e-6 * np.random.default_rng(11).standard_normal((len(names), 200 * 17))
    edf = tmp_path / "my-recording.edf"
    mne.export.export_raw(edf, mne.io.RawArray(signals, mne.create_info(names, 200.0, "eeg"), verbose="error"),
                          fmt="edf", verbose="error")
    expected = hub.load_pipeline(space / "model")(str(edf))

    open_page(browser, url)
    browser.find_element(By.CSS_SELECTOR, "#recording input[type=file]").send_keys(str(edf))
    wait_for(browser, lambda: len(rendered_images(browser)) == 2, "the timeline and topomap images")
    assert_shows(browser, expected)
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and [name for name in resources if not name.startswith(url)] == []
    images = rendered_images(browser)
    assert all(image.size["width"] > 200 and image.size["height"] > 150 for image in images)
    assert "Electrodes not in the recording (masked): CB1, CB2." in browser.find_element(By.ID, "status").text
    browser.save_screenshot(str(tmp_path / "space-upload.png"))
    assert (tmp_path / "space-upload.png").stat().st_size > 10_000

    example = space / "examples" / "simulated-positive.edf"
    expected = hub.load_pipeline(space / "model")(str(example))
    open_page(browser, url)
    buttons = browser.find_elements(By.XPATH, "//button[contains(., 'simulated-positive (simulated)')]")
    assert len(buttons) == 1
    buttons[0].click()
    wait_for(browser, lambda: len(rendered_images(browser)) == 2, "the results of the simulated example")
    assert_shows(browser, expected)
    browser.save_screenshot(str(tmp_path / "space-example.png"))


def test_corrupt_file_shows_a_readable_error(served, browser, tmp_path):
    from selenium.webdriver.common.by import By

    url, _ = served
    corrupt = tmp_path / "corrupt.edf"
    corrupt.write_bytes(b"0       not an EDF header" + bytes(range(256)) * 8)
    open_page(browser, url)
    browser.find_element(By.CSS_SELECTOR, "#recording input[type=file]").send_keys(str(corrupt))
    status = wait_for(browser, lambda: [e for e in browser.find_elements(By.ID, "status") if e.text.strip()],
                      "an error message")[0].text
    assert "Could not analyse this recording" in status
    assert "expected a recording file MNE can read" in status and "got 'corrupt.edf'" in status
    assert "Traceback" not in browser.page_source and "/tmp/gradio" not in status
    assert browser.find_elements(By.CSS_SELECTOR, "#overall [data-testid='label-output-value']") == []
    assert rendered_images(browser) == []
    browser.save_screenshot(str(tmp_path / "space-error.png"))
