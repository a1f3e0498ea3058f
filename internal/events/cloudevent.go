package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// ParseCloudEvent reads a CloudEvent from a message's headers and body, in
// either content mode of the CloudEvents protocol bindings for HTTP and NATS:
// binary (attributes in ce-* headers, the body is the data) or structured (a
// JSON CloudEvent as the body, with or without a Content-Type of
// application/cloudevents+json — the Sveltos documentation publishes bare JSON
// on NATS). The CloudEvents SDK does the decoding; the event must be valid
// (specversion, id, source and type present).
func ParseCloudEvent(ctx context.Context, header http.Header, body []byte) (*cloudevents.Event, error) {
	msg := cehttp.NewMessage(header, io.NopCloser(bytes.NewReader(body)))
	var ev *cloudevents.Event
	if msg.ReadEncoding() == binding.EncodingUnknown {
		// No ce-specversion header and no structured content type: the body
		// itself should be a JSON CloudEvent.
		if ct := header.Get("Content-Type"); ct != "" {
			if mt, _, err := mime.ParseMediaType(ct); err == nil && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
				return nil, fmt.Errorf("not a CloudEvent: no ce-specversion header and content type %q is not JSON", ct)
			}
		}
		ev = &cloudevents.Event{}
		if err := json.Unmarshal(body, ev); err != nil {
			return nil, fmt.Errorf("not a CloudEvent: %w", err)
		}
	} else {
		var err error
		if ev, err = binding.ToEvent(ctx, msg); err != nil {
			return nil, fmt.Errorf("not a CloudEvent: %w", err)
		}
	}
	if err := ev.Validate(); err != nil {
		return nil, fmt.Errorf("invalid CloudEvent: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return ev, nil
}

// HeaderOf turns a NATS header (a map of names to values, names as sent) into
// an http.Header (canonical names), for ParseCloudEvent.
func HeaderOf(h map[string][]string) http.Header {
	out := http.Header{}
	for k, vs := range h {
		for _, v := range vs {
			out.Add(k, v)
		}
	}
	return out
}

// cloudEventMap is a CloudEvent as templates see it (.CloudEvent): its context
// attributes by their CloudEvents names, extensions by name, and data decoded
// from JSON into maps and lists (a string when it is not JSON).
func cloudEventMap(ev *cloudevents.Event) map[string]any {
	m := map[string]any{
		"specversion": ev.SpecVersion(),
		"id":          ev.ID(),
		"source":      ev.Source(),
		"type":        ev.Type(),
		"subject":     ev.Subject(),
	}
	if t := ev.Time(); !t.IsZero() {
		m["time"] = t.UTC().Format(time.RFC3339Nano)
	}
	if v := ev.DataContentType(); v != "" {
		m["datacontenttype"] = v
	}
	if v := ev.DataSchema(); v != "" {
		m["dataschema"] = v
	}
	for k, v := range ev.Extensions() {
		if _, ok := m[k]; !ok {
			m[k] = fmt.Sprint(v)
		}
	}
	if data := ev.Data(); len(data) > 0 {
		var decoded any
		if err := json.Unmarshal(data, &decoded); err == nil {
			m["data"] = decoded
		} else {
			m["data"] = string(data)
		}
	}
	return m
}

// entryKey names the entry of a CloudEvent in a trigger's record: source and
// subject together identify what the event is about.
func entryKey(source, subject string) string {
	return "e-" + shortHash(source, subject)
}

// messagingMatcher is a compiled MessagingMatchCriteria.
type messagingMatcher struct {
	subject, source, typ, ceSubject *regexp.Regexp
}

// compileMessaging compiles every messagingMatchCriteria of an EventSource.
func compileMessaging(source *libv1beta1.EventSource) ([]messagingMatcher, error) {
	out := make([]messagingMatcher, 0, len(source.Spec.MessagingMatchCriteria))
	for i, c := range source.Spec.MessagingMatchCriteria {
		var m messagingMatcher
		var errs []error
		for _, f := range []struct {
			name, expr string
			into       **regexp.Regexp
		}{
			{"subject", c.Subject, &m.subject}, {"cloudEventSource", c.CloudEventSource, &m.source},
			{"cloudEventType", c.CloudEventType, &m.typ}, {"cloudEventSubject", c.CloudEventSubject, &m.ceSubject},
		} {
			if f.expr == "" {
				continue
			}
			re, err := regexp.Compile(f.expr)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %q: %w", f.name, f.expr, err))
				continue
			}
			*f.into = re
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("EventSource %s: messagingMatchCriteria[%d]: %w", source.Name, i, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// matchesCloudEvent is true when any criterion matches the CloudEvent received on subject.
func matchesCloudEvent(matchers []messagingMatcher, subject string, ev *cloudevents.Event) bool {
	ok := func(re *regexp.Regexp, v string) bool { return re == nil || re.MatchString(v) }
	for _, m := range matchers {
		if ok(m.subject, subject) && ok(m.source, ev.Source()) && ok(m.typ, ev.Type()) && ok(m.ceSubject, ev.Subject()) {
			return true
		}
	}
	return false
}
