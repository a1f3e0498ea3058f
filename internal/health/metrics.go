package health

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Metric checks (metricSource, metricQueries): the manager asks a
// Prometheus-compatible HTTP API for instant values and hands them to the
// check's Lua script as the global table metrics.

// QueryTimeout bounds one instant query (connection and answer).
const QueryTimeout = 10 * time.Second

// maxAnswer bounds what is read of one answer.
const maxAnswer = 4 << 20

// MetricClient asks one metricSource.
type MetricClient struct {
	base   *url.URL
	http   *http.Client
	token  string
	user   string
	passwd string
}

// NewMetricClient builds the client of a metricSource; secret is the data of
// the Secret its secretRef names (nil without one): token (bearer), or
// username and password (basic), and ca.crt (PEM, trusted for https).
func NewMetricClient(src libv1beta1.MetricSource, secret map[string][]byte) (*MetricClient, error) {
	base, err := url.Parse(strings.TrimSuffix(src.URL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("url %q is not an http(s) address", src.URL)
	}
	mc := &MetricClient{base: base, token: string(secret["token"]), user: string(secret["username"]), passwd: string(secret["password"])}
	if (mc.user == "") != (mc.passwd == "") {
		return nil, errors.New("secretRef: username and password go together")
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: src.InsecureSkipTLSVerify} //nolint:gosec // the user's choice, documented
	if ca := secret["ca.crt"]; len(ca) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, errors.New("secretRef: ca.crt holds no PEM certificate")
		}
		tlsConfig.RootCAs = pool
	}
	transport.TLSClientConfig = tlsConfig
	mc.http = &http.Client{Transport: transport, Timeout: QueryTimeout}
	return mc, nil
}

// promAnswer is the envelope of the Prometheus HTTP API.
type promAnswer struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// Query runs every query (in order) as an instant query and returns the values
// by name. An answer that is not a scalar or a vector of exactly one sample is
// an error naming the query.
func (mc *MetricClient) Query(ctx context.Context, queries []libv1beta1.MetricQuery) (map[string]any, error) {
	// A client lives for one evaluation: its connections go with it.
	defer mc.http.CloseIdleConnections()
	out := make(map[string]any, len(queries))
	for i, q := range queries {
		v, err := mc.instant(ctx, q.Query)
		if err != nil {
			return nil, fmt.Errorf("metricQueries[%d] %s: %w", i, q.Name, err)
		}
		out[q.Name] = v
	}
	return out, nil
}

func (mc *MetricClient) instant(ctx context.Context, query string) (float64, error) {
	u := *mc.base
	u.Path += "/api/v1/query"
	u.RawQuery = url.Values{"query": {query}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	switch {
	case mc.token != "":
		req.Header.Set("Authorization", "Bearer "+mc.token)
	case mc.user != "":
		req.SetBasicAuth(mc.user, mc.passwd)
	}
	resp, err := mc.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, fmt.Errorf("reading the answer of %s: %w", u.Redacted(), err)
	}
	var ans promAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return 0, fmt.Errorf("%s answered %s, not a Prometheus API answer", u.Redacted(), resp.Status)
	}
	if ans.Status != "success" {
		return 0, fmt.Errorf("Prometheus refused the query (%s): %s", ans.ErrorType, ans.Error)
	}
	return oneValue(ans.Data.ResultType, ans.Data.Result)
}

// oneValue reads the single value of a scalar or one-sample vector result.
func oneValue(resultType string, raw json.RawMessage) (float64, error) {
	var sample []any
	switch resultType {
	case "scalar":
		if err := json.Unmarshal(raw, &sample); err != nil {
			return 0, fmt.Errorf("unreadable scalar: %w", err)
		}
	case "vector":
		var vec []struct {
			Value []any `json:"value"`
		}
		if err := json.Unmarshal(raw, &vec); err != nil {
			return 0, fmt.Errorf("unreadable vector: %w", err)
		}
		if len(vec) != 1 {
			return 0, fmt.Errorf("the query returned %d samples; it must return exactly one (aggregate it, e.g. with sum())", len(vec))
		}
		sample = vec[0].Value
	default:
		return 0, fmt.Errorf("the query returned a %s; it must return a scalar or a one-sample vector", resultType)
	}
	if len(sample) != 2 {
		return 0, errors.New("a sample is not a [time, value] pair")
	}
	s, ok := sample[1].(string)
	if !ok {
		return 0, errors.New("a sample's value is not a string")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("a sample's value %q is not a number", s)
	}
	return v, nil
}
