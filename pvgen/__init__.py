"""pvgen: a compiler for paravirtualization hook-table interfaces.

The pipeline, one module per stage:
source.py, loader.py, syntax.py  -> spec text to syntax trees
resolve.py, layout.py            -> syntax trees to the `model.Abi`
dump.py                          -> the model as canonical JSON
api.py                           -> the whole pipeline as typed functions
commands/, cli.py                -> the `pvgen` command, one module per subcommand
"""

__version__ = "0.1.0"
