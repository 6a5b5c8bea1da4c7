r"""The docs site builds offline from nbs/ and its pages open in a real headless browser.

The site is built by scripts/build_docs.py (nbdev's processors + smalldocs, from nbs/_quarto.yml)
into a temporary folder, served over http on 127.0.0.1, and each lesson page is loaded in Debian's
`chromium`. Checks: every lesson notebook has its page; each page has its title, a sidebar whose
links all resolve, images that load, internal links (and their #anchors) that resolve, no raw
`#|` directive text, and no request the browser made answered with an error. The site works offline:
no page loads a script, style sheet or image from another host; maths is typeset by the KaTeX the site
serves itself (no raw `\(` left in the text); no frozen progress bar is shown; long code lines wrap or
scroll inside their box instead of running off the page; API entries come in the order of the source,
each with a parameter table, and never show a private class path.

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
        self.h3: list[str] = []  # third-level headings, in page order (API entries are h3)
        self.th: list[str] = []  # table header cells
        self.katex = 0  # elements typeset by KaTeX
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
        if "katex" in (a.get("class") or "").split():
            self.katex += 1
        if tag == "h3":
            self.h3.append("")
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
        if self._in(lambda t, a: t == "h3") and self.h3:
            self.h3[-1] += data
        if self._in(lambda t, a: t == "th"):
            self.th.append(data.strip())
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



# ------------------------------------------------------------------ offline, maths, code, API entries

RESOURCE = re.compile(r"<(script|link|img|iframe|source)\b[^>]*?\b(src|href)=[\"']([^\"']+)[\"']", re.I)


def test_pages_load_nothing_from_other_hosts(site):
    "Scripts, style sheets, images and frames come from the site itself: it reads the same offline."
    bad = []
    for page in sorted(site.rglob("*.html")):
        for tag, _, url in RESOURCE.findall(page.read_text(encoding="utf-8")):
            if tag.lower() == "link" and not re.search(r"\.(css|js|woff2?)(\?|$)", url):
                continue  # <link rel="canonical" | "alternate"> is an address, not a resource
            if re.match(r"(https?:)?//", url):
                bad.append(f"{page.relative_to(site)}: <{tag}> {url}")
    assert not bad, "pages that load resources from the network:\n" + "\n".join(bad[:30])


def test_math_is_typeset(site, doms):
    "Every page with maths has it typeset by KaTeX in the browser, and no raw TeX delimiters are left in its text."
    with_math = [p for p in doms if 'class="math' in (site / p).read_text(encoding="utf-8")]
    assert with_math, "no page has maths: the check would prove nothing"
    problems = []
    for page in with_math:
        dom, requests = doms[page]
        text = " ".join(dom.text)
        if dom.katex == 0:
            problems.append(f"{page}: no KaTeX output (requests: {[r for r in requests if 'katex' in r[0]][:3]})")
        for raw in (r"\(", r"\["):
            if raw in text:
                i = text.index(raw)
                problems.append(f"{page}: raw TeX left in the text: {text[max(0, i - 30):i + 40]!r}")
    assert not problems, "\n".join(problems)


PROGRESS = re.compile(r"\d{1,3}%\|")


def test_no_progress_bars_on_pages(doms):
    bad = [f"{p}: {m.group(0)!r}" for p, (dom, _) in doms.items() if (m := PROGRESS.search(" ".join(dom.text)))]
    assert not bad, "frozen progress bars on the site:\n" + "\n".join(bad)


def exported_names(nb: Path) -> list[str]:
    "Public functions and classes that a notebook's `#| export` cells define, in notebook order."
    import ast

    names = []
    for c in json.loads(nb.read_text(encoding="utf-8")).get("cells", []):
        src = "".join(c["source"]) if isinstance(c.get("source"), list) else c.get("source", "")
        if c.get("cell_type") != "code" or not re.search(r"^#\|\s*exports?\b", src, re.M):
            continue
        try:
            tree = ast.parse("\n".join("" if l.lstrip().startswith(("%", "!")) else l for l in src.splitlines()))
        except SyntaxError:
            continue
        names += [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                  and not n.name.startswith("_")]
    return names


PRIVATE_TYPE = re.compile(r"\b[a-z_][\w]*(?:\.[\w]+)*\._[A-Z]\w*|<class '")   # a private class path (numpy._ArrayFunctionDispatcher), not a function such as os._exit


def test_api_entries_in_source_order_with_parameter_tables(doms):
    problems, checked = [], 0
    for nb in lesson_notebooks():
        page = str(page_of(nb))
        if page not in doms:
            continue
        dom, _ = doms[page]
        names = exported_names(nb)
        if not names:
            continue
        checked += 1
        shown = [h.strip() for h in dom.h3 if h.strip() in names]
        if [n for n in names if n in shown] != shown or len(set(shown)) != len(shown):
            problems.append(f"{page}: API entries {shown} are not in the order of the source {names}")
        missing = [n for n in names if n not in shown]
        if missing:
            problems.append(f"{page}: exported names without an API entry: {missing}")
        if not {"Type", "Default", "Details"} <= set(dom.th):
            problems.append(f"{page}: no parameter table (Type | Default | Details) in the API entries")
        if m := PRIVATE_TYPE.search(" ".join(dom.text)):
            problems.append(f"{page}: a private type path is shown: {m.group(0)!r}")
    assert checked, "no page documents exported names: the check would prove nothing"
    assert not problems, "\n".join(problems)


PROBE = """<!doctype html><html><body><pre id="out">pending</pre>
<iframe id="f" style="width:1024px;height:900px;border:0" src="PAGE"></iframe>
<script>
const f = document.getElementById("f");
f.addEventListener("load", () => setTimeout(() => {
  const d = f.contentDocument, root = d.documentElement, bad = [];
  if (root.scrollWidth > root.clientWidth + 1) bad.push("the page is wider than the window: " + root.scrollWidth + " > " + root.clientWidth);
  const clips = (el) => {   // the nearest box, the element or an ancestor, that does not let content overflow
    for (let e = el; e && e !== d.body; e = e.parentElement) {
      const o = getComputedStyle(e).overflowX;
      if (o !== "visible") return o;
    }
    return "visible";
  };
  for (const pre of d.querySelectorAll("main pre")) {
    if (pre.scrollWidth <= pre.clientWidth + 1) continue;            // fits, or wraps
    const o = clips(pre);
    if (o !== "auto" && o !== "scroll") bad.push("a line runs " + (o === "visible" ? "off the page" : "under a clipped box (" + o + ")") + ": " + pre.textContent.trim().slice(0, 70));
  }
  document.getElementById("out").textContent = "PROBE" + JSON.stringify(bad) + "PROBE";
}, 500));
</script></body></html>"""


def test_long_code_lines_wrap_or_scroll(site, server, chromium):
    "In a 1024-px window, every <pre> in a page either fits (wraps) or scrolls inside its own box; the page never gets wider."
    base, _ = server
    pages = [str(page_of(nb)) for nb in lesson_notebooks() if (site / page_of(nb)).is_file()]
    probe_dir = Path(tempfile.mkdtemp(prefix="_probe", dir=site))
    problems = []
    try:
        for page in pages:
            probe = probe_dir / (page.replace("/", "_") + ".html")
            probe.write_text(PROBE.replace("PAGE", "../" + page), encoding="utf-8")
            r = run_chromium(chromium, "--virtual-time-budget=8000", "--dump-dom", base + probe.relative_to(site).as_posix())
            m = re.search(r"PROBE(.*?)PROBE", r.stdout, re.S)
            assert m, f"the overflow probe did not report for {page}:\n{r.stdout[-1500:]}{r.stderr[-1500:]}"
            problems += [f"{page}: {b}" for b in json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))]
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
    assert not problems, f"{len(problems)} overflowing code block(s):\n" + "\n".join(problems[:40])
