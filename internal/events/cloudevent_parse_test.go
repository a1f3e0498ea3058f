package events_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tugboat-dev/tugboat/internal/events"
)

// Both content modes decode; what is not a valid CloudEvent says why.
func TestUnitParseCloudEvent(t *testing.T) {
	ce := `{"specversion":"1.0","id":"1","source":"s","type":"t","subject":"x","data":{"a":1}}`
	for _, tc := range []struct {
		name   string
		header http.Header
		body   string
		want   string // error substring; empty for success
	}{
		{"structured, bare JSON (nats pub)", http.Header{}, ce, ""},
		{"structured, content type", http.Header{"Content-Type": {"application/cloudevents+json"}}, ce, ""},
		{"binary", http.Header{"Ce-Specversion": {"1.0"}, "Ce-Id": {"1"}, "Ce-Source": {"s"}, "Ce-Type": {"t"}, "Content-Type": {"application/json"}}, `{"a":1}`, ""},
		{"binary, NATS header names", events.HeaderOf(map[string][]string{"ce-specversion": {"1.0"}, "ce-id": {"1"}, "ce-source": {"s"}, "ce-type": {"t"}}), `x`, ""},
		{"not JSON", http.Header{}, `hello`, "not a CloudEvent"},
		{"plain text", http.Header{"Content-Type": {"text/plain"}}, ce, "not JSON"},
		{"missing source and type", http.Header{}, `{"specversion":"1.0","id":"1"}`, "invalid CloudEvent"},
		{"binary without id", http.Header{"Ce-Specversion": {"1.0"}, "Ce-Source": {"s"}, "Ce-Type": {"t"}}, `x`, "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := events.ParseCloudEvent(context.Background(), tc.header, []byte(tc.body))
			if tc.want == "" {
				if err != nil || ev.ID() != "1" || ev.Source() != "s" {
					t.Fatalf("event %v, error %v", ev, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// Whatever arrives over NATS or HTTP, parsing never panics, and what parses is
// a valid CloudEvent whose fields the templates can read.
func FuzzParseCloudEvent(f *testing.F) {
	structured := `{"specversion":"1.0","id":"1","source":"auth.example.com/user-login","type":"login","subject":"mgianluc","data":{"a":1}}`
	f.Add("", "", structured)
	f.Add("application/cloudevents+json", "", structured)
	f.Add("application/json", "1.0", `{"a":1}`)
	f.Add("text/plain", "", "hello")
	f.Add("application/cloudevents-batch+json", "", "["+structured+"]")
	f.Add("application/json; charset=\x00", "0.3", "")
	f.Fuzz(func(t *testing.T, contentType, specVersion, body string) {
		header := http.Header{}
		if contentType != "" {
			header.Set("Content-Type", contentType)
		}
		if specVersion != "" {
			header.Set("Ce-Specversion", specVersion)
			header.Set("Ce-Id", "1")
			header.Set("Ce-Source", "fuzz")
			header.Set("Ce-Type", "fuzz")
		}
		ev, err := events.ParseCloudEvent(context.Background(), header, []byte(body))
		if err != nil {
			if !strings.Contains(err.Error(), "CloudEvent") {
				t.Fatalf("error %q does not say what was wrong", err)
			}
			return
		}
		if ev.ID() == "" || ev.Source() == "" || ev.Type() == "" {
			t.Fatalf("accepted an event without id, source or type: %v", ev)
		}
		_ = ev.String()
	})
}
