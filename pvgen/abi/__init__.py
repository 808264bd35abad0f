"""ABI releases: load any version of an ABI, freeze one, and diff two.

The common currency is the canonical dump (`dump.abi_to_dict`), so a spec, a
frozen JSON file and a file at a git revision compare alike.
"""
