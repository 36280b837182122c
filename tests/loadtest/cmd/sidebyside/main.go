// Command sidebyside runs our collector, the stock collector pipeline and vmagent in turns
// over the same simulated targets and prints what each costs per sample (make bench).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/otelcol-llminference/otelcol-llminference/tests/loadtest"
)

func main() {
	otelcol := flag.String("otelcol", "bin/otelcol-llminference", "collector binary (ours and the stock pipeline)")
	vmagent := flag.String("vmagent", "vmagent", "vmagent binary (Debian: victoria-metrics)")
	workloads := flag.String("workloads", "node,stress", "workloads to run: node, stress")
	contenders := flag.String("contenders", strings.Join(loadtest.AllContenders, ","), "contenders, in turn order")
	interval := flag.Duration("interval", 2*time.Second, "scrape interval (15 s in production, shortened for the run)")
	warmup := flag.Duration("warmup", 10*time.Second, "warm-up before the measured window")
	measure := flag.Duration("measure", 40*time.Second, "measured window per run")
	repeat := flag.Int("repeat", 3, "runs per contender and workload; medians are reported")
	pprof := flag.String("pprof", "", "serve our collector's pprof on this host:port during its runs")
	flag.Parse()

	if _, err := exec.LookPath(*vmagent); err != nil && slices.Contains(strings.Split(*contenders, ","), loadtest.VMAgent) {
		fatal(fmt.Errorf("vmagent not found (apt-get install -y victoria-metrics): %w", err))
	}
	renames, err := loadtest.Renames()
	if err != nil {
		fatal(err)
	}
	if err := os.MkdirAll(loadtest.TempDir(), 0o755); err != nil {
		fatal(err)
	}
	opts := loadtest.RunOptions{Warmup: *warmup, Measure: *measure, OtelcolBin: *otelcol, VMAgentBin: *vmagent, Dir: loadtest.TempDir(), Renames: renames, Pprof: *pprof}
	names := strings.Split(*contenders, ",")
	failed := false
	for _, wname := range strings.Split(*workloads, ",") {
		var spec loadtest.WorkloadSpec
		switch wname {
		case "node":
			spec = loadtest.Node(*interval)
		case "stress":
			spec = loadtest.Stress(*interval)
		default:
			fatal(fmt.Errorf("unknown workload %q", wname))
		}
		w, err := loadtest.StartWorkload(spec, renames)
		if err != nil {
			fatal(err)
		}
		fmt.Printf("\n## workload %s: %d engine targets%s, %d samples per round of scrapes, every %s; %d run(s) of %s after %s warm-up\n",
			wname, len(w.Targets), map[bool]string{true: " + dcgm-exporter (8 GPUs)", false: ""}[w.GPU != nil],
			w.SeriesPerScrape(), *interval, *repeat, *measure, *warmup)
		results := map[string][]loadtest.Result{}
		for r := 0; r < *repeat; r++ {
			for _, c := range names {
				res, err := loadtest.Run(c, w, opts)
				if err != nil {
					fmt.Fprintf(os.Stderr, "run %d %s: %v\n", r+1, c, err)
					failed = true
					continue
				}
				fmt.Fprintf(os.Stderr, "run %d %-9s cpu %.2fs over %s, %d samples in window, delivered %d / served %d, series %d, rss %.1f MiB (peak %.1f)\n",
					r+1, c, res.CPUSeconds, res.Duration.Round(time.Second), res.WindowSamples, res.Delivered, res.Served, res.Series,
					mib(res.RSS), mib(res.PeakRSS))
				if res.Delivered != res.Served || res.Rejected > 0 {
					fmt.Fprintf(os.Stderr, "  MISMATCH: delivered %d, served %d, rejected requests %d %s\n", res.Delivered, res.Served, res.Rejected, res.FirstError)
					failed = true
				}
				results[c] = append(results[c], res)
			}
		}
		w.Close()
		printTable(names, results)
	}
	if failed {
		os.Exit(1)
	}
}

func printTable(names []string, results map[string][]loadtest.Result) {
	type row struct {
		cpu, peak, per1k, anon1k float64
		delivered, served        int64
		series                   int
		runs                     int
	}
	rows := map[string]row{}
	for _, c := range names {
		rs := results[c]
		if len(rs) == 0 {
			continue
		}
		var cpu, peak, per1k, anon1k []float64
		var row row
		for _, r := range rs {
			cpu = append(cpu, r.CPUPerMillion())
			peak = append(peak, mib(r.PeakRSS))
			per1k = append(per1k, r.RSSPer1000Series())
			anon1k = append(anon1k, r.AnonPer1000Series())
			row.delivered += r.Delivered
			row.served += r.Served
			row.series = r.Series
		}
		row.cpu, row.peak, row.per1k, row.anon1k, row.runs = median(cpu), median(peak), median(per1k), median(anon1k), len(rs)
		rows[c] = row
	}
	base, ok := rows[loadtest.Ours]
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "contender\tCPU s / 1M samples\tpeak RSS MiB\tRSS MiB / 1k series\tanon RSS MiB / 1k series\tseries\tdelivered / served\tvs ours: CPU\tpeak RSS\tRSS/1k\tanon/1k\t")
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
		fmt.Fprintf(tw, "%s\t%.2f\t%.1f\t%.3f\t%.3f\t%d\t%d / %d\t%s\t%s\t%s\t%s\t\n", c, r.cpu, r.peak, r.per1k, r.anon1k, r.series, r.delivered, r.served,
			ratio(r.cpu, base.cpu), ratio(r.peak, base.peak), ratio(r.per1k, base.per1k), ratio(r.anon1k, base.anon1k))
	}
	_ = tw.Flush()
	fmt.Println("(medians over runs; CPU is user+system time of the process from /proc in the measured window, per million samples delivered in it;")
	fmt.Println(" RSS is VmRSS at the end of the run, anon RSS its RssAnon part: heap and stacks without the binary's file-backed pages)")
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
