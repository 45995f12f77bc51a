"""What a piece of code makes Python import: it runs in a fresh interpreter, in the
repository, and the names in ``sys.modules`` afterwards come back (its own output is
discarded). For the tests that keep a command or a function lean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.support.paths import REPO


def modules_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules loaded once ``code`` has run in a new interpreter (with ``env`` added
    to the environment)."""
    script = ("import sys, io, contextlib, json\n"
              "with contextlib.redirect_stdout(io.StringIO()):\n"
              f"{textwrap.indent(code, '    ')}\n"
              "print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=REPO, env={**os.environ, **(env or {})})
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def top_packages(modules: set[str], depth: int = 1) -> set[str]:
    """``modules`` cut to their first ``depth`` dotted parts (``scipy.stats`` -> ``scipy``)."""
    return {".".join(m.split(".")[:depth]) for m in modules}
