"""The docs site builds offline from nbs/ and its pages open in a real headless browser.

The site is built by scripts/build_docs.py (nbdev's processors + smalldocs, from nbs/_quarto.yml)
into a temporary folder, served over http on 127.0.0.1, and each lesson page is loaded in Debian's
`chromium`. Checks: every lesson notebook has its page; each page has its title, a sidebar whose
links all resolve, images that load, internal links (and their #anchors) that resolve, no raw
`#|` directive text, and no request the browser made answered with an error.

FTCOURSE_DOCS_SITE=_site  reuse a site built by `make docs` when it is newer than every notebook.
FTCOURSE_REQUIRE_BROWSER=1  fail, instead of skip, when chromium is missing (set by `make docs`).
FTCOURSE_DOCS_SHOTS=DIR   keep the screenshots there.
"""

from __future__ import annotations

import base64
import binascii
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
BUILD = ROOT / "scripts" / "build_docs.py"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
]
PAGE_TIMEOUT = 60     # seconds for one chromium run
BUILD_TIMEOUT = 900   # seconds for the whole site build
DIRECTIVE = re.compile(r"^\s*(#\|\s*[A-Za-z_][\w-]*)", re.M)  # a `#| directive` line in a code cell


# ------------------------------------------------------------------ what the site must contain

def lesson_notebooks() -> list[Path]:
    "Every notebook under nbs/ whose name (and folders) do not start with _ or ."
    return sorted(p for p in NBS.rglob("*.ipynb")
                  if not any(part.startswith(("_", ".")) for part in p.relative_to(NBS).parts))


def page_of(nb: Path) -> PurePosixPath:
    "The page nbdev gives a notebook: the numeric prefix dropped (00_core.ipynb -> core.html), as on the canonical site."
    from nbdev.config import nbpath2html

    rel = PurePosixPath(nb.relative_to(NBS).as_posix())
    return rel.parent / nbpath2html(Path(rel.name)).name


def notebook_title(nb: Path) -> str | None:
    "The `# Title` of the notebook's first markdown cell, which becomes the page's title."
    cells = json.loads(nb.read_text(encoding="utf-8")).get("cells", [])
    md = next((c for c in cells if c.get("cell_type") == "markdown"), None)
    if md is None:
        return None
    src = "".join(md["source"]) if isinstance(md["source"], list) else md["source"]
    m = re.search(r"^#\s+(\S.*?)\s*$", src, re.M)
    return m.group(1) if m else None


def plain(md_text: str) -> str:
    "A title as text: Markdown backticks, emphasis and links removed, spaces collapsed."
    t = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", md_text)
    t = re.sub(r"[`*_]", "", t)
    return " ".join(t.split())


# ------------------------------------------------------------------ the site, served

def _fresh(site: Path) -> bool:
    if not (site / ".pages.json").is_file():
        return False
    built = (site / ".pages.json").stat().st_mtime
    sources = [*NBS.rglob("*.ipynb"), *(ROOT / "ftcourse").glob("*.py"), NBS / "_quarto.yml", NBS / "styles.css",
               ROOT / "pyproject.toml", BUILD]
    return all(p.stat().st_mtime <= built for p in sources if p.exists())


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    reuse = os.environ.get("FTCOURSE_DOCS_SITE")
    if reuse and _fresh((ROOT / reuse).resolve()):
        return (ROOT / reuse).resolve()
    out = tmp_path_factory.mktemp("docs") / "_site"
    try:
        r = subprocess.run([sys.executable, str(BUILD), "--out", str(out), "-q"], cwd=ROOT,
                           capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"scripts/build_docs.py took more than {BUILD_TIMEOUT} s")
    if r.returncode:
        pytest.fail(f"scripts/build_docs.py failed (exit {r.returncode}):\n{r.stderr[-6000:]}", pytrace=False)
    return out


class _Handler(http.server.SimpleHTTPRequestHandler):
    log: list  # (path, status) of every request, shared with the test

    def log_message(self, *args):  # quiet
        pass

    def log_request(self, code="-", size="-"):
        self.log.append((self.path, int(code) if str(code).isdigit() else 0))


@pytest.fixture(scope="module")
def server(site):
    log: list = []
    handler = type("H", (_Handler,), {"log": log})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    httpd.timeout = 5
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", log
    httpd.shutdown()
    httpd.server_close()
    t.join(5)


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
    if exe is None:
        msg = "chromium is not installed (Debian: `apt-get install -y chromium`; `make docs` installs it)"
        if os.environ.get("FTCOURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


def run_chromium(exe: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="ftcourse-chromium-") as profile:
        try:
            return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                                  capture_output=True, text=True, timeout=PAGE_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"chromium took more than {PAGE_TIMEOUT} s: {args[-1]}")


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, "", b""


# ------------------------------------------------------------------ reading a page's DOM

class Dom(HTMLParser):
    "What the checks need from a page: title, h1, ids, links (and which are in the sidebar), images, text."

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.title, self.h1, self.ids, self.links, self.sidebar, self.imgs, self.text = "", "", set(), [], [], [], []
        self.cell_code: list[str] = []  # text of <pre> blocks in code cells (source and outputs)
        self.stack: list[tuple[str, dict]] = []
        self.has_main = False
        self.feed(html)

    def _in(self, pred) -> bool:
        return any(pred(t, a) for t, a in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "main":
            self.has_main = True
        if tag == "a" and a.get("href") is not None:
            self.links.append(a["href"])
            if self._in(lambda t, x: x.get("id") == "quarto-sidebar"):
                self.sidebar.append(a["href"])
        if tag == "img":
            self.imgs.append(a.get("src") or "")
        if tag not in self.VOID:
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self._in(lambda t, a: t in ("script", "style")):
            return
        if self._in(lambda t, a: t == "title"):
            self.title += data
        elif self._in(lambda t, a: t == "h1" and "title" in (a.get("class") or "").split()):
            self.h1 += data
        if self._in(lambda t, a: t == "main"):
            self.text.append(data)
        if self._in(lambda t, a: t == "pre") and self._in(lambda t, a: t == "div" and "cell" in (a.get("class") or "").split()):
            self.cell_code.append(data)


@pytest.fixture(scope="module")
def doms(site, server, chromium) -> dict[str, tuple[Dom, list]]:
    "Load every lesson page in chromium once: its DOM after scripts ran, and the requests it made."
    base, log = server
    out = {}
    for nb in lesson_notebooks():
        page = str(page_of(nb))
        if not (site / page).is_file():
            continue  # test_every_lesson_has_a_page says so
        start = len(log)
        r = run_chromium(chromium, "--virtual-time-budget=5000", "--dump-dom", base + page)
        assert r.returncode == 0 and "<html" in r.stdout, f"chromium could not load {page}:\n{r.stderr[-2000:]}"
        out[page] = (Dom(r.stdout), list(log[start:]))
    return out


# ------------------------------------------------------------------ the checks

def test_every_lesson_has_a_page(site):
    nbs = lesson_notebooks()
    assert nbs, "no lesson notebooks in nbs/"
    missing = [f"{nb.relative_to(ROOT)} -> {page_of(nb)}" for nb in nbs if not (site / page_of(nb)).is_file()]
    assert not missing, "notebooks without a page on the site:\n" + "\n".join(missing)
    assert (site / "index.html").is_file(), "the site has no home page (nbs/index.ipynb)"


def test_pages_render_in_browser(site, server, doms):
    base, _ = server
    pages = {str(page_of(nb)): nb for nb in lesson_notebooks() if (site / page_of(nb)).is_file()}
    assert set(doms) == set(pages)
    problems: list[str] = []
    site_url = _site_url()
    dom_of = {p: d for p, (d, _) in doms.items()}

    for page, (dom, requests) in doms.items():
        nb = pages[page]
        def bad(msg, page=page):
            problems.append(f"{page}: {msg}")

        # rendered, with its title
        if not dom.has_main or len(" ".join(dom.text).split()) < 5:
            bad("no page content in <main>")
        want = notebook_title(nb)
        h1 = " ".join(dom.h1.split())
        if not dom.title.strip():
            bad("empty <title>")
        if not h1:
            bad("no title heading (h1.title)")
        elif want and plain(want) != h1:
            bad(f"title heading {h1!r}, the notebook's title is {plain(want)!r}")
        elif h1 not in " ".join(dom.title.split()):
            bad(f"<title> {dom.title!r} does not contain {h1!r}")

        # the sidebar lists every lesson and each of its links opens a page
        if not dom.sidebar:
            bad("no sidebar links")
        in_sidebar = {_local(urljoin(base + page, h), base) for h in dom.sidebar}
        for other in pages:
            if other not in in_sidebar:
                bad(f"the sidebar has no link to {other}")
        for h in dom.sidebar:
            url = urljoin(base + page, h)
            if url.startswith(base) and fetch(url.split("#")[0])[0] != 200:
                bad(f"sidebar link {h} does not open a page")

        # every internal link (and nbdev's absolute links into this site) reaches an existing page and anchor
        for h in dom.links:
            url = urljoin(base + page, h)
            if site_url and url.startswith(site_url):
                url = base + url[len(site_url):]
            if not url.startswith(base):
                continue
            target, _, frag = url.partition("#")
            rel = _local(target, base)
            status = fetch(target)[0]
            if status != 200:
                bad(f"link {h} -> HTTP {status}")
                continue
            if frag and rel.endswith(".html"):
                ids = dom_of[rel].ids if rel in dom_of else Dom((site / rel).read_text(encoding="utf-8")).ids
                if unquote(frag) not in ids:
                    bad(f"link {h}: {rel} has no #{frag}")

        # images load
        for src in dom.imgs:
            if src.startswith("data:"):
                head, _, data = src.partition(",")
                try:
                    ok = ";base64" not in head or len(base64.b64decode(data, validate=True)) > 0
                except (binascii.Error, ValueError):
                    ok = False
                if not ok:
                    bad(f"inline image does not decode: {src[:60]}...")
                continue
            status, ctype, body = fetch(urljoin(base + page, src))
            if status != 200 or not ctype.startswith("image/") or not body:
                bad(f"image {src}: HTTP {status} {ctype}")

        # no nbdev/Quarto directive line leaked into a code cell
        leaks = sorted(set(DIRECTIVE.findall("".join(dom.cell_code))))
        if leaks:
            bad(f"raw directive text on the page: {', '.join(leaks)}")

        # nothing the browser asked for while loading was missing
        for path, status in requests:
            if status >= 400 and not path.startswith("/favicon.ico"):
                bad(f"the browser's request {path} got HTTP {status}")

    assert not problems, f"{len(problems)} problem(s) in the docs site:\n" + "\n".join(problems)


def test_screenshots(site, server, chromium, tmp_path):
    "A page is more than its DOM: the home page and a lesson paint a real, non-blank picture."
    base, _ = server
    shots = Path(os.environ.get("FTCOURSE_DOCS_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    lessons = [str(page_of(nb)) for nb in lesson_notebooks() if str(page_of(nb)) != "index.html"]
    for page in ["index.html", *lessons[:1]]:
        png = shots / (page.replace("/", "_").removesuffix(".html") + ".png")
        r = run_chromium(chromium, "--window-size=1280,1000", "--virtual-time-budget=5000",
                         f"--screenshot={png}", base + page)
        assert r.returncode == 0 and png.is_file(), f"no screenshot of {page}:\n{r.stderr[-2000:]}"
        from PIL import Image

        with Image.open(png) as im:
            assert im.size == (1280, 1000), im.size
            colours = im.convert("RGB").resize((64, 50)).getcolors(64 * 50)
        assert colours is not None and len(colours) > 8, f"{page}: the screenshot is (nearly) blank"


def _site_url() -> str:
    "The published site's address (nbdev links names to it): treated as this site."
    from nbdev.config import get_config

    cfg = get_config(ROOT)
    url = f"{cfg.doc_host or ''}{cfg.doc_baseurl or ''}".rstrip("/")
    return url + "/" if url.startswith("http") else ""


def _local(url: str, base: str) -> str:
    "A served URL as a page path relative to the site root (a folder means its index.html)."
    path = unquote(urlsplit(url).path)
    root = urlsplit(base).path
    rel = path[len(root):] if path.startswith(root) else path.lstrip("/")
    return rel + "index.html" if rel == "" or rel.endswith("/") else rel
