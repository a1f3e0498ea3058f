package chaos_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes"
)

// managedWrites sums, over the managed API servers, the write requests they
// have served (apiserver_request_total for POST, PUT, PATCH, APPLY — server-side apply —, DELETE and
// DELETECOLLECTION), leaving out the Leases each API server renews for itself.
// In these scenarios only the manager writes to the managed clusters, so the
// difference of two readings is what the manager wrote in between.
func managedWrites(ctx context.Context) (int, error) {
	total := 0
	for _, name := range managed {
		cs, err := kubernetes.NewForConfig(s.env.Cluster(name).Config)
		if err != nil {
			return 0, err
		}
		raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
		if err != nil {
			return 0, fmt.Errorf("reading the metrics of %s: %w", name, err)
		}
		n, err := writeRequests(raw)
		if err != nil {
			return 0, fmt.Errorf("metrics of %s: %w", name, err)
		}
		total += n
	}
	return total, nil
}

// writeRequests adds up the write samples of apiserver_request_total in a
// Prometheus text exposition.
func writeRequests(metrics []byte) (int, error) {
	total := 0
	sc := bufio.NewScanner(bytes.NewReader(metrics))
	sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") || strings.Contains(line, `resource="leases"`) {
			continue
		}
		write := false
		for _, verb := range []string{"POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"} {
			if strings.Contains(line, `verb="`+verb+`"`) {
				write = true
				break
			}
		}
		if !write {
			continue
		}
		value := line[strings.LastIndexByte(line, ' ')+1:]
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return 0, fmt.Errorf("sample %q: %w", line, err)
		}
		total += int(v)
	}
	return total, sc.Err()
}
