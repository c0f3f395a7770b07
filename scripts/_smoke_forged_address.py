"""Helper of scripts/prod-smoke.sh (issue #18 item 4): a forged X-Forwarded-For must not change the client address
that the log-in throttle counts (accounts/throttle.py, 10 failures free per address).

  python scripts/_smoke_forged_address.py PORT SCHEME SOURCE [OTHER_SOURCE]

From the loopback address SOURCE, 15 failed log-ins to http://127.0.0.1:PORT/accounts/login/ with made-up user
IDs (so no account counter refuses), each with a different made-up X-Forwarded-For. If the server believed the
header, every attempt would count for another address and none would be refused; it counts SOURCE, so by the
15th the throttle's "Too many failed log-ins" has come (not asserted at an exact attempt). SCHEME is the one the
server sees: "https" sends X-Forwarded-Proto (straight to gunicorn, as a proxy would), "http" does not (through
Caddy, which sets it). With OTHER_SOURCE (behind the proxy), a log-in from that address is then still only
"wrong", not refused: the address counted is the client's, as the proxy saw it, not the proxy's.
"""

import http.client
import re
import secrets
import sys

REFUSED = "Too many failed log-ins"
ATTEMPTS = 15


def check(cond: bool, what: str) -> None:
    print(f"[prod-smoke] {'ok  ' if cond else 'FAIL'} {what}", file=sys.stderr)
    if not cond:
        sys.exit(1)


def request(port, source, method, path, headers, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20, source_address=(source, 0))
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    content = response.read().decode("utf-8", "replace")
    headers = response.getheaders()
    conn.close()
    return response.status, headers, content


def failed_login(port: int, scheme: str, source: str, forged: str | None) -> str:
    """One log-in with a made-up user ID and PIN: "refused" (the throttle), "wrong" or "other: ..."."""
    headers = {"Accept-Language": "en"}
    if scheme == "https":
        headers["X-Forwarded-Proto"] = "https"
    if forged:
        headers["X-Forwarded-For"] = forged
    status, response_headers, _page = request(port, source, "GET", "/accounts/login/", headers)
    cookies = [value for name, value in response_headers if name.lower() == "set-cookie"]
    csrf = next((re.match(r"csrftoken=([^;]+)", c).group(1) for c in cookies if c.startswith("csrftoken=")), None)
    if status != 200 or not csrf:
        return f"other: GET /accounts/login/ {status}"
    body = f"login=nobody-{secrets.token_hex(4)}&password=0000&csrfmiddlewaretoken={csrf}"
    status, response_headers, page = request(
        port,
        source,
        "POST",
        "/accounts/login/",
        {
            **headers,
            "Cookie": f"csrftoken={csrf}",
            "Origin": f"{scheme}://127.0.0.1:{port}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body,
    )
    if status == 302 and "/accounts/login/code/" in dict(response_headers).get("Location", ""):
        return "held"  # the site-wide breaker (accounts/breaker.py) asks an unknown device for the e-mailed code
    if status != 200:
        return f"other: POST /accounts/login/ {status}"
    return "refused" if REFUSED in page else "wrong"


def main(port: int, scheme: str, source: str, other_source: str | None) -> None:
    outcomes = [failed_login(port, scheme, source, forged=f"203.0.113.{n}") for n in range(1, ATTEMPTS + 1)]
    check(not [o for o in outcomes if o.startswith("other")], f"every log-in attempt was answered ({outcomes})")
    check(outcomes[:5] == ["wrong"] * 5, f"the first failed log-ins are only wrong ({outcomes[:5]})")
    check(
        outcomes[-1] == "refused",
        f"{ATTEMPTS} failed log-ins from {source}, each with another forged X-Forwarded-For: refused by the "
        f"per-address throttle by the last ({outcomes})",
    )
    if other_source:
        outcome = failed_login(port, scheme, other_source, forged=None)
        # "held": the 30 failed log-ins of both runs tripped the site-wide breaker, which is not the address counter.
        check(
            outcome in ("wrong", "held"),
            f"another client ({other_source}) behind the same proxy is not refused ({outcome})",
        )


if __name__ == "__main__":
    port, scheme, source = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    main(port, scheme, source, sys.argv[4] if len(sys.argv) > 4 else None)
