package tenancy_test

import (
	eventsv1 "k8s.io/api/events/v1"
)

type eventsList struct{ l eventsv1.EventList }

func (e *eventsList) obj() *eventsv1.EventList { return &e.l }
func (e *eventsList) items() []eventsv1.Event  { return e.l.Items }
