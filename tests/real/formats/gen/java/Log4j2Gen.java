// Log4j 2.19's JsonLayout (compact, one event per line; configured in log4j2-json.xml) through
// the Log4j API: ThreadContext for the trace and request ids, a MapMessage for fields, an
// exception with a cause. (Log4j's newer JsonTemplateLayout is a separate module Debian does not
// package.) Fake ids only.
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;

public class Log4j2Gen {
    static final Logger log = LogManager.getLogger("com.example.checkout.CheckoutService");

    static void charge(int amount) {
        try {
            throw new java.util.concurrent.TimeoutException("acquirer did not answer within 2.5s");
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("card declined for amount " + amount, e);
        }
    }

    public static void main(String[] args) {
        log.debug("config loaded");
        log.info("server started on {}:{}", "127.0.0.1", 8080);
        ThreadContext.put("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736");
        ThreadContext.put("span_id", "00f067aa0ba902b7");
        ThreadContext.put("request_id", "req-1");
        log.info("request handled GET /cart 200 in {} ms", 12.5);
        log.warn("slow request POST /checkout took {} ms", 2512);
        try {
            charge(250);
        } catch (IllegalStateException e) {
            log.error("payment failed", e);
        }
        ThreadContext.put("model", "gpt-4o-mini");
        log.info("llm call used {} input and {} output tokens", 412, 88);
        ThreadContext.clearAll();
        log.fatal("shutting down");
    }
}
