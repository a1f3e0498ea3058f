package main

import (
	"testing"
	"time"
)

func TestQuantileNearestRank(t *testing.T) {
	var d dist
	for i := 1; i <= 100; i++ {
		d.add(time.Duration(i) * time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.9: 90 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond} {
		if got := d.quantile(q); got != want {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
		}
	}
	var one dist
	one.add(time.Second)
	if one.quantile(0.99) != time.Second || one.max() != time.Second {
		t.Errorf("single sample: %v %v", one.quantile(0.99), one.max())
	}
}

func TestParseRequestMetrics(t *testing.T) {
	text := `# HELP apiserver_request_total x
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="namespace",subresource="",verb="GET",version="v1"} 7
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="cluster",subresource="",verb="LIST",version="v1"} 3
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="namespaces",scope="resource",subresource="",verb="POST",version="v1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="APPLY",version="v1"} 5
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="",scope="",subresource="/version",verb="GET",version=""} 9
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="DELETE",version="v1"} 1
apiserver_longrunning_requests{component="apiserver",group="",resource="configmaps",scope="cluster",subresource="",verb="WATCH",version="v1"} 4
`
	got := parseRequestMetrics([]byte(text))
	if got.reads != 10 || got.writes != 8 || got.watches != 4 || got.deletes != 1 {
		t.Errorf("got %+v, want reads 10 writes 8 watches 4 deletes 1", got)
	}
}
