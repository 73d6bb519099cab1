"""synth's benchmarks: each module measures one thing and prints (or writes into docs/benchmarks.md)
the figures, with the command that produced them. Run one from the repository root:

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.NAME --help

What they share lives in a few modules, so that every benchmark builds its data, times and reports
the same way:

- `datasets`: the dev sets in ../shared/dev-data (bills, NaPiRE, NHS feedback) and their cached vectors;
- `corpus`: distinct passage texts recombined from the dev sets, at any size;
- `synthetic`: a project of N passages written straight into the store's tables (opening and pages);
- `timing`: medians of repeated calls, and one command's wall time, CPU time and peak memory;
- `machine`: what machine the figures come from;
- `markdown`: Markdown tables, and replacing one section of docs/benchmarks.md.

The package is not part of synth (it is not in the wheel): it imports synth, never the reverse.
"""
