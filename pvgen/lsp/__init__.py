"""The language server of `pvgen lsp`: diagnostics, hover, navigation, completion, outline,
formatting and quick fixes for `.pvspec` files in an editor.

Takes: the text of the documents an editor has open (and the spec files on disk they include).
Hands on: `analysis` compiles a root spec from that text (the one function every check of
the server goes through); `index` finds every name in the syntax trees of a compile and
what it refers to; `features` answers each request from them, as plain data with pvgen's
1-based spans, so each can be tested without the protocol; `server` is the protocol glue,
built on pygls, which only it imports.
"""
