// Command sidebyside runs our collector, the stock collector pipeline and the peers (vmagent 1.79
// and 1.151, Prometheus 2.42 and 3.16 in agent mode, each in every renaming form) in turns over
// the same simulated targets and prints what each costs per sample (make bench).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/otelcol-llminference/otelcol-llminference/tests/loadtest"
)

func main() {
	otelcol := flag.String("otelcol", "bin/otelcol-llminference", "collector binary (ours and the stock pipeline)")
	vmagent := flag.String("vmagent", "vmagent", "vmagent 1.79 binary (Debian: victoria-metrics)")
	vmagentCurrent := flag.String("vmagent-current", ".cache/tools/vmagent-v1.151.0/vmagent", "vmagent 1.151 binary (make vmagent-current)")
	prometheus := flag.String("prometheus", "prometheus", "Prometheus 2.42 binary (Debian: prometheus), run as an agent")
	prometheus3 := flag.String("prometheus3", ".cache/tools/prometheus-3.16.0/prometheus", "Prometheus 3.16 binary (make prometheus3), run as an agent")
	workloads := flag.String("workloads", "node,stress,scale", "workloads to run: node (every contender in every form), stress (each peer in its cheapest form on node), scale (ours and the cheapest peer at -scale times node)")
	contenders := flag.String("contenders", strings.Join(loadtest.AllContenders, ","), "contenders of the node workload, in turn order; ours@<binary> and ours+KEY=VALUE run variants of ours (another build, runtime settings) for A/B runs")
	interval := flag.Duration("interval", 2*time.Second, "scrape interval of node and stress (15 s in production, shortened for the run)")
	scale := flag.String("scale", "1,4,16", "scale curve: factors of the node workload (squares)")
	scaleInterval := flag.Duration("scale-interval", 5*time.Second, "scrape interval of the scale curve")
	scalePeer := flag.String("scale-peer", "", "peer contender of the scale curve (default: the cheapest peer form on node)")
	plot := flag.String("plot", "docs/performance-scale.svg", "where the scale curve's plot is written")
	warmup := flag.Duration("warmup", 8*time.Second, "warm-up before the measured window")
	measure := flag.Duration("measure", 20*time.Second, "measured window per run")
	repeat := flag.Int("repeat", 3, "runs per contender and workload; medians are reported")
	pprof := flag.String("pprof", "", "serve our collector's pprof on this host:port during its runs")
	flag.Parse()

	peers := map[string]string{}
	for peer, bin := range map[string]string{loadtest.VMAgent179: *vmagent, loadtest.VMAgent1151: *vmagentCurrent,
		loadtest.PromAgent242: *prometheus, loadtest.PromAgent316: *prometheus3} {
		path, err := exec.LookPath(bin)
		if err != nil && slices.ContainsFunc(strings.Split(*contenders, ","), func(c string) bool { return strings.HasPrefix(c, peer+"/") }) {
			fatal(fmt.Errorf("%s: %w (make bench installs and builds the peers)", peer, err))
		}
		peers[peer] = path
	}
	renames, err := loadtest.Renames()
	if err != nil {
		fatal(err)
	}
	if err := os.MkdirAll(loadtest.TempDir(), 0o755); err != nil {
		fatal(err)
	}
	b := &bench{opts: loadtest.RunOptions{Warmup: *warmup, Measure: *measure, OtelcolBin: *otelcol, PeerBins: peers,
		Dir: loadtest.TempDir(), Renames: renames, Pprof: *pprof, OursEnv: loadtest.DaemonSetEnv}, repeat: *repeat}
	names := strings.Split(*contenders, ",")
	best := map[string]string{} // peer -> its cheapest renaming form's contender, from the node workload
	var nodeRows map[string]row
	for _, wname := range strings.Split(*workloads, ",") {
		switch wname {
		case "node":
			rows := b.run(loadtest.Node(*interval), names)
			nodeRows, best = rows, cheapestForms(names, rows)
			fmt.Println("\ncheapest renaming form of each peer on node (carried to stress and scale):")
			for _, p := range loadtest.Peers {
				if c, ok := best[p]; ok {
					fmt.Printf("  %-16s %s (%.2f CPU s / 1M samples)\n", p, c, rows[c].cpu)
				}
			}
		case "stress":
			b.run(loadtest.Stress(*interval), stressContenders(names, best))
		case "scale":
			peer := *scalePeer
			if peer == "" {
				peer = cheapestPeer(best, nodeRows)
			}
			b.scaleCurve(*scale, *scaleInterval, peer, *plot)
		default:
			fatal(fmt.Errorf("unknown workload %q", wname))
		}
	}
	if b.failed {
		os.Exit(1)
	}
}

// bench runs contenders in turns and keeps the medians.
type bench struct {
	opts   loadtest.RunOptions
	repeat int
	failed bool
}

// row is one contender's medians over its runs on one workload.
type row struct {
	cpu, vmRSS, anon, file, peak, anon1k float64
	delivered, served                    int64
	series                               int
	exact                                bool // delivered exactly what was served in every run
}

// run runs every contender repeat times, interleaved (A, B, C, A, B, C, ...) so that machine
// noise hits all alike, prints the table and returns its rows.
func (b *bench) run(spec loadtest.WorkloadSpec, names []string) map[string]row {
	w, err := loadtest.StartWorkload(spec, b.opts.Renames)
	if err != nil {
		fatal(err)
	}
	defer w.Close()
	gpus := ""
	if w.GPU != nil {
		gpus = " + dcgm-exporter (8 GPUs)"
	}
	fmt.Printf("\n## workload %s: %d engine targets%s, %d samples per round of scrapes, every %s; %d run(s) of %s after %s warm-up\n",
		spec.Name, len(w.Targets), gpus, w.SeriesPerScrape(), spec.Interval, b.repeat, b.opts.Measure, b.opts.Warmup)
	results := map[string][]loadtest.Result{}
	for r := 0; r < b.repeat; r++ {
		for _, c := range names {
			res, err := loadtest.Run(c, w, b.opts)
			if err != nil {
				fmt.Fprintf(os.Stderr, "run %d %s: %v\n", r+1, c, err)
				b.failed = true
				continue
			}
			fmt.Fprintf(os.Stderr, "run %d %-24s cpu %.2fs over %s, %d samples in window, delivered %d / served %d, series %d, rss %.1f MiB (anon %.1f, peak %.1f)\n",
				r+1, c, res.CPUSeconds, res.Duration.Round(time.Second), res.WindowSamples, res.Delivered, res.Served, res.Series,
				mib(res.RSS), mib(res.AnonRSS), mib(res.PeakRSS))
			if res.Delivered != res.Served || res.Rejected > 0 {
				fmt.Fprintf(os.Stderr, "  MISMATCH: delivered %d, served %d, rejected requests %d %s\n", res.Delivered, res.Served, res.Rejected, res.FirstError)
				b.failed = true
			}
			results[c] = append(results[c], res)
		}
	}
	rows := medians(names, results)
	printTable(names, rows)
	return rows
}

func medians(names []string, results map[string][]loadtest.Result) map[string]row {
	rows := map[string]row{}
	for _, c := range names {
		rs := results[c]
		if len(rs) == 0 {
			continue
		}
		var cpu, vm, anon, file, peak, anon1k []float64
		r := row{exact: true}
		for _, res := range rs {
			cpu = append(cpu, res.CPUPerMillion())
			vm = append(vm, mib(res.RSS))
			anon = append(anon, mib(res.AnonRSS))
			file = append(file, mib(res.FileRSS))
			peak = append(peak, mib(res.PeakRSS))
			anon1k = append(anon1k, res.AnonPer1000Series())
			r.delivered += res.Delivered
			r.served += res.Served
			r.series = res.Series
			r.exact = r.exact && res.Delivered == res.Served && res.Rejected == 0
		}
		r.cpu, r.vmRSS, r.anon, r.file, r.peak, r.anon1k = median(cpu), median(vm), median(anon), median(file), median(peak), median(anon1k)
		rows[c] = r
	}
	return rows
}

func printTable(names []string, rows map[string]row) {
	base, ok := rows[loadtest.Ours]
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "contender\tCPU s / 1M samples\tVmRSS MiB\tRssAnon MiB\tRssFile MiB\tpeak (VmHWM) MiB\tanon MiB / 1k series\tseries\tdelivered / served\tvs ours: CPU\tanon/1k\t")
	for _, c := range names {
		r, have := rows[c]
		if !have {
			continue
		}
		ratio := func(v, b float64) string {
			if !ok || b == 0 {
				return "-"
			}
			return fmt.Sprintf("%.2fx", v/b)
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t%.3f\t%d\t%d / %d\t%s\t%s\t\n", c, r.cpu, r.vmRSS, r.anon, r.file, r.peak, r.anon1k,
			r.series, r.delivered, r.served, ratio(r.cpu, base.cpu), ratio(r.anon1k, base.anon1k))
	}
	_ = tw.Flush()
	fmt.Println("(medians over runs; CPU is user+system time of the process from /proc in the measured window, per million samples delivered in it;")
	fmt.Println(" VmRSS, RssAnon (heap, stacks) and RssFile (the binary's pages) are from /proc at the end of the run, peak is VmHWM over the run)")
}

// cheapestForms picks, for each peer, the renaming form (not the floor) with the least CPU per
// sample among those that delivered exactly what was served.
func cheapestForms(names []string, rows map[string]row) map[string]string {
	best := map[string]string{}
	for _, c := range names {
		peer, form, ok := strings.Cut(c, "/")
		r, have := rows[c]
		if !ok || !have || form == loadtest.FormNone || !r.exact {
			continue
		}
		if cur, seen := best[peer]; !seen || r.cpu < rows[cur].cpu {
			best[peer] = c
		}
	}
	return best
}

// cheapestPeer is the peer contender with the least CPU per sample on node.
func cheapestPeer(best map[string]string, rows map[string]row) string {
	out := ""
	for _, c := range best {
		if out == "" || rows[c].cpu < rows[out].cpu {
			out = c
		}
	}
	if out == "" {
		fatal(fmt.Errorf("scale: no peer measured on node; run node first or give -scale-peer"))
	}
	return out
}

// stressContenders are ours, ours-prw, stock and each peer in its cheapest form on node (every
// form when node was not run).
func stressContenders(names []string, best map[string]string) []string {
	if len(best) == 0 {
		return names
	}
	var out []string
	for _, c := range names {
		peer, _, isPeer := strings.Cut(c, "/")
		if !isPeer || best[peer] == c {
			out = append(out, c)
		}
	}
	return out
}

// scaleCurve runs ours and peer at each factor of the node workload, prints the curve and
// where one core runs out at a 15 s interval, and draws the plot.
func (b *bench) scaleCurve(factors string, interval time.Duration, peer, plotPath string) {
	names := []string{loadtest.Ours, peer}
	var points []loadtest.ScalePoint
	for _, f := range strings.Split(factors, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fatal(fmt.Errorf("-scale: %w", err))
		}
		spec, err := loadtest.NodeScaled(n, interval)
		if err != nil {
			fatal(err)
		}
		rows := b.run(spec, names)
		for _, c := range names {
			if r, ok := rows[c]; ok {
				points = append(points, loadtest.ScalePoint{Contender: c, Series: r.series, CPU: r.cpu, RSS: r.vmRSS, Anon: r.anon})
			}
		}
	}
	fmt.Printf("\n## scale curve (every %s)\n", interval)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "contender\tseries\tCPU s / 1M samples\tVmRSS MiB\tRssAnon MiB\t")
	for _, c := range names {
		for _, p := range points {
			if p.Contender == c {
				fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.1f\t%.1f\t\n", c, p.Series, p.CPU, p.RSS, p.Anon)
			}
		}
	}
	_ = tw.Flush()
	for _, c := range names {
		var last []loadtest.ScalePoint
		for _, p := range points {
			if p.Contender == c {
				last = append(last, p)
			}
		}
		if len(last) < 2 {
			continue
		}
		// One core is one CPU second per second: at a 15 s interval it pays for 15 / (CPU s per
		// sample) series. RSS there is extrapolated along the last two points.
		hi, lo := last[len(last)-1], last[len(last)-2]
		capacity := 15 / (hi.CPU / 1e6)
		slope := (hi.RSS - lo.RSS) / float64(hi.Series-lo.Series)
		fmt.Printf("%s: one core at a 15 s interval, at the largest measured size's CPU per sample: %.1f million series (%.0fx node), RSS there about %.0f MiB (extrapolated from %d series)\n",
			c, capacity/1e6, capacity/float64(points[0].Series), hi.RSS+slope*(capacity-float64(hi.Series)), hi.Series)
	}
	if plotPath == "" {
		return
	}
	f, err := os.Create(plotPath)
	if err != nil {
		fatal(err)
	}
	defer f.Close()
	title := fmt.Sprintf("Cost as the node workload grows (%s scrape interval, medians of %d)", interval, b.repeat)
	if err := loadtest.WriteScaleSVG(f, title, points); err != nil {
		fatal(err)
	}
	fmt.Println("plot:", plotPath)
}

func median(v []float64) float64 {
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "sidebyside:", err)
	os.Exit(1)
}
