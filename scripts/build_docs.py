"""Build the docs site offline: nbs/ -> _site/, from the canonical nbs/_quarto.yml.

Where Quarto exists, `nbdev-docs` is the canonical build. It (1) writes nbs/nbdev.yml and
nbs/sidebar.yml from pyproject.toml, (2) runs nbdev's notebook processors (front matter from the
title cell, `#| export`/`#| hide` cells removed, `show_doc` API docs added and executed, names
linked), and (3) runs `quarto render`. Quarto cannot be installed offline, so this script does
(1) and (2) with nbdev's own code, into a staging folder, leaving nbs/ untouched, and replaces
(3) with smalldocs (pure Python, reads `_quarto.yml` unchanged). One addition to smalldocs: it
ignores the `output-file` that nbdev puts in each notebook's front matter, so pages are written
where Quarto writes them (00_core.ipynb -> core.html), which is what nbdev's links point at.

    .venv/bin/python scripts/build_docs.py               # -> _site/
    .venv/bin/python scripts/build_docs.py --out DIR --strict

The site needs nothing from the network when it is read: smalldocs points maths at KaTeX on a CDN,
so this script vendors KaTeX from the npm registry at build time (`npm pack katex@KATEX_VERSION`, its
sha512 checked against the pin below, cached in ~/.cache/ftcourse-docs) into `site_libs/katex/` and
points every page at it; the notebooks' "Open in Colab" badge image is served from `site_libs/` too.
Frozen progress bars (widget outputs, tqdm text on stderr) are dropped from the processed notebooks.

Exit status: 0 built, 1 the site has problems (a notebook failed nbdev's processing, prose lost,
or with --strict broken links), 2 bad set-up (no _quarto.yml, no smalldocs).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]

# Keys of nbdev's config that only Quarto uses: smalldocs makes HTML only, so these are expected.
QUARTO_ONLY = (
    "unknown key format-links",                      # nbdev.yml: the "Markdown" alternate format link
    "format commonmark is not built",                # _quarto.yml: nbdev's .md copies of each page
    "format.html.keep-md is ignored",                # the same
    "output-file is not read by smalldocs",          # handled here: NbdevSite below
)


class DocsError(Exception):
    "The site cannot be built as it should be; the message says which notebook and why."


def say(msg: str, quiet: bool = False) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ nbdev's part (processing)

def _process_one(src: Path, dst: Path) -> int:
    "Run nbdev's docs processors on one notebook, as `nbdev-docs` does (called in a fresh interpreter)."
    os.chdir(ROOT)  # nbdev-docs runs from the project root (so do the cells that show_doc executes)
    for k, v in (("HF_HUB_OFFLINE", "1"), ("HF_DATASETS_OFFLINE", "1"), ("MPLBACKEND", "Agg")):
        os.environ.setdefault(k, v)
    import warnings

    warnings.filterwarnings("ignore")
    try:
        from nbdev import serve_drv

        serve_drv.main((src, dst, api_docs_processors()))
        if Path(dst).suffix == ".ipynb" and Path(dst).is_file():
            strip_progress_bars(Path(dst))
    except BaseException as e:  # report every failure, with nbdev's own message
        print(f"{ERR}{type(e).__name__}: {str(e).strip()}", file=sys.stderr)
        return 1
    return 0


ERR = "BUILD_DOCS_ERROR: "


# ------------------------------------------------------------------ API entries (show_doc)

def _type_name(anno) -> str:
    "An annotation as a reader writes it: `nn.Module`, `int | None`, never a private class path."
    import inspect

    if anno is inspect.Parameter.empty or anno is None:
        return ""
    if isinstance(anno, str):
        return anno
    if isinstance(anno, type):
        return anno.__name__
    return re.sub(r"\b(?:[a-z_][\w]*\.)+([A-Za-z_]\w*)", r"\1", str(anno)).replace("typing.", "")


def _default_text(default) -> str:
    import inspect

    if default is inspect.Parameter.empty:
        return ""
    text = repr(default)
    return text if len(text) <= 40 else text[:37] + "..."


def _public_origin(sym) -> str | None:
    "`module.name` for a name this package re-exports from another library (its own objects give None)."
    mod = getattr(sym, "__module__", None) or ""
    if mod.startswith("ftcourse") or mod == "__main__":
        return None
    name = getattr(sym, "__qualname__", None) or getattr(sym, "__name__", None) or type(sym).__name__
    top = mod.split(".")[0]
    return f"{top}.{name}" if top else name


def _row(*cells) -> str:
    "A Markdown table row; `|` inside a cell (as in `int | None`) escaped, newlines folded."
    return "| " + " | ".join(" ".join(str(c or "").split()).replace("|", "\\|") for c in cells) + " |"


def api_entry(sym, name: str | None = None, title_level: int = 3) -> str:
    """One API entry as Markdown: heading, source link, signature, docstring, and a parameter table
    (type, default, description from the comment after each parameter), in the spirit of nbdev 2's show_doc."""
    import inspect

    from fastcore.docments import docments, docstring
    from nbdev.doclinks import NbdevLookup

    sym = getattr(sym, "__wrapped__", sym) if not hasattr(sym, "__signature__") else sym
    nm = name or getattr(sym, "__qualname__", None) or getattr(sym, "__name__", None) or str(sym)
    out = ["---", ""]
    mod, qual = getattr(sym, "__module__", None), getattr(sym, "__qualname__", None)
    full = qual if mod in (None, "__main__", "builtins") else f"{mod}.{qual}"  # as nbdev's show_doc names it
    src = NbdevLookup().code(full) if qual else None
    if src:
        out += [f'[source]({src}){{target="_blank" style="float:right; font-size:smaller"}}', ""]
    out += [f"{'#' * title_level} {nm}", ""]
    origin = _public_origin(sym)
    if origin:
        return "\n".join(out + [f"Re-exported from `{origin}`.", ""])
    try:
        sig = inspect.signature(sym)
    except (TypeError, ValueError):
        sig = None
    try:
        dm = docments(sym, full=True) if sig is not None else {}
    except Exception:
        dm = {}
    if sig is not None:
        params = [p for p in sig.parameters.values() if p.name not in ("self", "cls")]
        parts = []
        for p in params:
            t = _type_name(dm.get(p.name, {}).get("anno", p.annotation))
            d = _default_text(p.default)
            star = "*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else ""
            parts.append(f"{star}{p.name}" + (f": {t}" if t else "") + (f" = {d}" if d else ""))
        ret = _type_name(dm.get("return", {}).get("anno", sig.return_annotation)) if inspect.isroutine(sym) else ""
        kw = "class " if inspect.isclass(sym) else ""
        one = f"{kw}{nm}({', '.join(parts)})" + (f" -> {ret}" if ret else "")
        text = one if len(one) <= 88 else f"{kw}{nm}(\n" + "".join(f"    {x},\n" for x in parts) + ")" + (f" -> {ret}" if ret else "")
        out += ["```python", text, "```", ""]
    doc = (docstring(sym) or "").strip()
    if doc:
        first, _, rest = doc.partition("\n")
        out += [f"*{first.strip()}*" + (f"\n{rest}" if rest.strip() else ""), ""]
    rows = []
    if sig is not None:
        for p in params:
            info = dm.get(p.name, {})
            t = _type_name(info.get("anno", p.annotation))
            rows.append(_row(p.name, t, _default_text(p.default), info.get("docment")))
        r = dm.get("return", {})
        if inspect.isroutine(sym) and (r.get("docment") or _type_name(r.get("anno", sig.return_annotation))):
            rows.append(_row("**Returns**", _type_name(r.get("anno", sig.return_annotation)), "", r.get("docment")))
    if rows:
        out += ["|  | Type | Default | Details |", "|---|---|---|---|", *rows, ""]
    return "\n".join(out)


class _ApiEntry:
    "What `show_doc` returns in the offline build: displays as `api_entry`'s Markdown."

    def __init__(self, sym, name=None, title_level=3, **_):
        self.md = api_entry(sym, name, title_level)

    def _repr_markdown_(self):
        return self.md


def api_docs_processors():
    """nbdev's docs processors, with two changes: API entries in the order of the source (nbdev's
    `add_show_docs` inserts the entries of a cell that defines several names in reverse order), and
    each entry rendered by `api_entry` (parameter tables; re-exported names by their public path)."""
    import nbdev.showdoc
    from fastcore.foundation import L
    from nbdev.process import NbCell, mk_cell
    from nbdev.processors import FilterDefaults, _def_names, _get_nm, _show_docs, _want_doc, add_show_docs, cell_lang

    nbdev.showdoc.BasicMarkdownRenderer = _ApiEntry   # show_doc's default renderer, looked up at call time

    class add_show_docs_in_order(add_show_docs):
        def begin(self):
            nb = self.nb
            exports = L(cell for cell in nb.cells if _want_doc(cell))
            trees = L(nb.cells).map(NbCell.parsed_).concat()
            shown = {_get_nm(t) for t in _show_docs(trees)}
            for cell in reversed(exports):
                if cell_lang(cell) != "python":
                    raise ValueError(f"{cell.metadata.language} can't export:\n{cell.source}")
                for k, nm in enumerate(_def_names(cell, shown)):
                    new = mk_cell(f"show_doc({nm})")
                    new.has_sd = True
                    nb.cells.insert(cell.idx_ + 1 + k, new)
            nb.has_docs_ = shown or exports

    class Procs(FilterDefaults):
        def base_procs(self):
            return [add_show_docs_in_order if p is add_show_docs else p for p in super().base_procs()]

    return Procs


def _run_one(src: Path, dst: Path, timeout: float) -> tuple[float, str | None]:
    "Process one notebook in its own interpreter (each one's show_doc cells start clean, as in nbdev)."
    t = time.perf_counter()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--process-one", str(src), str(dst)]
    try:
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - t, f"took more than {timeout:.0f} s"
    if r.returncode:
        err = r.stderr.split(ERR, 1)[1].strip() if ERR in r.stderr else r.stderr.strip()[-3000:] or f"exit status {r.returncode}"
        return time.perf_counter() - t, err
    return time.perf_counter() - t, None


def lesson_notebooks(nbs: Path) -> list[Path]:
    "The notebooks nbdev documents: every *.ipynb under nbs/, skipping names starting with _ or ."
    from nbdev.doclinks import nbglob

    return sorted(Path(p) for p in nbglob(nbs, func=Path))


def title_cell_leftovers(nb_path: Path) -> str | None:
    """nbdev turns the notebook's title cell (`# Title`, `> description`) into front matter and drops
    the whole cell, so any other prose in that cell never reaches the site. Say what would be lost."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    md = next((c for c in nb.get("cells", []) if c.get("cell_type") == "markdown"), None)
    if md is None:
        return None
    src = "".join(md["source"]) if isinstance(md["source"], list) else md["source"]
    if src.lstrip().startswith("---") or not re.search(r"^#\s+\S", src, re.M):
        return None
    rest = [l for l in src.splitlines() if l.strip() and not re.match(r"^(#\s+\S|>\s*\S|-\s+\S.*:.*\S)", l)]
    if not rest:
        return None
    return rest[0].strip()[:80]


def stage_project(nbs: Path, stage: Path, cfg) -> None:
    "Copy what the site needs besides notebooks, and write nbdev.yml as nbdev-docs does."
    from nbdev.quarto import _nbdev_yml

    skip_dirs = {"_proc", "_docs", "_site", ".ipynb_checkpoints", "__pycache__"}
    for f in nbs.rglob("*"):
        rel = f.relative_to(nbs)
        if any(p.startswith(".") or p in skip_dirs for p in rel.parts) or not f.is_file():
            continue
        if f.suffix == ".ipynb" or rel.as_posix() in ("nbdev.yml", "sidebar.yml"):
            continue  # notebooks are processed; the two metadata files are generated
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, stage / rel)
    vals = {k: cfg[k] for k in ["title", "description", "branch", "git_url", "doc_host", "doc_baseurl"]}
    vals["doc_path"] = cfg.doc_path.name
    (stage / "nbdev.yml").write_text(_nbdev_yml.format(**vals), encoding="utf-8")


def write_sidebar(nbs: Path, stage: Path, cfg) -> None:
    "sidebar.yml as nbdev-docs makes it (index first, then file-name order), or the project's own."
    from nbdev.quarto import nbdev_sidebar

    if cfg.custom_sidebar:
        own = nbs / "sidebar.yml"
        if own.exists():
            shutil.copy2(own, stage / "sidebar.yml")
        return
    nbdev_sidebar.__wrapped__(path=stage, force=True)


def process(nbs: Path, stage: Path, workers: int, timeout: float, quiet: bool) -> list[Path]:
    notebooks = lesson_notebooks(nbs)
    if not notebooks:
        raise DocsError(f"no notebooks in {nbs}")
    jobs = []
    for nb in notebooks:
        dst = stage / nb.relative_to(nbs)
        dst.parent.mkdir(parents=True, exist_ok=True)
        jobs.append((str(nb), str(dst)))
    errors = []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futs = [pool.submit(_run_one, Path(j[0]), Path(j[1]), timeout) for j in jobs]
        for fut, job in zip(futs, jobs):
            rel = os.path.relpath(job[0], ROOT)
            secs, err = fut.result()
            if err:
                errors.append(f"{rel}: nbdev's docs processing failed (nbdev-docs fails the same way):\n    "
                              + err.replace("\n", "\n    "))
            else:
                say(f"  processed {rel} in {secs:.1f} s", quiet)
    lost = [(nb, left) for nb in notebooks if (left := title_cell_leftovers(nb))]
    for nb, left in lost:
        errors.append(f"{nb.relative_to(ROOT)}: the title cell holds more than `# Title` and `> description`; "
                      f"nbdev makes that cell the front matter and drops the rest from the site, starting at "
                      f"{left!r}. Move that text into the next markdown cell.")
    if errors:
        hint = ("\nA cell that mixes imports with other code is executed by nbdev's show_doc step without "
                "the cells before it: keep imports in a cell of their own." if any("processing failed" in e for e in errors) else "")
        raise DocsError("\n".join(errors) + hint)
    return notebooks


# ------------------------------------------------------------------ offline assets (KaTeX, the Colab badge)

KATEX_VERSION = "0.16.47"  # npm's katex; the integrity is npm's `dist.integrity` for that version
KATEX_INTEGRITY = "sha512-Eeo8Ys1doU1z+x8AZsPpQu+p/QcZBI5PeOo7QGQdy2x2m0MU/hYagBbGOmXwr5KVbEfVuWv9LpnQWeehogurjg=="
KATEX_FILES = ("katex.min.js", "katex.min.css", "contrib/auto-render.min.js", "fonts/")
CDN_KATEX = re.compile(r"https://cdn\.jsdelivr\.net/npm/katex@[\d.]+/dist")
COLAB_BADGE_URL = "https://colab.research.google.com/assets/colab-badge.svg"
# The badge drawn here (117 x 20, the usual badge size): served with the site instead of Colab's own image.
COLAB_BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img" aria-label="Open in Colab">
<title>Open in Colab</title>
<rect width="117" height="20" rx="3" fill="#555"/><rect x="20" width="97" height="20" rx="3" fill="#f9ab00"/>
<rect x="20" width="6" height="20" fill="#f9ab00"/>
<circle cx="8" cy="10" r="4.5" fill="none" stroke="#f9ab00" stroke-width="2.2"/>
<circle cx="13" cy="10" r="4.5" fill="none" stroke="#e8710a" stroke-width="2.2"/>
<text x="68" y="14" fill="#1a1a1a" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">Open in Colab</text>
</svg>
"""


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ftcourse-docs"


def katex_tarball(quiet: bool = False) -> Path:
    "npm's katex package at the pinned version (downloaded once with `npm pack`, integrity checked every time)."
    cache = _cache_dir()
    tgz = cache / f"katex-{KATEX_VERSION}.tgz"
    if not tgz.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise DocsError("the docs site renders maths with KaTeX from the npm registry, and `npm` is not installed "
                            "(Debian: `apt-get install -y --no-install-recommends npm`)")
        cache.mkdir(parents=True, exist_ok=True)
        say(f"build_docs: fetching katex@{KATEX_VERSION} with npm pack", quiet)
        r = subprocess.run([npm, "pack", f"katex@{KATEX_VERSION}", "--pack-destination", str(cache), "--silent"],
                           capture_output=True, text=True, timeout=300)
        if r.returncode or not tgz.is_file():
            raise DocsError(f"npm pack katex@{KATEX_VERSION} failed:\n{(r.stdout + r.stderr)[-2000:]}")
    algo, _, want = KATEX_INTEGRITY.partition("-")
    got = base64.b64encode(hashlib.new(algo, tgz.read_bytes()).digest()).decode()
    if got != want:
        tgz.unlink()
        raise DocsError(f"{tgz.name}: integrity {algo}-{got} is not the pinned {KATEX_INTEGRITY} (the file was removed; run again)")
    return tgz


def vendor_offline_assets(out: Path, quiet: bool = False) -> None:
    "KaTeX (js, css, fonts, auto-render) into site_libs/katex/, the Colab badge into site_libs/."
    dest = out / "site_libs" / "katex"
    with tarfile.open(katex_tarball(quiet)) as t:
        for m in t.getmembers():
            rel = m.name.removeprefix("package/dist/")
            if m.isfile() and m.name.startswith("package/dist/") and any(
                    rel == f or (f.endswith("/") and rel.startswith(f)) for f in KATEX_FILES):
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(t.extractfile(m).read())
        lic = t.extractfile("package/LICENSE")
        (dest / "LICENSE").write_bytes(lic.read() if lic else b"")
    (out / "site_libs" / "colab-badge.svg").write_text(COLAB_BADGE_SVG, encoding="utf-8")


def localize_pages(out: Path) -> int:
    "Point every page at the vendored KaTeX and badge instead of their addresses on the network; return pages changed."
    n = 0
    for page in out.rglob("*.html"):
        up = "../" * (len(page.relative_to(out).parts) - 1)
        html = page.read_text(encoding="utf-8")
        new = CDN_KATEX.sub(f"{up}site_libs/katex", html).replace(COLAB_BADGE_URL, f"{up}site_libs/colab-badge.svg")
        if new != html:
            page.write_text(new, encoding="utf-8")
            n += 1
    return n


def strip_progress_bars(nb_path: Path) -> int:
    "Drop widget outputs and tqdm text from a processed notebook (they would show as frozen bars); return how many."
    sys.path.insert(0, str(ROOT / "scripts"))
    from execute_notebooks import strip_outputs  # the same rule as when notebooks are executed
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    before = sum(len(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")
    strip_outputs(nb)
    dropped = before - sum(len(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")
    if dropped:
        nbformat.write(nb, nb_path)
    return dropped


# ------------------------------------------------------------------ smalldocs's part (rendering)

def render(stage: Path, out: Path, quiet: bool):
    "Render the staged project with smalldocs, into `out`, honouring nbdev's `output-file`."
    try:
        from smalldocs.config import BuildError, ConfigError, load
        from smalldocs.site import Site
    except ImportError as e:
        print(f"build_docs: smalldocs is not installed ({e}); run `make env`", file=sys.stderr)
        raise SystemExit(2) from e

    class NbdevSite(Site):
        "smalldocs, plus Quarto's `output-file`: nbdev names each lesson's page after its module."

        def read(self, src: PurePosixPath):
            page = super().read(src)
            of = page.front.get("output-file")
            if isinstance(of, str) and of.endswith(".html") and "/" not in of:
                page.out = src.parent / of
            return page

    try:
        project = load(stage)
        project.config.setdefault("project", {})["output-dir"] = str(out)
        site = NbdevSite(project, quiet=quiet)
        n = site.build()
    except (BuildError, ConfigError) as e:
        raise DocsError(f"smalldocs: {e}") from e
    outs = [p.out for p in site.pages.values()]
    dup = {str(o) for o in outs if outs.count(o) > 1}
    if dup:
        raise DocsError(f"two notebooks are written to the same page: {', '.join(sorted(dup))}")
    return site, n


def build(nbs: Path, out: Path, workers: int = 2, timeout: float = 600, strict: bool = False,
          quiet: bool = False, keep_stage: Path | None = None) -> dict:
    t0 = time.perf_counter()
    os.chdir(ROOT)
    from nbdev.config import get_config

    cfg = get_config()
    if not (nbs / "_quarto.yml").is_file():
        print(f"build_docs: {nbs / '_quarto.yml'} is missing: it is the site's config", file=sys.stderr)
        raise SystemExit(2)
    out = out.resolve()
    with tempfile.TemporaryDirectory(prefix="ftcourse-docs-") as tmp:
        stage = keep_stage.resolve() if keep_stage else Path(tmp) / "proc"
        if keep_stage and stage.exists():
            shutil.rmtree(stage)
        stage.mkdir(parents=True)
        say(f"build_docs: processing notebooks in {os.path.relpath(nbs, ROOT)}/ with nbdev", quiet)
        stage_project(nbs, stage, cfg)
        notebooks = process(nbs, stage, workers, timeout, quiet)
        write_sidebar(nbs, stage, cfg)
        t1 = time.perf_counter()
        say("build_docs: rendering with smalldocs", quiet)
        site, n = render(stage, out, quiet=True)
    vendor_offline_assets(out, quiet)
    localize_pages(out)
    t2 = time.perf_counter()
    warnings = [w for w in site.warnings if not any(q in w for q in QUARTO_ONLY)]
    broken = [w for w in warnings if "broken link" in w]
    for w in warnings:
        print(f"build_docs: warning: {w}", file=sys.stderr)
    pages = {str(p.src): str(p.out) for p in site.pages.values()}
    (out / ".pages.json").write_text(json.dumps(pages, indent=1), encoding="utf-8")
    say(f"build_docs: {n} page(s) from {len(notebooks)} notebook(s) in {out} "
        f"(processing {t1 - t0:.1f} s, rendering {t2 - t1:.1f} s)", quiet)
    if strict and broken:
        raise DocsError(f"{len(broken)} broken link(s) (--strict)")
    return {"pages": pages, "warnings": warnings, "seconds": t2 - t0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nbs", type=Path, default=None, help="the notebooks folder (default: nbs_path of pyproject.toml)")
    p.add_argument("--out", type=Path, default=ROOT / "_site", help="the output folder (default: _site)")
    p.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1), help="notebooks processed in parallel")
    p.add_argument("--timeout", type=float, default=600, help="seconds allowed for processing one notebook")
    p.add_argument("--process-one", nargs=2, type=Path, metavar=("SRC", "DST"), help=argparse.SUPPRESS)
    p.add_argument("--strict", action="store_true", help="fail on broken links too")
    p.add_argument("--keep-stage", type=Path, default=None, help="keep the processed notebooks in this folder")
    p.add_argument("-q", "--quiet", action="store_true")
    a = p.parse_args(argv)
    if a.process_one:
        return _process_one(*a.process_one)
    os.chdir(ROOT)
    if a.nbs is None:
        from nbdev.config import get_config

        a.nbs = get_config().nbs_path
    try:
        build(a.nbs.resolve(), a.out, a.workers, a.timeout, a.strict, a.quiet, a.keep_stage)
    except DocsError as e:
        print(f"build_docs: FAILED\n{e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
