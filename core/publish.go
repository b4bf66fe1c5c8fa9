package core

import "context"

// publish announces a committed change.
func (e *Engine) publish(ch *Change) {
	for i := range ch.Events {
		s := *ch.Session
		u := Update{Session: &s, Event: &ch.Events[i]}
		if i == len(ch.Events)-1 && len(ch.Deliveries) > 0 {
			u.Delivery = ch.Deliveries[0]
		}
		e.emit(u)
	}
	if len(ch.Deliveries) > 0 {
		e.wake()
	}
}

// publishDelivery announces a delivery whose status changed, with its
// session when it has one.
func (e *Engine) publishDelivery(ctx context.Context, d *Delivery) {
	u := Update{Delivery: d}
	if d.SessionID != "" {
		if s, err := e.store.FindSession(ctx, d.SessionID); err == nil {
			s.State = s.Current(e.clock.Now())
			u.Session = s
		}
	}
	e.emit(u)
}

// emit hands u to the observer, this replica's subscribers and the other
// replicas.
func (e *Engine) emit(u Update) {
	if e.observe != nil {
		e.observe(u)
	}
	e.hub.Publish(u)
	if e.replicas != nil {
		e.replicas.Announce(u)
	}
}

// publishMessage announces a committed message.
func (e *Engine) publishMessage(c *Conversation, m *Message, queued bool) {
	e.emit(Update{Conversation: c, Message: m})
	if queued {
		e.wake()
	}
}
