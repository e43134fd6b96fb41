"""The debug error page for browsers: what failed, where in the site's own code, and the request.

Shown in debug mode only (``wixhttp dev``, ``TestClient``) to a caller that accepts
``text/html``; programs keep the JSON error of :mod:`wixhttp.errors`. One self-contained page:
the error, the innermost frame of the site's own files with the source around the failing line,
every frame (library ones collapsed), the request (secret-looking headers and query values
redacted, the body previewed), and the plain traceback to copy. Under the dev server's reloader
the page polls :data:`RELOAD_STATE_PATH` and reloads itself once a save changed the site.

Everything that comes from the request or the user's code is HTML-escaped: it is hostile.
"""

from __future__ import annotations

import html
import json
import linecache
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from starlette.types import Scope

from wixhttp.errors import HandlerError, accept_header, error_response, wants_html
from wixhttp.loading import SiteLoadError, _is_library

__all__ = ["RELOAD_STATE_PATH", "debug_reply", "error_page", "reload_state"]

#: Dev server only: ``{"generation": n}``, where ``n`` changes on every swap of the site.
RELOAD_STATE_PATH = "/_wixhttp/reload-state"
#: Lines shown either side of the failing one.
CONTEXT_LINES = 2
BODY_PREVIEW_BYTES = 2048
#: Header and query names whose values are never shown (x-appwrite-key, x-api-key, ...).
SECRET_NAME = re.compile(
    r"authori[sz]ation|cookie|key|token|secret|passw|session|signature|credential", re.I
)
REDACTED = "[redacted]"

_Reply = tuple[int, list[tuple[bytes, bytes]], bytes]


@dataclass(frozen=True)
class _Frame:
    file: str
    line: int | None
    name: str
    mine: bool  # in the site's own files


def _is_mine(file: str, directory: Path | None) -> bool:
    if file.startswith("<") or _is_library(file):
        return False
    if directory is None:
        return True
    try:
        Path(file).resolve().relative_to(directory.resolve())
    except ValueError:
        return False
    return True


def _frames(exc: BaseException | None, directory: Path | None) -> list[_Frame]:
    """The traceback's frames, outermost first (as Python prints them)."""
    if exc is None:
        return []
    return [
        _Frame(f.filename, f.lineno, f.name, _is_mine(f.filename, directory))
        for f in traceback.extract_tb(exc.__traceback__)
    ]


def _display(file: str, directory: Path | None) -> str:
    """``file`` relative to the site when it is inside it."""
    if directory is not None:
        try:
            return str(Path(file).relative_to(directory))
        except ValueError:
            pass
    return file


def _source(file: str, line: int | None) -> str:
    """The lines around ``line`` of ``file``, the failing one highlighted ('' if unreadable)."""
    if line is None:
        return ""
    linecache.checkcache(file)  # the dev server re-reads edited files; so does this page
    lines = linecache.getlines(file)
    if not lines or line > len(lines):
        return ""
    rows = []
    for number in range(max(1, line - CONTEXT_LINES), min(len(lines), line + CONTEXT_LINES) + 1):
        mark = ' class="hl"' if number == line else ""
        text = html.escape(lines[number - 1].rstrip("\r\n"))
        rows.append(f"<span{mark}><i>{number}</i>{text or ' '}</span>")
    return f'<pre class="src">{"".join(rows)}</pre>'


def _frame_html(frame: _Frame, directory: Path | None, *, open_: bool) -> str:
    where = f"{_display(frame.file, directory)}:{frame.line or '?'}"
    css = "frame mine" if frame.mine else "frame lib"
    summary = f"<code>{html.escape(where)}</code> in <code>{html.escape(frame.name)}</code>"
    source = _source(frame.file, frame.line) or "<p class=dim>(no source)</p>"
    state = " open" if open_ else ""
    return f'<details class="{css}"{state}><summary>{summary}</summary>{source}</details>'


def _where_html(featured: _Frame | None, directory: Path | None) -> str:
    if featured is None:
        return ""
    label = "In your code" if featured.mine else "Where it failed"
    return (
        f'<section id="where"><h2>{label}</h2>'
        f"{_frame_html(featured, directory, open_=True)}</section>"
    )


def _frames_html(frames: list[_Frame], directory: Path | None) -> str:
    if not frames:
        return ""
    items = "".join(_frame_html(f, directory, open_=f.mine) for f in frames)
    return (
        '<section id="frames"><h2>Traceback <span class=dim>(most recent call last; '
        f"library frames collapsed)</span></h2>{items}</section>"
    )


def _redact(name: str, value: str) -> str:
    return REDACTED if SECRET_NAME.search(name) else value


def _table(rows: list[tuple[str, str]]) -> str:
    if not rows:
        return "<p class=dim>(none)</p>"
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_redact(k, v))}</td></tr>" for k, v in rows
    )
    return f"<table>{cells}</table>"


def _body_html(body: bytes | None) -> str:
    if body is None:
        return "<p class=dim>(not read)</p>"
    if not body:
        return "<p class=dim>(empty)</p>"
    preview = body[:BODY_PREVIEW_BYTES].decode("utf-8", errors="replace")
    note = f"{len(body)} bytes" + (
        f", the first {BODY_PREVIEW_BYTES} shown" if len(body) > BODY_PREVIEW_BYTES else ""
    )
    return f"<p class=dim>{note}</p><pre>{html.escape(preview)}</pre>"


def _request_html(scope: Scope, body: bytes | None) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
    line = f"{scope.get('method', '')} {scope.get('path', '')}"
    return (
        f'<section id="request"><h2>Request</h2><p><code>{html.escape(line)}</code></p>'
        f"<h3>Query</h3>{_table(parse_qsl(query, keep_blank_values=True))}"
        f"<h3>Headers</h3>{_table(headers)}<h3>Body</h3>{_body_html(body)}</section>"
    )


def _text_html(text: str) -> str:
    return (
        '<section id="text"><h2>Plain-text traceback <button id="copy" type="button">Copy'
        f'</button></h2><textarea id="tb" readonly rows="12">{html.escape(text)}</textarea>'
        "</section>"
    )


_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}"
    "header{background:#b00020;color:#fff;padding:1.2rem 2rem}header h1{margin:.2rem 0;"
    "font-size:1.35rem;word-break:break-word}main{padding:0 2rem 2rem;max-width:72rem}"
    ".kind{opacity:.85;font-size:.9rem}h2{font-size:1.05rem;margin:1.6rem 0 .5rem}"
    "h3{font-size:.95rem;margin:1rem 0 .3rem}.dim{color:#777;font-weight:normal}"
    "details{border:1px solid #ddd;border-radius:4px;margin:.3rem 0;background:#fff}"
    "summary{padding:.35rem .6rem;cursor:pointer}.lib summary{color:#888}"
    ".mine summary{font-weight:600}pre{margin:0;padding:.5rem .6rem;overflow:auto;"
    "background:#f4f4f4}.src span{display:block;white-space:pre}.src i{display:inline-block;"
    "width:3.5em;color:#999;font-style:normal;user-select:none}.src .hl{background:#ffe3e6}"
    "table{border-collapse:collapse;font-size:.9rem}th,td{text-align:left;padding:.15rem .6rem;"
    "border-bottom:1px solid #eee;vertical-align:top;word-break:break-all}th{color:#555}"
    "textarea{width:100%;font:12px/1.4 monospace;box-sizing:border-box}"
    "#reloaded{display:none;background:#fff3cd;padding:.5rem 2rem}"
)

# Polls the reload state about once a second while the tab is visible, one request at a time,
# and reloads when the site was swapped (a page for a GET request reloads itself; for other
# methods a banner says to send the request again). Polling, not server-sent events: an open
# event stream would hold one of the browser's six connections to the server per tab, and keep
# the server's graceful shutdown waiting.
_SCRIPT = """
(function () {
  var copy = document.getElementById("copy"), tb = document.getElementById("tb");
  copy.onclick = function () {
    tb.select();
    var done = function () { copy.textContent = "Copied"; };
    if (navigator.clipboard) { navigator.clipboard.writeText(tb.value).then(done, function () {
      document.execCommand("copy"); done(); }); } else { document.execCommand("copy"); done(); }
  };
  var state = STATE;
  if (!state) return;
  function poll() {
    if (document.hidden) { setTimeout(poll, 1000); return; }
    fetch(state.url, {cache: "no-store"}).then(function (r) { return r.json(); }).then(
      function (s) {
        if (s.generation === state.generation) { setTimeout(poll, 1000); return; }
        if (state.reload) { location.reload(); return; }
        document.getElementById("reloaded").style.display = "block";
      },
      function () { setTimeout(poll, 1000); });
  }
  setTimeout(poll, 1000);
})();
"""


def _script(scope: Scope, generation: int | None) -> str:
    state = None
    if generation is not None:
        state = {
            "url": scope.get("root_path", "") + RELOAD_STATE_PATH,
            "generation": generation,
            "reload": scope.get("method") in ("GET", "HEAD"),
        }
    # json.dumps does not escape "<": "</script>" in a root path must not end the script.
    literal = json.dumps(state).replace("<", "\\u003c")
    return f"<script>{_SCRIPT.replace('STATE', literal)}</script>"


def _page(title: str, kind: str, message: str, sections: list[str], script: str) -> bytes:
    return "".join(
        [
            "<!doctype html><html lang=en><head><meta charset=utf-8>",
            '<meta name="viewport" content="width=device-width,initial-scale=1">',
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
            '<div id="reloaded">The site changed: send the request again.</div>',
            f'<header><div class="kind">{html.escape(kind)}</div>',
            f"<h1>{html.escape(message)}</h1></header><main>",
            *sections,
            f"</main>{script}</body></html>",
        ]
    ).encode("utf-8")


def _traceback_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _load_error_parts(
    err: SiteLoadError, directory: Path | None
) -> tuple[_Frame | None, list[_Frame], str]:
    """The failing place, the frames and the text of a site that did not load.

    The loader raises ``SiteLoadError`` inside its ``except`` block (``from None``), so the
    exception that broke the import is its ``__context__``; a syntax error has no frames of the
    user's, its file and line are the error's own.
    """
    if err.file is not None and directory is None:
        directory = Path(err.file).parent
    cause = err.__context__
    frames = [] if isinstance(cause, SyntaxError) else _frames(cause, directory)
    mine = [f for f in frames if f.mine]
    featured = mine[-1] if mine else None
    if featured is None and err.file and err.line:
        featured = _Frame(err.file, err.line, "<module>", True)
    return featured, frames, err.details


def error_page(
    exc: BaseException,
    *,
    status: int,
    code: str,
    message: str,
    scope: Scope,
    body: bytes | None,
    directory: Path | None,
    generation: int | None = None,
    request: bool = True,
) -> _Reply:
    """``(status, headers, body)`` of the debug page for ``exc`` raised while serving ``scope``.

    ``directory`` is the site's (its frames are the user's); ``generation``, when the dev
    server's reloader runs, makes the page reload itself once the site is swapped; ``request``
    False leaves out the request (the console shows a load error that no request caused).
    """
    kind = f"{status} {code}"
    if isinstance(exc, SiteLoadError):
        featured, frames, text = _load_error_parts(exc, directory)
        kind += ": the site did not load" + (
            "; save a fix and this page reloads" if generation is not None else ""
        )
    elif isinstance(exc, HandlerError):
        # The handler returned a wrong answer: no frame of its failed, the message says where.
        featured, frames, text = None, [], message
    else:
        frames = _frames(exc, directory)
        mine = [f for f in frames if f.mine]
        featured = mine[-1] if mine else (frames[-1] if frames else None)
        text = _traceback_text(exc)
    sections = [
        _where_html(featured, directory),
        _frames_html(frames, directory),
        _request_html(scope, body) if request else "",
        _text_html(text),
    ]
    page = _page(f"{status} {message}", kind, message, sections, _script(scope, generation))
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(page)).encode()),
        (b"cache-control", b"no-store"),
    ]
    return status, headers, page


def debug_reply(
    exc: BaseException,
    *,
    status: int,
    code: str,
    message: str,
    scope: Scope,
    body: bytes | None,
    directory: Path | None,
    generation: int | None,
) -> _Reply:
    """A debug-mode error reply: the page for a browser, else the JSON error whose ``details``
    is the plain traceback (a site that did not load: its error's details)."""
    accept = accept_header(scope)
    if wants_html(accept):
        return error_page(
            exc,
            status=status,
            code=code,
            message=message,
            scope=scope,
            body=body,
            directory=directory,
            generation=generation,
        )
    details: str | None = None
    if isinstance(exc, SiteLoadError):
        details = exc.details
    elif not isinstance(exc, HandlerError):  # its message is the whole story
        details = _traceback_text(exc)
    return error_response(status, code, message, accept=accept, details=details)


def reload_state(generation: int) -> _Reply:
    """The reply of :data:`RELOAD_STATE_PATH`: the reloader's current generation."""
    payload = json.dumps({"generation": generation}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"cache-control", b"no-store"),
    ]
    return 200, headers, payload
