"""Template templates/python/backends_init.py.j2, compiled by Jinja: written by `make tables`."""

SOURCE_SHA256 = "54451819acbb7dd94774b40663984d3b75521fd0f13b235c646cb0cccd738fbb"
JINJA_SERIES = "3.1"

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'backends_init.py.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_banner = resolve('banner')
    l_0_abi_name = resolve('abi_name')
    l_0_stubs = resolve('stubs')
    pass
    for l_1_line in (undefined(name='banner') if l_0_banner is missing else l_0_banner):
        _loop_vars = {}
        pass
        yield str(l_1_line)
        yield '\n'
    l_1_line = missing
    yield '"""Stub classes of the backends of ABI \''
    yield str((undefined(name='abi_name') if l_0_abi_name is missing else l_0_abi_name))
    yield '\'; implementations subclass them."""\n\n'
    if (undefined(name='stubs') if l_0_stubs is missing else l_0_stubs):
        pass
        for (l_1_module, l_1_stub) in (undefined(name='stubs') if l_0_stubs is missing else l_0_stubs):
            _loop_vars = {}
            pass
            yield 'from .'
            yield str(l_1_module)
            yield ' import '
            yield str(l_1_stub)
            yield '\n'
        l_1_module = l_1_stub = missing
        yield '\n__all__ = [\n'
        for (l_1_module, l_1_stub) in (undefined(name='stubs') if l_0_stubs is missing else l_0_stubs):
            _loop_vars = {}
            pass
            yield '    "'
            yield str(l_1_stub)
            yield '",\n'
        l_1_module = l_1_stub = missing
        yield ']\n'
    else:
        pass
        yield '__all__: list[str] = []\n'

blocks = {}
debug_info = '1=14&2=17&4=21&6=23&7=25&8=29&12=35&13=39'
