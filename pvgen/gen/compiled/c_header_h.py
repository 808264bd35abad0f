"""Template templates/c/header.h.j2, compiled by Jinja: written by `make tables`."""

SOURCE_SHA256 = "880f49838b15a3205dd76f29060a14ccbf010c036e5ce925a358752ee83db72a"
JINJA_SERIES = "3.1"

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'header.h.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_banner = resolve('banner')
    l_0_abi_doc = resolve('abi_doc')
    l_0_names = resolve('names')
    l_0_version = resolve('version')
    l_0_since = resolve('since')
    l_0_fingerprints = resolve('fingerprints')
    l_0_template_tag = resolve('template_tag')
    l_0_targets = resolve('targets')
    l_0_has_placeholders = resolve('has_placeholders')
    l_0_forwards = resolve('forwards')
    l_0_types = resolve('types')
    l_0_tables = resolve('tables')
    l_0_aggregate = resolve('aggregate')
    l_0_ops = resolve('ops')
    l_0_patch_template = resolve('patch_template')
    l_0_fallbacks = resolve('fallbacks')
    l_0_wrappers = resolve('wrappers')
    try:
        t_1 = environment.filters['join']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'join' found.")
    pass
    yield str((undefined(name='banner') if l_0_banner is missing else l_0_banner))
    yield '\n'
    if (undefined(name='abi_doc') if l_0_abi_doc is missing else l_0_abi_doc):
        pass
        yield '\n'
        yield str((undefined(name='abi_doc') if l_0_abi_doc is missing else l_0_abi_doc))
        yield '\n'
    yield '\n#ifndef '
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'guard'))
    yield '\n#define '
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'guard'))
    yield "\n\n/* The ABI's version, and the version that introduced each hook. */\n#define "
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'abi_version'))
    yield ' '
    yield str((undefined(name='version') if l_0_version is missing else l_0_version))
    yield '\n'
    if (undefined(name='since') if l_0_since is missing else l_0_since):
        pass
        yield str((undefined(name='since') if l_0_since is missing else l_0_since))
        yield '\n'
    yield "\n/*\n * Each table's fingerprint: a hash of what code built against the table depends on (its\n * members in order, their C types and calling conventions, its layout and that of the\n * types it names on every target). A backend built against another release of the ABI\n * fits a table whose fingerprint is unchanged.\n */\n"
    for l_1_define in (undefined(name='fingerprints') if l_0_fingerprints is missing else l_0_fingerprints):
        _loop_vars = {}
        pass
        yield str(l_1_define)
        yield '\n'
    l_1_define = missing
    yield "\n/*\n * One block per target, selected by the data model and every configuration macro the ABI\n * knows. It names the target and the backends that run on it, and gives each hook's patch\n * ID: the index of its slot in struct "
    yield str((undefined(name='template_tag') if l_0_template_tag is missing else l_0_template_tag))
    yield ', counted in pointers, as a literal\n * that assembly can use.\n */\n'
    for l_1_t in (undefined(name='targets') if l_0_targets is missing else l_0_targets):
        _loop_vars = {}
        pass
        yield '#if '
        yield str(t_1(context.eval_ctx, environment.getattr(l_1_t, 'selector'), ' && \\\n    '))
        yield '\n'
        if environment.getattr(l_1_t, 'doc'):
            pass
            yield str(environment.getattr(l_1_t, 'doc'))
            yield '\n'
        for l_2_note in environment.getattr(l_1_t, 'notes'):
            _loop_vars = {}
            pass
            yield '/* '
            yield str(l_2_note)
            yield ' */\n'
        l_2_note = missing
        for l_2_b in environment.getattr(l_1_t, 'backends'):
            _loop_vars = {}
            pass
            yield '#define '
            yield str(l_2_b)
            yield ' 1\n'
        l_2_b = missing
        yield '#define '
        yield str(environment.getattr(l_1_t, 'macro'))
        yield ' 1\n'
        if environment.getattr(l_1_t, 'patch_ids'):
            pass
            yield str(environment.getattr(l_1_t, 'patch_ids'))
            yield '\n'
        if environment.getattr(l_1_t, 'gnu_patch_ids'):
            pass
            yield '#if defined(__GNUC__) && !defined(__cplusplus)\n'
            yield str(environment.getattr(l_1_t, 'gnu_patch_ids'))
            yield '\n#endif\n'
        yield '#endif /* target '
        yield str(environment.getattr(l_1_t, 'name'))
        yield ' */\n\n'
    l_1_t = missing
    yield '#ifndef __ASSEMBLER__\n\n#include <stdint.h>\n#include <stdbool.h>\n#include <stddef.h>\n\n#ifdef __cplusplus\nextern "C" {\n#endif\n\n/* Marks a call wrapper whose hook is deprecated; the message names the replacement. */\n#if defined(__GNUC__)\n#define '
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'deprecated'))
    yield '(msg) __attribute__((deprecated(msg)))\n#else\n#define '
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'deprecated'))
    yield '(msg)\n#endif\n\n'
    if environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'callconvs'):
        pass
        yield "/* Calling conventions of hooks declared @callconv: register arguments on i386 (as\n   the kernel's fastcall and asmlinkage), the platform's only convention elsewhere. */\n#if defined(__GNUC__) && defined(__i386__)\n"
        for (l_1_macro, l_1_regparm) in environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'callconvs'):
            _loop_vars = {}
            pass
            yield '#define '
            yield str(l_1_macro)
            yield ' __attribute__((regparm('
            yield str(l_1_regparm)
            yield ')))\n'
        l_1_macro = l_1_regparm = missing
        yield '#else\n'
        for (l_1_macro, l_1__) in environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'callconvs'):
            _loop_vars = {}
            pass
            yield '#define '
            yield str(l_1_macro)
            yield '\n'
        l_1_macro = l_1__ = missing
        yield '#endif\n\n'
    if (undefined(name='has_placeholders') if l_0_has_placeholders is missing else l_0_has_placeholders):
        pass
        yield "/* The only member of a struct that is empty on some configuration. GNU C gives it size 0,\n   as the kernel and pvgen's layout do; ISO C and C++ have no empty structs: one byte. */\n#if defined(__GNUC__) && !defined(__cplusplus)\n#define "
        yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'empty_member'))
        yield ' __extension__ char pvgen_empty_[0]\n#else\n#define '
        yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'empty_member'))
        yield ' char pvgen_empty_\n#endif\n\n'
    yield '/* Structs declared @packed: no padding between fields. */\n#if defined(__GNUC__)\n#define '
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'packed'))
    yield ' __attribute__((packed))\n#else\n#define '
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'packed'))
    yield '\n#endif\n\n/* Layout proofs: a compile-time check in C11, C++11, or else a negative-size array. */\n#if defined(__cplusplus) && __cplusplus >= 201103L\n#define '
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'static_assert'))
    yield '(expr, id, msg) static_assert(expr, msg)\n#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L\n#define '
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'static_assert'))
    yield '(expr, id, msg) _Static_assert(expr, msg)\n#else\n#define '
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'static_assert'))
    yield '(expr, id, msg) \\\n    typedef char '
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'layout_check'))
    yield '##id[(expr) ? 1 : -1]\n#endif\n\n/* Every struct, so that any of them can be used behind a pointer. */\n'
    for l_1_line in (undefined(name='forwards') if l_0_forwards is missing else l_0_forwards):
        _loop_vars = {}
        pass
        yield str(l_1_line)
        yield '\n'
    l_1_line = missing
    for l_1_item in (undefined(name='types') if l_0_types is missing else l_0_types):
        _loop_vars = {}
        pass
        yield '\n'
        yield str(l_1_item)
        yield '\n'
    l_1_item = missing
    if (undefined(name='tables') if l_0_tables is missing else l_0_tables):
        pass
        yield '\n'
        yield str((undefined(name='tables') if l_0_tables is missing else l_0_tables))
        yield '\n'
    yield '\n'
    yield str((undefined(name='aggregate') if l_0_aggregate is missing else l_0_aggregate))
    yield '\n\n/* The table in use, filled with native implementations in '
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'native_file'))
    yield '. */\nextern struct '
    yield str((undefined(name='ops') if l_0_ops is missing else l_0_ops))
    yield ' '
    yield str((undefined(name='ops') if l_0_ops is missing else l_0_ops))
    yield ';\n'
    if (undefined(name='patch_template') if l_0_patch_template is missing else l_0_patch_template):
        pass
        yield '\n'
        yield str((undefined(name='patch_template') if l_0_patch_template is missing else l_0_patch_template))
        yield '\n'
    yield '\n/* Patch IDs for C code when no target block above matched. */\n'
    if (undefined(name='fallbacks') if l_0_fallbacks is missing else l_0_fallbacks):
        pass
        yield str((undefined(name='fallbacks') if l_0_fallbacks is missing else l_0_fallbacks))
        yield '\n'
    yield '\n/* Call wrappers: one per hook, through '
    yield str((undefined(name='ops') if l_0_ops is missing else l_0_ops))
    yield '. */\n'
    if (undefined(name='wrappers') if l_0_wrappers is missing else l_0_wrappers):
        pass
        yield '\n'
        yield str((undefined(name='wrappers') if l_0_wrappers is missing else l_0_wrappers))
        yield '\n'
    yield "\n/* Layout proofs: the compiler must lay everything out as pvgen's model does. */\n"
    for l_1_t in (undefined(name='targets') if l_0_targets is missing else l_0_targets):
        _loop_vars = {}
        pass
        yield '#if '
        yield str(t_1(context.eval_ctx, environment.getattr(l_1_t, 'selector'), ' && \\\n    '))
        yield '\n'
        if environment.getattr(l_1_t, 'asserts'):
            pass
            yield str(environment.getattr(l_1_t, 'asserts'))
            yield '\n'
        if environment.getattr(l_1_t, 'gnu_asserts'):
            pass
            yield '#if defined(__GNUC__) && !defined(__cplusplus)\n'
            yield str(environment.getattr(l_1_t, 'gnu_asserts'))
            yield '\n#endif\n'
        yield '#endif /* target '
        yield str(environment.getattr(l_1_t, 'name'))
        yield ' */\n'
    l_1_t = missing
    yield '\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* __ASSEMBLER__ */\n\n#endif /* '
    yield str(environment.getattr((undefined(name='names') if l_0_names is missing else l_0_names), 'guard'))
    yield ' */\n'

blocks = {}
debug_info = '4=34&5=36&7=39&10=42&11=44&14=46&15=50&16=52&25=55&26=58&32=62&35=64&36=68&37=70&38=72&40=74&41=78&43=81&44=85&46=89&47=91&48=93&50=95&52=98&55=101&70=105&72=107&75=109&79=112&80=116&83=122&84=126&89=130&93=133&95=135&101=138&103=140&108=142&110=144&112=146&113=148&117=150&118=153&120=156&122=160&124=163&126=166&129=169&131=171&132=173&133=177&135=180&139=183&140=185&143=188&144=190&146=193&150=196&151=200&152=202&153=204&155=206&157=209&160=212&169=216'
