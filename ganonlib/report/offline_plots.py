"""An HTML page template for ``dvc plots show`` that works without a network: DVC's own page loads Vega from a CDN
and stays blank offline. The Vega, Vega-Lite and vega-embed builds that the installed ``altair_viewer`` package
ships are inlined; ``.dvc/plots/linear.json`` is DVC's line template written for that Vega-Lite (v4).

``make install`` writes the page to ``.dvc/plots/offline.html``, which ``.dvc/config`` names as the template.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ganonlib.io import atomic_write_text

__all__ = ["SCRIPTS", "offline_template"]

SCRIPTS = ("vega-5.21.0.js", "vega-lite-4.17.0.js", "vega-embed-6.20.0.js")
PAGE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>DVC plots</title>
    {inline_scripts}
    <style>
        body { font-family: sans-serif; }
        table { border-spacing: 15px; }
        img { max-width: 640px; }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def _inline(script: Path) -> str:
    # a literal "</script" inside the code would end the tag early
    return '<script type="text/javascript">' + script.read_text().replace("</script", "<\\/script") + "</script>"


def offline_template() -> str:
    import altair_viewer

    folder = Path(altair_viewer.__file__).parent / "scripts"
    scripts = "\n".join(_inline(folder / name) for name in SCRIPTS)
    # DVC fills {refresh_tag} and {plot_divs} with str.replace, so the braces in the page and the scripts stay as
    # they are
    return PAGE.replace("{inline_scripts}", scripts)


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else ".dvc/plots/offline.html")
    atomic_write_text(path, offline_template())
    print(f"{path}: offline page template for `dvc plots show`")


if __name__ == "__main__":
    main()
