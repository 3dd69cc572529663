"""Canary secrets: fake, recognisable, and each listed here so tests can prove none is stored.

`generate(secrets=True)` plants them in about 1.5 % of lines, each in the place real services
leak such things (headers, URLs, connection strings, request bodies, stack traces); the
masking tests ingest the output and look for every one of `CANARIES` in the store.
"""

from __future__ import annotations

_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJ1XzEwMDQyIiwibmFtZSI6IkNhbmFyeSBVc2VyIiwiaWF0IjoxNzkzNDkxMjAwfQ."
    "umOHsa817xQiEGqltX0L8dJ8tDFIEYKhR1enGK3MO-s"
)
_PEM_BODY = (
    "u3gUIZe3NthZlkoh3AHo2z1arpRkFGUPfprKngv88L82IWhoSwpjvaDuZ0t808Lk",
    "lCFfRVShUjtYXDREaJS4mfGDduSUPvafGFbQNwVjpN+/0mslOu0Viv+QKMz5aq21",
    "n1+ygTyBNACJfvqegAQqfpGENp5RxU4e+wXlakodKX6UxbSUrn+DMT7dBA97huix",
)
_PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(_PEM_BODY) + "\n-----END RSA PRIVATE KEY-----\n"
)

_C = {
    "email": "maria.garcia@example.com",
    "email2": "j.smith+studio@example.org",
    "card_visa": "4111 1111 1111 1111",
    "card_mc": "5500-0000-0000-0004",
    "card_plain": "4242424242424242",
    "jwt": _JWT,
    "bearer": "tok_live_8f3kQ2mZ7xV1pL9sR4tY",
    "basic": "YWRtaW46Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5",
    "aws_key": "AKIAZ7CANARYQ4XW5T6E",
    "aws_secret": "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",
    "openai": "sk-proj-Xc9vB2nM4qL7wE1rT5yU8iO3pA6sD0fG",
    "anthropic": "sk-ant-api03-Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVbNm-canaryAA",
    "github": "ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R",
    "slack": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "google": "AIzaSyD-canary0123456789abcdefghijklmno",
    "url_password": "Pg-S3cret-Canary-77",
    "query_token": "qp_tok_7Hk2Lm9Np4Rs6Tv8",
    "ssn": "219-09-9999",
    "phone": "+1-415-555-0132",
    "phone2": "(415) 555-0199",
    "ipv4": "198.51.100.23",
    "ipv6": "2001:db8:85a3::8a2e:370:7334",
    # Values no pattern recognises: only the key they sit under marks them secret.
    "password": "hunter2-Canary!",
    "api_key": "prov-key-Canary-5521",
    "authorization": "Token canary-auth-9931",
    "cookie": "sess-Canary-4410c",
}

CANARIES: tuple[str, ...] = (*_C.values(), *_PEM_BODY)
"""Every fake secret `generate(secrets=True)` plants, each a substring that must never be stored."""


def secret_events(c: dict[str, str] = _C) -> list[tuple[str, str, dict[str, object]]]:
    """(service, message, extra fields) of each secret-carrying line, planted in rotation."""
    return [
        (
            "api",
            "incoming request headers",
            {
                "headers": {
                    "authorization": f"Bearer {c['jwt']}",
                    "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6)",
                }
            },
        ),
        (
            "api",
            "login attempt",
            {"request": {"body": {"user": {"email": c["email"], "password": c["password"]}}}},
        ),
        ("api", f"password reset email sent to {c['email']}", {}),
        ("billing", f"charge declined for card {c['card_visa']}", {"reason": "insufficient_funds"}),
        (
            "llm-gateway",
            "provider config loaded",
            {
                "config": {
                    "providers": [
                        {"name": "openai", "api_key": c["openai"]},
                        {"name": "anthropic", "api_key": c["api_key"]},
                    ]
                }
            },
        ),
        (
            "worker",
            "s3 client configured",
            {"aws": {"aws_access_key_id": c["aws_key"], "aws_secret_access_key": c["aws_secret"]}},
        ),
        (
            "api",
            f"outbound webhook sent with header Authorization: Basic {c['basic']}",
            {"webhook": "https://hooks.example.net/render-done"},
        ),
        (
            "worker",
            "connecting to database",
            {"dsn": f"postgresql://content_app:{c['url_password']}@db-primary.internal/content"},
        ),
        (
            "api",
            "redirecting to signed asset url",
            {
                "location": "https://cdn.example.com/renders/ast_9f2c.mp4"
                f"?token={c['query_token']}&expires=1793494800"
            },
        ),
        ("api", f"kyc verification submitted ssn={c['ssn']}", {"kyc": {"ssn": c["ssn"]}}),
        ("billing", f"sms receipt sent to {c['phone']}", {"fallbackPhone": c["phone2"]}),
        (
            "api",
            f"login from new device {c['ipv4']} via {c['ipv6']}",
            {"forwarded_for": f"{c['ipv4']}, {c['ipv6']}"},
        ),
        (
            "api",
            "upstream call failed",
            {
                "request": {
                    "headers": {
                        "authorization": c["authorization"],
                        "cookie": f"session={c['cookie']}; theme=dark",
                    }
                }
            },
        ),
        (
            "worker",
            "cloning template repository",
            {"repo_url": f"https://x-access-token:{c['github']}@github.com/acme/templates.git"},
        ),
        (
            "worker",
            "slack alert posted",
            {"slack": {"bot_token": c["slack"], "channel": "#render"}},
        ),
        (
            "llm-gateway",
            f"vertex fallback enabled key={c['google']} using {c['anthropic']} as primary",
            {},
        ),
        ("worker", "loaded asset signing key", {"signing": {"private_key": _PEM}}),
        (
            "billing",
            "payment methods synced",
            {"cards": [c["card_mc"], c["card_plain"]], "owner": c["email2"]},
        ),
        (
            "api",
            "incoming request headers",
            {"headers": {"authorization": f"Bearer {c['bearer']}", "accept": "application/json"}},
        ),
    ]
