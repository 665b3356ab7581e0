/**
 * `npx tsx bench/audit.ts`: generates a 2,000-file Django project (settings, models, views, forms,
 * serializers, templates, …) in a temporary directory, audits it a few times and prints files/s.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { auditProject } from '../server/audit/audit';

const APPS = 110;
/** Site-wide templates; with 18 files per app and the project files, they bring the total to 2,000. */
const SHARED_PAGES = [
  '403.html',
  '404.html',
  '500.html',
  'registration/login.html',
  'registration/logged_out.html',
  'registration/password_reset_form.html',
  'registration/password_reset_email.txt',
  'account/profile.html',
  'account/settings.html',
];
const RUNS = 5;

function pascal(name: string): string {
  return name.replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
}

function modelsPy(app: string): string {
  const models = ['Item', 'Category', 'Review', 'Tag'].map((suffix, index) => {
    const model = `${pascal(app)}${suffix}`;
    return `class ${model}(TimeStampedModel):
    """A ${suffix.toLowerCase()} of the ${app} app."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="${app}_${suffix.toLowerCase()}s")
    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    body = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    position = models.PositiveIntegerField(default=${index})
    is_published = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "-created"]
        indexes = [models.Index(fields=["slug"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("${app}:detail", kwargs={"pk": self.pk})
`;
  });
  return `from django.conf import settings
from django.db import models
from django.urls import reverse


class TimeStampedModel(models.Model):
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


${models.join('\n\n')}`;
}

function viewsPy(app: string, index: number): string {
  const model = `${pascal(app)}Item`;
  const risky =
    index % 10 === 0
      ? `

def search(request):
    term = request.GET.get("q", "")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM ${app}_item WHERE title LIKE '%{term}%'")
        return JsonResponse({"ids": [row[0] for row in cursor.fetchall()]})
`
      : '';
  return `import json

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import DetailView, ListView

from .forms import ${model}Form
from .models import ${model}


class ${model}List(LoginRequiredMixin, ListView):
    model = ${model}
    paginate_by = 25
    template_name = "${app}/list.html"

    def get_queryset(self):
        queryset = super().get_queryset().filter(owner=self.request.user)
        term = self.request.GET.get("q")
        if term:
            queryset = queryset.filter(title__icontains=term)
        return queryset.select_related("owner")


class ${model}Detail(LoginRequiredMixin, DetailView):
    model = ${model}
    template_name = "${app}/detail.html"

    def get_queryset(self):
        return ${model}.objects.filter(owner=self.request.user)


@login_required
def edit(request, pk):
    item = get_object_or_404(${model}, pk=pk, owner=request.user)
    form = ${model}Form(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect(item.get_absolute_url())
    return render(request, "${app}/form.html", {"form": form, "item": item})


@login_required
def delete(request, pk):
    item = get_object_or_404(${model}, pk=pk, owner=request.user)
    if request.method == "POST":
        item.delete()
        return redirect("${app}:list")
    return render(request, "${app}/confirm_delete.html", {"item": item})


@login_required
def export(request):
    items = ${model}.objects.filter(owner=request.user).values("id", "title", "price")
    paginator = Paginator(list(items), 100)
    page = paginator.get_page(request.GET.get("page"))
    return JsonResponse({"items": json.loads(json.dumps(list(page), default=str))})
${risky}`;
}

function formsPy(app: string): string {
  const model = `${pascal(app)}Item`;
  return `from django import forms

from .models import ${model}


class ${model}Form(forms.ModelForm):
    class Meta:
        model = ${model}
        fields = ["title", "slug", "body", "price", "is_published"]

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if len(title) < 3:
            raise forms.ValidationError("Title is too short.")
        return title
`;
}

function serializersPy(app: string): string {
  const model = `${pascal(app)}Item`;
  return `from rest_framework import serializers

from .models import ${model}


class ${model}Serializer(serializers.ModelSerializer):
    owner = serializers.HiddenField(default=serializers.CurrentUserDefault())

    class Meta:
        model = ${model}
        fields = ("id", "title", "slug", "body", "price", "owner")
        read_only_fields = ("id",)
`;
}

function smallModules(app: string): Record<string, string> {
  const model = `${pascal(app)}Item`;
  return {
    '__init__.py': '',
    'apps.py': `from django.apps import AppConfig\n\n\nclass ${pascal(app)}Config(AppConfig):\n    default_auto_field = "django.db.models.BigAutoField"\n    name = "${app}"\n`,
    'admin.py': `from django.contrib import admin\n\nfrom .models import ${model}\n\n\n@admin.register(${model})\nclass ${model}Admin(admin.ModelAdmin):\n    list_display = ("title", "owner", "is_published")\n    search_fields = ("title",)\n`,
    'urls.py': `from django.urls import path\n\nfrom . import views\n\napp_name = "${app}"\nurlpatterns = [\n    path("", views.${model}List.as_view(), name="list"),\n    path("<int:pk>/", views.${model}Detail.as_view(), name="detail"),\n    path("<int:pk>/edit/", views.edit, name="edit"),\n    path("<int:pk>/delete/", views.delete, name="delete"),\n]\n`,
    'services.py': `from decimal import Decimal\n\nfrom .models import ${model}\n\n\ndef total_for(user):\n    return sum((item.price for item in ${model}.objects.filter(owner=user)), Decimal(0))\n\n\ndef publish_all(user):\n    return ${model}.objects.filter(owner=user, is_published=False).update(is_published=True)\n`,
    'signals.py': `from django.db.models.signals import post_save\nfrom django.dispatch import receiver\n\nfrom .models import ${model}\n\n\n@receiver(post_save, sender=${model})\ndef touch(sender, instance, created, **kwargs):\n    if created:\n        instance.owner.save(update_fields=["last_login"])\n`,
    'tasks.py': `import logging\n\nfrom .services import publish_all\n\nlogger = logging.getLogger(__name__)\n\n\ndef nightly(users):\n    for user in users:\n        logger.info("published %s", publish_all(user))\n`,
    'permissions.py': `from rest_framework import permissions\n\n\nclass IsOwner(permissions.BasePermission):\n    def has_object_permission(self, request, view, obj):\n        return obj.owner == request.user\n`,
    'templatetags/__init__.py': '',
    [`templatetags/${app}_tags.py`]: `from django import template\nfrom django.utils.html import format_html\n\nregister = template.Library()\n\n\n@register.simple_tag\ndef badge(label):\n    return format_html('<span class="badge">{}</span>', label)\n`,
  };
}

function templates(app: string, index: number): Record<string, string> {
  const note = index % 15 === 0 ? '{{ item.body|safe }}' : '{{ item.body|linebreaks }}';
  return {
    [`templates/${app}/list.html`]: `{% extends "base.html" %}\n{% load ${app}_tags %}\n{% block content %}\n<h1>${pascal(app)}</h1>\n<ul>\n{% for item in object_list %}\n  <li><a href="{{ item.get_absolute_url }}">{{ item.title }}</a> {% badge item.price %}</li>\n{% empty %}\n  <li>Nothing yet.</li>\n{% endfor %}\n</ul>\n{% include "pagination.html" %}\n{% endblock %}\n`,
    [`templates/${app}/detail.html`]: `{% extends "base.html" %}\n{% block content %}\n<article>\n  <h1>{{ object.title }}</h1>\n  ${note.replace('item', 'object')}\n  <p>{{ object.price|floatformat:2 }}</p>\n</article>\n{% endblock %}\n`,
    [`templates/${app}/form.html`]: `{% extends "base.html" %}\n{% block content %}\n<form method="post">{% csrf_token %}\n  {{ form.as_p }}\n  <button type="submit">Save</button>\n</form>\n{% endblock %}\n`,
    [`templates/${app}/confirm_delete.html`]: `{% extends "base.html" %}\n{% block content %}\n<form method="post">{% csrf_token %}\n  <p>Delete {{ item.title }}?</p>\n  <button type="submit">Delete</button>\n</form>\n{% endblock %}\n`,
  };
}

function projectFiles(): Record<string, string> {
  const apps = Array.from({ length: APPS }, (_, index) => `app_${String(index).padStart(3, '0')}`);
  const files: Record<string, string> = {
    'manage.py': `import os\nimport sys\n\n\ndef main():\n    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")\n    from django.core.management import execute_from_command_line\n\n    execute_from_command_line(sys.argv)\n\n\nif __name__ == "__main__":\n    main()\n`,
    'config/__init__.py': '',
    'config/settings/__init__.py': '',
    'config/settings/base.py': `import os\nfrom pathlib import Path\n\nBASE_DIR = Path(__file__).resolve().parent.parent.parent\nSECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\nDEBUG = False\nALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "").split(",")\nINSTALLED_APPS = [\n    "django.contrib.admin",\n    "django.contrib.auth",\n    "django.contrib.contenttypes",\n    "django.contrib.sessions",\n    "rest_framework",\n${apps.map((app) => `    "${app}",`).join('\n')}\n]\nMIDDLEWARE = [\n    "django.middleware.security.SecurityMiddleware",\n    "django.contrib.sessions.middleware.SessionMiddleware",\n    "django.middleware.common.CommonMiddleware",\n    "django.middleware.csrf.CsrfViewMiddleware",\n    "django.contrib.auth.middleware.AuthenticationMiddleware",\n    "django.middleware.clickjacking.XFrameOptionsMiddleware",\n    "csp.middleware.CSPMiddleware",\n]\nAUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]\n`,
    'config/settings/dev.py': 'from .base import *  # noqa: F403\n\nDEBUG = True\n',
    'config/settings/prod.py':
      'from .base import *  # noqa: F403\n\nSECURE_SSL_REDIRECT = True\nSECURE_HSTS_SECONDS = 31536000\nSESSION_COOKIE_SECURE = True\nCSRF_COOKIE_SECURE = True\n',
    'config/urls.py': `from django.contrib import admin\nfrom django.urls import include, path\n\nurlpatterns = [\n    path("staff/", admin.site.urls),\n${apps.map((app) => `    path("${app}/", include("${app}.urls")),`).join('\n')}\n]\n`,
    'config/wsgi.py':
      'import os\n\nfrom django.core.wsgi import get_wsgi_application\n\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")\napplication = get_wsgi_application()\n',
    'config/asgi.py':
      'import os\n\nfrom django.core.asgi import get_asgi_application\n\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")\napplication = get_asgi_application()\n',
    'templates/base.html':
      '<!doctype html>\n<html lang="en"><head><title>{% block title %}Shop{% endblock %}</title></head>\n<body>{% block content %}{% endblock %}</body></html>\n',
    'templates/pagination.html':
      '{% if page_obj.has_next %}<a href="?page={{ page_obj.next_page_number }}">next</a>{% endif %}\n',
  };
  for (const page of SHARED_PAGES) {
    files[`templates/${page}`] =
      `{% extends "base.html" %}\n{% block content %}\n<h1>{% block heading %}${page}{% endblock %}</h1>\n<p>{{ message|default:"" }}</p>\n{% endblock %}\n`;
  }
  apps.forEach((app, index) => {
    const appFiles: Record<string, string> = {
      ...smallModules(app),
      'models.py': modelsPy(app),
      'views.py': viewsPy(app, index),
      'forms.py': formsPy(app),
      'serializers.py': serializersPy(app),
      ...templates(app, index),
    };
    for (const [relative, content] of Object.entries(appFiles)) files[`${app}/${relative}`] = content;
  });
  return files;
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'vigil-bench-audit-'));
  try {
    const files = projectFiles();
    for (const [relative, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, relative)), { recursive: true });
      await writeFile(path.join(root, relative), content);
    }
    const bytes = Object.values(files).reduce((sum, content) => sum + Buffer.byteLength(content), 0);
    console.log(
      `generated ${Object.keys(files).length} files (${(bytes / 1024 / 1024).toFixed(1)} MiB) in ${root}`,
    );
    const timings: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const started = performance.now();
      const report = await auditProject(root);
      const elapsed = performance.now() - started;
      timings.push(elapsed);
      console.log(
        `run ${run}: ${report.filesScanned} files, ${report.findings.length} findings, ${elapsed.toFixed(0)} ms, ${Math.round((report.filesScanned / elapsed) * 1000)} files/s`,
      );
    }
    const sorted = [...timings].sort((left, right) => left - right);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(
      `median of ${RUNS}: ${median.toFixed(0)} ms total, ${Math.round((Object.keys(files).length / median) * 1000)} files/s (first run, cold: ${timings[0]!.toFixed(0)} ms)`,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
