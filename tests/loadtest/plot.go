package loadtest

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// ScalePoint is one contender's medians at one size of the scale curve.
type ScalePoint struct {
	Contender string
	Series    int
	CPU       float64 // CPU s per million samples
	RSS, Anon float64 // MiB
}

// WriteScaleSVG draws the scale curve: CPU per sample (left panel) and RSS (right panel, VmRSS
// solid, RssAnon dashed) against the number of series, a logarithmic x axis, one colour per
// contender. It is plain SVG so that docs/ can show it with no tooling.
func WriteScaleSVG(out io.Writer, title string, points []ScalePoint) error {
	if len(points) == 0 {
		return fmt.Errorf("no points to plot")
	}
	byC := map[string][]ScalePoint{}
	var names []string
	for _, p := range points {
		if _, ok := byC[p.Contender]; !ok {
			names = append(names, p.Contender)
		}
		byC[p.Contender] = append(byC[p.Contender], p)
	}
	for _, n := range names {
		sort.Slice(byC[n], func(i, j int) bool { return byC[n][i].Series < byC[n][j].Series })
	}
	minX, maxX := math.Inf(1), math.Inf(-1)
	maxCPU, maxRSS := 0.0, 0.0
	for _, p := range points {
		minX, maxX = math.Min(minX, float64(p.Series)), math.Max(maxX, float64(p.Series))
		maxCPU, maxRSS = math.Max(maxCPU, p.CPU), math.Max(maxRSS, math.Max(p.RSS, p.Anon))
	}
	const w, h, panelW, top, plotH, left = 1000, 420, 400, 50, 300, 70
	colours := []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15">%s</text>`+"\n", left, escape(title))
	logSpan := math.Log10(maxX) - math.Log10(minX)
	if logSpan == 0 {
		logSpan = 1
	}
	panel := func(x0 int, yLabel string, yMax float64, series func(ScalePoint) []float64, dashes []string) {
		yMax = niceCeil(yMax)
		px := func(s float64) float64 {
			return float64(x0) + 20 + (math.Log10(s)-math.Log10(minX))/logSpan*float64(panelW-40)
		}
		py := func(v float64) float64 { return float64(top+plotH) - v/yMax*float64(plotH) }
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>`+"\n", x0, top, panelW, plotH)
		for i := 0; i <= 4; i++ {
			v := yMax * float64(i) / 4
			fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
				x0, x0+panelW, py(v), py(v), x0-5, py(v)+4, trimFloat(v))
		}
		seen := map[string]bool{} // contenders differ by a few series at one size: one tick
		for _, p := range points {
			label := fmt.Sprintf("%.1fk", float64(p.Series)/1000)
			if seen[label] {
				continue
			}
			seen[label] = true
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#888"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n",
				px(float64(p.Series)), px(float64(p.Series)), top+plotH, top+plotH+5, px(float64(p.Series)), top+plotH+18, label)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">series (log scale)</text>`+"\n", x0+panelW/2, top+plotH+36)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", x0+panelW/2, top-8, escape(yLabel))
		for i, n := range names {
			c := colours[i%len(colours)]
			for k, dash := range dashes {
				var pts []string
				for _, p := range byC[n] {
					v := series(p)[k]
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(float64(p.Series)), py(v)))
					fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", px(float64(p.Series)), py(v), c)
				}
				fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`+"\n", strings.Join(pts, " "), c, dash)
			}
		}
	}
	panel(left, "CPU s per million samples", maxCPU, func(p ScalePoint) []float64 { return []float64{p.CPU} }, []string{"none"})
	panel(left+panelW+90, "MiB: VmRSS (solid), RssAnon (dashed)", maxRSS, func(p ScalePoint) []float64 { return []float64{p.RSS, p.Anon} }, []string{"none", "6,4"})
	for i, n := range names {
		x := left + i*220
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="4" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			x, h-22, colours[i%len(colours)], x+20, h-17, escape(n))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(out, b.String())
	return err
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, for axis ticks.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
