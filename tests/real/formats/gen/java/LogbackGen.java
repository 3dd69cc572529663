// logback 1.2 with logstash-logback-encoder's LogstashEncoder on a console appender (configured
// in logback-logstash.xml), through SLF4J: MDC for the trace and request ids, StructuredArguments
// for fields, an exception with a cause. Fake ids only.
import static net.logstash.logback.argument.StructuredArguments.kv;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

public class LogbackGen {
    static final Logger log = LoggerFactory.getLogger("com.example.checkout.CheckoutService");

    static void charge(int amount) {
        try {
            throw new java.util.concurrent.TimeoutException("acquirer did not answer within 2.5s");
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("card declined for amount " + amount, e);
        }
    }

    public static void main(String[] args) {
        log.debug("config loaded {}", kv("workers", 2));
        log.info("server started on 127.0.0.1:8080");
        MDC.put("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736");
        MDC.put("span_id", "00f067aa0ba902b7");
        MDC.put("request_id", "req-1");
        log.info("request handled {} {} {} {}", kv("method", "GET"), kv("path", "/cart"),
                kv("status_code", 200), kv("duration_ms", 12.5));
        log.warn("slow request {}", kv("duration_ms", 2512));
        try {
            charge(250);
        } catch (IllegalStateException e) {
            log.error("payment failed", e);
        }
        log.info("llm call {} {} {}", kv("model", "gpt-4o-mini"), kv("input_tokens", 412),
                kv("output_tokens", 88));
        MDC.clear();
        log.error("shutting down");
    }
}
