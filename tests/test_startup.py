"""Every command starts without PyTorch and spaCy: they take seconds to import, and only the
commands that embed, lemmatise or describe need them (they import them when they run)."""

from __future__ import annotations

import subprocess
import sys


def test_the_command_line_imports_neither_pytorch_nor_spacy():
    script = ("import sys\nfrom synth import cli\n"
              "print(sorted(m for m in ('torch', 'spacy', 'sentence_transformers') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
