"""`openbrains install-desktop [--uninstall]`: the menu entry, icons and ``.graph`` type."""

from __future__ import annotations

import argparse

from openbrains.app.cli import command


def _install_desktop_args(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "install-desktop",
        help="add Open Brains to the desktop menu and open .graph files with it "
        "(writes under $XDG_DATA_HOME, by default ~/.local/share)",
    )
    p.add_argument("--uninstall", action="store_true", help="remove what install-desktop wrote")


@command(_install_desktop_args)
def cmd_install_desktop(args: argparse.Namespace) -> int:
    from openbrains.app import desktop

    home = desktop.data_home()
    if args.uninstall:
        change = desktop.uninstall(home)
        print(f"removed {len(change.removed)} files from {home}")
    else:
        change = desktop.install(home)
        print(f"wrote {len(change.written)} files under {home}: menu entry, icons, .graph type")
    if change.refreshed:
        print(f"refreshed: {', '.join(change.refreshed)}")
    if change.missing and not args.uninstall:
        print(
            f"not installed: {', '.join(change.missing)} "
            "(the entry and the .graph type take effect at the next login)"
        )
    return 0
