"""Masking: what each rule catches, what it must leave alone, and how masked output looks.

Values are real-looking on purpose (test card numbers, AWS's documented example key, a JWT with
a valid header); the "leaves alone" tests use what logs are actually full of.
"""

from __future__ import annotations

import copy
import random
import re
import time
from collections import Counter
from typing import Any

import orjson
import pytest

from logkit.mask import BUILTIN_DETECTORS, Masker, MaskKeyMissing, normalise_key

KEY = b"test-key-for-logkit-masking-0001"
OTHER_KEY = b"another-key-for-logkit-masking-2"

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi3ZeHkLW7g1VhlAqlFdqQ0\n"
    "nKXpPeb3cNtIvXkzS1ZQ8CkH2KPZ8oc1gHp4w6LQ6lAqeYxS1qx3fTqoxAqr\n"
    "-----END RSA PRIVATE KEY-----"
)


@pytest.fixture
def masker() -> Masker:
    return Masker()


def mask(text: str) -> str:
    return Masker().mask_text(text)


def event(**columns: Any) -> dict[str, Any]:
    """A canonical event as the normaliser makes it: the given columns, an attrs dict."""
    return {"ts": 1795341662123000, "level": "INFO", "attrs": {}, **columns}


# --- key rules ---------------------------------------------------------------------------------


def masked_attrs(attrs: dict[str, Any], masker: Masker | None = None) -> dict[str, Any]:
    """attrs after mask_event."""
    return (masker or Masker()).mask_event(event(attrs=attrs))["attrs"]


class TestKeyRules:
    def test_value_under_sensitive_key_is_masked(self):
        """A sensitive key masks its value, whatever the value looks like."""
        assert {"password": "[MASKED:key]"} == masked_attrs({"password": "x"})

    @pytest.mark.parametrize(
        "key", ["X-Api-Key", "API.KEY", "api_key", "Set-Cookie", "Proxy-Authorization", "CVV"]
    )
    def test_spellings_are_normalised(self, key):
        """Case, dashes, underscores and dots do not matter."""
        assert {key: "[MASKED:key]"} == masked_attrs({key: "abc"})

    @pytest.mark.parametrize(
        "key",
        ["db_password", "x-auth-token", "aws_secret_access_key", "client_secret", "csrf_token"],
    )
    def test_names_ending_in_a_sensitive_name_are_sensitive(self, key):
        """The rule is a suffix match on the normalised name, so compound names are covered."""
        assert {key: "[MASKED:key]"} == masked_attrs({key: "abc"})

    @pytest.mark.parametrize("key", ["input_tokens", "token_count", "password_reset_url", "key"])
    def test_names_that_only_contain_a_sensitive_name_are_not(self, key):
        """``input_tokens`` ends in "tokens", not "token"; a bare ``key`` is too generic."""
        assert {key: 17} == masked_attrs({key: 17})

    def test_whole_subtree_is_masked(self):
        """A dict or list under a sensitive key goes as a whole, not field by field."""
        attrs = {"session": {"id": "abc", "user": {"name": "bob"}}, "secrets": [1, 2]}
        assert {"session": "[MASKED:key]", "secrets": "[MASKED:key]"} == masked_attrs(attrs)

    def test_sensitive_keys_at_any_depth(self):
        """Nested dicts and lists of dicts are searched all the way down."""
        attrs = {"request": {"headers": [{"authorization": "Bearer x"}, {"accept": "*/*"}]}}
        expected = {"request": {"headers": [{"authorization": "[MASKED:key]"}, {"accept": "*/*"}]}}
        assert expected == masked_attrs(attrs)

    def test_numbers_under_sensitive_keys_are_masked(self):
        """A PIN or CVV logged as a JSON number is still masked."""
        expected = {"cvv": "[MASKED:key]", "pin_otp": "[MASKED:key]"}
        assert expected == masked_attrs({"cvv": 123, "pin_otp": 4.5})

    def test_null_and_booleans_under_sensitive_keys_are_kept(self):
        """None and True/False carry no secret, and say something useful ("no token")."""
        assert {"token": None, "has_password": True} == masked_attrs(
            {"token": None, "has_password": True}
        )

    def test_a_secret_named_by_the_element_before_it_in_a_list_is_masked(self):
        """Header pairs (ASGI's scope), Node's rawHeaders and argument vectors name a secret
        in one element and hold it in the next, as a key and its value."""
        attrs = {
            "headers": [["x-api-key", "k3y"], ["accept", "*/*"]],
            "rawHeaders": ["Host", "a.io", "Cookie", "sid=1", "Accept", "*/*"],
            "argv": ["serve", "--db-password", "hunter2", "--port", 8080],
            "pins": ["otp", 123456],
        }
        assert {
            "headers": [["x-api-key", "[MASKED:key]"], ["accept", "*/*"]],
            "rawHeaders": ["Host", "a.io", "Cookie", "[MASKED:key]", "Accept", "*/*"],
            "argv": ["serve", "--db-password", "[MASKED:key]", "--port", 8080],
            "pins": ["otp", "[MASKED:key]"],
        } == masked_attrs(attrs)

    def test_a_list_element_that_is_text_or_last_names_nothing(self):
        """Only a one-word name masks what follows; a sentence or a list of names does not."""
        attrs = {
            "notes": ["reset your password now", "ok"],
            "tags": ["auth", "token"],
            "then": ["token", ["a"], None],
        }
        assert attrs == masked_attrs(copy.deepcopy(attrs))

    def test_session_id_is_masked_by_default(self):
        """A live session id is a bearer credential."""
        assert {"session_id": "[MASKED:key]"} == masked_attrs({"session_id": "s1"})

    def test_allow_keys_keeps_a_key(self):
        """allow_keys turns the key rule off for exactly those names."""
        masker = Masker.from_config({"allow_keys": ["session_id"]}, None)
        expected = {"session_id": "s1", "session": "[MASKED:key]"}
        assert expected == masked_attrs({"session_id": "s1", "session": "s2"}, masker)

    def test_extra_keys_are_sensitive(self):
        """keys adds names, matched the same way (normalised, as a suffix)."""
        masker = Masker.from_config({"keys": ["Employee-No"]}, None)
        assert {"hr_employee_no": "[MASKED:key]"} == masked_attrs({"hr_employee_no": "1"}, masker)
        assert {"hr_employee_no": "1"} == masked_attrs({"hr_employee_no": "1"})

    @pytest.mark.parametrize(
        "key",
        ["passcode", "signing_key", "encryptionKey", "MFA-Code", "cvv2", "security_code",
         "webhook_url", "date_of_birth", "birthDate", "customer_tax_id", "national_id",
         "passport_number", "drivers_license", "bank_account", "account_number",
         "routing_number", "sort_code"],
    )  # fmt: skip
    def test_one_time_codes_signing_keys_and_identity_documents_are_sensitive_keys(self, key):
        assert {key: "[MASKED:key]"} == masked_attrs({key: "AB-1234"})

    def test_normalise_key(self):
        """The documented normal form."""
        assert "xapikey" == normalise_key("X-Api.Key_")


class TestTextPairs:
    """The key rule in text: messages, and raw lines that are not valid JSON."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("login password=hunter2 user=bob", "login password=[MASKED:key] user=bob"),
            ('{"api_key":"abc123"}', '{"api_key":"[MASKED:key]"}'),
            ('{"password": 1234, "x": 1}', '{"password": "[MASKED:key]", "x": 1}'),
            ("Authorization: Bearer abc.def", "Authorization: [MASKED:key]"),
            ("X-Api-Key: k-123", "X-Api-Key: [MASKED:key]"),
            ("Cookie: theme=dark; sid=abc", "Cookie: [MASKED:key]"),
            ("GET /v1/search?token=abc&page=2", "GET /v1/search?token=[MASKED:key]&page=2"),
            ("GET /img?key=abc&sig=def", "GET /img?key=[MASKED:key]&sig=[MASKED:key]"),
            ("secret = 's3 cr3t' ok", "secret = '[MASKED:key]' ok"),
            # A bare value printed in groups is masked whole, not its first group.
            ("card_number=4111 1111 1111 1111 ok", "card_number=[MASKED:key] ok"),
            ("iban: GB29 NWBK 6016 1331 9268 19", "iban: [MASKED:key]"),
            ("token=+44 20 7946 0958 sent", "token=[MASKED:key] sent"),
        ],
    )
    def test_pairs_with_a_sensitive_name(self, text, expected):
        """name=value, name: value, "name": value: the value goes, the name stays."""
        assert expected == mask(text)

    def test_duplicate_keys_are_both_masked(self):
        """A raw line with the same key twice leaks neither copy."""
        assert '{"password": "[MASKED:key]", "password": "[MASKED:key]"}' == mask(
            '{"password": "a", "password": "b"}'
        )

    def test_object_value_is_masked_whole_and_stays_json(self):
        """A subtree in text is replaced by one quoted placeholder, so the JSON still parses."""
        masked = mask('{"session": {"id": "abc", "n": [1, 2]}, "x": 1}')
        assert {"session": "[MASKED:key]", "x": 1} == orjson.loads(masked)

    def test_json_inside_a_json_string(self):
        """Escaped quotes: a payload logged as a string inside the line."""
        assert r'{"body": "{\"token\": \"[MASKED:key]\"}"}' == mask(
            r'{"body": "{\"token\": \"abc\"}"}'
        )

    def test_truncated_value_is_masked_to_the_end(self):
        """A line cut inside the secret (too long, quarantined) still leaks nothing."""
        assert '{"level": "info", "password": "[MASKED:key]' == mask(
            '{"level": "info", "password": "hunter2 and more'
        )

    def test_json_literals_are_kept(self):
        """null/true/false after a sensitive name hide nothing."""
        assert '{"token": null, "password": false}' == mask('{"token": null, "password": false}')

    def test_words_that_end_differently_are_kept(self):
        """input_tokens=5 is a count, not a token."""
        assert "input_tokens=5 max_tokens: 7" == mask("input_tokens=5 max_tokens: 7")


# --- value detectors ---------------------------------------------------------------------------


class TestEmail:
    @pytest.mark.parametrize(
        "value", ["bob@example.com", "Jane.Doe+logs@mail.example.co.uk", "x_y-1@a-b.io"]
    )
    def test_masks_addresses(self, value):
        assert "to [MASKED:email] ok" == mask(f"to {value} ok")

    @pytest.mark.parametrize(
        "text", ["celery@worker-3 ready", "@app.get decorator", "nginx@sha256:abc", "pkg@1.2.3"]
    )
    def test_leaves_at_signs_that_are_not_addresses(self, text):
        assert text == mask(text)


class TestCard:
    @pytest.mark.parametrize(
        "value",
        [
            "4111 1111 1111 1111",
            "5500-0000-0000-0004",
            "4111111111111111",
            "378282246310005",  # Amex
            "3782 822463 10005",  # Amex as printed
            "6011111111111117",  # Discover
            "4222 2222 2222 2",  # 13-digit Visa
        ],
    )
    def test_masks_luhn_valid_numbers(self, value):
        assert "paid with [MASKED:card] today" == mask(f"paid with {value} today")

    @pytest.mark.parametrize("value", ["5500-0000-0000-00046", "41 11 11 11 11 11 11 11"])
    def test_leaves_digits_not_grouped_like_a_card(self, value):
        """Luhn-valid digits in groups no card is printed in are something else."""
        assert value == mask(value)

    def test_masks_the_card_and_keeps_what_follows(self):
        """A card followed by its expiry or CVV: only the card number goes."""
        assert "card [MASKED:card] exp 12/28 cvc 123" == mask(
            "card 4111111111111111 exp 12/28 cvc 123"
        )

    @pytest.mark.parametrize(
        "text",
        [
            "order 4111111111111112",  # fails Luhn
            "epoch 1732270862123456789",  # nanoseconds
            "epoch 1732270862123",  # milliseconds
            "luhn-valid but starts with 1: 1000000000000009",
            "id 4111111111111111abc",  # glued to letters: part of an id
            "2026-11-22 10:01:02",
        ],
    )
    def test_leaves_other_long_numbers(self, text):
        assert text == mask(text)

    @pytest.mark.timeout(30)
    def test_a_long_run_of_numbers_takes_linear_time(self):
        """A crafted line of 13,000 four-digit groups: quadratic work here would take minutes."""
        text = "1234 " * 13_000
        assert text == mask(text)

    def test_json_integer_in_attrs_is_a_card(self, masker):
        """A card logged as a JSON number is masked too (and becomes a string)."""
        masked = masker.mask_event(event(attrs={"n": 4111111111111111, "m": 4111111111111112}))
        assert {"n": "[MASKED:card]", "m": 4111111111111112} == masked["attrs"]

    def test_canonical_numbers_are_never_cards(self, masker):
        """ts and counts are what they say, even when Luhn-valid."""
        masked = masker.mask_event(event(ts=4111111111111111, input_tokens=4111111111111111))
        assert (4111111111111111, 4111111111111111) == (masked["ts"], masked["input_tokens"])


class TestJwt:
    def test_masks_a_jwt(self):
        assert "token [MASKED:jwt] sent" == mask(f"token {JWT} sent")

    def test_leaves_dotted_names(self):
        text = "eyJ is how a JWT starts; app.api.handler"
        assert text == mask(text)


class TestAuthHeader:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("sent Bearer abcdef123456", "sent Bearer [MASKED:auth]"),
            ("sent Bearer " + "x" * 24, "sent Bearer [MASKED:auth]"),
            ("sent Basic dXNlcjpwYXNzd29yZA==", "sent Basic [MASKED:auth]"),
        ],
    )
    def test_masks_the_credential_and_keeps_the_scheme(self, text, expected):
        assert expected == mask(text)

    @pytest.mark.parametrize("text", ["Basic auth failed", "Bearer token expired", "Basic usage"])
    def test_leaves_prose(self, text):
        assert text == mask(text)


class TestAwsKey:
    @pytest.mark.parametrize("value", ["AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE"])
    def test_masks_access_key_ids(self, value):
        assert "id [MASKED:aws_key]" == mask(f"id {value}")

    def test_leaves_longer_words(self):
        assert "AKIAIOSFODNN7EXAMPLEXYZ" == mask("AKIAIOSFODNN7EXAMPLEXYZ")


class TestIban:
    @pytest.mark.parametrize(
        "value",
        ["DE89370400440532013000", "GB29 NWBK 6016 1331 9268 19", "FR1420041010050500013M02606",
         "NL91ABNA0417164300", "NO9386011117947"],
    )  # fmt: skip
    def test_masks_account_numbers_in_one_run_or_in_groups(self, value):
        assert "refund to [MASKED:iban]." == mask(f"refund to {value}.")

    @pytest.mark.parametrize(
        "text",
        ["DE89370400440532013001", "DE8937040044053201300", "XDE89370400440532013000",
         "ES2022 TLS13 SHA384", "trace 4BF92F3577B34DA6A3CE929D0E0E4736", "de89370400440532013000"],
    )  # fmt: skip
    def test_leaves_a_wrong_check_or_length_and_ids_alone(self, text):
        assert text == mask(text)

    def test_a_grouped_and_a_compact_spelling_get_one_pseudonym(self):
        pseudonyms = Masker(mode="pseudonymize", key=KEY)
        compact = pseudonyms.mask_text("DE89370400440532013000")
        assert compact.startswith("iban:")
        assert compact == pseudonyms.mask_text("DE89 3704 0044 0532 0130 00")

    def test_a_value_under_an_iban_key_is_masked_whole(self):
        assert {"payout": {"iban": "[MASKED:key]"}} == masked_attrs({"payout": {"iban": "x1"}})


class TestApiKey:
    @pytest.mark.parametrize(
        "value",
        [
            "sk-proj-4fJx9aQ2rT7kLm3nPq8sVw1yZb6cDe0gHi",
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "gho_16C7e42F292c6912E7710c838347Ae178B4a",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv",
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKl",
            "xoxp-123456789012-abcdefghij",
            "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
            "sk_live_51H8abcdefghijklmnop",
            "glpat-xxxxxxxxxxxxxxxxxxxx",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "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",
            "pcsk_4HqRte_9XwY2vLmNpQ7sT1uV3wX5yZ8aB0cD2eF4gH6jK8mN0pQ2rS4tU6vW8xY",
            "tvly-dev-Q1w2E3r4T5y6U7i8O9p0AsDf",
            "fw_3Zx9Lm2Qp8Rt5Wv7Yb1Nc4",
            "hvs.CAESIJ2Wb9kX3mQ7vL1pT8rY5sZ0aB4cD6eF",
            "ya29.a0AfH6SMBx_Yz-1Q2w3E4r5T6y7U8i9O0p",
            "GOCSPX-k3Lm9Zq7Xw2Yv5Ut8Sr1Pq4On6",
            "dckr_pat_Xy9aB3cD4eF5gH6iJ7kL8mN0pQ",
            "glsa_aB3cD4eF5gH6iJ7kL8mN9pQ0rS1tU2vW_1a2b3c4d",
            "ntn_N0t10nN0t10nN0t10nN0t10nN0t10nN0t10nN0t1",
            "lin_api_L1n3arL1n3arL1n3arL1n3arL1n3arL1n3",
        ],
    )
    def test_masks_known_key_shapes(self, value):
        assert "key [MASKED:api_key] end" == mask(f"key {value} end")

    @pytest.mark.parametrize(
        "url",
        ["https://hooks.slack.com/services/T0ABCDEF1/B0GHIJKL2/aB3dE6gH9jK2mN5pQ8sT1vW4",
         "https://discord.com/api/webhooks/1234567890123456789/" + "Zx-9_" * 14],
    )  # fmt: skip
    def test_a_webhook_urls_path_is_its_credential(self, url):
        assert "post to https://[MASKED:api_key] ok" == mask(f"post to {url} ok")
        # PHP and others escape a JSON string's slashes: the prefilter still picks the line.
        raw = orjson.dumps({"msg": "notify", "hook": url}).replace(b"/", b"\\/")
        assert Masker().needs_masking(raw)
        assert {"msg": "notify", "hook": "https://[MASKED:api_key]"} == orjson.loads(
            Masker().mask_json_line(raw)
        )

    @pytest.mark.parametrize(
        "text",
        ["task-queue sk-learn ghp_x", "xoxo-gossip", "risk-free", "fw_version_2 whsec_rotated",
         "hvs.internal ya29.x lin_api_client"],
    )  # fmt: skip
    def test_leaves_short_lookalikes(self, text):
        assert text == mask(text)


class TestPrivateKey:
    def test_masks_a_pem_block(self):
        assert "key:\n[MASKED:private_key]\ndone" == mask(f"key:\n{PEM}\ndone")

    def test_masks_a_pem_block_in_a_raw_json_line(self):
        """In a raw line the newlines are \\n escapes; the block is still one match."""
        raw = orjson.dumps({"cert": PEM}).decode()
        assert '{"cert":"[MASKED:private_key]"}' == mask(raw)

    def test_masks_a_truncated_block_to_the_end(self):
        assert "key [MASKED:private_key]" == mask("key " + PEM[:80])

    def test_leaves_public_keys(self):
        text = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqh\n-----END PUBLIC KEY-----"
        assert text == mask(text)


class TestUrlCredentials:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("postgres://admin:s3cr3t@db:5432/app", "postgres://[MASKED:url_creds]@db:5432/app"),
            ("https://u:p@ss@example.com/x", "https://[MASKED:url_creds]@example.com/x"),
            ("redis://:pw@cache:6379", "redis://[MASKED:url_creds]@cache:6379"),
        ],
    )
    def test_masks_user_and_password(self, text, expected):
        assert expected == mask(text)

    def test_leaves_urls_without_credentials(self):
        text = "GET https://api.example.com:8443/v1/jobs/123?page=2"
        assert text == mask(text)


class TestSsn:
    def test_masks_ssn(self):
        assert "ssn [MASKED:ssn] on file" == mask("ssn 123-45-6789 on file")

    @pytest.mark.parametrize(
        "value", ["000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000"]
    )
    def test_leaves_invalid_numbers(self, value):
        assert f"ssn {value}" == mask(f"ssn {value}")

    def test_leaves_dates_and_ids(self):
        text = "2026-11-22 order 123-45-67890 part 12-345-6789"
        assert text == mask(text)


class TestPhone:
    @pytest.mark.parametrize(
        "value",
        [
            "+14155552671",
            "+44 20 7946 0958",
            "+1 (415) 555-2671",
            "(415) 555-2671",
            "415-555-2671",
            "415.555.2671",
            "1-415-555-2671",
        ],
    )
    def test_masks_numbers(self, value):
        assert "call [MASKED:phone] now" == mask(f"call {value} now")

    @pytest.mark.parametrize(
        "text",
        [
            "epoch 1732270862123",
            "id 4155552671",
            "at 2026-11-22T10:01:02+05:30",
            "offset +00:00",
            "retry +1 in 5s",
            "build 415-555-26710",
        ],
    )
    def test_leaves_bare_numbers_and_offsets(self, text):
        assert text == mask(text)


class TestIpv4:
    @pytest.mark.parametrize("value", ["10.0.0.1", "192.168.1.254", "8.8.8.8", "255.255.255.255"])
    def test_masks_addresses(self, value):
        assert "from [MASKED:ipv4] in" == mask(f"from {value} in")

    def test_keeps_the_port(self):
        assert "[MASKED:ipv4]:8080" == mask("10.0.0.1:8080")

    def test_four_part_versions_in_range_count_as_addresses(self):
        """Documented: 1.2.3.4 is ambiguous and treated as an address."""
        assert "[MASKED:ipv4]" == mask("1.2.3.4")

    @pytest.mark.parametrize(
        "text", ["v1.2.3.4", "1.2.3.4.5", "1.2.3.256", "version 2.10.4", "01.02.03.04"]
    )
    def test_leaves_versions(self, text):
        assert text == mask(text)


class TestIpv6:
    @pytest.mark.parametrize(
        "value",
        [
            "::1",
            "fe80::1%eth0",
            "2001:db8::8a2e:370:7334",
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            "::ffff:10.0.0.1",
        ],
    )
    def test_masks_addresses(self, value):
        assert "from [MASKED:ipv6] in" == mask(f"from {value} in")

    def test_masks_inside_brackets_and_keeps_the_port(self):
        assert "[[MASKED:ipv6]]:8080" == mask("[2001:db8::1]:8080")

    @pytest.mark.parametrize(
        "text",
        ["at 10:01:02", "std::vector", "Foo::Bar::baz", "mac 00:1a:2b:3c:4d:5e", "a :: b"],
    )
    def test_leaves_times_and_scopes(self, text):
        assert text == mask(text)


NOT_MASKED = [
    "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
    "request 123e4567-e89b-12d3-a456-426614174000",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "at 2026-11-22 and 2026-11-22T10:01:02.123Z and 2026-11-22T10:01:02+00:00",
    "took 12.5ms (1.2s total, 850us in db)",
    "version 1.2.3, v2.10.4-rc1, python 3.11.7",
    "listening on :8080 and localhost:5432",
    "GET /v1/jobs/123 200",
    "HTTP 404 Not Found; 503 after 3 retries",
    'File "/app/main.py", line 42, in handler',
    "  at com.example.Handler.run(Handler.java:118)",
    "order 4111111111111112 and epoch 1732270862123456789",
    "epoch millis 1732270862123 and 1732270862.123456",
    "user u_72103 job 53490 batch b-1234",
    "Task jobs.embed[5d4b4c3e-1d2f-4a2b-9c1d-0e2f3a4b5c6d] succeeded in 0.5320s: None",
    "retries=3 page=2 limit=50 cache_key=users:42",
    "celery@worker-3 ready",
    "ValueError: invalid literal for int() with base 10: 'abc'",
]


@pytest.mark.parametrize("text", NOT_MASKED)
def test_not_masked_catalogue(text):
    """What logs are made of stays intact, as text and inside an event."""
    masker = Masker()
    assert (text, text) == (
        masker.mask_text(text),
        masker.mask_event(event(message=text, attrs={"m": text}))["message"],
    )
    assert Counter() == masker.counts


# --- placeholders, pseudonyms, fields ------------------------------------------------------------


class TestPseudonyms:
    def test_placeholder_names_the_detector(self, masker):
        assert "[MASKED:email] [MASKED:ipv4]" == masker.mask_text("bob@example.com 10.0.0.1")

    def test_pseudonym_is_prefix_and_twelve_hex(self):
        masked = Masker(mode="pseudonymize", key=KEY).mask_text("bob@example.com")
        assert re.fullmatch(r"email:[0-9a-f]{12}", masked)

    def test_same_value_same_pseudonym_across_maskers(self):
        """Two runs (two Masker instances) with one key agree, so values can be joined on."""
        first = Masker(mode="pseudonymize", key=KEY).mask_text("bob@example.com")
        second = Masker(mode="pseudonymize", key=KEY).mask_text("Bob@Example.com")
        assert first == second

    def test_another_key_gives_another_pseudonym(self):
        first = Masker(mode="pseudonymize", key=KEY).mask_text("bob@example.com")
        second = Masker(mode="pseudonymize", key=OTHER_KEY).mask_text("bob@example.com")
        assert first != second

    def test_different_values_differ(self):
        masker = Masker(mode="pseudonymize", key=KEY)
        assert masker.mask_text("a@example.com") != masker.mask_text("b@example.com")

    def test_pseudonymize_one_detector_in_placeholder_mode(self):
        masker = Masker.from_config({"pseudonymize": ["email"]}, KEY)
        masked = masker.mask_text("bob@example.com 10.0.0.1")
        assert re.fullmatch(r"email:[0-9a-f]{12} \[MASKED:ipv4\]", masked)

    def test_key_rule_pseudonyms(self):
        """In pseudonym mode a masked password is 'key:<hex>', still comparable."""
        masker = Masker(mode="pseudonymize", key=KEY)
        masked = masker.mask_event(event(attrs={"password": "hunter2", "pwd": "hunter2"}))
        assert masked["attrs"]["password"] == masked["attrs"]["pwd"]
        assert masked["attrs"]["password"].startswith("key:")

    def test_missing_key_is_a_clear_error(self):
        with pytest.raises(MaskKeyMissing) as raised:
            Masker.from_config({"mode": "pseudonymize"}, None)
        assert (
            "pseudonym mode needs a key: set $LOGKIT_MASK_KEY or create one with 'logkit keygen'"
            == str(raised.value)
        )

    @pytest.mark.parametrize("table", [{"pseudonymize": ["email"]}, {"fields": ["user_id"]}])
    def test_any_pseudonym_needs_a_key(self, table):
        with pytest.raises(MaskKeyMissing):
            Masker.from_config(table, None)

    def test_pseudonym_method_needs_a_key(self, masker):
        with pytest.raises(MaskKeyMissing):
            masker.pseudonym("user_id", "42")


class TestFields:
    def test_canonical_field_is_pseudonymised_whole(self):
        masker = Masker.from_config({"fields": ["user_id"]}, KEY)
        masked = masker.mask_event(event(user_id="bob@example.com", message="hi bob@example.com"))
        assert re.fullmatch(r"user_id:[0-9a-f]{12}", masked["user_id"])
        assert "[MASKED:email]" not in masked["user_id"]

    def test_pseudonym_method_matches_the_stored_value(self):
        """What `logkit user RAW_ID` computes is what ingest stored."""
        masker = Masker.from_config({"fields": ["user_id"]}, KEY)
        stored = masker.mask_event(event(user_id="42"))["user_id"]
        assert Masker.from_config({}, KEY).pseudonym("user_id", "42") == stored

    def test_attrs_top_level_field_of_any_type(self):
        masker = Masker.from_config({"fields": ["customer", "account"]}, KEY)
        masked = masker.mask_event(event(attrs={"customer": 42, "account": {"id": 1}}))["attrs"]
        assert masker.pseudonym("customer", "42") == masked["customer"]
        assert masked["account"].startswith("account:")

    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (
                {"id": 1, "big": 10**20, "tags": ["\U00018d09", None, True, 1e16]},
                '{"big":100000000000000000000,"id":1,"tags":["\U00018d09",null,true,1e+16]}',
            ),
            ([-(10**19), "\U00018d09"], '[-10000000000000000000,"\U00018d09"]'),
            (
                orjson.loads("[" * 300 + '{"b": 1, "a": 1.5e-05}' + "]" * 300),
                "[" * 300 + '{"a":0.000015,"b":1}' + "]" * 300,
            ),
        ],
    )
    def test_a_value_orjson_refuses_is_pseudonymised_as_its_sorted_json(self, value, text):
        """An int beyond 64 bits or nesting beyond orjson's 255 levels: the pseudonym is of the
        same compact sorted JSON as any dict or list (all the int's digits), not of Python's
        repr, which escapes code points by the running Python's Unicode database."""
        masker = Masker.from_config({"fields": ["account"]}, KEY)
        masked = masker.mask_event(event(attrs={"account": value}))["attrs"]["account"]
        assert masked == masker.pseudonym("account", text)

    def test_fields_are_not_pseudonymised_twice(self):
        masker = Masker.from_config({"fields": ["user_id"]}, KEY)
        once = masker.mask_event(event(user_id="42"))
        assert once == masker.mask_event(copy.deepcopy(once))


# --- events, lines, counts ---------------------------------------------------------------------


class TestMaskEvent:
    def test_masks_string_columns_in_place(self, masker):
        ev = event(message="mail bob@example.com", path="/u/bob@example.com", host="10.0.0.1")
        assert ev is masker.mask_event(ev)
        assert ("mail [MASKED:email]", "/u/[MASKED:email]", "[MASKED:ipv4]") == (
            ev["message"],
            ev["path"],
            ev["host"],
        )

    def test_nested_strings_and_lists(self, masker):
        attrs = {"a": {"b": ["x", {"c": "to bob@example.com"}]}}
        masked = masker.mask_event(event(attrs=attrs))["attrs"]
        assert {"a": {"b": ["x", {"c": "to [MASKED:email]"}]}} == masked

    def test_dict_keys_are_masked_and_collisions_keep_both_values(self, masker):
        """An address used as a key is masked; two of them do not overwrite each other."""
        attrs = {"bob@example.com": 1, "ann@example.com": 2, "n": 3}
        expected = {"[MASKED:email]": 1, "[MASKED:email]~2": 2, "n": 3}
        assert expected == masker.mask_event(event(attrs=attrs))["attrs"]

    @pytest.mark.parametrize(
        ("trace_id", "span_id"),
        [
            ("4bf92f3577b34da6a3ce929d0e0e4736", "4111111111111111"),  # W3C; an all-digit span
            ("4111111111111111111", "5555555555554444"),  # Datadog's decimal ids
            ("0af7651916cd43dd8448eb211c80319c", "b7ad6b71"),
            ("3fa85f64-5717-4562-b3fc-2c963f66afa6", "00f067aa0ba902b7"),  # UUID
            ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "0123456789abcdef"),
        ],
    )
    def test_ids_of_an_id_shape_are_left_alone(self, masker, trace_id, span_id):
        """An all-digit span id would pass for a card one time in twenty: ids are not scanned."""
        ev = event(trace_id=trace_id, span_id=span_id)
        assert ev == masker.mask_event(copy.deepcopy(ev))

    @pytest.mark.parametrize(
        ("value", "detector"),
        [
            ("4111-1111-1111-1111", "card"),
            ("4111 1111 1111 1111", "card"),
            ("078-05-1120", "ssn"),
            ("bob@example.com", "email"),
            ("415-555-2671", "phone"),
        ],
    )
    def test_a_secret_in_an_id_column_is_masked(self, masker, value, detector):
        """Only an id's shape exempts trace_id and span_id; hex with dashes is not one."""
        ev = masker.mask_event(event(trace_id=value, span_id=value))
        assert (f"[MASKED:{detector}]",) * 2 == (ev["trace_id"], ev["span_id"])

    def test_disabled_masker_changes_nothing(self):
        masker = Masker.from_config({"enabled": False}, None)
        ev = event(message="bob@example.com", attrs={"password": "x"})
        assert (ev, False) == (
            masker.mask_event(copy.deepcopy(ev)),
            masker.needs_masking(b'{"password":"x"}'),
        )


class TestMaskJsonLine:
    def test_object_is_masked_and_written_compact(self, masker):
        line = b'{"password": "a", "m": "to bob@example.com", "n": [1, 2]}\n'
        assert b'{"password":"[MASKED:key]","m":"to [MASKED:email]","n":[1,2]}\n' == (
            masker.mask_json_line(line)
        )

    def test_array_is_masked(self, masker):
        assert b'["[MASKED:email]",{"token":"[MASKED:key]"}]\n' == masker.mask_json_line(
            b'["bob@example.com", {"token": "t"}]'
        )

    def test_other_lines_are_masked_as_text(self, masker):
        line = b"2026-11-22 ERROR login failed password=hunter2 for bob@example.com\r\n"
        assert b"2026-11-22 ERROR login failed password=[MASKED:key] for [MASKED:email]\n" == (
            masker.mask_json_line(line)
        )

    def test_a_line_with_nothing_to_mask_is_written_as_it_came(self, masker):
        line = b'{"m": "all fine",  "ms": 1.50, "at": [1, 2]}'
        assert line + b"\n" == masker.mask_json_line(line + b"\r\n")

    def test_an_integer_beyond_64_bits_stays_exact(self, masker):
        line = b'{"n": 123456789012345678901234567890, "m": "to bob@example.com"}'
        assert b'{"n":123456789012345678901234567890,"m":"to [MASKED:email]"}\n' == (
            masker.mask_json_line(line)
        )

    def test_invalid_utf8_is_kept_visible(self, masker):
        assert b"bad \\xff [MASKED:email]\n" == masker.mask_json_line(b"bad \xff bob@example.com")


class TestRounds:
    def test_a_secret_that_gets_its_boundary_from_a_masked_neighbour_is_masked_too(self):
        assert mask("bob@example.com+14155552671") == "[MASKED:email][MASKED:phone]"

    def test_a_value_masked_whole_is_counted_once_and_left_as_its_placeholder(self, masker):
        assert masker.mask_text("203.0.113.9") == "[MASKED:ipv4]"
        assert Counter({"ipv4": 1}) == masker.counts

    def test_a_pseudonym_that_replaced_the_whole_value_is_final(self):
        masker = Masker.from_config({"mode": "pseudonymize"}, b"k")
        once = masker.mask_text("bob@example.com")
        assert once.startswith("email:") and masker.mask_text(once) == once


class TestCounts:
    def test_counts_per_detector(self, masker):
        masker.mask_event(
            event(message="bob@example.com ann@example.com 10.0.0.1", attrs={"token": "t"})
        )
        assert Counter({"email": 2, "ipv4": 1, "key": 1}) == masker.counts

    def test_masked_output_counts_nothing(self, masker):
        once = masker.mask_text("bob@example.com password=x 4111111111111111")
        masker.counts.clear()
        assert (once, Counter()) == (masker.mask_text(once), masker.counts)


class TestFailClosed:
    def test_a_custom_pattern_cannot_hang_masking(self):
        """Custom detectors run in linear time (Rust's regex): the pattern that backtracks
        catastrophically in Python's re, on the text that triggers it, is done at once."""
        masker = Masker(detectors={"boom": "(a+)+$"})
        text = "a" * 5000 + "!"
        started = time.monotonic()
        assert (text, "x [MASKED:boom]") == (masker.mask_text(text), masker.mask_text("x aaa"))
        assert time.monotonic() - started < 1.0

    def test_nesting_too_deep_to_walk_is_masked(self, masker):
        deep: list[Any] = ["bob@example.com"]
        for _ in range(5000):
            deep = [deep]
        masked = masker.mask_event(event(attrs={"deep": deep, "ok": "fine"}))
        node = masked["attrs"]["deep"]
        while isinstance(node, list):
            node = node[0]
        assert ("[MASKED:error]", "fine") == (node, masked["attrs"]["ok"])
        assert masker.counts["error"] >= 1


class TestConfig:
    def test_unknown_setting_is_named(self):
        with pytest.raises(ValueError, match="unknown setting 'pseudonymise'"):
            Masker.from_config({"pseudonymise": ["email"]}, KEY)

    def test_bad_regex_names_the_detector(self):
        with pytest.raises(ValueError, match=r"\[mask.detectors\] 'order_ref': invalid regex"):
            Masker.from_config({"detectors": {"order_ref": "ORD-(\\d+"}}, None)

    @pytest.mark.parametrize(
        ("table", "message"),
        [
            ({"mode": "hash"}, "mode must be 'placeholder' or 'pseudonymize'"),
            # `mode = 3` in logkit.toml: no mode either, not the default.
            ({"mode": 3}, "mode must be 'placeholder' or 'pseudonymize', not 3"),
            ({"disable": ["emails"]}, "disable: unknown detector 'emails'"),
            ({"pseudonymize": ["nope"]}, "pseudonymize: unknown detector 'nope'"),
            ({"keys": "password"}, "keys must be a list of strings"),
            ({"enabled": "yes"}, "enabled must be true or false"),
            ({"detectors": {"Bad Name": "x"}}, "'Bad Name': a detector name is lowercase"),
            ({"detectors": {"email": "x"}}, "'email' is a built-in detector name"),
        ],
    )
    def test_invalid_settings(self, table, message):
        with pytest.raises(ValueError, match=re.escape(message)):
            Masker.from_config(table, KEY)

    def test_disable_switches_a_detector_off(self):
        masker = Masker.from_config({"disable": ["ipv4", "key"]}, None)
        assert "10.0.0.1 password=x [MASKED:email]" == masker.mask_text(
            "10.0.0.1 password=x bob@example.com"
        )

    def test_every_builtin_can_be_disabled(self):
        masker = Masker.from_config({"disable": list(BUILTIN_DETECTORS)}, None)
        assert "bob@example.com password=x" == masker.mask_text("bob@example.com password=x")

    def test_custom_detector_masks_with_its_name(self):
        masker = Masker.from_config({"detectors": {"order_ref": r"ORD-\d{6}"}}, None)
        assert "ref [MASKED:order_ref] ok" == masker.mask_text("ref ORD-123456 ok")

    def test_custom_detector_value_group(self):
        """Only the group named 'value' is masked when the pattern has one."""
        masker = Masker.from_config({"detectors": {"tenant": r"tenant/(?P<value>\w+)"}}, None)
        assert "GET /tenant/[MASKED:tenant]/x" == masker.mask_text("GET /tenant/acme/x")

    def test_custom_detectors_do_not_touch_placeholders(self):
        masker = Masker.from_config({"detectors": {"caps": r"[A-Z]{4,}"}}, None)
        assert "[MASKED:email] [MASKED:caps]" == masker.mask_text("bob@example.com HELLO")


# --- the raw-line prefilter --------------------------------------------------------------------


def line(**record: Any) -> bytes:
    return orjson.dumps({"timestamp": "2026-11-22T10:01:02.123456Z", "level": "info", **record})


# Lines needs_masking must send to masking, and ordinary lines it must let through (also
# tests/test_mask_golden.py).
LINES_TO_MASK: list[bytes] = [
    line(message="to bob@example.com"),
    line(message="card 4111111111111111"),
    line(message="card 4111 1111 1111 1111"),
    line(message="card 5500-0000-0000-0004"),
    line(n=4111111111111111),
    line(message="ssn 123-45-6789"),
    line(message="refund to DE89370400440532013000"),
    line(stripe={"signing_secret_v2": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
    line(message="tracing to 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"),
    line(message="refund to GB29 NWBK 6016 1331 9268 19"),
    line(payout={"account": "NL91ABNA0417164300"}),
    line(message="call (415) 555-2671"),
    line(message="call 415-555-2671"),
    line(message="call 415.555.2671"),
    line(message="call +44 20 7946 0958"),
    line(ip="10.0.0.1"),
    line(ip="::1"),
    line(ip="2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    line(jwt=JWT),
    line(h="Bearer abcdef123456"),
    line(h="AKIAIOSFODNN7EXAMPLE"),
    line(h="sk-proj-4fJx9aQ2rT7kLm3nPq8sVw1yZb6cDe0gHi"),
    line(h="ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
    line(h="xoxb-123456789012-abcdefghij"),
    line(h="glpat-xxxxxxxxxxxxxxxxxxxx"),
    line(pem=PEM),
    line(url="postgres://admin:s3cr3t@db:5432/app"),
    b'{"url":"https:\\/\\/u:p@db"}',  # JSON may escape slashes
    line(password="x"),
    line(**{"X-Api-Key": "x"}),
    line(nested={"deeper": [{"Set-Cookie": "x"}]}),
    line(message="login password=hunter2"),
    line(message="login password: hunter2"),
    line(message="GET /x?key=abc"),
    line(body='{"api_key": "x"}'),
    b'{"m":"\\u0062ob@example.com"}',
    '{"TO\u212aEN":"x"}'.encode(),  # Kelvin sign: lowercases to "token"
    # A card after other long runs of digits: every run is looked at, not the first.
    line(time=1732270862123, message="paid with 4111111111111111"),
    line(ref="1" * 30, note="card 5500000000000004 declined"),
    b'{"m":"x\\n4111111111111111"}',  # right after an escape
]
ORDINARY_LINES: list[bytes] = [
    line(message="GET /v1/jobs/123 200", trace_id="4bf92f3577b34da6a3ce929d0e0e4736"),
    line(message="Task succeeded in 0.53s: None", task_id="5d4b4c3e-1d2f-4a2b"),
    line(model="gpt-4o-mini", input_tokens=523, output_tokens=87, cost_usd=0.0002),
    line(message="took 12.5ms", version="2.10.4", time=1732270862123),
    line(exc_info='Traceback:\n  File "/app/main.py", line 42, in handler'),
    line(ts_ns=1795341662000000000, ref="4" * 20),  # no run a card could be
]


class TestNeedsMasking:
    @pytest.mark.parametrize("raw", LINES_TO_MASK)
    def test_lines_with_something_to_mask(self, raw):
        assert Masker().needs_masking(raw)

    @pytest.mark.parametrize("raw", ORDINARY_LINES)
    def test_ordinary_lines_skip(self, raw):
        assert not Masker().needs_masking(raw)

    def test_custom_detectors_make_every_line_need_masking(self):
        masker = Masker.from_config({"detectors": {"order_ref": r"ORD-\d{6}"}}, None)
        assert masker.needs_masking(line(message="hello"))

    def test_fields_without_aliases_make_every_line_need_masking(self):
        masker = Masker.from_config({"fields": ["user_id"]}, KEY)
        assert masker.needs_masking(line(message="hello"))

    def test_fields_with_aliases_are_looked_for(self):
        masker = Masker.from_config(
            {"fields": ["user_id"]}, KEY, field_aliases={"user_id": ["userId", "user.id"]}
        )
        found = [
            masker.needs_masking(raw)
            for raw in (line(userId="u1"), line(user={"id": 1}), line(message="hello"))
        ]
        assert [True, True, False] == found

    def test_most_realistic_lines_skip(self):
        """The prefilter is only worth its cost if typical lines get through it unmasked."""
        rng = random.Random(1)
        lines = [realistic_line(rng) for _ in range(2000)]
        masker = Masker()
        skipped = sum(not masker.needs_masking(raw) for raw in lines)
        assert skipped / len(lines) > 0.9


def realistic_line(rng: random.Random) -> bytes:
    """A FastAPI, Celery or LLM log line with ids, timings and no secrets."""
    hex_id = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    n = rng.randrange(1, 100_000)
    kind = rng.randrange(3)
    if kind == 0:
        return line(
            logger="app.api",
            message=f"GET /v1/jobs/{n} {rng.choice([200, 201, 404, 500])}",
            trace_id=hex_id,
            span_id=hex_id[:16],
            path=f"/v1/jobs/{n}",
            duration_ms=round(rng.random() * 300, 2),
            host=f"api-7d9f8c-{hex_id[:5]}",
        )
    if kind == 1:
        task = f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"
        return line(
            logger="celery.app.trace",
            message=f"Task jobs.embed[{task}] succeeded in {rng.random():.4f}s: None",
            task_id=task,
            retries=0,
        )
    return line(
        event="llm.call",
        model="gpt-4o-mini",
        input_tokens=rng.randrange(2000),
        output_tokens=rng.randrange(500),
        cost_usd=round(rng.random() / 1000, 6),
        trace_id=hex_id,
        usage={"prompt_tokens": 12, "completion_tokens": 3},
    )


def test_an_email_percent_encoded_in_a_url_is_masked_under_one_pseudonym():
    """`?email=jane.roe%40example.com` is the address jane.roe@example.com."""
    masker = Masker.from_config({"mode": "pseudonymize"}, b"k")
    encoded = masker.mask_text("GET /order?email=Jane.Roe%40example.com HTTP/1.1")
    plain = masker.mask_text("jane.roe@example.com")
    assert "GET /order?email=" + plain + " HTTP/1.1" == encoded
    assert masker.needs_masking(b'{"uri": "/order?email=jane.roe%40example.com"}')
