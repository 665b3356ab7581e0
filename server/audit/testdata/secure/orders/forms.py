from django import forms
from rest_framework import serializers

from .models import Order


class OrderForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = ["note"]


class OrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ("id", "note")


class ContactForm(forms.Form):
    fields = "__all__"
