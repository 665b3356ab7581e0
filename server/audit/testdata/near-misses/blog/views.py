import ast
import json
import pickle
import subprocess

from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_protect
from yaml import CSafeLoader, load

from .models import Post

# Never use csrf_exempt here: eval(user_input) and cursor.execute(f"...") are banned.
COUNT_SQL = "SELECT COUNT(*) FROM blog_post"


def build_query(column):
    return "SELECT * FROM blog_post ORDER BY " + column


def sorted_posts(request, sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        cursor.execute(COUNT_SQL)
        cursor.execute(f"SELECT 1")
        cursor.execute("SELECT title " + "FROM blog_post")
        cursor.execute("SELECT * FROM blog_post WHERE title = %s" % "fixed")
        cursor.executemany("INSERT INTO blog_post (title) VALUES (%s)", [(t,) for t in request.POST.getlist("t")])
        return HttpResponse(cursor.fetchall())


def scheduled(request, task):
    task.execute(f"publish {request.GET['id']}")
    return HttpResponse(ast.literal_eval(request.GET["n"]))


def tools(request, items):
    subprocess.run("ls -la", shell=True)
    subprocess.Popen(["tar", "czf", request.GET["name"], "."])
    subprocess.check_output(["grep", request.GET["q"], "log.txt"], shell=False)
    data = pickle.dumps(items)
    parsed = json.loads(request.body)
    config = load(request.body, Loader=CSafeLoader)
    return HttpResponse(str(data) + str(parsed) + str(config))


@csrf_protect
def post_detail(request, slug):
    post = Post.objects.get(slug=slug)
    return HttpResponse(post.title)


def load_post(pk):
    return Post.objects.get(pk=pk)


def my_post(request, pk):
    post = request.user.posts.get(pk=pk)
    return HttpResponse(post.title)


def back(request):
    return HttpResponseRedirect(request.path)


def to_detail(request):
    return redirect(reverse("blog:detail", args=[request.GET["id"]]))


def safe_next(request):
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(next_url)
    return redirect("/")


def edit(request, pk):
    post = get_object_or_404(Post.objects.filter(author=request.user), pk=pk)
    return HttpResponse(post.title)
