"""Maintain the page translations (Babel catalogues under ``omniretail/locale``).

    python -m omniretail.web.translations compile   # .po -> .mo (make translations; optional at run time)
    python -m omniretail.web.translations extract   # templates + N_() -> messages.pot, then update every .po
"""

from __future__ import annotations

import sys

from babel.messages.frontend import CommandLineInterface

from omniretail import __version__
from omniretail.platform.i18n import SUPPORTED_LOCALES

from .i18n import DOMAIN, LOCALE_DIR, compile_catalogs

WEB_DIR = LOCALE_DIR.parent / "web"
POT = LOCALE_DIR / f"{DOMAIN}.pot"


def extract() -> None:
    babel = CommandLineInterface()
    babel.run(["pybabel", "-q", "extract", "-F", str(LOCALE_DIR / "babel.cfg"), "-k", "N_", "--no-location",
               "--sort-output", "--project", "omniretail", "--version", __version__,
               "--copyright-holder", "omniretail contributors", "-o", str(POT), str(WEB_DIR)])
    for locale in SUPPORTED_LOCALES:
        babel.run(["pybabel", "-q", "update", "-i", str(POT), "-d", str(LOCALE_DIR), "-D", DOMAIN,
                   "-l", locale, "--no-fuzzy-matching", "--ignore-obsolete"])


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "compile"
    if command == "compile":
        for path in compile_catalogs():
            print(f"compiled {path.relative_to(LOCALE_DIR.parent)}")
        return 0
    if command == "extract":
        extract()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
