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
