// logrus with its JSONFormatter (time as RFC 3339 in local time, level, msg; WithError puts
// the error under "error"; a time.Duration field is encoded by encoding/json: integer ns).
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sirupsen/logrus"
)

const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

func main() {
	log := logrus.New()
	log.SetOutput(os.Stdout)
	log.SetFormatter(&logrus.JSONFormatter{})
	log.SetLevel(logrus.DebugLevel)
	base := log.WithField("service", "checkout")
	base.WithField("workers", 2).Debug("config loaded")
	base.Info("server started on 127.0.0.1:8080")
	req := base.WithFields(logrus.Fields{"trace_id": traceID, "request_id": "req-1"})
	req.WithFields(logrus.Fields{"method": "GET", "path": "/cart", "status": 200,
		"duration": 12500 * time.Microsecond}).Info("request handled")
	req.WithFields(logrus.Fields{"path": "/checkout", "duration": 2512 * time.Millisecond}).Warn("slow request")
	err := fmt.Errorf("card declined for amount 250: %w", errors.New("acquirer did not answer within 2.5s"))
	req.WithError(err).Error("payment failed")
	req.WithFields(logrus.Fields{"model": "gpt-4o-mini",
		"usage": map[string]int{"prompt_tokens": 412, "completion_tokens": 88}}).Info("llm call")
	base.Log(logrus.TraceLevel, "not written: below debug")
	base.Warnf("retrying in %s", 1500*time.Millisecond)
}
