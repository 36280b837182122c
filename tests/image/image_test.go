// Package image tests the container image that `make image` builds with buildah: both platforms
// in one manifest list and one OCI archive, the amd64 image running under podman as a non-root
// user with a read-only root filesystem against the simulator and a real Prometheus, and the
// arm64 binary under qemu-user-static.
package image

import (
	"archive/tar"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-llminference/otelcol-llminference/internal/llmsim"
	"github.com/otelcol-llminference/otelcol-llminference/tests/harness"
)

// The non-root user of the image (distribution/Containerfile).
const imageUser = "10001:10001"

// env is what `make test-image` passes.
type env struct {
	ref, archive, containers, binDir string
}

func requireImage(t *testing.T) env {
	harness.RequireE2E(t)
	if os.Getenv("LLMINF_IMAGE") != "1" {
		t.Skip("image test: run through `make test-image` (builds the image first)")
	}
	e := env{os.Getenv("IMAGE_REF"), os.Getenv("IMAGE_ARCHIVE"), os.Getenv("CONTAINERS_DIR"), os.Getenv("BIN_DIR")}
	require.NotEmpty(t, e.ref)
	require.NotEmpty(t, e.containers)
	return e
}

// storageArgs are the flags that make buildah and podman use the project's image store.
func (e env) storageArgs() []string {
	return []string{"--root", filepath.Join(e.containers, "storage"), "--runroot", filepath.Join(e.containers, "run"), "--storage-driver", "vfs"}
}

func run(t *testing.T, extraEnv []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), extraEnv...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

// TestImagePerPlatform: each platform's image is FROM scratch with the binary of its
// architecture, runs as the non-root user, and starts the collector.
func TestImagePerPlatform(t *testing.T) {
	e := requireImage(t)
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			out := run(t, nil, "buildah", append(e.storageArgs(), "inspect", "--type", "image", e.ref+"-"+arch)...)
			var img struct {
				OCIv1 struct {
					Architecture string `json:"architecture"`
					OS           string `json:"os"`
					Config       struct {
						User       string   `json:"User"`
						Entrypoint []string `json:"Entrypoint"`
					} `json:"config"`
					RootFS struct {
						DiffIDs []string `json:"diff_ids"`
					} `json:"rootfs"`
				} `json:"OCIv1"`
				FromImage string `json:"FromImage"`
			}
			require.NoError(t, json.Unmarshal([]byte(out), &img))
			assert.Equal(t, arch, img.OCIv1.Architecture)
			assert.Equal(t, "linux", img.OCIv1.OS)
			assert.Equal(t, imageUser, img.OCIv1.Config.User, "the image runs as the non-root user")
			assert.Equal(t, []string{"/otelcol-llminference"}, img.OCIv1.Config.Entrypoint)

			// The binary the image holds is for this architecture.
			machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
			f, err := elf.Open(filepath.Join(e.binDir, "linux-"+arch, "otelcol-llminference"))
			require.NoError(t, err)
			defer f.Close()
			assert.Equal(t, machine, f.Machine)
		})
	}
}

// TestArchiveHoldsBothPlatforms: the OCI archive of `make image-archive` is one index listing a
// linux/amd64 and a linux/arm64 image, as a registry push of a multi-arch image needs.
func TestArchiveHoldsBothPlatforms(t *testing.T) {
	e := requireImage(t)
	blobs := readTar(t, e.archive)
	var index struct {
		Manifests []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Platform  *struct {
				Architecture string `json:"architecture"`
				OS           string `json:"os"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	require.NoError(t, json.Unmarshal(blobs["index.json"], &index))
	// buildah writes the manifest list either as the top index or as its only entry.
	if len(index.Manifests) == 1 && strings.Contains(index.Manifests[0].MediaType, "index") {
		b := blobs["blobs/"+strings.Replace(index.Manifests[0].Digest, ":", "/", 1)]
		require.NotEmpty(t, b, "the nested index is in the archive")
		require.NoError(t, json.Unmarshal(b, &index))
	}
	var platforms []string
	for _, m := range index.Manifests {
		require.NotNil(t, m.Platform, "manifest %s has a platform", m.Digest)
		platforms = append(platforms, m.Platform.OS+"/"+m.Platform.Architecture)
		assert.Contains(t, blobs, "blobs/"+strings.Replace(m.Digest, ":", "/", 1), "the image of %s is in the archive", m.Platform.Architecture)
	}
	assert.ElementsMatch(t, []string{"linux/amd64", "linux/arm64"}, platforms)
	st, err := os.Stat(e.archive)
	require.NoError(t, err)
	t.Logf("OCI archive %s: %.1f MiB", filepath.Base(e.archive), float64(st.Size())/(1<<20))
}

func readTar(t *testing.T, path string) map[string][]byte {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		if h.Typeflag != tar.TypeReg || h.Size > 1<<20 {
			out[strings.TrimPrefix(h.Name, "./")] = []byte{} // a layer: present, not read
			continue
		}
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[strings.TrimPrefix(h.Name, "./")] = b
	}
}

// pipeline is a collector configuration that scrapes the simulated fleet and writes to prom.
func pipeline(fleet *llmsim.Fleet, promWrite, queueDir string, healthPort, metricsPort int) string {
	var targets strings.Builder
	for _, ep := range fleet.Endpoints {
		if ep.Spec.Engine == llmsim.EngineDCGM {
			continue
		}
		backend := strings.TrimSuffix(ep.Spec.Engine, "-legacy") // vLLM on its older names is vLLM
		fmt.Fprintf(&targets, "      - {endpoint: %q, workload: %q, backend: %q, namespace: llm, pod: %q}\n",
			ep.URL, ep.Spec.Workload, backend, ep.Spec.Name)
	}
	return fmt.Sprintf(`receivers:
  llminference:
    collection_interval: 1s
    scrape_timeout: 1s
    kubernetes: {enabled: false, node_name: %s}
    static_targets:
%s    gpu_exporter: {endpoint: %q}
processors:
  llminference: {}
exporters:
  llminference_remote_write:
    endpoint: %s
    queue: {directory: %s, flush_interval: 200ms}
extensions:
  health_check: {endpoint: "127.0.0.1:%d"}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}
  pipelines:
    metrics: {receivers: [llminference], processors: [llminference], exporters: [llminference_remote_write]}
`, fleet.Node(), targets.String(), fleet.Endpoint("dcgm").URL, promWrite, queueDir, healthPort, metricsPort)
}

// requireUnified waits until Prometheus holds unified series of every simulated pod.
func requireUnified(t *testing.T, prom *harness.Prometheus, fleet *llmsim.Fleet, within time.Duration) {
	t.Helper()
	want := 0
	for _, ep := range fleet.Endpoints {
		if ep.Spec.Engine != llmsim.EngineDCGM {
			want++
		}
	}
	// Every pod's unified series (not only the receiver's own), whatever its engine measures.
	q := `count(count by (pod) ({__name__=~"llm_inference_.+", __name__!~"llm_inference_(target_up|scrape_.+)", namespace="llm"}))`
	var last string
	ok := assert.Eventually(t, func() bool {
		s, err := prom.Query(context.Background(), q)
		if err != nil || len(s) != 1 {
			last = fmt.Sprint(s, err)
			return false
		}
		last = strconv.FormatFloat(s[0].Value, 'f', -1, 64)
		return s[0].Value == float64(want)
	}, within, 200*time.Millisecond)
	require.True(t, ok, "%s: want %d pods, last answer %s", q, want, last)
}

func fleetAndPrometheus(t *testing.T) (*llmsim.Fleet, *harness.Prometheus) {
	cfg := llmsim.DemoConfig()
	for i := range cfg.Endpoints {
		cfg.Endpoints[i].Listen = "127.0.0.1:0"
	}
	fleet, err := llmsim.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(fleet.Close)
	return fleet, harness.StartPrometheus(t, "")
}

// TestImageRunsUnderPodman: the amd64 image, run as its own non-root user with a read-only root
// filesystem and only the config and the queue mounted, ships unified metrics of every
// simulated pod to a real Prometheus.
func TestImageRunsUnderPodman(t *testing.T) {
	e := requireImage(t)
	fleet, prom := fleetAndPrometheus(t)
	dir := t.TempDir()
	queue := filepath.Join(dir, "queue")
	require.NoError(t, os.Mkdir(queue, 0o700))
	require.NoError(t, os.Chown(queue, 10001, 10001), "the queue volume belongs to the image's user")
	cfg := filepath.Join(dir, "collector.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(pipeline(fleet, prom.WriteURL(), "/queue", harness.FreePort(t), harness.FreePort(t))), 0o644))
	conf := filepath.Join(dir, "containers.conf")
	// The recipe that works on these machines: no default ulimits, cgroupfs, runc.
	require.NoError(t, os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"), 0o644))
	podmanEnv := []string{"CONTAINERS_CONF=" + conf}
	name := "llminf-image-test-" + strconv.Itoa(os.Getpid())
	podman := func(args ...string) []string {
		return append(append(e.storageArgs(), "--runtime", "runc", "--cgroup-manager", "cgroupfs"), args...)
	}
	ctr := exec.Command("podman", podman("run", "--rm", "--name", name, "--pull", "never", "--network", "host", "--read-only",
		"-v", cfg+":/etc/otelcol-llminference/collector.yaml:ro", "-v", queue+":/queue", e.ref+"-amd64")...)
	ctr.Env = append(os.Environ(), podmanEnv...)
	var out strings.Builder
	ctr.Stdout, ctr.Stderr = &out, &out
	require.NoError(t, ctr.Start())
	exited := make(chan error, 1)
	go func() { exited <- ctr.Wait() }()
	t.Cleanup(func() {
		_ = exec.Command("podman", podman("stop", "--time", "5", name)...).Run()
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = ctr.Process.Kill()
		}
		if t.Failed() {
			t.Logf("---- container output ----\n%s", out.String())
		}
	})

	requireUnified(t, prom, fleet, 90*time.Second)

	// The collector in the container runs as uid 10001, not root.
	pidOut := run(t, podmanEnv, "podman", podman("inspect", "--format", "{{.State.Pid}}", name)...)
	pid, err := strconv.Atoi(strings.TrimSpace(pidOut))
	require.NoError(t, err, pidOut)
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(st), "\n") {
		if strings.HasPrefix(line, "Uid:") {
			assert.Equal(t, []string{"10001", "10001", "10001", "10001"}, strings.Fields(line)[1:], "real, effective, saved and fs uid")
		}
	}
	// The root filesystem is read-only: only the queue volume was written.
	entries, err := os.ReadDir(queue)
	require.NoError(t, err)
	assert.NotEmpty(t, entries, "the queue lives on its volume")
	assert.Contains(t, run(t, podmanEnv, "podman", podman("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", name)...), "true")
}

// TestArm64BinaryUnderQEMU: the arm64 binary of the image prints its version and, emulated,
// ships one scrape of a simulated pod to a real Prometheus.
func TestArm64BinaryUnderQEMU(t *testing.T) {
	e := requireImage(t)
	bin := filepath.Join(e.binDir, "linux-arm64", "otelcol-llminference")
	assert.Contains(t, run(t, nil, "qemu-aarch64-static", bin, "--version"), "otelcol-llminference version")

	fleet, prom := fleetAndPrometheus(t)
	cfg := filepath.Join(t.TempDir(), "collector.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(pipeline(fleet, prom.WriteURL(), t.TempDir(), harness.FreePort(t), harness.FreePort(t))), 0o644))
	harness.Start(t, "qemu-aarch64-static", bin, "--config", cfg)
	requireUnified(t, prom, fleet, 120*time.Second)
}
