"""`h5press new` scaffolds a project that builds, also from a regular (non-editable) install."""
from __future__ import annotations

import shutil
import site
import subprocess
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest

from h5fixtures import build, run

REPO = Path(__file__).resolve().parent.parent


def test_new_project_builds_strictly(tmp_path):
    result = run("new", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    assert (site / ".gitignore").read_text().startswith("dist/")
    assert (site / "layouts").is_dir() and (site / "assets").is_dir()
    result = build(site, "--strict")
    assert result.exit_code == 0, result.output
    assert (site / "dist/hello/index.html").is_file()


def test_new_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = run("new", str(tmp_path))
    assert result.exit_code == 1 and "is not empty" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def venv_with_our_dependencies(env: Path) -> Path:
    """A new virtual environment that sees the libraries of the interpreter running the tests,
    wherever they are installed (a user's venv, the system's site-packages), but not its h5press:
    their folders are listed in a `.pth` file, whose own `.pth` files (an editable install's
    import hook) Python does not run. Returns its python."""
    venv.EnvBuilder(with_pip=True).create(env)
    py = env / "bin" / "python"
    own = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    user = [site.getusersitepackages()] if site.ENABLE_USER_SITE else []
    ours = [p for p in dict.fromkeys([*site.getsitepackages(), *user, sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
            if Path(p).is_dir()]
    (Path(own) / "test-dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    return py


def package_source(dest: Path) -> Path:
    """A copy of what the wheel is built from (pyproject's packages and package data): pip builds
    in place, which would leave build/ and h5press.egg-info in the checkout."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    tops = {name.split(".")[1] for name in setuptools["packages"] if "." in name}
    tops |= {pattern.split("/")[0] for pattern in setuptools["package-data"]["h5press"]}
    dest.mkdir()
    for file in REPO.iterdir():
        if file.is_file() and (file.suffix == ".py" or file.name in ("pyproject.toml", "README.md")):
            shutil.copy2(file, dest)
    for top in sorted(tops):
        shutil.copytree(REPO / top, dest / top, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.mark.slow
def test_installed_wheel_ships_the_theme(tmp_path):
    env = tmp_path / "venv"
    py = venv_with_our_dependencies(env)
    install = subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", str(package_source(tmp_path / "src"))],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    where = subprocess.run([py, "-c", "import h5press, os; print(os.path.dirname(h5press.__file__))"],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout.strip()
    assert where.startswith(str(env)), where
    package = Path(where)
    assert (package / "layouts/base.html").is_file() and (package / "assets/scss/main.scss").is_file()
    assert not (package.parent / "generator").exists() and not (package.parent / "cli.py").exists()
    h5press = env / "bin" / "h5press"
    subprocess.run([h5press, "new", "mysite"], cwd=tmp_path, check=True, capture_output=True)
    done = subprocess.run([h5press, "build"], cwd=tmp_path / "mysite", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "mysite/dist/hello/sw.js").is_file()
