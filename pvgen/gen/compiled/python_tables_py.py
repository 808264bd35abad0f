"""Template templates/python/tables.py.j2, compiled by Jinja: written by `make tables`."""

SOURCE_SHA256 = "9cbc867dd9ef738e279a8b7f44d9b25b099c756aa6c43ff1bada61006c24eff0"
JINJA_SERIES = "3.1"

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'tables.py.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_banner = resolve('banner')
    l_0_abi_name = resolve('abi_name')
    l_0_abi_version = resolve('abi_version')
    l_0_dispatch = resolve('dispatch')
    l_0_typing_names = resolve('typing_names')
    l_0_native_module = resolve('native_module')
    l_0_native_stub = resolve('native_stub')
    l_0_fingerprints = resolve('fingerprints')
    l_0_patch_template = resolve('patch_template')
    l_0_patch_ids = resolve('patch_ids')
    l_0_since = resolve('since')
    l_0_overrides = resolve('overrides')
    l_0_nulls = resolve('nulls')
    l_0_runs_on = resolve('runs_on')
    l_0_must_patch = resolve('must_patch')
    l_0_tables = resolve('tables')
    l_0_top = resolve('top')
    l_0_init_signature = resolve('init_signature')
    l_0_tables_made = resolve('tables_made')
    l_0_install_signature = resolve('install_signature')
    l_0_install = resolve('install')
    l_0_by_backend = missing
    try:
        t_1 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    try:
        t_2 = environment.filters['list']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'list' found.")
    try:
        t_3 = environment.filters['select']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'select' found.")
    try:
        t_4 = environment.filters['trim']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No filter named 'trim' found.")
    pass
    for l_1_line in (undefined(name='banner') if l_0_banner is missing else l_0_banner):
        _loop_vars = {}
        pass
        yield str(l_1_line)
        yield '\n'
    l_1_line = missing
    yield '"""Dispatch tables of ABI \''
    yield str((undefined(name='abi_name') if l_0_abi_name is missing else l_0_abi_name))
    yield "' version "
    yield str((undefined(name='abi_version') if l_0_abi_version is missing else l_0_abi_version))
    yield '.\n\n`'
    yield str((undefined(name='dispatch') if l_0_dispatch is missing else l_0_dispatch))
    yield '` holds one class per table; installing a backend binds every\nhook once, to the backend\'s method where the spec says the backend overrides\nthe hook and to the default backend\'s method otherwise. A call is then an\nattribute lookup and a call: `ops.pv_irq_ops.save_fl()`.\n"""\n\nfrom __future__ import annotations\n\nfrom collections.abc import Callable\nfrom typing import '
    yield str((undefined(name='typing_names') if l_0_typing_names is missing else l_0_typing_names))
    yield '\n\nfrom . import types as t\n'
    if (undefined(name='native_module') if l_0_native_module is missing else l_0_native_module):
        pass
        yield '\nif TYPE_CHECKING:\n    from .backends.'
        yield str((undefined(name='native_module') if l_0_native_module is missing else l_0_native_module))
        yield ' import '
        yield str((undefined(name='native_stub') if l_0_native_stub is missing else l_0_native_stub))
        yield '\n'
    yield '\nABI_NAME = "'
    yield str((undefined(name='abi_name') if l_0_abi_name is missing else l_0_abi_name))
    yield '"\nABI_VERSION = '
    yield str((undefined(name='abi_version') if l_0_abi_version is missing else l_0_abi_version))
    yield "\n\n#: Each table's fingerprint, as the C header's <ABI>_<TABLE>_FINGERPRINT: a hash of what\n#: code built against the table depends on (members in order, C types, calling\n#: conventions, the layout on every target). An unchanged fingerprint: a backend built\n#: against another release fits that table.\n"
    if (undefined(name='fingerprints') if l_0_fingerprints is missing else l_0_fingerprints):
        pass
        yield 'FINGERPRINTS: dict[str, int] = {\n'
        for (l_1_table, l_1_value) in context.call(environment.getattr((undefined(name='fingerprints') if l_0_fingerprints is missing else l_0_fingerprints), 'items')):
            _loop_vars = {}
            pass
            yield '    "'
            yield str(l_1_table)
            yield '": '
            yield str(l_1_value)
            yield ',\n'
        l_1_table = l_1_value = missing
        yield '}\n'
    else:
        pass
        yield 'FINGERPRINTS: dict[str, int] = {}\n'
    yield '\n'
    if (undefined(name='patch_template') if l_0_patch_template is missing else l_0_patch_template):
        pass
        yield "#: Per target, each patch ID: the hook's slot offset in the patch template\n#: divided by the pointer size, as the C header's patch ID macros. Hooks of\n#: tables outside the template have none. The template's tables, in order:\n"
        for l_1_line in (undefined(name='patch_template') if l_0_patch_template is missing else l_0_patch_template):
            _loop_vars = {}
            pass
            yield '#: '
            yield str(l_1_line)
            yield '\n'
        l_1_line = missing
    else:
        pass
        yield "#: Per target, each hook's patch ID: its slot offset in the aggregate of all\n#: tables divided by the pointer size, as the C header's patch ID macros.\n"
    yield 'PATCH_IDS: dict[str, dict[str, int]] = {\n'
    for (l_1_target, l_1_entries) in context.call(environment.getattr((undefined(name='patch_ids') if l_0_patch_ids is missing else l_0_patch_ids), 'items')):
        _loop_vars = {}
        pass
        if l_1_entries:
            pass
            yield '    "'
            yield str(l_1_target)
            yield '": {\n'
            yield str(l_1_entries)
            yield '\n    },\n'
        else:
            pass
            yield '    "'
            yield str(l_1_target)
            yield '": {},\n'
    l_1_target = l_1_entries = missing
    yield '}\n\n#: The ABI version that introduced each hook and data member.\n'
    if (undefined(name='since') if l_0_since is missing else l_0_since):
        pass
        yield 'SINCE: dict[str, int] = {\n'
        yield str((undefined(name='since') if l_0_since is missing else l_0_since))
        yield '\n}\n'
    else:
        pass
        yield 'SINCE: dict[str, int] = {}\n'
    yield "\n#: What each backend implements itself, by path; the rest is the default backend's.\n"
    if (undefined(name='overrides') if l_0_overrides is missing else l_0_overrides):
        pass
        yield 'OVERRIDES: dict[str, tuple[str, ...]] = {\n'
        for (l_1_name, l_1_paths) in context.call(environment.getattr((undefined(name='overrides') if l_0_overrides is missing else l_0_overrides), 'items')):
            _loop_vars = {}
            pass
            if (t_1(l_1_paths) > 1):
                pass
                yield '    "'
                yield str(l_1_name)
                yield '": (\n'
                for l_2_path in l_1_paths:
                    _loop_vars = {}
                    pass
                    yield '        "'
                    yield str(l_2_path)
                    yield '",\n'
                l_2_path = missing
                yield '    ),\n'
            elif l_1_paths:
                pass
                yield '    "'
                yield str(l_1_name)
                yield '": ("'
                yield str(environment.getitem(l_1_paths, 0))
                yield '",),\n'
            else:
                pass
                yield '    "'
                yield str(l_1_name)
                yield '": (),\n'
        l_1_name = l_1_paths = missing
        yield '}\n'
    else:
        pass
        yield 'OVERRIDES: dict[str, tuple[str, ...]] = {}\n'
    def macro(l_1_name, l_1_values):
        t_5 = []
        if l_1_name is missing:
            l_1_name = undefined("parameter 'name' was not provided", name='name')
        if l_1_values is missing:
            l_1_values = undefined("parameter 'values' was not provided", name='values')
        pass
        if t_2(context.eval_ctx, t_3(context, context.call(environment.getattr(l_1_values, 'values')))):
            pass
            t_5.extend((
                str(l_1_name),
                ': dict[str, tuple[str, ...]] = {\n',
            ))
            for (l_2_key, l_2_paths) in context.call(environment.getattr(l_1_values, 'items')):
                _loop_vars = {}
                pass
                if (t_1(l_2_paths) > 1):
                    pass
                    t_5.extend((
                        '    "',
                        str(l_2_key),
                        '": (\n',
                    ))
                    for l_3_path in l_2_paths:
                        _loop_vars = {}
                        pass
                        t_5.extend((
                            '        "',
                            str(l_3_path),
                            '",\n',
                        ))
                    l_3_path = missing
                    t_5.append(
                        '    ),\n',
                    )
                elif l_2_paths:
                    pass
                    t_5.extend((
                        '    "',
                        str(l_2_key),
                        '": ("',
                        str(environment.getitem(l_2_paths, 0)),
                        '",),\n',
                    ))
                else:
                    pass
                    t_5.extend((
                        '    "',
                        str(l_2_key),
                        '": (),\n',
                    ))
            l_2_key = l_2_paths = missing
            t_5.append(
                '}\n',
            )
        else:
            pass
            t_5.extend((
                str(l_1_name),
                ': dict[str, tuple[str, ...]] = {}\n',
            ))
        return concat(t_5)
    context.exported_vars.add('by_backend')
    context.vars['by_backend'] = l_0_by_backend = Macro(environment, macro, 'by_backend', ('name', 'values'), False, False, False, context.eval_ctx.autoescape)
    yield '\n#: What is NULL under each backend, by path: a member it does not provide and does not\n#: take from the default backend (`@fallback(none)`), or one the default leaves NULL\n#: (`@no_native`). The dispatch binds None there; the callers of a `@nullable` hook check.\n'
    yield str(t_4(context.call((undefined(name='by_backend') if l_0_by_backend is missing else l_0_by_backend), 'NULL', (undefined(name='nulls') if l_0_nulls is missing else l_0_nulls))))
    yield '\n\n#: The targets each backend runs on (its `@if`): installing it on another is an error.\n'
    yield str(t_4(context.call((undefined(name='by_backend') if l_0_by_backend is missing else l_0_by_backend), 'RUNS_ON', (undefined(name='runs_on') if l_0_runs_on is missing else l_0_runs_on))))
    yield '\n\n#: Per backend, the hooks whose slot must never be called: every call site is patched.\n'
    yield str(t_4(context.call((undefined(name='by_backend') if l_0_by_backend is missing else l_0_by_backend), 'MUST_PATCH', (undefined(name='must_patch') if l_0_must_patch is missing else l_0_must_patch))))
    yield '\n'
    for l_1_table in (undefined(name='tables') if l_0_tables is missing else l_0_tables):
        _loop_vars = {}
        pass
        yield '\n\nclass '
        yield str(environment.getattr(l_1_table, 'name'))
        yield ':\n'
        for l_2_line in environment.getattr(l_1_table, 'doc'):
            _loop_vars = {}
            pass
            yield str(l_2_line)
            yield '\n'
        l_2_line = missing
        yield '\n    __slots__ = ()\n'
        if environment.getattr(l_1_table, 'members'):
            pass
            yield '\n'
            for l_2_line in environment.getattr(l_1_table, 'members'):
                _loop_vars = {}
                pass
                yield str(l_2_line)
                yield '\n'
            l_2_line = missing
    l_1_table = missing
    yield '\n\n_Table = TypeVar("_Table")\n\n\ndef _table(base: type[_Table]) -> type[_Table]:\n    """A class of its own for one installed copy of table `base`: its attributes are the hooks."""\n    # A plain `type`: CPython\'s fast path for calling a class attribute needs one (a\n    # metaclass that guards assignments costs a quarter more per call, so none is used).\n    return cast(type[_Table], type(base.__name__, (base,), {"__slots__": ()}))\n\n\nclass '
    yield str((undefined(name='dispatch') if l_0_dispatch is missing else l_0_dispatch))
    yield ':\n    """The hooks of ABI \''
    yield str((undefined(name='abi_name') if l_0_abi_name is missing else l_0_abi_name))
    yield '\' with a backend installed.\n\n    Each table is a class made for this object, and the installed hooks are its class\n    attributes: CPython calls a class attribute (`ops.pv_irq_ops.save_fl()`) about as\n    fast as a method of the backend itself, where a bound method kept in an instance\n    slot costs a quarter more per call.\n    """\n\n    __slots__ = (\n        "backend",\n'
    for l_1_name in (undefined(name='top') if l_0_top is missing else l_0_top):
        _loop_vars = {}
        pass
        yield '        "'
        yield str(l_1_name)
        yield '",\n'
    l_1_name = missing
    yield '    )\n\n'
    for l_1_line in (undefined(name='init_signature') if l_0_init_signature is missing else l_0_init_signature):
        _loop_vars = {}
        pass
        yield str(l_1_line)
        yield '\n'
    l_1_line = missing
    yield '        self.backend = backend\n'
    for l_1_line in (undefined(name='tables_made') if l_0_tables_made is missing else l_0_tables_made):
        _loop_vars = {}
        pass
        yield str(l_1_line)
        yield '\n'
    l_1_line = missing
    yield '        self.install(backend, native, target)\n\n'
    for l_1_line in (undefined(name='install_signature') if l_0_install_signature is missing else l_0_install_signature):
        _loop_vars = {}
        pass
        yield str(l_1_line)
        yield '\n'
    l_1_line = missing
    yield '        """Bind every slot once: to `backend` where it overrides the hook, to None where the\n        slot is NULL under it (`NULL`), else to `native`. Given a `target`, a backend that\n        does not run there (`RUNS_ON`) is refused with a ValueError."""\n        name = getattr(backend, "NAME", "")\n        if target is not None and name in RUNS_ON and target not in RUNS_ON[name]:\n            raise ValueError(\n                f"backend \'{name}\' does not run on target \'{target}\';"\n                f" it runs on: {\', \'.join(RUNS_ON[name]) or \'no target\'}"\n            )\n        self.backend = backend\n        overridden = frozenset(OVERRIDES.get(name, ()))\n        nulls = frozenset(NULL.get(name, ()))\n\n        def pick(path: str) -> Any:\n            if path in nulls:\n                return None\n            source = backend if path in overridden else native\n            return getattr(source, path.replace(".", "_"))\n\n'
    if (undefined(name='install') if l_0_install is missing else l_0_install):
        pass
        yield str((undefined(name='install') if l_0_install is missing else l_0_install))
        yield '\n'

blocks = {}
debug_info = '1=57&2=60&4=64&6=68&15=70&18=72&21=75&24=80&25=82&31=84&33=87&34=91&41=101&45=104&46=108&53=115&54=118&55=121&56=123&59=128&65=132&67=135&74=141&76=144&77=147&78=150&79=152&80=156&83=160&84=163&86=170&93=177&94=184&95=187&96=190&97=193&98=197&99=200&100=205&103=212&104=216&106=225&111=235&118=242&121=244&124=246&125=248&128=252&129=254&130=257&134=261&136=264&137=267&153=272&154=274&164=276&165=280&169=284&170=287&173=291&174=294&178=298&179=301&200=305&201=307'
