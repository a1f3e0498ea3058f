package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// dist is a set of latency samples.
type dist struct {
	samples  []time.Duration
	failures int // samples that never completed (timed out)
}

func (d *dist) add(v time.Duration) { d.samples = append(d.samples, v) }

// quantile is the nearest-rank quantile q (0 < q ≤ 1) of the samples.
func (d *dist) quantile(q float64) time.Duration {
	if len(d.samples) == 0 {
		return 0
	}
	s := slices.Clone(d.samples)
	slices.Sort(s)
	rank := int(math.Ceil(q*float64(len(s)))) - 1
	rank = max(0, min(rank, len(s)-1))
	return s[rank]
}

func (d *dist) max() time.Duration {
	if len(d.samples) == 0 {
		return 0
	}
	return slices.Max(d.samples)
}

// row formats n, p50, p90, p99, max as Markdown table cells.
func (d *dist) row() string {
	if len(d.samples) == 0 {
		return fmt.Sprintf("0 | – | – | – | – | %d", d.failures)
	}
	return fmt.Sprintf("%d | %s | %s | %s | %s | %d", len(d.samples),
		ms(d.quantile(0.5)), ms(d.quantile(0.9)), ms(d.quantile(0.99)), ms(d.max()), d.failures)
}

// row3 formats n, p50, p90, max and failures as Markdown table cells.
func (d *dist) row3() string {
	if len(d.samples) == 0 {
		return fmt.Sprintf("0 | – | – | – | %d", d.failures)
	}
	return fmt.Sprintf("%d | %s | %s | %s | %d", len(d.samples), ms(d.quantile(0.5)), ms(d.quantile(0.9)), ms(d.max()), d.failures)
}

// ms formats a duration in milliseconds (or seconds when long).
func ms(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func kib(b uint64) string { return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10)) }
