"""The Jinja templates of pvgen/gen/templates, compiled ahead: written by `make tables`.

Takes: nothing. Hands on: one module per template, which `common.environment` loads while
its SOURCE_SHA256 is the template's hash and JINJA_SERIES the running Jinja's
(else the template is compiled from its text).
"""
