"""Rows loaded into model instances by fixed statements, for the few reads on every API call.

Django compiles a queryset anew on every evaluation; for a lookup by key that runs on every
call (the token and its owner, the request's school) the compiling cost several times what
PostgreSQL spent on the query (measured with py-spy). Here the statement is built once per
model from its metadata, and each value goes through the same converters as the ORM's.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection
from django.db.models import Model


@functools.cache
def _shape(model: type[Model]) -> tuple[list[str], list[str], list[tuple[Any, list]]]:
    """The quoted columns, the attribute names, and each column with its converters."""
    meta = model._meta
    q = connection.ops.quote_name
    fields = meta.concrete_fields
    converters = []
    for f in fields:
        col = f.get_col(meta.db_table)
        funcs = [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]
        converters.append((col, funcs))
    return [q(f.column) for f in fields], [f.attname for f in fields], converters


def select_list(model: type[Model], alias: str) -> str:
    """``model``'s columns for a SELECT, as ``alias.column`` (in :func:`from_row`'s order)."""
    return ", ".join(f"{alias}.{column}" for column in _shape(model)[0])


def width(model: type[Model]) -> int:
    """How many values of a row :func:`from_row` takes for ``model``."""
    return len(_shape(model)[1])


def from_row(model: type[Model], values: Any) -> Model:
    """An instance of ``model`` from its columns' values (in :func:`select_list`'s order)."""
    _, names, converters = _shape(model)
    out = []
    for value, (col, funcs) in zip(values, converters, strict=True):
        for func in funcs:
            value = func(value, col, connection)
        out.append(value)
    return model.from_db(connection.alias, names, out)


@functools.cache
def _by_pk_sql(model: type[Model]) -> str:
    meta = model._meta
    q = connection.ops.quote_name
    where = f"t.{q(meta.pk.column)} = %s"
    return f"SELECT {select_list(model, 't')} FROM {q(meta.db_table)} t WHERE {where}"  # noqa: S608


def load_by_pk(model: type[Model], pk: Any) -> Model | None:
    """``model.objects.get(pk=pk)`` by a fixed statement; None when there is no such row.
    No manager, so no default filtering: only for models whose manager filters nothing."""
    with connection.cursor() as cur:
        cur.execute(_by_pk_sql(model), [pk])
        row = cur.fetchone()
    return None if row is None else from_row(model, row)


@functools.cache
def _insert_shape(model: type[Model]) -> tuple[str, list[Any], list[Any]] | None:
    """The INSERT of a new ``model`` row (every local column but the auto key, RETURNING the
    database's values), its fields, the returned fields; None when a field needs the ORM (a
    placeholder other than ``%s``, a generated column)."""
    meta = model._meta
    q = connection.ops.quote_name
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    if any(getattr(f, "generated", False) for f in fields):
        return None
    for f in fields:
        placeholder = getattr(f, "get_placeholder", None)
        try:
            if placeholder is not None and placeholder(None, None, connection) != "%s":
                return None
        except Exception:  # noqa: BLE001 - a placeholder that needs its compiler: the ORM's
            return None
    returning = list(meta.db_returning_fields)
    sql = (
        f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if returning:
        sql += f" RETURNING {', '.join(q(f.column) for f in returning)}"
    return sql, fields, returning


def insert(obj: Model) -> None:
    """``obj.save()`` of a new row by a fixed statement: the same values (each field's
    ``pre_save`` and ``get_db_prep_save``, as the ORM's insert) and the key set on ``obj``.
    Django compiles an INSERT anew for every save: measured, more CPU than PostgreSQL spent on
    the row. No ``pre_save``/``post_save`` signals are sent: only for models nobody listens to
    (``tests/portal/test_dbrows.py`` checks that of the models that use it); anything the ORM
    would need to compile (a database default, an expression) takes ``obj.save()``."""
    from django.db.models.expressions import Expression
    from django.db.models.signals import post_save, pre_save

    model = type(obj)
    shape = _insert_shape(model)
    if shape is None or pre_save.has_listeners(model) or post_save.has_listeners(model):
        obj.save(force_insert=True)
        return
    sql, fields, returning = shape
    obj._prepare_related_fields_for_save(operation_name="save")
    values = [f.pre_save(obj, add=True) for f in fields]
    if any(isinstance(v, Expression) or hasattr(v, "resolve_expression") for v in values):
        obj.save(force_insert=True)
        return
    params = [
        f.get_db_prep_save(v, connection=connection) for f, v in zip(fields, values, strict=True)
    ]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone() if returning else ()
    for f, value in zip(returning, row or (), strict=False):
        col = f.get_col(model._meta.db_table)
        for func in [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]:
            value = func(value, col, connection)
        setattr(obj, f.attname, value)
    obj._state.adding = False
    obj._state.db = connection.alias
