"""``{% favourite_facilities municipality as favourites %}``: the logged-in user's favourite facilities (issue #8),
for the portal's home page (``None``: every municipality) and a municipality's page. Calls the read in
``facilities.favourites``; an anonymous visitor costs no query."""

from django import template

from facilities import favourites

register = template.Library()


@register.simple_tag(takes_context=True)
def favourite_facilities(context, municipality=None):
    request = context.get("request")
    user = getattr(request, "user", None)
    return favourites.favourites_of(user=user, municipality=municipality)
