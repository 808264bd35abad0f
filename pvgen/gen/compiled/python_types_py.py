"""Template templates/python/types.py.j2, compiled by Jinja: written by `make tables`."""

SOURCE_SHA256 = "a42fdb3db2f058d479c2af45f9f2b42b66e14c357c0d4fac6baf7fb439b49dd5"
JINJA_SERIES = "3.1"

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'types.py.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_banner = resolve('banner')
    l_0_abi_name = resolve('abi_name')
    l_0_imports = resolve('imports')
    l_0_types = resolve('types')
    pass
    for l_1_line in (undefined(name='banner') if l_0_banner is missing else l_0_banner):
        _loop_vars = {}
        pass
        yield str(l_1_line)
        yield '\n'
    l_1_line = missing
    yield '"""Types of ABI \''
    yield str((undefined(name='abi_name') if l_0_abi_name is missing else l_0_abi_name))
    yield '\' for Python.\n\nIntegers are `int` whatever their width; pointers are addresses (`int`) in the\nsimulated guest\'s memory, except `char` pointers, which are `str`. Structs are\ndataclasses; a struct declared differently per target has the fields of all its\ndeclarations.\n"""\n\nfrom __future__ import annotations\n'
    if (undefined(name='imports') if l_0_imports is missing else l_0_imports):
        pass
        yield '\n'
        for l_1_line in (undefined(name='imports') if l_0_imports is missing else l_0_imports):
            _loop_vars = {}
            pass
            yield str(l_1_line)
            yield '\n'
        l_1_line = missing
    l_1_loop = missing
    for l_1_type, l_1_loop in LoopContext((undefined(name='types') if l_0_types is missing else l_0_types), undefined):
        _loop_vars = {}
        pass
        if (environment.getattr(l_1_type, 'kind') == 'alias'):
            pass
            yield '\n'
            if (not environment.getattr(l_1_loop, 'first')):
                pass
                yield '\n'
            if environment.getattr(l_1_type, 'comment'):
                pass
                yield '#: '
                yield str(environment.getattr(l_1_type, 'comment'))
                yield '\n'
            yield str(environment.getattr(l_1_type, 'name'))
            yield ' = '
            yield str(environment.getattr(l_1_type, 'target'))
            yield '\n'
        elif (environment.getattr(l_1_type, 'kind') == 'opaque'):
            pass
            yield '\n\nclass '
            yield str(environment.getattr(l_1_type, 'name'))
            yield ':\n'
            for l_2_line in environment.getattr(l_1_type, 'doc'):
                _loop_vars = {}
                pass
                yield str(l_2_line)
                yield '\n'
            l_2_line = missing
            yield '\n    __slots__ = ()\n'
        elif (environment.getattr(l_1_type, 'kind') == 'enum'):
            pass
            yield '\n\nclass '
            yield str(environment.getattr(l_1_type, 'name'))
            yield '(enum.IntEnum):\n'
            for l_2_line in environment.getattr(l_1_type, 'doc'):
                _loop_vars = {}
                pass
                yield str(l_2_line)
                yield '\n'
            l_2_line = missing
            yield '\n'
            for (l_2_name, l_2_value) in environment.getitem(l_1_type, 'values'):
                _loop_vars = {}
                pass
                yield '    '
                yield str(l_2_name)
                yield ' = '
                yield str(l_2_value)
                yield '\n'
            l_2_name = l_2_value = missing
        else:
            pass
            yield '\n\n@dataclass(slots=True)\nclass '
            yield str(environment.getattr(l_1_type, 'name'))
            yield ':\n'
            for l_2_line in environment.getattr(l_1_type, 'doc'):
                _loop_vars = {}
                pass
                yield str(l_2_line)
                yield '\n'
            l_2_line = missing
            yield '\n'
            for (l_2_name, (l_2_annotation, l_2_default)) in environment.getattr(l_1_type, 'fields'):
                _loop_vars = {}
                pass
                yield '    '
                yield str(l_2_name)
                yield ': '
                yield str(l_2_annotation)
                yield ' = '
                yield str(l_2_default)
                yield '\n'
            l_2_name = l_2_annotation = l_2_default = missing
    l_1_loop = l_1_type = missing

blocks = {}
debug_info = '1=15&2=18&4=22&13=24&15=27&16=30&19=34&20=37&22=40&25=43&26=46&28=48&29=52&32=55&33=57&34=60&38=64&41=67&42=69&43=72&46=76&47=80&53=88&54=90&55=93&58=97&59=101'
