"""LiteLLM's logging payload: a success and a failure callback (litellm's CustomLogger) print
the StandardLoggingPayload litellm builds for every call (`kwargs["standard_logging_object"]`,
the dict LiteLLM's own logging integrations send), one JSON line per call. The calls use
litellm's `mock_response`, so no provider is contacted and no key is real; the model cost map
is litellm's bundled copy (LITELLM_LOCAL_MODEL_COST_MAP), not fetched."""

import json
import os
import sys

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import litellm
from litellm.integrations.custom_logger import CustomLogger


class PrintPayload(CustomLogger):
    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        print(json.dumps(kwargs["standard_logging_object"], default=str), flush=True)

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        print(json.dumps(kwargs["standard_logging_object"], default=str), flush=True)


litellm.callbacks = [PrintPayload()]
messages = [{"role": "user", "content": "Summarise order 1234 in one line."}]
meta = {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "service": "checkout"}
litellm.completion(model="gpt-4o-mini", messages=messages, mock_response="Order 1234: 2 items.",
                   metadata=meta, api_key="sk-test-FAKE0000000000000000")  # fmt: skip
litellm.completion(model="anthropic/claude-3-5-haiku-20241022", messages=messages,
                   mock_response="Order 1234 holds two items.", metadata=meta,
                   api_key="sk-ant-test-FAKE00000000000000")  # fmt: skip
try:
    litellm.completion(model="gpt-4o-mini", messages=messages, num_retries=0,
                       mock_response=litellm.RateLimitError("mock rate limit", "openai",
                                                            "gpt-4o-mini"),
                       metadata=meta, api_key="sk-test-FAKE0000000000000000")  # fmt: skip
except litellm.RateLimitError as exc:
    print(f"rate limited as expected: {type(exc).__name__}", file=sys.stderr)
