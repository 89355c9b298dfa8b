from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("guides", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="transfer",
            name="status",
            field=models.CharField(
                choices=[("queued", "Queued"), ("running", "Running"), ("done", "Done")],
                default="queued",
                max_length=8,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="transfer",
            name="include_groups",
            field=models.BooleanField(default=True, verbose_name="move their groups too"),
        ),
        migrations.AddField(
            model_name="transfer",
            name="customer_ids",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="transfer",
            name="total",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="transfer",
            name="processed",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="transfer",
            name="last_customer_id",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="transfer",
            name="refused",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="transfer",
            name="finished_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
