package main

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// requestCounts are resource requests (non-resource paths such as /version and
// /metrics are left out) counted on one side of the wire.
type requestCounts struct {
	reads   int64 // GET and LIST
	writes  int64 // POST, PUT, PATCH, APPLY, DELETE, DELETECOLLECTION
	watches int64 // for the API server: watches open now; for the harness: watches started
	deletes int64 // DELETE and DELETECOLLECTION (also counted in writes)
}

func (a requestCounts) minus(b requestCounts) requestCounts {
	return requestCounts{reads: a.reads - b.reads, writes: a.writes - b.writes, watches: a.watches - b.watches, deletes: a.deletes - b.deletes}
}

func (a requestCounts) plus(b requestCounts) requestCounts {
	return requestCounts{reads: a.reads + b.reads, writes: a.writes + b.writes, watches: a.watches + b.watches, deletes: a.deletes + b.deletes}
}

// harnessCounter counts the harness's own resource requests to a managed API
// server, so that they can be subtracted from what the server reports.
type harnessCounter struct{ reads, writes, watches, deletes atomic.Int64 }

func (h *harnessCounter) get() requestCounts {
	return requestCounts{reads: h.reads.Load(), writes: h.writes.Load(), watches: h.watches.Load(), deletes: h.deletes.Load()}
}

// counted returns a copy of cfg whose requests are counted in h.
func counted(cfg *rest.Config, h *harnessCounter) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			p := req.URL.Path
			if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/apis/") {
				switch {
				case req.Method == http.MethodGet && req.URL.Query().Get("watch") != "":
					h.watches.Add(1)
				case req.Method == http.MethodGet || req.Method == http.MethodHead:
					h.reads.Add(1)
				default:
					h.writes.Add(1)
					if req.Method == http.MethodDelete {
						h.deletes.Add(1)
					}
				}
			}
			return rt.RoundTrip(req)
		})
	})
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// scrape reads the API server's own request counters from /metrics.
func scrape(ctx context.Context, cs kubernetes.Interface) (requestCounts, error) {
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return requestCounts{}, err
	}
	return parseRequestMetrics(raw), nil
}

// parseRequestMetrics sums apiserver_request_total by verb class over resource
// requests but leases (which the API server writes itself and the manager,
// without leader election, never touches), and apiserver_longrunning_requests{verb="WATCH"} (watches open now).
func parseRequestMetrics(raw []byte) requestCounts {
	var out requestCounts
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		total := strings.HasPrefix(line, "apiserver_request_total{")
		longrunning := strings.HasPrefix(line, "apiserver_longrunning_requests{")
		if !total && !longrunning {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			continue
		}
		labels, value := line[:end], strings.TrimSpace(line[end+1:])
		switch label(labels, "resource") {
		case "":
			continue // non-resource request
		case "leases":
			continue // each kube-apiserver renews its own identity lease every 10 s (loopback)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		verb := label(labels, "verb")
		switch {
		case longrunning:
			if verb == "WATCH" {
				out.watches += int64(v)
			}
		case verb == "GET" || verb == "LIST":
			out.reads += int64(v)
		case verb == "WATCH" || verb == "CONNECT":
		default:
			out.writes += int64(v)
			if verb == "DELETE" || verb == "DELETECOLLECTION" {
				out.deletes += int64(v)
			}
		}
	}
	return out
}

// label is the value of a label in `name{a="x",b="y"`.
func label(labels, name string) string {
	i := -1
	for _, sep := range []string{"{", ","} {
		if j := strings.Index(labels, sep+name+`="`); j >= 0 {
			i = j + len(sep)
			break
		}
	}
	if i < 0 {
		return ""
	}
	rest := labels[i+len(name)+2:]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}
