// Package demo tests `make demo` as a user runs it.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// TestMakeDemo runs `make demo` as a user would, for a short DEMO_DURATION, and requires table
// rows with numbers for both models, a clean stop, and nothing left listening.
func TestMakeDemo(t *testing.T) {
	harness.RequireE2E(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "-s", "demo")
	cmd.Dir = "../.."
	cmd.Env = append(cmd.Environ(), "DEMO_DURATION=25s")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make demo failed:\n%s", out)

	text := string(out)
	assert.Contains(t, text, "Prometheus UI:")
	assert.Contains(t, text, "Collector metrics:")
	assert.Contains(t, text, "Stopping: collector, Prometheus, simulated fleet.")

	// The last table must have, for each model, a row whose every column is a number.
	tables := strings.Split(text, "MODEL / POD")
	require.Greater(t, len(tables), 2, "several tables printed:\n%s", text)
	last := tables[len(tables)-1]
	full := regexp.MustCompile(`^\s+(model|  pod) (\S+)\s+(-|both|prefill|decode)\s+([0-9.]+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([0-9.]+s)\s+([0-9.]+s)\s+(\d+)\s+(\d+)\s+(\d+)\s*$`)
	complete := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewBufferString(last))
	for sc.Scan() {
		if m := full.FindStringSubmatch(sc.Text()); m != nil {
			complete[m[1]+" "+m[2]] = true
		}
	}
	for _, r := range []string{"model Qwen/Qwen3-8B", "model meta-llama/Llama-3.1-8B-Instruct", "  pod qwen3-chat-0", "  pod qwen3-chat-1", "  pod llama-chat-0",
		"model Qwen/Qwen3-32B", "  pod qwen3-pd-decode-0", "model meta-llama/Llama-3.1-70B-Instruct", "  pod llama-pd-decode-0"} {
		assert.True(t, complete[r], "row %q complete in the last table:\n%s", r, last)
	}
	// The other engines' pods are in the table too, with numbers where the engine measures the
	// column's concept ("-" where it does not: llama.cpp has no request counter, TGI no TTFT).
	for _, pod := range []string{"qwen3-small-0", "smollm-0", "qwen3-dynamo-0", "gemma-0"} {
		row := regexp.MustCompile(`(?m)^\s+  pod ` + pod + `\s+(.*)$`).FindStringSubmatch(last)
		if assert.NotNil(t, row, "pod %s in the last table:\n%s", pod, last) {
			assert.Regexp(t, `[0-9]`, row[1], "pod %s has numbers", pod)
		}
	}

	// The prefill/decode workloads show each pod's role: from the target (vLLM), from the
	// engine's own engine_type (SGLang), a router for sgl-router.
	for pod, role := range map[string]string{"qwen3-pd-prefill-0": "prefill", "qwen3-pd-decode-0": "decode", "llama-pd-prefill-0": "prefill",
		"llama-pd-decode-0": "decode", "llama-pd-router-0": "router", "qwen3-chat-0": "both"} {
		assert.Regexp(t, `(?m)^\s+  pod `+pod+`\s+`+role+`\s`, last, "pod %s has role %s", pod, role)
	}

	// Everything the demo started is gone.
	for _, addr := range []string{"127.0.0.1:19090", "127.0.0.1:18001", "127.0.0.1:19400", "127.0.0.1:13133"} {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		assert.Error(t, err, "%s still listening after the demo", addr)
	}
}
