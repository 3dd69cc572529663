// Docker's json-file log driver as dockerd runs it, without a container: the daemon's Copier
// (github.com/docker/docker/daemon/logger, which reads a container's stdout and stderr and cuts
// lines longer than 16 KiB into partial messages) feeding the json-file driver
// (daemon/logger/jsonfilelog), both from Debian's golang-github-docker-docker-dev 20.10.24.
// What the "container" writes is below: JSON lines from an app, a plain line, one JSON line of
// about 20 KB (split by the Copier), and a Python traceback on stderr.
//
// Usage: dockerjson OUT_FILE
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/docker/docker/daemon/logger"
	"github.com/docker/docker/daemon/logger/jsonfilelog"
)

const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

func line(fields map[string]any) string {
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err)
	}
	return string(b) + "\n"
}

func main() {
	driver, err := jsonfilelog.New(logger.Info{
		ContainerID:   "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00998877665544332211",
		ContainerName: "/checkout",
		LogPath:       os.Args[1],
		Config:        map[string]string{},
	})
	if err != nil {
		panic(err)
	}
	stdoutR, stdout := io.Pipe()
	stderrR, stderr := io.Pipe()
	copier := logger.NewCopier(map[string]io.Reader{"stdout": stdoutR, "stderr": stderrR}, driver)
	copier.Run()

	ts := func() string { return time.Now().UTC().Format(time.RFC3339Nano) }
	write := func(w io.Writer, s string) {
		if _, err := io.WriteString(w, s); err != nil {
			panic(err)
		}
		time.Sleep(20 * time.Millisecond) // keep the two streams' order readable
	}
	write(stdout, line(map[string]any{"timestamp": ts(), "level": "info", "event": "server started", "port": 8080}))
	write(stdout, line(map[string]any{"timestamp": ts(), "level": "info", "event": "request handled",
		"trace_id": traceID, "method": "GET", "path": "/cart", "status_code": 200, "duration_ms": 12.5}))
	write(stdout, "plain text line from a shell script in the container\n")
	write(stdout, line(map[string]any{"timestamp": ts(), "level": "warning", "event": "slow request",
		"trace_id": traceID, "path": "/checkout", "duration_ms": 2512.0}))
	write(stderr, "Traceback (most recent call last):\n")
	write(stderr, "  File \"/srv/checkout/pay.py\", line 20, in charge\n")
	write(stderr, "PaymentDeclined: card declined for amount 250\n")
	// One record of about 20 KB: the Copier cuts it at 16 KiB into two entries.
	prompt := strings.Repeat("lorem ipsum dolor sit amet ", 740)
	write(stdout, line(map[string]any{"timestamp": ts(), "level": "info", "event": "llm call",
		"trace_id": traceID, "model": "gpt-4o-mini", "prompt": prompt,
		"usage": map[string]int{"prompt_tokens": 4100, "completion_tokens": 88}}))
	write(stdout, line(map[string]any{"timestamp": ts(), "level": "info", "event": "shutting down"}))
	stdout.Close()
	stderr.Close()
	copier.Wait()
	if err := driver.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
