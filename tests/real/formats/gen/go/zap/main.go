// zap's production logger (zap.NewProduction: JSON to stderr, ts as float epoch seconds,
// caller, a stacktrace on errors, durations as float seconds), the scenario of the other
// generators. Fake ids only.
package main

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

var errTimeout = errors.New("acquirer did not answer within 2.5s")

func charge(amount int) error {
	return fmt.Errorf("card declined for amount %d: %w", amount, errTimeout)
}

func main() {
	logger, err := zap.NewProduction()
	if err != nil {
		panic(err)
	}
	defer logger.Sync()
	log := logger.Named("checkout").With(zap.String("service", "checkout"))
	log.Debug("config loaded", zap.Int("workers", 2)) // below production's level: not written
	log.Info("server started", zap.String("addr", "127.0.0.1:8080"))
	req := log.With(zap.String("trace_id", traceID), zap.String("request_id", "req-1"))
	req.Info("request handled", zap.String("method", "GET"), zap.String("path", "/cart"),
		zap.Int("status", 200), zap.Duration("duration", 12500*time.Microsecond))
	req.Warn("slow request", zap.String("path", "/checkout"),
		zap.Duration("duration", 2512*time.Millisecond))
	req.Error("payment failed", zap.Error(charge(250)))
	req.Info("llm call", zap.String("model", "gpt-4o-mini"),
		zap.Int("input_tokens", 412), zap.Int("output_tokens", 88), zap.Float64("cost_usd", 0.00042))
	func() {
		defer func() {
			if r := recover(); r != nil {
				req.Error("recovered from panic", zap.Any("panic", r), zap.Stack("panic_stack"))
			}
		}()
		var items []int
		_ = items[3]
	}()
	log.Info("shutting down")
}
