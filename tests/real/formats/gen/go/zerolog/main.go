// zerolog to stdout with a timestamp (zerolog's defaults: time as RFC 3339 in local time to the
// second, level, message; Dur fields as float milliseconds; Err under "error").
package main

import (
	"errors"
	"os"
	"time"

	"github.com/rs/zerolog"
)

const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

func main() {
	log := zerolog.New(os.Stdout).With().Timestamp().Str("service", "checkout").Logger()
	log.Debug().Int("workers", 2).Msg("config loaded")
	log.Info().Msg("server started on 127.0.0.1:8080")
	req := log.With().Str("trace_id", traceID).Str("request_id", "req-1").Logger()
	req.Info().Str("method", "GET").Str("path", "/cart").Int("status", 200).
		Dur("duration", 12500*time.Microsecond).Msg("request handled")
	req.Warn().Str("path", "/checkout").Dur("duration", 2512*time.Millisecond).Msg("slow request")
	req.Error().Err(errors.New("card declined for amount 250")).Msg("payment failed")
	req.Info().Str("model", "gpt-4o-mini").Dict("usage", zerolog.Dict().
		Int("input_tokens", 412).Int("output_tokens", 88)).Msg("llm call")
	// zerolog's Caller and a duration as an integer, configured as its README shows.
	zerolog.DurationFieldInteger = true
	withCaller := log.With().Caller().Logger()
	withCaller.WithLevel(zerolog.FatalLevel).Dur("uptime", 90*time.Second).Msg("shutting down")
}
