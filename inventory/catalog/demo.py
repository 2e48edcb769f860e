"""Demo catalogue: about 60 products with valid EAN-13 barcodes, Chinese names, CNY prices, some
with a minimum price or a maximum discount, two inactive. Running it again creates nothing new
(keyed on the SKU)."""

from __future__ import annotations

from decimal import Decimal

from inventory.models import Product

GS1_PREFIX = "69"  # GS1 China
COMPANY = "21234"

# SKU, name, unit, list price, cost, min price, max discount %, active
PRODUCTS = [
    ("CUP-350-SS", "不锈钢保温杯 350ml", "pcs", "69.00", "31.00", None, "15", True),
    ("CUP-500-SS", "不锈钢保温杯 500ml", "pcs", "89.00", "41.50", "75.00", None, True),
    ("CUP-750-SS", "不锈钢保温杯 750ml", "pcs", "109.00", "52.00", None, "10", True),
    ("CUP-500-KID", "儿童吸管保温杯 500ml", "pcs", "99.00", "45.00", None, "10", True),
    ("MUG-CER-01", "陶瓷马克杯 380ml 白色", "pcs", "29.00", "11.00", None, None, True),
    ("MUG-CER-02", "陶瓷马克杯 380ml 黑色", "pcs", "29.00", "11.00", None, None, True),
    ("MUG-GLS-01", "双层玻璃咖啡杯 250ml", "pcs", "45.00", "18.50", None, None, True),
    ("BTL-TRT-600", "运动水壶 600ml Tritan", "pcs", "59.00", "22.00", None, "20", True),
    ("TEA-LJ-250", "西湖龙井茶 250g 礼盒", "box", "268.00", "150.00", "228.00", None, True),
    ("TEA-LJ-500", "西湖龙井茶 500g 礼盒", "box", "498.00", "280.00", "420.00", None, True),
    ("TEA-PE-357", "云南普洱茶饼 357g", "pcs", "188.00", "95.00", None, "10", True),
    ("TEA-TGY-250", "安溪铁观音 250g", "box", "158.00", "82.00", None, "10", True),
    ("TEA-JSM-100", "福州茉莉花茶 100g", "box", "48.00", "21.00", None, None, True),
    ("TEA-SET-01", "白瓷功夫茶具套装 10 件", "set", "238.00", "110.00", None, "15", True),
    ("COF-BEAN-1K", "云南小粒咖啡豆 1kg", "kg", "168.00", "96.00", "150.00", None, True),
    ("COF-DRIP-10", "挂耳咖啡 10 包装", "box", "39.00", "16.00", None, None, True),
    ("PEN-GEL-05", "中性笔 0.5mm 黑色 12 支装", "box", "18.00", "7.20", None, None, True),
    ("PEN-GEL-07", "中性笔 0.7mm 蓝色 12 支装", "box", "18.00", "7.20", None, None, True),
    ("NB-A5-80", "A5 线圈笔记本 80 页", "pcs", "12.00", "4.50", None, None, True),
    ("NB-B5-100", "B5 软抄本 100 页 5 本装", "pack", "25.00", "10.00", None, None, True),
    ("PAP-A4-500", "A4 复印纸 70g 500 张", "pack", "28.00", "19.50", "25.00", None, True),
    ("PAP-A4-CTN", "A4 复印纸 70g 整箱 5 包", "ctn", "135.00", "95.00", "125.00", None, True),
    ("STP-24-6", "订书钉 24/6 10 盒装", "pack", "9.90", "3.60", None, None, True),
    ("STPL-STD", "标准订书机", "pcs", "22.00", "8.80", None, None, True),
    ("FLD-A4-10", "A4 文件夹 10 个装", "pack", "19.00", "7.50", None, None, True),
    ("CAL-12", "12 位计算器 太阳能", "pcs", "35.00", "14.00", None, "20", True),
    ("TAPE-48", "封箱胶带 48mm×100m 6 卷", "pack", "26.00", "12.00", None, None, True),
    ("KNF-CHEF-8", "不锈钢主厨刀 8 寸", "pcs", "158.00", "66.00", None, "15", True),
    ("BRD-BMB-L", "竹制砧板 大号", "pcs", "79.00", "32.00", None, None, True),
    ("POT-SS-26", "不锈钢汤锅 26cm", "pcs", "239.00", "118.00", None, "10", True),
    ("PAN-NS-28", "不粘炒锅 28cm", "pcs", "199.00", "92.00", None, "10", True),
    ("BWL-CER-6", "陶瓷饭碗 6 只装", "set", "59.00", "24.00", None, None, True),
    ("CHP-ALY-10", "合金筷子 10 双装", "set", "39.00", "13.00", None, None, True),
    ("BOX-LUN-3", "304 不锈钢三层饭盒", "pcs", "89.00", "38.00", None, "15", True),
    ("TWL-CTN-3", "纯棉毛巾 3 条装", "pack", "49.00", "20.00", None, None, True),
    ("TWL-BTH-01", "纯棉浴巾 70×140cm", "pcs", "69.00", "29.00", None, None, True),
    ("BAG-CNV-01", "帆布购物袋 印花", "pcs", "25.00", "8.00", None, None, True),
    ("BAG-BPK-15", "15.6 寸商务双肩包", "pcs", "229.00", "98.00", None, "20", True),
    ("UMB-AUTO", "全自动折叠雨伞", "pcs", "79.00", "30.00", None, None, True),
    ("CBL-USBC-1", "USB-C 数据线 1m", "pcs", "29.00", "9.00", None, None, True),
    ("CBL-USBC-2", "USB-C 数据线 2m", "pcs", "39.00", "12.00", None, None, True),
    ("CHG-65W", "65W 氮化镓充电器", "pcs", "149.00", "68.00", "129.00", None, True),
    ("PWR-10K", "移动电源 10000mAh", "pcs", "99.00", "46.00", None, "10", True),
    ("EAR-BT-01", "蓝牙耳机 入耳式", "pcs", "199.00", "88.00", "169.00", None, True),
    ("MSE-WL-01", "无线鼠标 静音", "pcs", "59.00", "21.00", None, None, True),
    ("KBD-WL-01", "无线键盘 104 键", "pcs", "129.00", "55.00", None, "15", True),
    ("LMP-LED-01", "LED 护眼台灯", "pcs", "169.00", "72.00", None, "15", True),
    ("EXT-6-18", "六位插线板 1.8m", "pcs", "49.00", "21.00", None, None, True),
    ("BAT-AA-8", "5 号碱性电池 8 粒装", "pack", "19.90", "8.50", None, None, True),
    ("HND-SAN-500", "免洗洗手液 500ml", "pcs", "32.00", "12.00", None, None, True),
    ("MSK-KN95-20", "KN95 口罩 20 只装", "box", "39.00", "15.00", None, None, True),
    ("TIS-BOX-6", "抽纸 3 层 6 包装", "pack", "22.00", "11.00", None, None, True),
    ("RICE-NE-5", "东北大米 5kg", "pcs", "59.00", "38.00", "55.00", None, True),
    ("OIL-PNT-5", "压榨花生油 5L", "pcs", "129.00", "92.00", "119.00", None, True),
    ("HNY-ACA-500", "洋槐蜂蜜 500g", "pcs", "68.00", "33.00", None, "10", True),
    ("NUT-MIX-750", "每日坚果 750g 30 包", "box", "139.00", "78.00", None, "10", True),
    ("GFT-MID-01", "中秋月饼礼盒 8 只装", "box", "198.00", "96.00", "168.00", None, True),
    ("GFT-NY-01", "新春年货礼盒", "box", "368.00", "190.00", "320.00", None, True),
    ("CUP-500-OLD", "保温杯 500ml（旧款）", "pcs", "79.00", "40.00", None, None, False),
    ("PEN-FTN-OLD", "钢笔礼盒（停产）", "box", "128.00", "55.00", None, None, False),
]


# The category of each product, by the start of its SKU (data, like the names: not translated).
CATEGORIES = {
    ("CUP", "MUG", "BTL"): "杯壶",
    ("TEA",): "茶叶茶具",
    ("COF",): "咖啡",
    ("PEN", "NB", "PAP", "STP", "STPL", "FLD", "CAL", "TAPE"): "文具办公",
    ("KNF", "BRD", "POT", "PAN", "BWL", "CHP", "BOX"): "厨具餐具",
    ("TWL", "BAG", "UMB", "HND", "MSK", "TIS"): "日用百货",
    ("CBL", "CHG", "PWR", "EAR", "MSE", "KBD", "LMP", "EXT", "BAT"): "数码电器",
    ("RICE", "OIL", "HNY", "NUT"): "食品粮油",
    ("GFT",): "节日礼盒",
}


def category_of(sku: str) -> str:
    prefix = sku.split("-", 1)[0]
    return next((name for prefixes, name in CATEGORIES.items() if prefix in prefixes), "")


def ean13(body: str) -> str:
    """The 12 digits plus their EAN-13 check digit."""
    checksum = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - checksum % 10) % 10)


def seed(*, users, stdout=None) -> None:
    """Create the demo catalogue once; products that exist (by SKU) are left as they are."""
    existing = set(Product.objects.values_list("sku", flat=True))
    new = []
    for index, (sku, name, unit, price, cost, min_price, max_discount, active) in enumerate(PRODUCTS, start=1):
        if sku in existing:
            continue
        new.append(
            Product(
                sku=sku,
                name=name,
                category=category_of(sku),
                unit=unit,
                list_price=Decimal(price),
                cost=Decimal(cost),
                min_price=Decimal(min_price) if min_price else None,
                max_discount_percent=Decimal(max_discount) if max_discount else None,
                barcode=ean13(f"{GS1_PREFIX}{COMPANY}{index:05d}"),
                is_active=active,
            )
        )
    for product in new:
        product.full_clean()
    Product.objects.bulk_create(new)
    if stdout is not None:
        stdout.write(f"Catalogue: {len(new)} products created.\n")
