package loadtest

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/otelcol-llminference/otelcol-llminference/components/processor/llminferenceprocessor/mapping"
	"github.com/otelcol-llminference/otelcol-llminference/internal/localstack"
)

// Peers: the scrapers users would deploy instead of ours, each at a version, run in each form of
// renaming its docs allow. A peer contender is named "<peer>/<form>".
const (
	VMAgent179   = "vmagent-1.79"    // Debian's victoria-metrics
	VMAgent1151  = "vmagent-1.151"   // current, from the Go module proxy (make bench builds it)
	PromAgent242 = "prom-agent-2.42" // Debian's prometheus, --enable-feature=agent
	PromAgent316 = "prom-agent-3.16" // current (Go module v0.316.0, make builds it), --agent
)

// Renaming forms of metric_relabel_configs.
const (
	// FormRegex is one rule per mapped metric, a regex with a capture group for a histogram's
	// suffixes, then a drop of the other engine metrics: what a newcomer writes.
	FormRegex = "regex"
	// FormLiteral keeps the mapped names first (one anchored alternation), then renames each
	// output name with its own anchored literal rule (a histogram: one rule per suffix).
	FormLiteral = "literal"
	// FormIf is vmagent's own: keep_metrics with the name list, then one rule per output name
	// selected by an `if:` series selector.
	FormIf = "if"
	// FormNone keeps the mapped names and renames nothing: the peer's floor.
	FormNone = "none"
)

// PeerForms are the forms each peer runs in.
var PeerForms = map[string][]string{
	VMAgent179:   {FormRegex, FormLiteral, FormIf, FormNone},
	VMAgent1151:  {FormRegex, FormLiteral, FormIf, FormNone},
	PromAgent242: {FormRegex, FormLiteral, FormNone},
	PromAgent316: {FormRegex, FormLiteral, FormNone},
}

// Peers in turn order.
var Peers = []string{VMAgent179, VMAgent1151, PromAgent242, PromAgent316}

// PeerContenders lists "<peer>/<form>" for the peers given, every form.
func PeerContenders(peers ...string) []string {
	var out []string
	for _, p := range peers {
		for _, f := range PeerForms[p] {
			out = append(out, p+"/"+f)
		}
	}
	return out
}

// splitPeer splits a peer contender's name; ok is false for our own contenders.
func splitPeer(name string) (peer, form string, ok bool) {
	peer, form, ok = strings.Cut(name, "/")
	if _, known := PeerForms[peer]; !ok || !known {
		return "", "", false
	}
	return peer, form, true
}

// outputNames are the concrete source -> unified renames (a histogram's three series names).
func outputNames(renames []Rename) [][2]string {
	var out [][2]string
	for _, r := range renames {
		if r.Type == mapping.TypeHistogram || r.Type == mapping.TypeSummary {
			for _, sfx := range []string{"_bucket", "_sum", "_count"} {
				out = append(out, [2]string{r.Source + sfx, r.Unified + sfx})
			}
			continue
		}
		out = append(out, [2]string{r.Source, r.Unified})
	}
	return out
}

// relabelRules renders the engines' job's metric_relabel_configs for form.
func relabelRules(form string, renames []Rename) (string, error) {
	var b strings.Builder
	names := outputNames(renames)
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = regexp.QuoteMeta(n[0])
	}
	keep := fmt.Sprintf("- {source_labels: [__name__], regex: %q, action: keep}\n", strings.Join(quoted, "|"))
	switch form {
	case FormRegex:
		for _, r := range renames {
			src, repl := regexp.QuoteMeta(r.Source), r.Unified
			if r.Type == mapping.TypeHistogram || r.Type == mapping.TypeSummary {
				src, repl = src+"(_bucket|_sum|_count)?", repl+"$1"
			}
			fmt.Fprintf(&b, "- {source_labels: [__name__], regex: %q, target_label: __name__, replacement: %q}\n", src, repl)
		}
		b.WriteString("- {source_labels: [__name__], regex: \"vllm:.*\", action: drop}\n")
	case FormLiteral:
		b.WriteString(keep)
		for i, n := range names {
			fmt.Fprintf(&b, "- {source_labels: [__name__], regex: %q, target_label: __name__, replacement: %q}\n", quoted[i], n[1])
		}
	case FormIf:
		b.WriteString("- action: keep_metrics\n  regex:\n")
		for _, q := range quoted {
			fmt.Fprintf(&b, "  - %q\n", q)
		}
		for _, n := range names {
			fmt.Fprintf(&b, "- {if: %q, target_label: __name__, replacement: %q}\n", fmt.Sprintf("{__name__=%q}", n[0]), n[1])
		}
	case FormNone:
		b.WriteString(keep)
	default:
		return "", fmt.Errorf("unknown form %q", form)
	}
	return b.String(), nil
}

// startPeer starts peer contender name (see splitPeer) over the workload.
func startPeer(peer, form string, w *Workload, o RunOptions, sinkURL, dir string, write func(string, string) (string, error)) (*localstack.Process, error) {
	bin := o.PeerBins[peer]
	if bin == "" {
		return nil, fmt.Errorf("%s: no binary given", peer)
	}
	rules, err := relabelRules(form, o.Renames)
	if err != nil {
		return nil, err
	}
	switch peer {
	case VMAgent179, VMAgent1151:
		cfg, err := write("vmagent.yaml", scrapeConfigs(w, "", rules))
		if err != nil {
			return nil, err
		}
		args := []string{"-promscrape.config=" + cfg, "-remoteWrite.url=" + sinkURL,
			"-remoteWrite.tmpDataPath=" + filepath.Join(dir, "vmagent-data"), "-remoteWrite.flushInterval=1s",
			"-httpListenAddr=127.0.0.1:0", "-loggerLevel=WARN"}
		if peer == VMAgent1151 {
			args = append(args, "-sortLabels") // the sink wants labels sorted, as the protocol says
		}
		return startCold(OneCoreEnv, bin, args...)
	case PromAgent242, PromAgent316:
		cfg, err := write("prometheus.yml", fmt.Sprintf(`%sremote_write:
  - url: %s
    queue_config: {batch_send_deadline: 1s, capacity: 20000, max_samples_per_send: 5000}
    metadata_config: {send: false}
`, scrapeConfigs(w, "", rules), sinkURL))
		if err != nil {
			return nil, err
		}
		agent := "--agent"
		if peer == PromAgent242 {
			agent = "--enable-feature=agent"
		}
		return startCold(OneCoreEnv, bin, agent, "--config.file="+cfg, "--storage.agent.path="+filepath.Join(dir, "agent"),
			"--web.listen-address=127.0.0.1:0", "--log.level=warn")
	}
	return nil, fmt.Errorf("unknown peer %q", peer)
}
