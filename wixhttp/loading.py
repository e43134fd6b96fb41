"""Import a user's site: a directory holding ``http_functions.py``, the file itself, or a module.

Every load compiles the site's files from their source text, never from ``.pyc`` caches (a file
rewritten within the same second at the same size would otherwise serve stale code), and
re-imports the site's own modules together, so a helper module's edits are picked up too.
Third-party packages stay imported.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, ModuleType, TracebackType

from wixhttp.routing import PREFIXES, HandlerSignatureError, RouteTable, build_route_table

__all__ = [
    "ENTRYPOINT",
    "LoadedSite",
    "SiteLoadError",
    "load_routes",
    "load_site",
    "resolve_site",
]

ENTRYPOINT = "http_functions.py"
_lock = threading.Lock()
_site_dirs: set[Path] = set()


class SiteLoadError(Exception):
    """The site could not be loaded. ``str()`` is one line naming the file (and line)."""

    def __init__(
        self, message: str, *, file: str | None = None, line: int | None = None, details: str = ""
    ) -> None:
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(f"{where}{message}")
        self.message = message
        self.file = file
        self.line = line
        self.details = details or str(self)


@dataclass(frozen=True)
class LoadedSite:
    """A loaded site: its entry file (None for a module given directly), module and routes."""

    entry: Path | None
    module: ModuleType
    routes: RouteTable

    @property
    def directory(self) -> Path | None:
        return self.entry.parent if self.entry else None


def resolve_site(site: str | os.PathLike[str]) -> Path:
    """The absolute path of the site's entry file, or ``SiteLoadError`` saying what is missing."""
    path = Path(site).expanduser().resolve()
    if path.is_dir():
        entry = path / ENTRYPOINT
        if not entry.is_file():
            raise SiteLoadError(
                f"no {ENTRYPOINT} in {path}; create one with 'wixhttp new' or point at the file"
            )
        return entry
    if path.is_file():
        if path.suffix != ".py":
            raise SiteLoadError("a site must be a directory or a .py file", file=str(path))
        return path
    raise SiteLoadError(f"site {str(site)!r} does not exist")


class _FreshSourceLoader(importlib.machinery.SourceFileLoader):
    """Compiles from the source text every time, ignoring and not writing ``.pyc`` files."""

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        return compile(self.get_data(path), path, "exec", dont_inherit=True)


class _SiteFinder(importlib.abc.MetaPathFinder):
    """Finds the site's own modules (under its directory) with :class:`_FreshSourceLoader`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        search = list(path) if path is not None else [str(self.directory)]
        spec = importlib.machinery.PathFinder.find_spec(fullname, search)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            return None
        if not _is_under(Path(spec.origin), self.directory) or _is_library(spec.origin):
            return None
        spec.loader = _FreshSourceLoader(fullname, spec.origin)
        return spec


def _is_under(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory)
    except ValueError:
        return False
    return True


def _library_prefixes() -> tuple[str, ...]:
    roots = [Path(r) for r in (sys.prefix, sys.base_prefix, sys.exec_prefix) if r]
    roots.append(Path(__file__).parent)
    paths = {*roots, *(root.resolve() for root in roots)}
    return tuple(f"{path}{os.sep}" for path in paths)


#: Installed code never belongs to a site, even when it sits in the site's folder (a ``.venv``
#: inside the project, or wixhttp's own checkout served as a site).
_LIBRARY_PREFIXES = _library_prefixes()
_LIBRARY_FOLDERS = frozenset({"site-packages", "dist-packages"})


def _is_library(file: str) -> bool:
    return file.startswith(_LIBRARY_PREFIXES) or not _LIBRARY_FOLDERS.isdisjoint(Path(file).parts)


def _purge_site_modules() -> None:
    """Forget every module imported from a site directory, so the next load re-imports them
    (installed packages excepted)."""
    prefixes = tuple(f"{d}{os.sep}" for d in _site_dirs)
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.startswith(prefixes) and not _is_library(file):
            del sys.modules[name]


def _user_frame(tb: TracebackType | None, directory: Path) -> tuple[str | None, int | None]:
    file: str | None = None
    line: int | None = None
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if _is_under(Path(filename), directory):
            file, line = filename, lineno
    return file, line


def _module_name(entry: Path) -> str:
    """The name the site's entry module is registered under while it runs.

    Its own stem (``http_functions``) when that is free, so pickling, ``@dataclass`` and
    self-imports behave; a prefixed name when the stem belongs to another module (a site file
    named ``email.py`` must not replace the standard library's ``email`` for the process).
    """
    name = entry.stem
    taken = (
        name in sys.modules  # site modules were purged just before: this one is someone else's
        or name in sys.stdlib_module_names
        or name in sys.builtin_module_names
        or not name.isidentifier()
    )
    return f"wixhttp_site_{name}" if taken else name


def load_site(site: str | os.PathLike[str] | ModuleType) -> LoadedSite:
    """Load (or re-load) a site and build its routes.

    Raises :class:`SiteLoadError` on a missing file, a syntax error, an exception while
    importing, or a module that exports no handler.
    """
    if isinstance(site, ModuleType):
        file = getattr(site, "__file__", None)
        return LoadedSite(Path(file) if file else None, site, _routes(site, file))
    entry = resolve_site(site)
    with _lock:
        module = _import_entry(entry)
    return LoadedSite(entry, module, _routes(module, str(entry)))


def _import_entry(entry: Path) -> ModuleType:
    """Run the site's entry file as a fresh module, its own modules re-imported from source."""
    directory = entry.parent
    _site_dirs.add(directory)
    _purge_site_modules()
    name = _module_name(entry)
    finder = _SiteFinder(directory)
    sys.meta_path.insert(0, finder)
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    module = ModuleType(name)
    module.__file__ = str(entry)
    module.__spec__ = importlib.machinery.ModuleSpec(
        name, _FreshSourceLoader(name, str(entry)), origin=str(entry)
    )
    module.__loader__ = module.__spec__.loader
    try:
        # Register while executing so @dataclass, pickling and self-imports see a real module.
        sys.modules[name] = module
        source = entry.read_bytes()
        code = compile(source, str(entry), "exec", dont_inherit=True)
        exec(code, module.__dict__)
    except BaseException as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise _import_error(exc, entry) from None
    finally:
        sys.meta_path.remove(finder)
    return module


def _import_error(exc: BaseException, entry: Path) -> SiteLoadError:
    """What went wrong importing the site, at the deepest line of the site's own code."""
    if isinstance(exc, SyntaxError):
        return SiteLoadError(
            f"SyntaxError: {exc.msg}",
            file=exc.filename or str(entry),
            line=exc.lineno,
            details="".join(traceback.format_exception_only(type(exc), exc)),
        )
    file, line = _user_frame(exc.__traceback__, entry.parent)
    return SiteLoadError(
        f"{type(exc).__name__} while importing the site: {exc}",
        file=file or str(entry),
        line=line,
        details="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    )


def _routes(module: ModuleType, file: str | None) -> RouteTable:
    try:
        routes = build_route_table(module)
    except HandlerSignatureError as exc:
        raise SiteLoadError(exc.message, file=exc.file or file, line=exc.line) from None
    if not routes.functions:
        exports = [f"{prefix}_<name>" for prefix in PREFIXES]
        raise SiteLoadError(
            "no HTTP functions found; export functions named "
            f"{', '.join(exports[:-1])} or {exports[-1]}",
            file=file,
        )
    return routes


def load_routes(site: str | os.PathLike[str] | ModuleType) -> RouteTable:
    """The route table of a site (see :func:`load_site`)."""
    return load_site(site).routes
