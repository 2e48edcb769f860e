from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from config.imports import ImportFileError, ImportRejected, import_commit, import_dry_run, read_table
from customers.imports import CustomerImport
from customers.models import Customer, CustomerEvent
from tests.downloads import body

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db

HEADER = "code,name,alt_name,kind,credit_limit,credit_rating,payment_terms_days,phone,email,salesperson\n"


def upload(content: bytes | str, name: str = "customers.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    data = content.encode(encoding) if isinstance(content, str) else content
    return SimpleUploadedFile(name, data)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def credit_importer():
    """Who imports in the reading tests: a manager, who may set credit columns (sales' limits are tested apart)."""
    user = get_user_model().objects.create_user(username=f"importer{get_user_model().objects.count()}")
    user.groups.set(Group.objects.filter(name="manager"))
    return get_user_model().objects.get(pk=user.pk)


def dry_run(content, user=None, **kwargs):
    spec = CustomerImport(user=user or credit_importer())
    return import_dry_run(spec=spec, table=read_table(upload(content, **kwargs), columns=spec.columns))


# --- reading files --------------------------------------------------------------------------------


def test_gb18030_csv_from_chinese_excel_is_read():
    result = dry_run(HEADER + ",上海华东贸易有限公司,Shanghai Huadong,公司,50000,A,30,,,\n", encoding="gb18030")
    assert result.ok and result.create_count == 1
    assert result.outcomes[0].label == "上海华东贸易有限公司"


def test_utf8_csv_with_bom_is_read():
    result = dry_run("\ufeff" + HEADER + ",杭州西湖茶业,,individual,0,B,0,,,\n")
    assert result.ok and result.create_count == 1


def test_chinese_headers_and_labels_are_understood():
    content = "客户名称,类型,信用额度,信用等级\n宁波港口物流,个人,1000,C (watch)\n"
    result = dry_run(content)
    assert result.ok
    assert result.outcomes[0].form.cleaned_data["kind"] == "individual"
    assert result.outcomes[0].form.cleaned_data["credit_rating"] == "C"


def test_semicolon_separated_csv_is_read():
    assert dry_run("name;credit_limit\n北京燕山五金;1 000,00\n").error_count == 1  # 1 000,00 is not a CNY amount
    assert dry_run('name;credit_limit\n北京燕山五金;"1,000.00"\n').ok


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"", "customers.csv", "The file is empty"),
        (b"\xef\xbb\xbf\r\n", "customers.csv", "The file is empty"),
        (b"name,phone\n", "customers.csv", "no rows"),
        (b"phone,email\n123,a@b.cn\n", "customers.csv", "Required columns are missing: Name"),
        (b"name,name\nA,B\n", "customers.csv", "appears twice"),
        (b"%PDF-1.4 binary", "customers.pdf", "cannot be imported"),
        (b"\xd0\xcf\x11\xe0 old excel", "customers.xls", "Old Excel files"),
        (b"not a zip at all", "customers.xlsx", "not a valid Excel workbook"),
        (b"PK\x03\x04broken zip", "customers.xlsx", "not a valid Excel workbook"),
        (b"name\n\x00\x01\x02", "customers.csv", "binary data"),
    ],
)
def test_bad_files_give_a_clear_message(content, name, message):
    with pytest.raises(ImportFileError, match=message):
        read_table(upload(content, name=name), columns=CustomerImport().columns)


def test_unknown_columns_are_listed_as_ignored():
    result = dry_run("name,favourite colour\n宁波港口物流,blue\n")
    assert result.ok and result.ignored_columns == ["favourite colour"]


# --- dry run and commit ---------------------------------------------------------------------------


def test_dry_run_reports_every_row_error_with_row_number_and_column(make_user):
    make_user("sales", username="lina")
    existing = CustomerFactory(code="C000042")
    content = (
        HEADER
        + ",上海华东贸易有限公司,,company,50000,A,30,,,lina\n"  # row 2: fine
        + ",,,company,abc,Z,-3,,bad-email,ghost\n"  # row 3: six errors
        + "C000042,改名的客户,,company,10,B,30,,,\n"  # row 4: update
        + "C999999,不存在,,company,10,B,30,,,\n"  # row 5: unknown code
        + "c000042,重复,,company,10,B,30,,,\n"  # row 6: same code again
    )
    result = dry_run(content)
    by_row = {o.number: o for o in result.outcomes}
    assert by_row[2].action == "create" and by_row[2].ok
    assert by_row[4].action == "update" and by_row[4].existing == existing and "Name" in by_row[4].changes
    assert {(e.column, e.message.split(".")[0]) for e in by_row[3].errors} >= {
        ("Name", "This field is required"),
        ("Credit limit", "Enter a number"),
        ("Credit rating", "Select a valid choice"),
        ("Payment terms (days)", "Ensure this value is greater than or equal to 0"),
        ("Email", "Enter a valid email address"),
        ("Salesperson", "No salesperson has this user name"),
    }
    assert "No customer has the code C999999" in by_row[5].errors[0].message
    assert "already in row 4" in by_row[6].errors[0].message
    assert result.error_count == 3 and not result.ok


def test_a_file_with_one_bad_row_creates_nothing(make_user):
    user = make_user("manager")
    content = HEADER + ",甲公司,,company,100,A,30,,,\n,乙公司,,company,100,A,30,,,\n,丙公司,,company,-100,A,30,,,\n"
    spec = CustomerImport(user=user)
    table = read_table(upload(content), columns=spec.columns)
    with pytest.raises(ImportRejected) as rejected:
        import_commit(spec=spec, table=table, by=user)
    assert rejected.value.dry_run.error_count == 1
    assert not Customer.objects.exists()


def test_commit_creates_and_updates_in_one_go_and_writes_the_timeline(make_user):
    user = make_user("manager")
    make_user("sales", username="wangfang")
    existing = CustomerFactory(code="C000042", credit_limit=Decimal("10.00"), phone="+86 21 1111 2222")
    content = f"code,name,credit_limit,salesperson\n,甲公司,100,wangfang\nC000042,{existing.name},2500.50,\n"
    spec = CustomerImport(user=user)
    result = import_commit(spec=spec, table=read_table(upload(content), columns=spec.columns), by=user)
    assert result.create_count == 1 and result.update_count == 1
    created = Customer.objects.get(name="甲公司")
    assert created.code.startswith("C") and created.salesperson.username == "wangfang"
    existing.refresh_from_db()
    assert existing.credit_limit == Decimal("2500.50")
    assert existing.phone == "+86 21 1111 2222", "a column the file lacks keeps its value"
    event = existing.events.get()
    assert event.kind == CustomerEvent.Kind.IMPORTED and event.params == {"file": "customers.csv"} and event.by == user
    assert event.sentence == "Imported from customers.csv."
    assert event.changes == [{"field": "credit_limit", "old": "10.00", "new": "2500.50"}]


def test_commit_revalidates_rows_that_went_bad_since_the_dry_run(make_user):
    """The preview was fine; before commit the code's customer disappeared: nothing is written."""
    user = make_user("sales")
    doomed = CustomerFactory(code="C000077")
    content = "code,name\n,新客户\nC000077,x\n"
    spec = CustomerImport()
    table = read_table(upload(content), columns=spec.columns)
    assert import_dry_run(spec=spec, table=table).ok
    doomed.delete()
    with pytest.raises(ImportRejected):
        import_commit(spec=spec, table=table, by=user)
    assert not Customer.objects.filter(name="新客户").exists()


# --- pages ------------------------------------------------------------------------------------------


def test_import_page_dry_run_then_commit(client_as):
    client = client_as("sales")
    url = reverse("customers:import")
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"file": upload("name,phone\n上海华东贸易有限公司,+86 21 5555 0100\nBeijing Yanshan Hardware,\n")}
    )
    assert response.status_code == 200
    assert response.context["dry_run"].create_count == 2
    assert not Customer.objects.exists(), "the dry run writes nothing"
    token = response.context["token"]
    response = client.post(url, {"commit": "1", "token": token})
    assert response.status_code == 302
    assert set(Customer.objects.values_list("name", flat=True)) == {"上海华东贸易有限公司", "Beijing Yanshan Hardware"}
    response = client.post(url, {"commit": "1", "token": token})
    assert "out of date" in response.content.decode()
    assert Customer.objects.count() == 2, "committing twice imports nothing twice"


def test_import_page_shows_row_errors_and_offers_no_commit(client_as):
    client = client_as("manager")
    response = client.post(reverse("customers:import"), {"file": upload("name,credit_limit\n甲公司,lots\n")})
    body = response.content.decode()
    assert response.context["dry_run"].error_count == 1
    assert "Enter a number" in body and 'name="commit"' not in body


def test_import_page_bad_file_is_a_form_error(client_as):
    response = client_as("sales").post(reverse("customers:import"), {"file": upload(b"", name="x.csv")})
    assert response.status_code == 400 and "The submitted file is empty" in response.content.decode()
    response = client_as("sales").post(reverse("customers:import"), {})
    assert response.status_code == 400 and "This field is required" in response.content.decode()


def test_commit_with_a_forged_token_imports_nothing(client_as):
    client = client_as("sales")
    client.post(reverse("customers:import"), {"file": upload("name\n甲公司\n")})
    response = client.post(reverse("customers:import"), {"commit": "1", "token": "forged"})
    assert "out of date" in response.content.decode() and not Customer.objects.exists()


# --- export -----------------------------------------------------------------------------------------


def test_csv_export_has_a_bom_chinese_names_and_the_filtered_rows(client_as):
    CustomerFactory(name="上海华东贸易有限公司", segment="retail", tax_id='=HYPERLINK("evil")')
    CustomerFactory(name="北京燕山五金", segment="wholesale")
    response = client_as("finance").get(reverse("customers:export"), {"format": "csv", "segment": "retail"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    raw = body(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Code", "Name"]
    assert [r[1] for r in rows[1:]] == ["上海华东贸易有限公司"]
    assert rows[1][4].startswith("'="), "a formula is exported as text"


def test_xlsx_export_round_trips_through_the_import(client_as, make_user):
    seller = make_user("sales", username="lina")
    original = CustomerFactory(
        name="上海华东贸易有限公司",
        alt_name="Shanghai Huadong",
        kind="company",
        credit_limit=Decimal("123456.78"),
        credit_rating="A",
        payment_terms_days=45,
        segment="key_account",
        tags="VIP, 华东",
        salesperson=seller,
        phone="+86 21 5555 0100",
        email="buyer@huadong.example",
    )
    client = client_as("manager")
    response = client.get(reverse("customers:export"), {"format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(body(response))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][1] == "上海华东贸易有限公司"
    assert isinstance(values[1][8], float) and values[1][8] == 123456.78, "amounts are numbers in Excel"
    # Re-import the same workbook: every row matches its customer by code and nothing changes.
    result = dry_run(body(response), name="customers.xlsx")
    assert result.ok, [(o.number, [(e.column, e.message) for e in o.errors]) for o in result.outcomes]
    assert [(o.action, o.changes) for o in result.outcomes] == [("update", [])]
    assert result.outcomes[0].existing == original


def test_xlsx_upload_with_numbers_and_chinese_is_read():
    content = xlsx_bytes([["名称", "信用额度", "账期"], ["深圳南山电子", 88000.5, 60], [None, None, None], ["Emily Chen", 0, 0]])
    result = dry_run(content, name="list.xlsx")
    assert result.ok and result.create_count == 2
    assert [o.number for o in result.outcomes] == [2, 4], "row numbers are the spreadsheet's"
    assert result.outcomes[0].form.cleaned_data["credit_limit"] == Decimal("88000.50")


def test_a_file_of_codes_and_credit_limits_updates_without_a_name_column(make_user):
    customer = CustomerFactory(code="C000123", credit_limit=Decimal("1.00"))
    result = dry_run("code,credit_limit\nC000123,5000\n")
    assert result.ok and result.outcomes[0].existing == customer and result.outcomes[0].changes == ["Credit limit"]


# --- the app's own labels as headers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "header, key",
    [
        ("编码", "code"),  # the code's label on the customer page
        ("电子邮箱", "email"),  # the form's label
        ("付款期限（天）", "payment_terms_days"),  # the form's label before the glossary (now 账期（天）)
        ("付款期限(天)", "payment_terms_days"),  # the same, typed with ASCII brackets
        ("账期(天)", "payment_terms_days"),  # the export's header, typed with ASCII brackets
        ("等级", "credit_rating"),  # the list's column title
        ("Rating", "credit_rating"),
        ("payment terms (days)", "payment_terms_days"),
        ("E-mail", "email"),
    ],
)
def test_the_apps_own_labels_in_chinese_and_english_are_understood_as_headers(header, key):
    """Bug: a sheet headed with the labels the Chinese UI shows was refused or had columns ignored."""
    table = read_table(upload(f"名称,{header}\n宁波港口物流,\n"), columns=CustomerImport().columns)
    assert key in table.columns and table.ignored == []


def test_a_sheet_with_the_chinese_headers_used_before_the_glossary_still_imports(make_user):
    """The export and the form once said 电子邮件 and 付款期限（天） (now 电子邮箱, 账期（天）): such sheets still import."""
    customer = CustomerFactory(email="old@huadong.example", payment_terms_days=30)
    content = f"编号,名称,电子邮件,付款期限（天）\n{customer.code},{customer.name},buyer@huadong.example,60\n"
    content += ",宁波港口物流,ops@nbport.example,45\n"
    importer = make_user("manager")  # payment terms are finance's (or a manager's) to change
    spec = CustomerImport(user=importer)
    table = read_table(upload(content), columns=spec.columns)
    assert {"email", "payment_terms_days"} <= set(table.columns) and table.ignored == []
    result = import_commit(spec=spec, table=table, by=importer)
    assert result.create_count == 1 and result.update_count == 1
    customer.refresh_from_db()
    assert (customer.email, customer.payment_terms_days) == ("buyer@huadong.example", 60)
    created = Customer.objects.get(name="宁波港口物流")
    assert (created.email, created.payment_terms_days) == ("ops@nbport.example", 45)


def test_chinese_export_round_trips_through_the_import(client_as, make_user):
    seller = make_user("sales", username="lina")
    original = CustomerFactory(
        name="上海华东贸易有限公司",
        kind="individual",
        credit_limit=Decimal("123456.78"),
        credit_rating="C",
        payment_terms_days=45,
        segment="key_account",
        language="en",
        salesperson=seller,
        email="buyer@huadong.example",
    )
    client = client_as("manager")
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    response = client.get(reverse("customers:export"), {"format": "csv"})
    header = next(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert header[:2] == ["编号", "名称"], "the export speaks Chinese"
    for language in ("zh-hans", "en"):
        with translation.override(language):
            result = dry_run(body(response))
        assert result.ok, [(o.number, [(e.column, e.message) for e in o.errors]) for o in result.outcomes]
        assert [(o.action, o.changes) for o in result.outcomes] == [("update", [])]
        assert result.outcomes[0].existing == original


def test_an_imported_company_tax_id_is_checked_like_the_form_does():
    content = (
        "name,kind,tax_id\n"
        "深圳南山科技有限公司,company,91440300708461136T\n"
        "深圳南山贸易有限公司,company,91440300708461136A\n"
        "Müller GmbH,company,DE123456789\n"
    )
    result = dry_run(content)
    assert result.error_count == 1 and result.create_count == 2
    [bad] = [outcome for outcome in result.outcomes if outcome.errors]
    assert bad.label == "深圳南山贸易有限公司"
    assert [e.message for e in bad.errors] == ["This tax ID's check character is wrong: please check for a typo."]
