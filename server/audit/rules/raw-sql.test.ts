import { describe, expect, it } from 'vitest';
import { rawSqlRule } from './raw-sql';
import { hitsOf } from './testing';

const run = (source: string) => hitsOf(rawSqlRule, source);

describe('code.raw-sql', () => {
  it('fires on each sink when the query is built at the call', () => {
    const source = `from django.db import connection
from django.db.models.expressions import RawSQL

def view(request, name):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM t WHERE name = '{name}'")
        cursor.execute("SELECT * FROM t WHERE name = '%s'" % name)
        cursor.executemany("INSERT INTO " + name + " VALUES (%s)", [(1,)])
        cursor.execute("SELECT * FROM {}".format(name))
        cursor.execute(" ".join(["SELECT", name]))
    Person.objects.raw("SELECT * FROM p WHERE n = " + name)
    Person.objects.extra(where=[f"n = '{name}'"])
    Person.objects.extra(select={"x": "n = '%s'" % name})
    Person.objects.annotate(v=RawSQL(f"SELECT {name}", []))
`;
    expect(run(source)).toEqual(['6:9', '7:9', '8:9', '9:9', '10:9', '11:5', '12:5', '13:5', '14:31']);
  });

  it('fires when an earlier assignment in the same function built the query', () => {
    const source = `def view(request):
    table = request.GET["t"]
    query = "SELECT * FROM %s" % table
    other = query
    c = connection.cursor()
    c.execute(other)
    sql = "SELECT * FROM t ORDER BY "
    sql += request.GET["o"]
    connection.cursor().execute(sql)
`;
    expect(run(source)).toEqual(['6:5', '9:5']);
  });

  it('stays silent on parameterised and literal queries', () => {
    const source = `from django.db import connection

COUNT = "SELECT COUNT(*) FROM t"

def view(request, name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM t WHERE name = %s", [name])
        cursor.execute("SELECT * FROM t WHERE name = %(n)s", {"n": name})
        cursor.execute(COUNT)
        cursor.execute(f"SELECT 1")
        cursor.execute("SELECT a " + "FROM t")
        cursor.execute("SELECT * FROM t WHERE a = %s" % "fixed")
        query = "SELECT * FROM t"
        cursor.execute(query)
    Person.objects.raw("SELECT * FROM p WHERE n = %s", [name])
    Person.objects.extra(where=["n = %s"], params=[f"{name}"])
    RawSQL("SELECT %s", [name])
`;
    expect(run(source)).toEqual([]);
  });

  it('stays silent when the query is built only from constants', () => {
    const source = `TABLE = "orders"
PREFIX = "app_"

def view(request):
    columns = "id, total"
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM " + TABLE + " WHERE id = %s", [request.GET["id"]])
        cursor.execute(f"SELECT {columns} FROM {PREFIX}{TABLE}")
        cursor.execute("SELECT * FROM %s" % (TABLE,))
`;
    expect(run(source)).toEqual([]);
  });

  it('does not follow a query built in another function', () => {
    const source = `def build(name):
    return "SELECT * FROM t WHERE n = '" + name + "'"

def run(cursor, sql):
    cursor.execute(sql)

def other(sql):
    sql2 = f"{sql}"

def view(request, sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
`;
    expect(run(source)).toEqual([]);
  });

  it('ignores execute() on things that are not cursors', () => {
    const source = `def view(request, task):
    task.execute(f"publish {request.GET['id']}")
    pipeline.executemany("x" + request.GET["y"])
`;
    expect(run(source)).toEqual([]);
  });
});
