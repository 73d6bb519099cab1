"""synth: NLP-assisted thematic synthesis with verbatim, offset-exact evidence."""

__version__ = "0.1.0"
