//! A small service's requests as `tracing` logs them through tracing-subscriber's JSON
//! formatter: default (an event's fields under "fields", the current span and every entered
//! span), with span close events (FmtSpan::CLOSE, "time.busy"), then flattened
//! (`flatten_event(true)`: the fields at the top level) without the span list.

use std::io;
use std::thread::sleep;
use std::time::Duration;

use tracing::{error, info, info_span, warn};
use tracing_subscriber::fmt::format::FmtSpan;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";

fn handle_request(request_id: &str, user_id: &str) {
    let span = info_span!(
        "request",
        method = "POST",
        path = "/v1/generate",
        request_id,
        trace_id = TRACE_ID,
        span_id = SPAN_ID
    );
    let _entered = span.enter();
    info!(user_id, "request started");
    {
        let llm = info_span!("llm_call", model = "gpt-4o-mini");
        let _llm = llm.enter();
        sleep(Duration::from_millis(2));
        info!(
            input_tokens = 812,
            output_tokens = 164,
            cost_usd = 0.00022,
            cache_hit = false,
            "completion done"
        );
    }
    warn!(latency_ms = 1843.5, "slow upstream");
    error!(
        error_type = "RateLimitError",
        status = 429,
        "provider refused the request"
    );
    info!(status = 429, duration_ms = 1850.2, "request finished");
}

fn main() {
    let default = tracing_subscriber::fmt()
        .json()
        .with_writer(io::stdout)
        .with_span_events(FmtSpan::CLOSE)
        .with_thread_ids(true)
        .finish();
    tracing::subscriber::with_default(default, || handle_request("req_7f3a", "u_10042"));

    let flat = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_span_list(false)
        .with_writer(io::stdout)
        .finish();
    tracing::subscriber::with_default(flat, || handle_request("req_8b21", "u_10077"));
}
