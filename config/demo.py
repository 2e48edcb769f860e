"""Demo users: one per role, with the passwords the README lists."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from .roles import FINANCE, MANAGER, REVIEWER, SALES, WAREHOUSE

DEMO_USERS = [
    # username, password, first name, last name, roles
    ("sales", "sales-demo", "Li", "Na", [SALES]),
    ("sales2", "sales-demo", "Wang", "Fang", [SALES]),
    ("reviewer", "reviewer-demo", "Zhang", "Wei", [REVIEWER]),
    ("warehouse", "warehouse-demo", "Liu", "Yang", [WAREHOUSE]),
    ("finance", "finance-demo", "Chen", "Jing", [FINANCE]),
    ("manager", "manager-demo", "Zhao", "Min", [MANAGER]),
]


def seed_users(stdout=None) -> dict[str, object]:
    """Create the demo users once; an existing user keeps the password it has now."""
    User = get_user_model()
    users = {}
    for username, password, first, last, roles in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"}
        )
        if created:
            user.set_password(password)
            user.save()
        user.groups.set(Group.objects.filter(name__in=roles))
        users[username] = user
    admin, created = User.objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"}
    )
    if created:
        admin.set_password("admin-demo")
        admin.save()
    users["admin"] = admin
    return users
