from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from orders import views

urlpatterns = [
    path("orders/<int:pk>/", views.order_detail),
    path("hook/", csrf_exempt(views.webhook)),
]
