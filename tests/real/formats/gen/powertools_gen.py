"""AWS Lambda Powertools' Logger outside Lambda: the handler is called the way the Lambda
runtime calls it, with a context object carrying the attributes the runtime's context has, and
the X-Ray trace header in _X_AMZN_TRACE_ID as the runtime sets it (fake values)."""

import os
from dataclasses import dataclass

from _scenario import MODEL, fail

os.environ["_X_AMZN_TRACE_ID"] = (
    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
)
os.environ["AWS_LAMBDA_FUNCTION_NAME"] = "checkout-fn"

from aws_lambda_powertools import Logger


@dataclass
class LambdaContext:
    function_name: str = "checkout-fn"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:checkout-fn"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"


logger = Logger(service="checkout", level="DEBUG")


@logger.inject_lambda_context
def handler(event, context):
    logger.debug("config loaded", workers=2)
    logger.info("request handled", method="GET", path="/cart", status_code=200, duration_ms=12.5)
    logger.warning("slow request", extra={"path": "/checkout", "duration_ms": 2512.0})
    try:
        fail()
    except Exception:
        logger.exception("payment failed")
    logger.info(
        {"message": "llm call", "model": MODEL, "usage": {"input_tokens": 412, "output_tokens": 88}}
    )
    logger.critical("shutting down")


handler({}, LambdaContext())
handler({}, LambdaContext(aws_request_id="9566c74d-1003-4c4d-bbbb-0407d1e2c649"))
