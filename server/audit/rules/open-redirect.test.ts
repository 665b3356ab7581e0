import { describe, expect, it } from 'vitest';
import { openRedirectRule } from './open-redirect';
import { hitsOf } from './testing';

const run = (source: string) => hitsOf(openRedirectRule, source);

describe('code.open-redirect', () => {
  it('fires on redirects to request values, directly or through a local', () => {
    const source = `from django.http import HttpResponseRedirect
from django.shortcuts import redirect

def a(request):
    return redirect(request.GET["next"])

def b(request):
    target = request.POST.get("next") or "/"
    return HttpResponseRedirect(target)

def c(request):
    url = request.META.get("HTTP_REFERER", "/")
    return redirect(f"{url}")

class V(View):
    def get(self, request):
        return redirect(self.request.GET.get("to"))
`;
    expect(run(source)).toEqual(['5:12', '9:12', '13:12', '17:16']);
  });

  it('stays silent when the URL is checked or not from the request', () => {
    const source = `from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

def a(request):
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)

def b(request):
    return redirect(reverse("detail", args=[request.GET["id"]]))

def c(request):
    return redirect(request.path)

def d(request, client):
    return client.redirect(request.GET["next"])

def e(request):
    return redirect("/done/?q=" + request.GET["q"])
`;
    expect(run(source)).toEqual([]);
  });
});
