"""Template templates/c/native.c.j2, compiled by Jinja: written by `make tables`."""

SOURCE_SHA256 = "66abb2545108dfbc99f527ca9c40ba05353e59eab12b0671bb766a1828e15de7"
JINJA_SERIES = "3.1"

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'native.c.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_banner = resolve('banner')
    l_0_header_file = resolve('header_file')
    l_0_externs = resolve('externs')
    l_0_no_native = resolve('no_native')
    l_0_inits = resolve('inits')
    l_0_inits_cond = resolve('inits_cond')
    l_0_ops = resolve('ops')
    try:
        t_1 = environment.filters['join']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'join' found.")
    pass
    yield str((undefined(name='banner') if l_0_banner is missing else l_0_banner))
    yield '\n\n#include "'
    yield str((undefined(name='header_file') if l_0_header_file is missing else l_0_header_file))
    yield '"\n\n/* The bare-hardware implementation of each hook, one per declaring table. */\n'
    if (undefined(name='externs') if l_0_externs is missing else l_0_externs):
        pass
        yield str(t_1(context.eval_ctx, (undefined(name='externs') if l_0_externs is missing else l_0_externs), '\n'))
        yield '\n'
    yield '\n/*\n * The table in use, every hook set to its native implementation. Data members are left\n * zero-initialised: the platform sets them.\n'
    if (undefined(name='no_native') if l_0_no_native is missing else l_0_no_native):
        pass
        yield ' *\n * Hooks without a native implementation, left NULL for a backend to set:\n'
        for l_1_note in (undefined(name='no_native') if l_0_no_native is missing else l_0_no_native):
            _loop_vars = {}
            pass
            yield ' *   '
            yield str(l_1_note)
            yield '\n'
        l_1_note = missing
    yield ' */\n'
    if (undefined(name='inits') if l_0_inits is missing else l_0_inits):
        pass
        if (undefined(name='inits_cond') if l_0_inits_cond is missing else l_0_inits_cond):
            pass
            yield '#if '
            yield str((undefined(name='inits_cond') if l_0_inits_cond is missing else l_0_inits_cond))
            yield '\n'
        yield 'struct '
        yield str((undefined(name='ops') if l_0_ops is missing else l_0_ops))
        yield ' '
        yield str((undefined(name='ops') if l_0_ops is missing else l_0_ops))
        yield ' = {\n'
        yield str(t_1(context.eval_ctx, (undefined(name='inits') if l_0_inits is missing else l_0_inits), '\n'))
        yield '\n};\n'
        if (undefined(name='inits_cond') if l_0_inits_cond is missing else l_0_inits_cond):
            pass
            yield '#else\nstruct '
            yield str((undefined(name='ops') if l_0_ops is missing else l_0_ops))
            yield ' '
            yield str((undefined(name='ops') if l_0_ops is missing else l_0_ops))
            yield ';\n#endif\n'
    else:
        pass
        yield 'struct '
        yield str((undefined(name='ops') if l_0_ops is missing else l_0_ops))
        yield ' '
        yield str((undefined(name='ops') if l_0_ops is missing else l_0_ops))
        yield ';\n'

blocks = {}
debug_info = '3=24&5=26&8=28&9=30&15=33&18=36&19=40&23=44&24=46&25=49&27=52&28=56&30=58&32=61&36=68'
