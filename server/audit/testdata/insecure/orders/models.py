from django.db import models


class Order(models.Model):
    owner = models.ForeignKey("auth.User", on_delete=models.CASCADE)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    note = models.TextField(blank=True)
