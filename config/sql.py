"""Reads and inserts for the hot booking path, built from the models' own metadata.

The ORM compiles its SQL anew on every call; on the 9:00 booking path that compilation cost more than the round
trips themselves. These helpers build the same statements once per model and convert each value with the
field's own converters (``get_db_prep_save`` on the way in, the backend's and the field's db converters on the
way out, as the ORM does), so they follow the model when fields are added. Inserts send no ``pre_save`` or
``post_save`` signals: use them only for models nothing listens to.
"""

from functools import cache

from django.db import connection
from django.db.models import Model


@cache
def _insert_head(model) -> tuple[str, tuple]:
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ", fields


def _row(obj, fields) -> list:
    return [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]


@cache
def _read_plan(model) -> tuple[str, tuple, tuple]:
    """The model's columns (for a SELECT list, prefix ``m.``) with, per field, the converters the ORM applies."""
    fields = tuple(model._meta.concrete_fields)
    quote = connection.ops.quote_name
    columns = ", ".join(f"m.{quote(f.column)}" for f in fields)
    converters = tuple(
        tuple(connection.ops.get_db_converters(f.get_col("m")) + f.get_db_converters(connection)) for f in fields
    )
    return columns, tuple(f.attname for f in fields), converters


def model_columns(model) -> str:
    """``m.col1, m.col2, …``: the SELECT list that ``fetch_one`` expects first (the table aliased ``m``)."""
    return _read_plan(model)[0]


def fetch_one(model, query: str, params: list):
    """Run ``query`` (its SELECT list starts with ``model_columns(model)``, then any extra values) and return
    ``(instance, extras)`` for the first row, or ``(None, ())``."""
    _columns, attnames, converters = _read_plan(model)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        row = cursor.fetchone()
    if row is None:
        return None, ()
    values = []
    for value, field_converters in zip(row, converters, strict=False):
        for convert in field_converters:
            value = convert(value, None, connection)
        values.append(value)
    return model.from_db(connection.alias, attnames, values), row[len(attnames) :]


def insert(obj: Model) -> None:
    """INSERT ``obj`` (a new, unsaved instance) and set its primary key, in one statement."""
    head, fields = _insert_head(type(obj))
    pk = type(obj)._meta.pk
    sql = f"{head}({', '.join(['%s'] * len(fields))}) RETURNING {connection.ops.quote_name(pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, _row(obj, fields))
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias


def insert_with_children(obj: Model, children: list[Model], link: str) -> None:
    """INSERT ``obj`` (new, unsaved) and ``children`` (new instances of one model whose foreign key ``link``
    points to ``obj``) and set ``obj``'s primary key. PostgreSQL: in one statement (a data-modifying WITH), a
    round trip less than ``insert`` then ``insert_many``; a constraint that refuses a child refuses the whole
    statement, as it would refuse the second of two statements in a transaction. Elsewhere: those two calls."""
    if connection.vendor != "postgresql" or not children:
        insert(obj)
        for child in children:
            setattr(child, link, obj)
        insert_many(children)
        return
    head, fields = _insert_head(type(obj))
    child_head, child_fields = _insert_head(type(children[0]))
    pk = connection.ops.quote_name(type(obj)._meta.pk.column)
    link_field = type(children[0])._meta.get_field(link)
    parent_pk = f"(SELECT {pk} FROM parent)"
    one_child = f"({', '.join(parent_pk if f is link_field else '%s' for f in child_fields)})"
    other_fields = [f for f in child_fields if f is not link_field]
    params = _row(obj, fields) + [value for child in children for value in _row(child, other_fields)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH parent AS ({head}({', '.join(['%s'] * len(fields))}) RETURNING {pk}),"
            f" children AS ({child_head}{', '.join([one_child] * len(children))}) SELECT {pk} FROM parent",
            params,
        )
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    for child in children:
        setattr(child, link, obj)  # sets the foreign key's id too, as the children now point to a saved row


def insert_many(objs: list[Model]) -> None:
    """INSERT several new instances of one model in one statement (their primary keys are not read back)."""
    if not objs:
        return
    head, fields = _insert_head(type(objs[0]))
    one_row = f"({', '.join(['%s'] * len(fields))})"
    params = [value for obj in objs for value in _row(obj, fields)]
    with connection.cursor() as cursor:
        cursor.execute(head + ", ".join([one_row] * len(objs)), params)
