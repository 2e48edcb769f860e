"""The common Chinese carriers, with the codes the tracking aggregators use and Kuaidi100's tracking page."""

from django.db import migrations

TRACKING = "https://www.kuaidi100.com/chaxun?com={code}&nu={{number}}"

CARRIERS = [
    ("shunfeng", "顺丰速运 SF Express", 2),
    ("zhongtong", "中通快递 ZTO Express", 3),
    ("yuantong", "圆通速递 YTO Express", 3),
    ("yunda", "韵达快递 Yunda Express", 3),
    ("shentong", "申通快递 STO Express", 3),
    ("ems", "中国邮政 EMS", 4),
    ("jd", "京东物流 JD Logistics", 2),
    ("jtexpress", "极兔速递 J&T Express", 3),
    ("debangwuliu", "德邦快递 Deppon Express", 3),
]


def seed(apps, schema_editor):
    Carrier = apps.get_model("logistics", "Carrier")
    for code, name, days in CARRIERS:
        Carrier.objects.get_or_create(
            code=code, defaults={"name": name, "transit_days": days, "tracking_url_template": TRACKING.format(code=code)}
        )


class Migration(migrations.Migration):
    dependencies = [("logistics", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
