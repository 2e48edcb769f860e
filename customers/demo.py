"""Demo customers: companies and individuals, Chinese and English names, addresses, contacts,
credit limits (some low enough that demo orders exceed them), one blocked customer and a few
complaints in different states. Running it again creates nothing new (keyed on the name)."""

from __future__ import annotations

from decimal import Decimal

from config.actors import Actor

from . import services
from .models import Complaint, Customer

# name, other name, kind, segment, rating, credit limit, terms, city, province, street, contact, contact title, phone, email
CUSTOMERS = [
    (
        "上海华东贸易有限公司",
        "Shanghai Huadong Trading Co., Ltd.",
        "company",
        "key_account",
        "A",
        "500000",
        60,
        "上海",
        "上海市",
        "浦东新区世纪大道 100 号 15 楼",
        "王伟",
        "采购经理",
        "+86 21 5555 0100",
        "purchasing@huadong.example",
    ),
    (
        "北京燕山五金有限公司",
        "Beijing Yanshan Hardware Co., Ltd.",
        "company",
        "wholesale",
        "B",
        "200000",
        30,
        "北京",
        "北京市",
        "朝阳区建国路 88 号",
        "李娜",
        "采购",
        "+86 10 6555 0188",
        "lina@yanshan.example",
    ),
    (
        "广州天河百货有限公司",
        "Guangzhou Tianhe Department Store",
        "company",
        "retail",
        "B",
        "150000",
        30,
        "广州",
        "广东省",
        "天河区天河路 385 号",
        "陈静",
        "店长",
        "+86 20 3888 0120",
        "store@tianhe.example",
    ),
    (
        "深圳南山电子科技有限公司",
        "Shenzhen Nanshan Electronics Co., Ltd.",
        "company",
        "distributor",
        "A",
        "300000",
        45,
        "深圳",
        "广东省",
        "南山区科技园南区 8 栋",
        "刘洋",
        "供应链主管",
        "+86 755 8666 0100",
        "scm@nanshan.example",
    ),
    (
        "杭州西湖茶业有限公司",
        "Hangzhou West Lake Tea Co., Ltd.",
        "company",
        "wholesale",
        "A",
        "120000",
        30,
        "杭州",
        "浙江省",
        "西湖区龙井路 1 号",
        "赵敏",
        "总经理",
        "+86 571 8777 0101",
        "zhao@westlaketea.example",
    ),
    (
        "成都锦江餐饮管理有限公司",
        "Chengdu Jinjiang Catering Management",
        "company",
        "key_account",
        "B",
        "80000",
        30,
        "成都",
        "四川省",
        "锦江区春熙路 19 号",
        "杨帆",
        "行政主管",
        "+86 28 8666 0190",
        "admin@jinjiang.example",
    ),
    (
        "武汉长江物流有限公司",
        "Wuhan Changjiang Logistics Co., Ltd.",
        "company",
        "other",
        "C",
        "20000",
        15,
        "武汉",
        "湖北省",
        "江汉区解放大道 688 号",
        "周杰",
        "财务",
        "+86 27 8555 0168",
        "finance@cjlogistics.example",
    ),
    (
        "宁波港口贸易有限公司",
        "Ningbo Port Trading Co., Ltd.",
        "company",
        "distributor",
        "B",
        "100000",
        30,
        "宁波",
        "浙江省",
        "北仑区新碶街道明州路 66 号",
        "吴磊",
        "采购经理",
        "+86 574 8688 0111",
        "buy@nbport.example",
    ),
    (
        "苏州工业园区办公用品有限公司",
        "Suzhou SIP Office Supplies",
        "company",
        "retail",
        "B",
        "50000",
        30,
        "苏州",
        "江苏省",
        "工业园区星湖街 328 号",
        "孙丽",
        "采购",
        "+86 512 6288 0133",
        "office@sip-supplies.example",
    ),
    (
        "南京金陵酒店管理有限公司",
        "Nanjing Jinling Hotel Management",
        "company",
        "key_account",
        "A",
        "250000",
        45,
        "南京",
        "江苏省",
        "鼓楼区汉中路 2 号",
        "马超",
        "采购总监",
        "+86 25 8471 0188",
        "procurement@jinlinghotel.example",
    ),
    (
        "青岛海滨食品有限公司",
        "Qingdao Haibin Foods Co., Ltd.",
        "company",
        "wholesale",
        "C",
        "30000",
        15,
        "青岛",
        "山东省",
        "市南区香港中路 10 号",
        "郑浩",
        "采购",
        "+86 532 8588 0177",
        "buy@haibinfoods.example",
    ),
    (
        "厦门鹭岛进出口有限公司",
        "Xiamen Ludao Import & Export",
        "company",
        "distributor",
        "D",
        "10000",
        0,
        "厦门",
        "福建省",
        "思明区鹭江道 8 号",
        "林峰",
        "业务经理",
        "+86 592 2233 0155",
        "trade@ludao.example",
    ),
    (
        "Pacific Rim Homewares Ltd.",
        "太平洋家居用品有限公司",
        "company",
        "distributor",
        "B",
        "180000",
        45,
        "Hong Kong",
        "",
        "18 Harbour Road, Wan Chai",
        "Emily Chen",
        "Buyer",
        "+852 2555 0199",
        "emily@pacificrim.example",
    ),
    (
        "Green Leaf Cafe",
        "绿叶咖啡",
        "company",
        "retail",
        "B",
        "15000",
        15,
        "上海",
        "上海市",
        "静安区南京西路 1266 号",
        "Tom Walker",
        "Owner",
        "+86 21 6288 0123",
        "tom@greenleaf.example",
    ),
    (
        "Nordic Design Store GmbH",
        "北欧设计商店",
        "company",
        "retail",
        "A",
        "60000",
        30,
        "Hamburg",
        "",
        "Mönckebergstraße 7",
        "Anna Schmidt",
        "Einkauf",
        "+49 40 5555 0100",
        "einkauf@nordicdesign.example",
    ),
    (
        "张伟",
        "Zhang Wei",
        "individual",
        "retail",
        "B",
        "5000",
        0,
        "上海",
        "上海市",
        "徐汇区漕溪北路 18 弄 5 号 302 室",
        "张伟",
        "",
        "13800138000",
        "zhangwei@example.com",
    ),
    (
        "王芳",
        "Wang Fang",
        "individual",
        "retail",
        "B",
        "3000",
        0,
        "北京",
        "北京市",
        "海淀区中关村大街 27 号 1 单元 601",
        "王芳",
        "",
        "13911112222",
        "wangfang@example.com",
    ),
    (
        "李强",
        "Li Qiang",
        "individual",
        "retail",
        "C",
        "1000",
        0,
        "广州",
        "广东省",
        "越秀区中山五路 33 号 1203",
        "李强",
        "",
        "13622223333",
        "",
    ),
    (
        "David Miller",
        "大卫·米勒",
        "individual",
        "retail",
        "B",
        "2000",
        0,
        "上海",
        "上海市",
        "长宁区虹桥路 1438 号",
        "David Miller",
        "",
        "+86 139 1688 0001",
        "david.miller@example.com",
    ),
    (
        "刘晓梅",
        "Liu Xiaomei",
        "individual",
        "other",
        "D",
        "0",
        0,
        "重庆",
        "重庆市",
        "渝中区解放碑民族路 188 号",
        "刘晓梅",
        "",
        "13700001111",
        "",
    ),
]

POSTAL_CODES = {
    "上海": "200000",
    "北京": "100000",
    "广州": "510000",
    "深圳": "518000",
    "杭州": "310000",
    "成都": "610000",
    "武汉": "430000",
    "宁波": "315000",
    "苏州": "215000",
    "南京": "210000",
    "青岛": "266000",
    "厦门": "361000",
    "重庆": "400000",
    "Hamburg": "20095",
}

BLOCKED = ("武汉长江物流有限公司", "两张发票逾期超过 90 天，待财务确认回款后解除。")

# customer name, category, subject, description, steps (transitions), resolution
COMPLAINTS = [
    ("上海华东贸易有限公司", "damaged", "外箱破损", "到货 20 箱中有 2 箱外包装破损，保温杯有划痕。", [], ""),
    ("北京燕山五金有限公司", "late", "交货延迟 5 天", "订单约定 3 日到货，实际 8 日才送达，影响门店上新。", ["start"], ""),
    (
        "广州天河百货有限公司",
        "wrong_item",
        "发错颜色",
        "订购黑色 500ml 保温杯 50 只，收到的是白色。",
        ["start", "resolve"],
        "已安排换货，黑色 50 只于次日送达，白色退回仓库。",
    ),
    (
        "Green Leaf Cafe",
        "quality",
        "Mugs crack in the dishwasher",
        "Six ceramic mugs cracked after two weeks.",
        ["start", "resolve", "close"],
        "Replaced the six mugs and added a care card to future shipments.",
    ),
    (
        "张伟",
        "billing",
        "发票抬头错误",
        "发票抬头应为个人姓名，开成了公司名称。",
        ["start", "resolve", "close", "reopen"],
        "已作废重开发票。",
    ),
]


def _log(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def seed(*, users, stdout=None) -> None:
    """Create the demo customers, their addresses and contacts, one block and a few complaints, once."""
    salespeople = [users.get("sales"), users.get("sales2")]
    demo = Actor.system("demo")
    created = 0
    for index, row in enumerate(CUSTOMERS):
        (name, alt_name, kind, segment, rating, limit, terms, city, province, street, contact, title, phone, email) = row
        if Customer.objects.filter(name=name).exists():
            continue
        salesperson = salespeople[index % 2]
        customer = services.customer_create(
            by=demo,
            data={
                "name": name,
                "alt_name": alt_name,
                "kind": kind,
                "segment": segment,
                "credit_rating": rating,
                "credit_limit": Decimal(limit),
                "payment_terms_days": terms,
                "phone": phone,
                "email": email,
                "salesperson": salesperson,
                "language": "en" if name.isascii() else "zh-hans",
                "tags": "VIP" if segment == "key_account" else "",
            },
        )
        country = "HK" if city == "Hong Kong" else "DE" if city == "Hamburg" else "CN"
        address = {
            "recipient": contact,
            "phone": phone,
            "line1": street,
            "city": city,
            "province": province,
            "postal_code": POSTAL_CODES.get(city, ""),
            "country": country,
        }
        services.address_create(customer=customer, data={**address, "kind": "shipping"}, by=demo)
        services.address_create(customer=customer, data={**address, "kind": "billing"}, by=demo)
        services.contact_create(
            customer=customer, data={"name": contact, "title": title, "phone": phone, "email": email}, by=demo
        )
        created += 1
    blocked_name, reason = BLOCKED
    customer = Customer.objects.filter(name=blocked_name).first()
    if customer is not None and not customer.is_blocked:
        services.customer_block(customer=customer, reason=reason, by=demo)
    complaints = 0
    for name, category, subject, description, steps, resolution in COMPLAINTS:
        customer = Customer.objects.filter(name=name).first()
        if customer is None or Complaint.objects.filter(customer=customer, subject=subject).exists():
            continue
        worker = customer.salesperson or users.get("sales")
        complaint = services.complaint_create(
            customer=customer,
            by=demo,
            data={
                "category": category,
                "subject": subject,
                "description": description,
                "assignee": worker,
            },
        )
        for action in steps:
            complaint = services.complaint_transition(
                complaint=complaint, action=action, by=demo, resolution=resolution if action == "resolve" else None
            )
        complaints += 1
    _log(stdout, f"Customers: {created} created, {complaints} complaints.\n")
