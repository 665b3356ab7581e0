import { describe, expect, it } from 'vitest';
import { csrfExemptRule } from './csrf-exempt';
import { hitsOf } from './testing';

const run = (source: string) => hitsOf(csrfExemptRule, source);

describe('code.csrf-exempt', () => {
  it('fires once per exempted view: decorator, method_decorator and wrapping call', () => {
    const source = `from django.utils.decorators import method_decorator
from django.views.decorators import csrf
from django.views.decorators.csrf import csrf_exempt

@csrf_exempt
def hook(request):
    pass

@csrf.csrf_exempt
def other_hook(request):
    pass

@method_decorator(csrf_exempt, name="dispatch")
class Api(View):
    pass

@method_decorator([login_required, csrf_exempt], name="dispatch")
class Api2(View):
    pass

urlpatterns = [path("x/", csrf_exempt(Api.as_view()))]
`;
    expect(run(source)).toEqual(['5:1', '9:1', '13:1', '17:1', '21:27']);
  });

  it('never fires on the import alone or on other decorators', () => {
    const source = `from django.views.decorators.csrf import csrf_exempt, csrf_protect

@csrf_protect
@login_required
def form_view(request):
    """Do not add csrf_exempt here."""
    pass
`;
    expect(run(source)).toEqual([]);
  });
});
