import { describe, expect, it } from 'vitest';
import { idorRule } from './idor';
import { hitsOf } from './testing';

const run = (source: string) => hitsOf(idorRule, source);

describe('code.idor', () => {
  it('fires once per lookup by a URL id with no request.user in the function', () => {
    const source = `from django.shortcuts import get_object_or_404

def detail(request, pk):
    order = Order.objects.get(pk=pk)
    invoice = get_object_or_404(Invoice, id=pk)
    return order, invoice

def by_kwargs(request, **kwargs):
    return Order.objects.get(pk=kwargs["pk"])

class OrderView(DetailView):
    def get_object(self):
        return Order.objects.get(pk=self.kwargs.get("pk"))

class Api(ViewSet):
    def retrieve(self, request, pk=None):
        order_id = int(pk)
        return Order.objects.get(pk=order_id)
`;
    expect(run(source)).toEqual(['4:13', '5:15', '9:12', '13:16', '18:16']);
  });

  it('stays silent when the user is checked, the id is not from the URL, or the lookup is scoped', () => {
    const source = `def mine(request, pk):
    return get_object_or_404(Order, pk=pk, owner=request.user)

def checked(request, pk):
    order = Order.objects.get(pk=pk)
    if order.owner_id != request.user.id:
        raise PermissionDenied
    return order

def scoped(request, pk):
    return get_object_or_404(request.user.orders.all(), pk=pk)

def by_slug(request, slug):
    return Order.objects.get(slug=slug)

def helper(pk):
    return Order.objects.get(pk=pk)

def from_query(request):
    return Order.objects.get(pk=request.GET["id"])

class V(View):
    def get(self, request, pk):
        return get_object_or_404(self.get_queryset(), pk=pk)
`;
    expect(run(source)).toEqual([]);
  });
});
