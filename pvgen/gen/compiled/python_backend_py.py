"""Template templates/python/backend.py.j2, compiled by Jinja: written by `make tables`."""

SOURCE_SHA256 = "458141f58ed010019c7e49961cd351b6bacdc73c34486146d5ecebfdea765aa0"
JINJA_SERIES = "3.1"

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'backend.py.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_banner = resolve('banner')
    l_0_name = resolve('name')
    l_0_abi_name = resolve('abi_name')
    l_0_stub = resolve('stub')
    l_0_default = resolve('default')
    l_0_uses_types = resolve('uses_types')
    l_0_doc = resolve('doc')
    l_0_methods = resolve('methods')
    pass
    for l_1_line in (undefined(name='banner') if l_0_banner is missing else l_0_banner):
        _loop_vars = {}
        pass
        yield str(l_1_line)
        yield '\n'
    l_1_line = missing
    yield '"""Stub of backend \''
    yield str((undefined(name='name') if l_0_name is missing else l_0_name))
    yield "' of ABI '"
    yield str((undefined(name='abi_name') if l_0_abi_name is missing else l_0_abi_name))
    yield "'.\n\nSubclass `"
    yield str((undefined(name='stub') if l_0_stub is missing else l_0_stub))
    yield '` and implement its methods; regenerating never touches the\nsubclass. '
    if (undefined(name='default') if l_0_default is missing else l_0_default):
        pass
        yield 'This is the default backend: it has every hook, and every\nother backend falls back to it.'
    else:
        pass
        yield 'It has the hooks and data the spec says this backend\noverrides; the rest come from the default backend.'
    yield '\n"""\n\nfrom __future__ import annotations\n'
    if (undefined(name='uses_types') if l_0_uses_types is missing else l_0_uses_types):
        pass
        yield '\nfrom .. import types as t\n'
    yield '\n\nclass '
    yield str((undefined(name='stub') if l_0_stub is missing else l_0_stub))
    yield ':\n'
    for l_1_line in (undefined(name='doc') if l_0_doc is missing else l_0_doc):
        _loop_vars = {}
        pass
        yield str(l_1_line)
        yield '\n'
    l_1_line = missing
    yield '\n    NAME = "'
    yield str((undefined(name='name') if l_0_name is missing else l_0_name))
    yield '"\n'
    for l_1_method in (undefined(name='methods') if l_0_methods is missing else l_0_methods):
        _loop_vars = {}
        pass
        yield '\n'
        yield str(l_1_method)
        yield '\n'
    l_1_method = missing

blocks = {}
debug_info = '1=19&2=22&4=26&6=30&7=32&14=39&20=43&21=45&22=48&25=52&26=54&28=58'
