import os
import pickle
import subprocess

import yaml
from django.db import connection
from django.db.models.expressions import RawSQL
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import CreateView

from .models import Order


def search(request):
    term = request.GET.get("q", "")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM orders_order WHERE note LIKE '%{term}%'")
        rows = cursor.fetchall()
    return HttpResponse(str(rows))


def by_total(request):
    query = "SELECT * FROM orders_order WHERE total > %s" % request.GET["min"]
    orders = Order.objects.raw(query)
    return render(request, "orders/list.html", {"orders": orders})


def sorted_orders(request):
    column = request.GET.get("sort", "id")
    sql = "SELECT * FROM orders_order ORDER BY "
    sql += column
    cursor = connection.cursor()
    cursor.execute(sql)
    extra = Order.objects.extra(where=["note = '{}'".format(request.GET["note"])])
    annotated = Order.objects.annotate(big=RawSQL("total > " + request.GET["limit"], []))
    return HttpResponse(len(list(extra)) + len(list(annotated)))


def order_detail(request, pk):
    order = Order.objects.get(pk=pk)
    return render(request, "orders/detail.html", {"order": order})


def order_note(request, order_id):
    order = get_object_or_404(Order, id=order_id)
    return HttpResponse(mark_safe("<p>" + order.note + "</p>"))


@csrf_exempt
def webhook(request):
    payload = pickle.loads(request.body)
    config = yaml.load(request.body)
    return HttpResponse(str(payload) + str(config))


def go_next(request):
    target = request.GET.get("next") or "/"
    return redirect(target)


def go_back(request):
    return HttpResponseRedirect(request.META["HTTP_REFERER"])


def convert(request):
    name = request.POST["name"]
    os.system("convert " + name + " out.png")
    subprocess.run(f"gzip {name}", shell=True)
    return HttpResponse(eval(request.POST["expr"]))


class OrderCreate(CreateView):
    model = Order
    fields = "__all__"
