"""The admin as the municipality's own (issue #22 item 5): the header names the administrator's municipality, the
filters and choices list only its objects, and every label of every page reads in Japanese on the Japanese admin."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import User
from facilities.models import Facility, Municipality

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

# Words allowed in a Japanese label: product and technical names, not English sentences.
ALLOWED_WORDS = {
    "yoyaku",
    "totp",
    "api",
    "url",
    "pin",
    "csv",
    "sha",
    "qr",
    "ip",
    "id",
    "json",
    "ics",
    "sns",
    "control",
    "mac",
    "command",
}
RULE_ID = re.compile(r"\b[A-Z]{1,2}(?:-[A-Z]+)?-\d+[a-z]?\b")
LABEL_TAGS = {"th", "label", "h1", "h2", "h3", "caption", "legend", "title", "button"}


class Labels(HTMLParser):
    """The texts of labels, headings, column headers, buttons and help texts of an admin page."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.in_thead = 0
        self.texts: list[str] = []
        self.current: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "thead":
            self.in_thead += 1
        # A column header; a row's first cell (a <th> in <tbody>) is data, e.g. a user ID.
        is_label = (tag in LABEL_TAGS and (tag != "th" or self.in_thead)) or "help" in classes or "helptext" in classes
        if tag in ("input", "img", "br", "meta", "link", "hr"):
            if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
                self.texts.append(attributes["value"])
            return
        self.stack.append((tag, is_label))

    def handle_endtag(self, tag):
        if tag == "thead":
            self.in_thead -= 1
        while self.stack:
            open_tag, is_label = self.stack.pop()
            if is_label and not any(label for _t, label in self.stack):
                text = " ".join("".join(self.current).split())
                if text:
                    self.texts.append(text)
                self.current = []
            if open_tag == tag:
                break

    def handle_data(self, data):
        if any(label for _t, label in self.stack):
            self.current.append(data)


def english_words(text: str) -> list[str]:
    text = RULE_ID.sub("", text)
    return [word for word in re.findall(r"[A-Za-z]{2,}", text) if word.lower() not in ALLOWED_WORDS]


def untranslated(html: str) -> list[str]:
    parser = Labels()
    parser.feed(html)
    return sorted({text for text in parser.texts if english_words(text)})


def admin_pages(user) -> list[str]:
    """Every changelist and add page the user may open."""
    pages = []
    request = type("Request", (), {"user": user})()
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        if model_admin.has_view_permission(request):
            pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        if model_admin.has_add_permission(request):
            pages.append(reverse("admin:{}_{}_add".format(*info)))
    return pages


def others_names(slug: str) -> list[str]:
    """Names of other municipalities and of their facilities that the given municipality does not share."""
    own = set(Facility.objects.filter(municipality__slug=slug).values_list("name_ja", flat=True))
    names = []
    for municipality in Municipality.objects.exclude(slug=slug):
        names += [municipality.name_ja, municipality.name_en]
        names += list(Facility.objects.filter(municipality=municipality).values_list("name_ja", flat=True))
    return sorted({n for n in names if n and n not in own})


def test_site_header__names_the_administrators_municipality(client):
    client.force_login(User.objects.get(username="shiroi-admin"))
    page = client.get("/admin/").content.decode()
    assert "Yoyaku 管理 — 白井市" in page
    assert "Django" not in page
    client.force_login(User.objects.get(username="tamba-admin"))
    assert "Yoyaku 管理 — 丹波市" in client.get("/admin/").content.decode()


def test_site_header__operator_without_municipality(client):
    client.force_login(User.objects.get(username="operator"))
    page = client.get("/admin/").content.decode()
    assert "Yoyaku 管理</a>" in page and "Yoyaku 管理 —" not in page


def test_site_header__in_english(client):
    client.force_login(User.objects.get(username="shiroi-admin"))
    client.cookies["django_language"] = "en"
    assert "Yoyaku admin — Shiroi City" in client.get("/admin/").content.decode()


def test_filters_and_choices__shiroi_admin_sees_no_kodaira_or_tamba_objects(client):
    client.force_login(User.objects.get(username="shiroi-admin"))
    names = others_names("shiroi")
    assert "小平市" in names and "丹波市" in names
    for path in [
        "/admin/facilities/facility/",
        "/admin/facilities/unit/",
        "/admin/facilities/closurecalendar/",
        "/admin/facilities/unit/add/",
        "/admin/facilities/facility/add/",
        "/admin/fees/paymentplace/add/",
        "/admin/lottery/application/",
    ]:
        page = client.get(path)
        assert page.status_code == 200, path
        html = page.content.decode()
        assert not [n for n in names if n in html], (path, [n for n in names if n in html])


def test_filters__operator_still_filters_by_municipality(client):
    client.force_login(User.objects.get(username="operator"))
    html = client.get("/admin/facilities/facility/").content.decode()
    assert "小平市" in html and "白井市" in html and "丹波市" in html


@pytest.mark.parametrize("username", ["kodaira-admin", "shiroi-admin", "tamba-admin"])
def test_every_admin_page__japanese_labels_and_only_its_own_municipality(client, username):
    """GETs every changelist and add page a municipal administrator may open: no English label on the Japanese
    admin, no other municipality's name."""
    administrator = User.objects.get(username=username)
    client.force_login(administrator)
    names = others_names(administrator.municipality.slug)
    pages = admin_pages(administrator)
    assert len(pages) >= 20
    problems = {}
    for path in ["/admin/", *pages]:
        page = client.get(path)
        assert page.status_code == 200, path
        html = page.content.decode()
        found = untranslated(html) + [f"other municipality: {n}" for n in names if n in html]
        if found:
            problems[path] = found
    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems.items())


def test_autocomplete__lists_only_the_administrators_facilities(client):
    """The admin's autocomplete answers through the related admin's queryset: Shiroi's facilities only."""
    client.force_login(User.objects.get(username="shiroi-admin"))
    response = client.get(
        "/admin/autocomplete/", {"app_label": "facilities", "model_name": "unit", "field_name": "facility", "term": ""}
    )
    assert response.status_code == 200
    names = {result["text"] for result in response.json()["results"]}
    shiroi = set(Facility.objects.filter(municipality__slug="shiroi").values_list("name_ja", flat=True))
    assert names and names <= shiroi
