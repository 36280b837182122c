package llminferencereceiver

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

// llmReceiver runs one scrape loop per target. Targets come from static_targets, the
// gpu_exporter endpoint and, when enabled, Kubernetes pod discovery.
type llmReceiver struct {
	cfg     *Config
	set     receiver.Settings
	logger  *zap.Logger
	next    consumer.Metrics
	obsrecv *receiverhelper.ObsReport
	client  *http.Client
	bodies  bodyPool // response-body buffers, lent to a scrape from its fetch to its conversion
	work    workers  // run conversions and the pipeline for the loops
	// schedule sets every loop's scrape instants; targets is len(loops), for its waves.
	schedule schedule
	targets  atomic.Int64

	// newKubeClient builds the Kubernetes client; tests replace it with a fake clientset.
	newKubeClient func(AuthType) (kubernetes.Interface, error)

	mu      sync.Mutex
	loops   map[string]*scrapeLoop
	ctx     context.Context // parent of every loop; cancelled at shutdown
	cancel  context.CancelFunc
	disc    *podDiscovery
	stopped bool
}

var _ receiver.Metrics = (*llmReceiver)(nil)

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Metrics) (*llmReceiver, error) {
	obsrecv, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "http",
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	transport := &http.Transport{
		Proxy:               nil, // pod IPs are never reached through a proxy
		DialContext:         (&net.Dialer{Timeout: cfg.ScrapeTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     2 * cfg.CollectionInterval,
		// We ask for gzip ourselves so that the decompressed size can be capped.
		DisableCompression: true,
	}
	r := &llmReceiver{
		cfg:           cfg,
		set:           set,
		logger:        set.Logger,
		next:          next,
		obsrecv:       obsrecv,
		client:        &http.Client{Transport: transport},
		newKubeClient: newKubeClient,
		loops:         map[string]*scrapeLoop{},
	}
	r.schedule = schedule{interval: cfg.CollectionInterval, phase: time.Duration(hash64(cfg.Kubernetes.NodeName) % uint64(cfg.CollectionInterval)),
		targets: func() int { return int(r.targets.Load()) }}
	return r, nil
}

// Start starts the static targets' loops and Kubernetes discovery. It does not wait for the
// API server: discovery keeps retrying in the background, and static targets scrape meanwhile.
func (r *llmReceiver) Start(_ context.Context, _ component.Host) error {
	r.ctx, r.cancel = context.WithCancel(context.Background())
	// Conversion is CPU work: more workers than CPUs would only queue in the scheduler.
	r.work.start(runtime.GOMAXPROCS(0))
	for i := range r.cfg.StaticTargets {
		st := r.cfg.StaticTargets[i]
		backend := st.Backend
		if backend == "" {
			backend = scrapecontract.BackendUnknown
		}
		node := st.Node
		if node == "" {
			node = r.cfg.Kubernetes.NodeName
		}
		r.upsert(&target{key: "static/" + st.Endpoint, url: st.Endpoint, Target: scrapecontract.Target{
			Kind: scrapecontract.KindInference, Namespace: st.Namespace, Pod: st.Pod, Node: node, Workload: st.Workload, Backend: backend, Model: st.Model, Role: st.Role,
		}})
	}
	if ep := r.cfg.GPUExporter.Endpoint; ep != "" {
		r.upsert(&target{key: "gpu/" + ep, url: ep, Target: scrapecontract.Target{Kind: scrapecontract.KindGPUExporter, Node: r.cfg.Kubernetes.NodeName}})
	}
	if r.cfg.Kubernetes.Enabled {
		client, err := r.newKubeClient(r.cfg.Kubernetes.AuthType)
		if err != nil {
			_ = r.Shutdown(context.Background()) // the static targets' loops and the workers
			return err
		}
		r.disc = newPodDiscovery(r.cfg, client, r.logger, r.upsert, r.remove)
		r.disc.start()
	}
	return nil
}

// Shutdown stops discovery and every loop. Series are not marked stale: the collector is
// going away, not the targets, and its successor continues the same series.
func (r *llmReceiver) Shutdown(context.Context) error {
	if r.cancel == nil {
		return nil
	}
	if r.disc != nil {
		r.disc.stop()
	}
	r.mu.Lock()
	r.stopped = true
	loops := r.loops
	r.loops = map[string]*scrapeLoop{}
	r.mu.Unlock()
	r.cancel()
	for _, l := range loops {
		<-l.done
	}
	r.work.stop()
	return nil
}

// upsert starts scraping t, replacing the loop of a target with the same key if t differs.
func (r *llmReceiver) upsert(t *target) {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	old := r.loops[t.key]
	if old != nil && old.t.same(t) {
		r.mu.Unlock()
		return
	}
	l := newScrapeLoop(r, t)
	var ctx context.Context
	ctx, l.cancel = context.WithCancel(r.ctx)
	r.loops[t.key] = l
	r.targets.Store(int64(len(r.loops)))
	r.mu.Unlock()
	if old != nil {
		r.stopLoop(old)
	}
	r.logger.Info("Scraping target", zap.String("target", t.url), zap.String("kind", t.Kind),
		zap.String("namespace", t.Namespace), zap.String("pod", t.Pod), zap.String("workload", t.Workload), zap.String("backend", t.Backend))
	go l.run(ctx)
}

// remove stops scraping the target with this key, if any, and marks its series stale.
func (r *llmReceiver) remove(key string) {
	r.mu.Lock()
	l := r.loops[key]
	delete(r.loops, key)
	r.targets.Store(int64(len(r.loops)))
	r.mu.Unlock()
	if l != nil {
		r.logger.Info("Stopped scraping target", zap.String("target", l.t.url), zap.String("namespace", l.t.Namespace), zap.String("pod", l.t.Pod))
		r.stopLoop(l)
	}
}

// stopLoop cancels a loop (aborting an in-flight scrape), waits for it, and emits its stale markers.
func (r *llmReceiver) stopLoop(l *scrapeLoop) {
	l.cancel()
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.ScrapeTimeout)
	defer cancel()
	l.markStale(ctx)
}

func (r *llmReceiver) consume(ctx context.Context, md pmetric.Metrics) {
	n := md.DataPointCount()
	octx := r.obsrecv.StartMetricsOp(ctx)
	err := r.next.ConsumeMetrics(octx, md)
	r.obsrecv.EndMetricsOp(octx, "llminference", n, err)
	if err != nil && !errors.Is(err, context.Canceled) {
		r.logger.Warn("Pipeline refused scraped metrics", zap.Int("data_points", n), zap.Error(err))
	}
}
