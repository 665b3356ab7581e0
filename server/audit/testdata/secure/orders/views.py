import subprocess

import yaml
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt

from .models import Order

BANNER = "<strong>Welcome</strong>"


def search(request):
    term = request.GET.get("q", "")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM orders_order WHERE note LIKE %s", [f"%{term}%"])
        cursor.execute("SELECT COUNT(*) FROM orders_order")
        return HttpResponse(str(cursor.fetchall()))


def by_note(request):
    orders = Order.objects.raw("SELECT * FROM orders_order WHERE note = %s", [request.GET["note"]])
    extra = Order.objects.extra(where=["note = %s"], params=[request.GET["note"]])
    return render(request, "orders/list.html", {"orders": orders, "extra": extra})


def run_query(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@login_required
def order_detail(request, pk):
    order = get_object_or_404(Order, pk=pk, owner=request.user)
    return render(request, "orders/detail.html", {"order": order})


def my_order(request, pk):
    order = Order.objects.get(pk=pk)
    if order.owner != request.user:
        return HttpResponse(status=404)
    return HttpResponse(format_html("<p>{}</p>", order.note))


def banner(request):
    return HttpResponse(mark_safe("<b>literal</b>") + mark_safe(BANNER))


def go_next(request):
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


def home(request):
    return redirect("orders:list")


def listing(request, directory):
    out = subprocess.run(["ls", directory], capture_output=True, check=True)
    config = yaml.load(request.body, Loader=yaml.SafeLoader)
    other = yaml.safe_load(request.body)
    return HttpResponse(out.stdout + str(config) + str(other))
