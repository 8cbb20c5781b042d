package charts

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Bars writes to path (SVG) a bar chart with one group of bars per entry
// of groups and, in each group, one bar per series: values[s][g] is series
// s in group g (NaN or <= 0: no bar). The Y axis is logarithmic, so that
// figures hundreds of times apart both show; each bar is labelled with its
// value.
func Bars(path, title, yLabel string, groups, series []string, values [][]float64, format func(float64) string) error {
	if len(series) != len(values) {
		return errors.New("charts: one row of values per series")
	}
	lo, hi := math.Inf(1), 0.0
	for _, row := range values {
		if len(row) != len(groups) {
			return errors.New("charts: one value per group")
		}
		for _, v := range row {
			if v > 0 {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if hi == 0 {
		return errors.New("charts: no value to draw")
	}
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	base := math.Pow(10, math.Floor(math.Log10(lo)))
	p.Y.Min, p.Y.Max = base, math.Pow(10, math.Ceil(math.Log10(hi))+1) // headroom for the legend
	p.Add(plotter.NewGrid())
	const groupWidth = 0.8
	w := groupWidth / float64(len(series))
	var labels plotter.XYLabels
	for s, row := range values {
		var poly *plotter.Polygon
		for g, v := range row {
			if !(v > 0) {
				continue
			}
			x0 := float64(g) - groupWidth/2 + float64(s)*w
			r, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: base}, {X: x0 + w*0.9, Y: base}, {X: x0 + w*0.9, Y: v}, {X: x0, Y: v}})
			if err != nil {
				return err
			}
			r.Color = plotutil.Color(s)
			r.LineStyle.Width = 0
			p.Add(r)
			poly = r
			labels.XYs = append(labels.XYs, plotter.XY{X: x0 + w*0.45, Y: v * 1.08})
			labels.Labels = append(labels.Labels, format(v))
		}
		if poly != nil {
			p.Legend.Add(series[s], poly)
		}
	}
	if len(labels.XYs) > 0 {
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Size = vg.Points(7)
			l.TextStyle[i].XAlign = draw.XCenter
		}
		p.Add(l)
	}
	p.NominalX(groups...)
	// Many groups with long names: slanted labels, so that they do not overlap.
	if len(groups) > 8 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	p.Legend.Top = true
	p.Legend.Left = false
	return p.Save(vg.Length(150+120*len(groups))*vg.Millimeter/4, 110*vg.Millimeter, path)
}

// Curve is one latency distribution.
type Curve struct {
	Name      string
	Latencies []time.Duration
}

// percentileX maps percentile q (0 < q < 100) to the X axis: -log10(1-q/100),
// so that 90, 99 and 99.9 are evenly spaced.
func percentileX(q float64) float64 { return -math.Log10(1 - q/100) }

// Percentiles writes to path (SVG) latency percentile curves: X is the
// percentile (50 to 99.9, spaced as 1/(1-q)), Y the latency in
// milliseconds on a log scale. Curves with fewer than 10 samples are left
// out; latencies below 1 us are drawn at 1 us.
func Percentiles(path, title string, curves []Curve) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "percentile"
	p.Y.Label.Text = "latency (ms)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	qs := []float64{50, 90, 99, 99.9}
	var ticks []plot.Tick
	for _, q := range qs {
		ticks = append(ticks, plot.Tick{Value: percentileX(q), Label: "p" + strconv.FormatFloat(q, 'f', -1, 64)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = percentileX(50), percentileX(99.9)
	p.Add(plotter.NewGrid())
	lo, hi := math.Inf(1), 0.0
	drawn := 0
	for i, c := range curves {
		if len(c.Latencies) < 10 {
			continue
		}
		s := slices.Clone(c.Latencies)
		slices.Sort(s)
		var pts plotter.XYs
		for x := p.X.Min; x <= p.X.Max+1e-9; x += 0.05 {
			q := 1 - math.Pow(10, -x)
			k := min(len(s)-1, int(math.Ceil(q*float64(len(s))))-1)
			ms := max(float64(s[max(k, 0)])/1e6, 0.001)
			lo, hi = min(lo, ms), max(hi, ms)
			pts = append(pts, plotter.XY{X: x, Y: ms})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (%d samples)", c.Name, len(s)), l)
		drawn++
	}
	if drawn == 0 {
		return errors.New("charts: no curve with enough samples")
	}
	// Headroom above the curves for the legend, about a decade per two
	// entries, and a taller chart for more than four curves; the ticks
	// stop at the decade above the curves.
	headroom := math.Ceil(float64(drawn) / 2)
	top := math.Pow(10, math.Ceil(math.Log10(hi)))
	p.Y.Min, p.Y.Max = math.Pow(10, math.Floor(math.Log10(lo))), top*math.Pow(10, headroom)
	p.Y.Tick.Marker = cappedTicks{p.Y.Tick.Marker, top}
	p.Legend.Top = true
	p.Legend.Left = true
	return p.Save(160*vg.Millimeter, vg.Length(100+8*max(0, drawn-4))*vg.Millimeter, path)
}

// cappedTicks leaves out the ticks of a Ticker above a value (the legend's
// headroom).
type cappedTicks struct {
	plot.Ticker
	max float64
}

func (c cappedTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range c.Ticker.Ticks(lo, hi) {
		if t.Value <= c.max*(1+1e-9) {
			out = append(out, t)
		}
	}
	return out
}
