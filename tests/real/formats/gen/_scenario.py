"""What every Python generator here logs, so the fixtures differ only in the library's shape.

The ids are the W3C Trace Context specification's example values; the key and the email are
fake. Nothing here is a real secret or a real host.
"""

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{SPAN_ID}-01"
FAKE_API_KEY = "sk-test-FAKE0000000000000000"
MODEL = "gpt-4o-mini"


class PaymentDeclined(Exception):
    """Raised from a nested call, so the traceback has more than one frame."""


def charge(amount: int) -> None:
    if amount > 100:
        raise PaymentDeclined(f"card declined for amount {amount}")


def fail() -> None:
    """Raise PaymentDeclined caused by a TimeoutError: a traceback with a cause chain."""
    try:
        raise TimeoutError("acquirer did not answer within 2.5s")
    except TimeoutError as exc:
        try:
            charge(250)
        except PaymentDeclined as declined:
            raise declined from exc
