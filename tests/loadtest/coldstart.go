package loadtest

import (
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"

	"github.com/otelcol-llminference/otelcol-llminference/internal/localstack"
)

// startCold starts a contender's binary after evicting it from the page cache. A process's
// RssFile is the part of its binary mapped in, and how much a fault maps depends on how the
// file sits in the page cache: one just written by a build (large folios) maps much more per
// fault than one read back from disk (ours measured 76 MiB against 48 MiB, the same binary).
// Builds happen right before the bench, at different times for different contenders, so
// every contender starts from disk, as a container whose image was evicted, or a node after
// a reboot, does.
func startCold(env []string, bin string, args ...string) (*localstack.Process, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	err = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	_ = f.Close()
	if err != nil {
		return nil, fmt.Errorf("evicting %s from the page cache: %w", path, err)
	}
	return localstack.StartProcessEnv(env, path, args...)
}
