// golang.org/x/exp/slog's JSONHandler (the 2022-10-28 snapshot Debian 12 packages, the
// precursor of Go 1.21's log/slog; Debian 12's Go is 1.19, too old for log/slog). time, level,
// msg, source; Error(msg, err) puts the error under "err"; durations are integer nanoseconds;
// a level between the named ones is written relative to one (ERROR+4).
package main

import (
	"errors"
	"os"
	"time"

	"golang.org/x/exp/slog"
)

const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

func main() {
	opts := slog.HandlerOptions{Level: slog.DebugLevel, AddSource: true}
	log := slog.New(opts.NewJSONHandler(os.Stdout)).With("service", "checkout")
	log.Debug("config loaded", "workers", 2)
	log.Info("server started", "addr", "127.0.0.1:8080")
	req := log.With("trace_id", traceID, "request_id", "req-1")
	req.Info("request handled", slog.Group("http", slog.String("method", "GET"),
		slog.String("path", "/cart"), slog.Int("status", 200)),
		"duration", 12500*time.Microsecond)
	req.Warn("slow request", "path", "/checkout", "duration", 2512*time.Millisecond)
	req.Error("payment failed", errors.New("card declined for amount 250"))
	req.Info("llm call", "model", "gpt-4o-mini",
		slog.Group("usage", slog.Int("input_tokens", 412), slog.Int("output_tokens", 88)))
	log.Log(slog.ErrorLevel+4, "shutting down")
}
