"""What the headless-Chromium scripts share: the Debian Chromium driver, the one JSON line each script
ends with, and a urllib handler that leaves redirects to the caller (the 303s are part of the contract)."""
from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.request
from typing import Any

DRIVERS: list[Any] = []


def emit(obj: dict[str, Any], code: int) -> None:
    """Quits every browser started here, writes the result line and exits at once with `code`."""
    for d in DRIVERS:
        try:
            d.quit()
        except Exception:  # noqa: BLE001 - already gone
            pass
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()
    os._exit(code)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def browser(width: int = 1280, height: int = 900) -> Any:
    """A headless Chromium (Debian's chromium and chromedriver) with a throwaway profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
              "--password-store=basic", "--hide-scrollbars", f"--window-size={width},{height}",
              f"--user-data-dir={tempfile.mkdtemp(prefix='mcpctl-chromium-')}"):
        options.add_argument(a)
    # Selenium Manager would try to download a driver: point at Debian's.
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    d = webdriver.Chrome(service=service, options=options)
    d.set_page_load_timeout(60)
    DRIVERS.append(d)
    return d
