"""Counter search by registration card number (issue #7 item 1, "find a user by … card number"; T-REG-1 cards,
``Registration.card_number``). A Tamba clerk types the number from the card: full-width digits and hyphens
(NFKC), hyphens or spaces left out, lower-case letters — the same card. The whole number, of this municipality only."""

import pytest

from accounts.models import Registration, User
from tests.reservations.booking_helpers import jst, make_user, user

from .helpers import client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def with_card(person: User, number: str) -> User:
    Registration.objects.create(
        user=person,
        municipality_id=person.municipality_id,
        created_at=jst(2026, 4, 1, 10),
        person_name=person.display_name or person.username,
        card_number=number,
    )
    return person


def found(client, municipality: str, query: str) -> list[str]:
    """The usernames listed for ``query``, in the order shown."""
    html = client.get(counter_url("home", municipality, q=query)).content.decode()
    section = html[html.index('data-test="found"') :]
    section = section[: section.index("</ul>")]
    people = User.objects.filter(municipality__slug=municipality)
    return sorted(
        (u.username for u in people if f"/{municipality}/counter/users/{u.pk}/" in section),
        key=lambda name: section.index(f"/{municipality}/counter/users/{User.objects.get(username=name).pk}/"),
    )


@pytest.fixture
def tamba_clerk():
    return client_for("tamba-clerk")


def test_card_search__tamba_clerk_finds_the_resident_by_the_number_on_the_card(tamba_clerk):
    with_card(user("tamba-resident1"), "T-000123")
    for typed in ("T-000123", "Ｔ－０００１２３", "t000123", "T 000123", "ｔ‐０００１２３", "  T-000123 "):
        assert found(tamba_clerk, "tamba", typed) == ["tamba-resident1"], typed


def test_card_search__full_width_digits_find_a_numeric_card(tamba_clerk):
    with_card(user("tamba-resident2"), "2027-0456")
    assert found(tamba_clerk, "tamba", "２０２７０４５６") == ["tamba-resident2"]
    assert found(tamba_clerk, "tamba", "２０２７－０４５６") == ["tamba-resident2"]
    assert found(tamba_clerk, "tamba", "2027 0456") == ["tamba-resident2"]


def test_card_search__a_number_typed_in_full_width_at_registration_is_found_too(tamba_clerk):
    with_card(make_user("tamba", "tamba-fullwidth-card", display_name="全角 太郎"), "Ｔ－７７７")
    assert found(tamba_clerk, "tamba", "T-777") == ["tamba-fullwidth-card"]
    assert found(tamba_clerk, "tamba", "Ｔ７７７") == ["tamba-fullwidth-card"]


def test_card_search__the_whole_number_only_and_not_another_municipalitys_card(tamba_clerk):
    with_card(user("tamba-resident1"), "T-000123")
    with_card(make_user("shiroi", "shiroi-same-card"), "T-000999")  # the same number in another municipality
    with_card(make_user("tamba", "tamba-card-999"), "T-000999")
    assert found(tamba_clerk, "tamba", "T-00012") == []  # a part of a number finds nobody
    assert found(tamba_clerk, "tamba", "T-000999") == ["tamba-card-999"]
    assert found(client_for("shiroi-clerk"), "shiroi", "T-000999") == ["shiroi-same-card"]
    assert found(client_for("shiroi-clerk"), "shiroi", "T-000123") == []  # Tamba's card: not found from Shiroi


def test_card_search__the_card_holder_comes_before_phone_numbers_containing_the_digits(tamba_clerk):
    # "tamba-aaa-phone" sorts first by user ID; its phone number contains the card's digits.
    make_user("tamba", "tamba-aaa-phone", display_name="電話 一致", phone="0795-12345678")
    with_card(make_user("tamba", "tamba-zzz-card", display_name="カード 保持"), "12345678")
    assert found(tamba_clerk, "tamba", "１２３４５６７８") == ["tamba-zzz-card", "tamba-aaa-phone"]


def test_card_search__the_form_says_card_number_where_the_profile_has_cards_and_the_pages_show_it(tamba_clerk):
    person = with_card(user("tamba-resident1"), "T-000123")
    home = tamba_clerk.get(counter_url("home", "tamba")).content.decode()
    assert "user ID, name, phone, e-mail or card number" in home
    kodaira = client_for("kodaira-clerk").get(counter_url("home", "kodaira")).content.decode()
    assert "card number" not in kodaira  # Kodaira's groups have no cards (K-REG-1)
    results = tamba_clerk.get(counter_url("home", "tamba", q="Ｔ－０００１２３")).content.decode()
    assert 'data-test="card-number"' in results and "T-000123" in results
    page = tamba_clerk.get(counter_url("user", "tamba", person.pk)).content.decode()
    assert 'data-test="card-number">T-000123<' in page


def test_card_search__full_width_phone_digits_find_the_phone_number_too(tamba_clerk):
    assert found(tamba_clerk, "tamba", "０７９５－８２－００００") == ["tamba-resident2"]  # 0795-82-0000, demo data
