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


def test_discover_and_the_command_line_import_neither_scikit_learn_nor_openpyxl():
    # scikit-learn (with pandas and scipy.stats behind it) costs about a second of CPU per run and only
    # the umap-hdbscan clusterer, a split and a taught project need it; openpyxl only an XLSX export.
    script = ("import sys\nfrom synth import cli, discover\n"
              "print(sorted(m for m in ('sklearn', 'pandas', 'openpyxl') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_discover_names_the_same_default_clusterer_as_the_clusterers():
    from synth import clusterers, discover

    assert discover.DEFAULT_CLUSTERER == clusterers.DEFAULT
    assert discover.DEFAULT_CLUSTERER in clusterers.CLUSTERERS
