from django import forms
from rest_framework import serializers

from .models import Order


class OrderForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = "__all__"


class OrderAdminForm(OrderForm):
    class Meta:
        model = Order
        exclude = ["owner"]


class OrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = '__all__'
