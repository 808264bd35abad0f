"""Template templates/python/init.py.j2, compiled by Jinja: written by `make tables`."""

SOURCE_SHA256 = "88103b4366f4307351ac48b56a5089f571e75c511b07433f0e0e4915310c834e"
JINJA_SERIES = "3.1"

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'init.py.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_banner = resolve('banner')
    l_0_doc = resolve('doc')
    l_0_dispatch = resolve('dispatch')
    pass
    for l_1_line in (undefined(name='banner') if l_0_banner is missing else l_0_banner):
        _loop_vars = {}
        pass
        yield str(l_1_line)
        yield '\n'
    l_1_line = missing
    for l_1_line in (undefined(name='doc') if l_0_doc is missing else l_0_doc):
        _loop_vars = {}
        pass
        yield str(l_1_line)
        yield '\n'
    l_1_line = missing
    yield '\nfrom .tables import (\n    ABI_NAME,\n    ABI_VERSION,\n    FINGERPRINTS,\n    MUST_PATCH,\n    NULL,\n    OVERRIDES,\n    PATCH_IDS,\n    RUNS_ON,\n    SINCE,\n    '
    yield str((undefined(name='dispatch') if l_0_dispatch is missing else l_0_dispatch))
    yield ',\n)\n\n__all__ = [\n    "ABI_NAME",\n    "ABI_VERSION",\n    "FINGERPRINTS",\n    "MUST_PATCH",\n    "NULL",\n    "OVERRIDES",\n    "PATCH_IDS",\n    "RUNS_ON",\n    "SINCE",\n    "'
    yield str((undefined(name='dispatch') if l_0_dispatch is missing else l_0_dispatch))
    yield '",\n]\n'

blocks = {}
debug_info = '1=14&2=17&4=20&5=23&18=27&31=29'
