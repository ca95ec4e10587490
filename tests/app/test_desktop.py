"""`openbrains install-desktop`: the real command writes the menu entry, icons and the
``.graph`` MIME type into a private XDG data folder; the freedesktop tools accept them."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from openbrains import assets
from openbrains.app.desktop import desktop_entry, set_default_handler, unset_default_handler
from openbrains.app.launcher import desktop_quote, systemd_quote
from tests.cli_kit import ob

MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


@pytest.fixture
def xdg(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def validate(path: Path) -> None:
    tool = shutil.which("desktop-file-validate")
    assert tool, "desktop-file-validate is missing: scripts/setup.sh installs desktop-file-utils"
    out = subprocess.run([tool, str(path)], capture_output=True, text=True)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr


def test_the_shipped_entry_and_the_rendered_one_validate(tmp_path: Path) -> None:
    validate(assets.path(assets.DESKTOP_ENTRY))
    spaced = tmp_path / "my apps" / "open$brains"
    rendered = tmp_path / "openbrains.desktop"
    rendered.write_text(desktop_entry([str(spaced)]), encoding="utf-8")
    validate(rendered)
    assert f"MimeType={assets.MIME_TYPE};" in rendered.read_text()


def test_install_writes_everything_and_the_desktop_tools_see_the_graph_type(
    tmp_path: Path, xdg: dict[str, str]
) -> None:
    out = ob("install-desktop", env=xdg, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    data = Path(xdg["XDG_DATA_HOME"])
    entry = data / "applications" / "openbrains.desktop"
    validate(entry)
    for size in assets.ICON_SIZES:
        for kind, name in (("apps", assets.APP_ID), ("mimetypes", assets.MIME_ICON)):
            png = data / "icons" / "hicolor" / f"{size}x{size}" / kind / f"{name}.png"
            assert png.is_file(), png
    assert (data / "icons/hicolor/scalable/apps/openbrains.svg").is_file()
    # update-mime-database (shared-mime-info) compiled our glob into the user's database
    globs = (data / "mime" / "globs2").read_text()
    assert f"{assets.MIME_TYPE}:*.graph" in globs
    icons = (data / "mime" / "generic-icons").read_text() + (data / "mime" / "icons").read_text()
    assert f"{assets.MIME_TYPE}:{assets.MIME_ICON}" in icons
    mimeapps = Path(xdg["XDG_CONFIG_HOME"]) / "mimeapps.list"
    assert f"{assets.MIME_TYPE}=openbrains.desktop" in mimeapps.read_text()

    # the entry's command is this installation: it runs
    exec_line = next(x for x in entry.read_text().splitlines() if x.startswith("Exec="))
    argv = shlex.split(exec_line.removeprefix("Exec="))
    assert argv[-2:] == ["open", "%f"]
    version = subprocess.run(
        [*argv[:-2], "--version"], capture_output=True, text=True, timeout=120, env=xdg
    )
    assert version.returncode == 0 and version.stdout.startswith("openbrains "), version.stderr

    out = ob("install-desktop", "--uninstall", env=xdg, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    left = [p for p in data.rglob("*openbrains*") if p.is_file()]
    assert left == [], left
    assert f"{assets.MIME_TYPE}:" not in (data / "mime" / "globs2").read_text()
    assert assets.MIME_TYPE not in mimeapps.read_text()


def test_a_default_the_user_chose_is_kept_and_survives_uninstall(tmp_path: Path) -> None:
    mimeapps = tmp_path / "mimeapps.list"
    mine = f"{assets.MIME_TYPE}=other.desktop"
    mimeapps.write_text(
        f"[Added Associations]\ntext/plain=gedit.desktop\n\n[Default Applications]\n{mine}\n"
    )
    assert not set_default_handler(mimeapps)
    assert not unset_default_handler(mimeapps)
    assert mine in mimeapps.read_text()
    fresh = tmp_path / "fresh.list"
    fresh.write_text("[Default Applications]\ntext/plain=gedit.desktop\n")
    assert set_default_handler(fresh)
    assert "text/plain=gedit.desktop" in fresh.read_text()
    assert unset_default_handler(fresh)
    assert fresh.read_text() == "[Default Applications]\ntext/plain=gedit.desktop\n"


def test_mime_xml_declares_the_type_the_code_names() -> None:
    root = ET.parse(assets.path(assets.MIME_XML)).getroot()
    (mime,) = root.findall(f"{MIME_NS}mime-type")
    assert mime.get("type") == assets.MIME_TYPE
    assert mime.find(f"{MIME_NS}icon").get("name") == assets.MIME_ICON
    assert mime.find(f"{MIME_NS}glob").get("pattern") == "*.graph"


def test_every_icon_png_has_its_size(qapp: QApplication) -> None:
    for size in assets.ICON_SIZES:
        for png in (assets.app_png(size), assets.graph_png(size)):
            image = QImage(str(png))
            assert (image.width(), image.height()) == (size, size), png
            assert image.hasAlphaChannel()


def test_quoting_for_exec_lines() -> None:
    assert desktop_quote("/usr/bin/openbrains") == "/usr/bin/openbrains"
    # the spec's example: a space means quotes; $ and " are escaped, then \ doubles
    assert desktop_quote('/a b/$x"') == '"/a b/\\\\$x\\\\""'
    assert desktop_quote("50%") == "50%%"
    assert systemd_quote("/opt/open brains/run") == '"/opt/open brains/run"'
    assert systemd_quote("100%") == "100%%"
    assert systemd_quote("$HOME") == "$$HOME"
