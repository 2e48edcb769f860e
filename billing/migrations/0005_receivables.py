"""Receivables: customer statements and their links and timeline, dunning levels (seeded with friendly
+7, firm +30 and final +60 days, the final one holding credit), payment reminders and credit holds; and
the index the ageing reads open invoices through.
"""

import billing.statements.models
import django.core.validators
import django.db.models.deletion
import django.db.models.expressions
import django_fsm
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models

LEVELS = [("friendly", 7, False), ("firm", 30, False), ("final", 60, True)]

# The ageing groups open invoices by customer and sums their open amounts by due date: a partial index
# over exactly the open invoices (the predicate is Invoice.objects.open()'s), carrying the amounts, lets
# PostgreSQL answer from the index alone, in customer order, however many settled invoices the table holds.
AGEING_INDEX = "billing_invoice_open_ageing"
OPEN = "status = 'issued' AND total_gross > (amount_credited + amount_paid)"


def seed_levels(apps, schema_editor):
    DunningLevel = apps.get_model("billing", "DunningLevel")
    for kind, days, hold in LEVELS:
        DunningLevel.objects.get_or_create(kind=kind, defaults={"days_after_due": days, "credit_hold": hold})


def add_ageing_index(apps, schema_editor):
    include = " INCLUDE (total_gross, amount_credited, amount_paid)" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {AGEING_INDEX} ON billing_invoice (customer_id, due_date){include} WHERE {OPEN}"
    )


def drop_ageing_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {AGEING_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0004_bank_statements'),
        ('customers', '0005_alter_customerevent_kind'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CustomerStatement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period_start', models.DateField(verbose_name='from')),
                ('period_end', models.DateField(verbose_name='to')),
                ('state', models.CharField(choices=[('draft', 'Draft'), ('sent', 'Sent'), ('confirmed', 'Confirmed'), ('disputed', 'Disputed'), ('withdrawn', 'Withdrawn')], db_index=True, default='draft', max_length=10, verbose_name='state')),
                ('currency', models.CharField(default='CNY', max_length=3, verbose_name='currency')),
                ('opening_balance', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='opening balance')),
                ('invoiced', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='invoiced')),
                ('credited', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='credited')),
                ('paid', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='paid')),
                ('refunded', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='refunded')),
                ('written_off', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='written off')),
                ('closing_balance', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='closing balance')),
                ('delivered_not_invoiced', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='delivered, not invoiced')),
                ('entries', models.JSONField(blank=True, default=list, verbose_name='entries')),
                ('uninvoiced', models.JSONField(blank=True, default=list, verbose_name='delivered, not invoiced')),
                ('ageing', models.JSONField(blank=True, default=list, verbose_name='ageing')),
                ('email', models.EmailField(blank=True, max_length=254, verbose_name='sent to')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent')),
                ('responded_at', models.DateTimeField(blank=True, null=True, verbose_name='answered')),
                ('customer_comment', models.TextField(blank=True, verbose_name="customer's comment")),
                ('pdf', models.FileField(blank=True, editable=False, upload_to=billing.statements.models.statement_pdf_path, verbose_name='PDF')),
                ('pdf_sha256', models.CharField(blank=True, editable=False, max_length=64, verbose_name='PDF SHA-256')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='statements', to='customers.customer', verbose_name='customer')),
            ],
            options={
                'verbose_name': 'customer statement',
                'verbose_name_plural': 'customer statements',
                'ordering': ['-period_end', '-pk'],
                'permissions': [('send_customerstatement', 'Can make and send customer statements')],
            },
            bases=(django_fsm.FSMModelMixin, models.Model),
        ),
        migrations.CreateModel(
            name='DunningLevel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('friendly', 'Friendly reminder'), ('firm', 'Firm reminder'), ('final', 'Final notice')], max_length=10, unique=True, verbose_name='letter')),
                ('days_after_due', models.PositiveSmallIntegerField(help_text='An invoice still open this many days after its due date reaches this level.', unique=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(3650)], verbose_name='days after due date')),
                ('credit_hold', models.BooleanField(default=False, help_text='New orders of the customer go to review until the overdue invoices are paid.', verbose_name='puts the customer on credit hold')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='updated by')),
            ],
            options={
                'verbose_name': 'dunning level',
                'verbose_name_plural': 'dunning levels',
                'ordering': ['days_after_due', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='PaymentReminder',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('friendly', 'Friendly reminder'), ('firm', 'Firm reminder'), ('final', 'Final notice')], max_length=10, verbose_name='letter')),
                ('run_date', models.DateField(db_index=True, verbose_name='date')),
                ('amount_overdue', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='overdue amount')),
                ('invoice_count', models.PositiveIntegerField(default=0, verbose_name='invoices')),
                ('currency', models.CharField(default='CNY', max_length=3, verbose_name='currency')),
                ('puts_on_hold', models.BooleanField(default=False, verbose_name='credit hold')),
                ('email', models.EmailField(blank=True, max_length=254, verbose_name='sent to')),
                ('emailed_at', models.DateTimeField(blank=True, null=True, verbose_name='e-mailed')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created')),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='payment_reminders', to='customers.customer', verbose_name='customer')),
                ('level', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reminders', to='billing.dunninglevel', verbose_name='level')),
            ],
            options={
                'verbose_name': 'payment reminder',
                'verbose_name_plural': 'payment reminders',
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='CreditHold',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('days_after_due', models.PositiveSmallIntegerField(verbose_name='days after due date')),
                ('placed_at', models.DateTimeField(auto_now_add=True, verbose_name='placed')),
                ('released_at', models.DateTimeField(blank=True, null=True, verbose_name='released')),
                ('release', models.CharField(blank=True, choices=[('paid', 'Overdue invoices paid'), ('manual', 'Released by finance')], max_length=10, verbose_name='released because')),
                ('release_note', models.CharField(blank=True, max_length=300, verbose_name='note')),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='credit_holds', to='customers.customer', verbose_name='customer')),
                ('released_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='released by')),
                ('level', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='holds', to='billing.dunninglevel', verbose_name='level')),
                ('reminder', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='holds', to='billing.paymentreminder', verbose_name='reminder')),
            ],
            options={
                'verbose_name': 'credit hold',
                'verbose_name_plural': 'credit holds',
                'ordering': ['-placed_at', '-pk'],
                'permissions': [('release_credithold', 'Can release credit holds')],
            },
        ),
        migrations.CreateModel(
            name='PaymentReminderLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('due_date', models.DateField(verbose_name='due date')),
                ('days_overdue', models.PositiveIntegerField(verbose_name='days overdue')),
                ('open_amount', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='open amount')),
                ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reminder_lines', to='billing.invoice', verbose_name='invoice')),
                ('level', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.dunninglevel', verbose_name='level')),
                ('reminder', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='billing.paymentreminder', verbose_name='reminder')),
            ],
            options={
                'verbose_name': 'payment reminder line',
                'verbose_name_plural': 'payment reminder lines',
                'ordering': ['due_date', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='StatementEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='when')),
                ('actor_kind', models.CharField(choices=[('user', 'User'), ('channel', 'Channel'), ('system', 'System')], default='user', max_length=10, verbose_name='actor kind')),
                ('actor_name', models.CharField(blank=True, max_length=60, verbose_name='actor name')),
                ('from_state', models.CharField(blank=True, max_length=30, verbose_name='from')),
                ('to_state', models.CharField(blank=True, max_length=30, verbose_name='to')),
                ('params', models.JSONField(blank=True, default=dict, verbose_name='details')),
                ('note', models.TextField(blank=True, verbose_name='note')),
                ('kind', models.CharField(choices=[('created', 'Made'), ('send', 'Sent'), ('email', 'E-mail sent'), ('confirm', 'Confirmed by the customer'), ('dispute', 'Disputed by the customer'), ('withdraw', 'Withdrawn'), ('link_revoked', 'Link revoked')], max_length=30, verbose_name='kind')),
                ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                ('statement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='billing.customerstatement', verbose_name='statement')),
            ],
            options={
                'verbose_name': 'statement event',
                'verbose_name_plural': 'statement events',
                'ordering': ['at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='StatementToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token', models.CharField(max_length=64, unique=True, verbose_name='token')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('used_at', models.DateTimeField(blank=True, null=True, verbose_name='answered')),
                ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='revoked')),
                ('statement', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='token', to='billing.customerstatement', verbose_name='statement')),
            ],
            options={
                'verbose_name': 'statement link',
                'verbose_name_plural': 'statement links',
            },
        ),
        migrations.AddIndex(
            model_name='customerstatement',
            index=models.Index(fields=['customer', '-period_end'], name='statement_customer_period'),
        ),
        migrations.AddConstraint(
            model_name='customerstatement',
            constraint=models.CheckConstraint(condition=models.Q(('period_start__lte', models.F('period_end'))), name='statement_period_in_order'),
        ),
        migrations.AddConstraint(
            model_name='customerstatement',
            constraint=models.CheckConstraint(condition=models.Q(('closing_balance', django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(django.db.models.expressions.CombinedExpression(models.F('opening_balance'), '+', models.F('invoiced')), '-', models.F('credited')), '-', models.F('paid')), '+', models.F('refunded')), '-', models.F('written_off')))), name='statement_balances_reconcile'),
        ),
        migrations.AddConstraint(
            model_name='customerstatement',
            constraint=models.UniqueConstraint(condition=models.Q(('state__in', ['draft', 'sent', 'confirmed', 'disputed'])), fields=('customer', 'period_start', 'period_end'), name='one_live_statement_per_customer_period'),
        ),
        migrations.AddConstraint(
            model_name='customerstatement',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('state', 'disputed'), _negated=True), models.Q(('customer_comment', ''), _negated=True), _connector='OR'), name='statement_dispute_has_comment'),
        ),
        migrations.AddConstraint(
            model_name='dunninglevel',
            constraint=models.CheckConstraint(condition=models.Q(('days_after_due__gte', 1)), name='dunning_level_days_positive'),
        ),
        migrations.AddConstraint(
            model_name='paymentreminder',
            constraint=models.CheckConstraint(condition=models.Q(('amount_overdue__gte', 0)), name='payment_reminder_amount_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='credithold',
            constraint=models.UniqueConstraint(condition=models.Q(('released_at__isnull', True)), fields=('customer',), name='one_active_credit_hold'),
        ),
        migrations.AddConstraint(
            model_name='credithold',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('release', ''), ('released_at__isnull', True)), models.Q(('released_at__isnull', False), models.Q(('release', ''), _negated=True)), _connector='OR'), name='credit_hold_release_has_reason'),
        ),
        migrations.AddConstraint(
            model_name='paymentreminderline',
            constraint=models.UniqueConstraint(fields=('invoice', 'level'), name='reminder_line_once_per_invoice_and_level'),
        ),
        migrations.RunPython(seed_levels, migrations.RunPython.noop),
        migrations.RunPython(add_ageing_index, drop_ageing_index),
    ]
