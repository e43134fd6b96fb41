"""Loading a site: a folder, a file or a module; helper modules; errors that name file:line."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests._sites import SITES, ClientFactory, site
from wixhttp import create_app
from wixhttp.loading import SiteLoadError, load_site
from wixhttp.testing import TestClient


def load_error(target: str | os.PathLike[str] | ModuleType) -> SiteLoadError:
    with pytest.raises(SiteLoadError) as info:
        create_app(target)
    return info.value


# -- the three ways to name a site -------------------------------------------------------------


def test_a_directory_holding_http_functions_py(make_client: ClientFactory) -> None:
    client = make_client(site("with_helper"))
    assert client.get("/_functions/shout/hey").text == "HEY!"


def test_the_path_of_http_functions_py_itself(make_client: ClientFactory) -> None:
    client = make_client(site("with_helper") / "http_functions.py")
    assert client.get("/_functions/shout/hey").text == "HEY!"


def test_the_path_of_a_py_file_with_another_name(make_client: ClientFactory) -> None:
    client = make_client(str(site("named_file") / "api.py"))
    assert client.get("/_functions/hello/you").json() == {"hello": "you"}


def test_a_relative_path(make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SITES)
    client = make_client(Path("with_helper"))
    assert client.get("/_functions/shout/rel").text == "REL!"


def test_an_imported_module(make_client: ClientFactory) -> None:
    path = site("named_file") / "api.py"
    spec = importlib.util.spec_from_file_location("site_imported_by_a_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    client = make_client(module)
    assert client.get("/_functions/hello").json() == {"hello": "world"}


def test_an_imported_module_without_handlers_names_its_file() -> None:
    module = ModuleType("empty_module")
    module.__file__ = "/somewhere/empty_module.py"
    error = load_error(module)
    assert str(error).startswith("/somewhere/empty_module.py: no HTTP functions found")


# -- sites that cannot be loaded ---------------------------------------------------------------


def test_a_missing_path_says_it_does_not_exist(tmp_path: Path) -> None:
    error = load_error(tmp_path / "nowhere")
    assert "does not exist" in str(error)
    assert "nowhere" in str(error)


def test_a_folder_without_http_functions_py_says_what_to_create(tmp_path: Path) -> None:
    error = load_error(tmp_path)
    assert f"no http_functions.py in {tmp_path.resolve()}" in str(error)
    assert "wixhttp new" in str(error)


def test_a_file_that_is_not_python_is_refused() -> None:
    path = site("not_python") / "http_functions.txt"
    error = load_error(path)
    assert str(error) == f"{path}: a site must be a directory or a .py file"


def test_a_syntax_error_names_file_and_line() -> None:
    error = load_error(site("broken_syntax"))
    entry = str(site("broken_syntax") / "http_functions.py")
    assert (error.file, error.line) == (entry, 3)
    assert str(error).startswith(f"{entry}:3: SyntaxError:")
    assert "\n" not in str(error)
    assert "def get_broken(request)" in error.details


def test_an_import_error_names_file_and_line() -> None:
    error = load_error(site("broken_import"))
    entry = str(site("broken_import") / "http_functions.py")
    assert (error.file, error.line) == (entry, 4)
    assert str(error).startswith(f"{entry}:4: ModuleNotFoundError while importing the site:")
    assert "wixhttp_no_such_module_for_tests" in str(error)
    assert "Traceback" in error.details


def test_an_exception_at_top_level_names_the_line_that_raised() -> None:
    error = load_error(site("broken_toplevel"))
    entry = str(site("broken_toplevel") / "http_functions.py")
    assert str(error) == (
        f"{entry}:6: RuntimeError while importing the site: API_KEY is not configured"
    )
    # the full traceback shows the top-level call too
    assert "line 9" in error.details and "CONFIG = _read_config()" in error.details


def test_an_exception_in_an_imported_helper_names_the_helper() -> None:
    error = load_error(site("broken_helper"))
    helper = str(site("broken_helper") / "faulty.py")
    assert str(error).startswith(f"{helper}:2: ValueError while importing the site:")
    assert "faulty helper at import" in str(error)


def test_a_syntax_error_in_an_imported_helper_names_the_helper() -> None:
    error = load_error(site("broken_helper_syntax"))
    helper = str(site("broken_helper_syntax") / "badly.py")
    assert (error.file, error.line) == (helper, 2)
    assert str(error).startswith(f"{helper}:2: SyntaxError:")


def test_a_site_without_handlers_says_how_to_name_them() -> None:
    error = load_error(site("no_handlers"))
    entry = str(site("no_handlers") / "http_functions.py")
    assert str(error).startswith(f"{entry}: no HTTP functions found")
    for prefix in ("get_<name>", "post_<name>", "use_<name>", "patch_<name>"):
        assert prefix in str(error)


def test_the_test_client_refuses_a_broken_site() -> None:
    with pytest.raises(SiteLoadError, match="http_functions.py:3: SyntaxError"):
        TestClient(site("broken_syntax"))


@pytest.mark.parametrize(
    "name", ["broken_syntax", "broken_import", "broken_toplevel", "broken_helper"]
)
def test_a_failed_load_leaves_no_module_or_import_hook_behind(name: str) -> None:
    meta_path = list(sys.meta_path)
    load_error(site(name))
    assert sys.meta_path == meta_path
    assert "http_functions" not in sys.modules
    assert "faulty" not in sys.modules


def test_a_good_load_after_a_failed_one_works(make_client: ClientFactory) -> None:
    load_error(site("broken_toplevel"))
    client = make_client("with_helper")
    assert client.get("/_functions/shout/ok").text == "OK!"


# -- helper modules ----------------------------------------------------------------------------


def test_the_site_imports_helper_modules_and_packages_next_to_it(
    make_client: ClientFactory,
) -> None:
    client = make_client("with_helper")
    assert client.post("/_functions/items", json={"name": "pen"}).status_code == 201
    assert client.post("/_functions/items", json={"name": "ink"}).status_code == 201
    items = client.get("/_functions/items").json()
    assert items == {
        "items": [{"id": 1, "name": "pen"}, {"id": 2, "name": "ink"}],
        "store": "store",
    }
    assert client.get("/_functions/shout/helper").text == "HELPER!"


def test_each_load_imports_the_helpers_afresh(make_client: ClientFactory) -> None:
    first = make_client("with_helper")
    first.post("/_functions/items", json={"name": "pen"})
    second = make_client("with_helper")
    assert second.get("/_functions/items").json()["items"] == []
    assert len(first.get("/_functions/items").json()["items"]) == 1


def test_two_sites_with_a_same_named_helper_both_work_in_one_process(
    make_client: ClientFactory,
) -> None:
    a = make_client("twin_a")
    b = make_client("twin_b")
    assert a.get("/_functions/who").json() == {
        "who": "a",
        "helper_file": str(site("twin_a") / "helper.py"),
    }
    assert b.get("/_functions/who").json() == {
        "who": "b",
        "helper_file": str(site("twin_b") / "helper.py"),
    }
    assert getattr(sys.modules["helper"], "WHO", None) == "b"
    again = make_client("twin_a")
    assert again.get("/_functions/who").json()["who"] == "a"
    assert b.get("/_functions/who").json()["who"] == "b"


def test_postponed_annotations_and_dataclasses_work(make_client: ClientFactory) -> None:
    client = make_client("future_dataclass")
    assert client.get("/_functions/item/pen").json() == {"name": "pen", "price": 9.5}


# -- loading from source -----------------------------------------------------------------------


def test_loading_writes_no_bytecode_next_to_the_site(tmp_path: Path) -> None:
    copy = tmp_path / "site"
    shutil.copytree(site("with_helper"), copy, ignore=shutil.ignore_patterns("__pycache__"))
    app = create_app(copy)
    app.close()
    assert not list(copy.rglob("__pycache__"))


def test_a_same_size_rewrite_in_the_same_second_is_picked_up(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    entry = tmp_path / "http_functions.py"
    helper = tmp_path / "words.py"
    entry.write_text(
        "import words\nfrom wixhttp import ok\n\n"
        "def get_word(request):\n    return ok(body=words.WORD + 'A')\n"
    )
    helper.write_text("WORD = 'one'\n")
    assert make_client(tmp_path).get("/_functions/word").text == "oneA"
    stamps = {path: path.stat() for path in (entry, helper)}
    entry.write_text(entry.read_text().replace("'A'", "'B'"))
    helper.write_text("WORD = 'two'\n")
    for path, stat in stamps.items():
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert path.stat().st_size == stat.st_size
    assert make_client(tmp_path).get("/_functions/word").text == "twoB"


def test_a_site_file_named_like_an_imported_module_does_not_replace_it(
    make_client: ClientFactory,
) -> None:
    import colorsys

    try:
        client = make_client(site("stdlib_name") / "colorsys.py")
        assert client.get("/_functions/colour").json() == {"colour": "teal"}
        assert sys.modules["colorsys"] is colorsys
    finally:
        sys.modules["colorsys"] = colorsys


# -- installed packages are not the site's code ------------------------------------------------

VENDORED_SITE = """
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / ".venv" / "lib" / "site-packages"))

import fakepkg_installed_in_the_site_folder as fake

from wixhttp import ok


def get_count(request):
    return ok(body={"imports": fake.IMPORTS})
"""


def test_a_package_installed_in_the_site_folder_is_not_reimported_on_reload(
    tmp_path: Path,
) -> None:
    package = tmp_path / ".venv" / "lib" / "site-packages" / "fakepkg_installed_in_the_site_folder"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "import builtins\n"
        "builtins.__dict__.setdefault('_wixhttp_test_imports', [0])[0] += 1\n"
        "IMPORTS = builtins._wixhttp_test_imports[0]\n"
    )
    (tmp_path / "http_functions.py").write_text(VENDORED_SITE)
    import builtins

    try:
        first = load_site(tmp_path)
        second = load_site(tmp_path)  # what `wixhttp dev` does on every save
        assert first.module is not second.module  # the site itself is fresh ...
        assert second.module.fake is first.module.fake  # ... the installed package is not
        assert builtins._wixhttp_test_imports == [1]  # type: ignore[attr-defined]
    finally:
        builtins.__dict__.pop("_wixhttp_test_imports", None)
        sys.modules.pop("fakepkg_installed_in_the_site_folder", None)
