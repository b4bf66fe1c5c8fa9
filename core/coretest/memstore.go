// Package coretest holds fakes of core's interfaces and the provider
// contract suite every core.Provider passes; the store contract is in
// storetest.
package coretest

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/assistbot/assistbot/core"
)

// MemStore is an in-memory core.Store for tests. It honours the same
// contract as the real stores, including PIN uniqueness and version checks.
type MemStore struct {
	mu            sync.Mutex
	conversations map[string]core.Conversation
	sessions      map[string]core.Session
	events        []core.Event
	deliveries    []core.Delivery
	messages      []core.Message
	optOuts       map[core.Endpoint]bool
	keys          map[string]memKey
	signIns       map[string]core.SignIn
	memos         map[string]memo
	locks         map[string]chan struct{} // closed when the lock is lost
	closed        bool
}

var (
	_ core.Store = (*MemStore)(nil)
	// One process uses a MemStore: the state it shares is that
	// process's, its locks too.
	_ core.KeyStore    = (*MemStore)(nil)
	_ core.SignInStore = (*MemStore)(nil)
	_ core.MemoStore   = (*MemStore)(nil)
	_ core.Locker      = (*MemStore)(nil)
)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{conversations: map[string]core.Conversation{}, sessions: map[string]core.Session{}, optOuts: map[core.Endpoint]bool{}}
}

func notFound(what string) error { return core.Errorf(core.CodeNotFound, "%s not found", what) }

// CreateConversation implements core.Store.
func (m *MemStore) CreateConversation(ctx context.Context, c *core.Conversation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.createConversation(c)
}

func (m *MemStore) createConversation(c *core.Conversation) error {
	if _, ok := m.conversations[c.ID]; ok {
		return core.Errorf(core.CodeConflict, "conversation %s exists", c.ID)
	}
	if c.State == core.ConversationOpen && !c.Customer.IsZero() {
		for _, o := range m.conversations {
			if o.State == core.ConversationOpen && o.Customer == c.Customer {
				return core.ErrOpenConversation
			}
		}
	}
	c.Version = 1
	m.conversations[c.ID] = *c
	return nil
}

// UpdateConversation implements core.Store.
func (m *MemStore) UpdateConversation(ctx context.Context, c *core.Conversation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.conversations[c.ID]
	if !ok {
		return notFound("conversation")
	}
	if old.Version != c.Version {
		return core.ErrVersion
	}
	if c.State == core.ConversationOpen && !c.Customer.IsZero() {
		for id, o := range m.conversations {
			if id != c.ID && o.State == core.ConversationOpen && o.Customer == c.Customer {
				return core.ErrOpenConversation
			}
		}
	}
	c.Version++
	m.conversations[c.ID] = *c
	return nil
}

// FindConversation implements core.Store.
func (m *MemStore) FindConversation(ctx context.Context, id string) (*core.Conversation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.conversations[id]
	if !ok {
		return nil, notFound("conversation")
	}
	return &c, nil
}

// FindOpenConversation implements core.Store.
func (m *MemStore) FindOpenConversation(ctx context.Context, customer core.Endpoint) (*core.Conversation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.conversations {
		if c.State == core.ConversationOpen && c.Customer == customer && !customer.IsZero() {
			return &c, nil
		}
	}
	return nil, notFound("conversation")
}

func (m *MemStore) pinTaken(s *core.Session) bool {
	if !s.State.PINLive() {
		return false
	}
	for id, o := range m.sessions {
		if id != s.ID && o.State.PINLive() && o.PIN == s.PIN {
			return true
		}
	}
	return false
}

// CreateSession implements core.Store.
func (m *MemStore) CreateSession(ctx context.Context, ch *core.Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[ch.Session.ID]; ok {
		return core.Errorf(core.CodeConflict, "session %s exists", ch.Session.ID)
	}
	if m.pinTaken(ch.Session) {
		return core.ErrPINInUse
	}
	if ch.Conversation != nil {
		if err := m.createConversation(ch.Conversation); err != nil {
			return err
		}
	} else if _, ok := m.conversations[ch.Session.ConversationID]; !ok {
		return notFound("conversation")
	}
	ch.Session.Version = 1
	m.sessions[ch.Session.ID] = *ch.Session
	m.append(ch)
	return nil
}

// UpdateSession implements core.Store.
func (m *MemStore) UpdateSession(ctx context.Context, ch *core.Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.sessions[ch.Session.ID]
	if !ok {
		return notFound("session")
	}
	if old.Version != ch.Session.Version {
		return core.ErrVersion
	}
	if m.pinTaken(ch.Session) {
		return core.ErrPINInUse
	}
	ch.Session.Version++
	m.sessions[ch.Session.ID] = *ch.Session
	m.append(ch)
	return nil
}

func (m *MemStore) append(ch *core.Change) {
	for i := range ch.Events {
		ch.Events[i].ID = int64(len(m.events) + 1)
		m.events = append(m.events, ch.Events[i])
	}
	m.queue(ch.Deliveries)
}

func (m *MemStore) queue(ds []*core.Delivery) {
	for _, d := range ds {
		d.ID = int64(len(m.deliveries) + 1)
		stored := *d
		stored.ClaimToken, stored.ClaimUntil = "", time.Time{}
		m.deliveries = append(m.deliveries, stored)
	}
}

// FindConversationByThread implements core.Store.
func (m *MemStore) FindConversationByThread(ctx context.Context, desk core.Endpoint, thread string) (*core.Conversation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.conversations {
		if thread != "" && c.Desk == desk && c.DeskThread == thread {
			return &c, nil
		}
	}
	return nil, notFound("conversation")
}

// FindConversations implements core.Store.
func (m *MemStore) FindConversations(ctx context.Context, f core.ConversationFilter) ([]*core.Conversation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*core.Conversation
	for _, c := range m.conversations {
		if (f.State != "" && c.State != f.State) || (f.DeskChannel != "" && c.Desk.Channel != f.DeskChannel) {
			continue
		}
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *core.Conversation) int {
		return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), cmp.Compare(b.ID, a.ID))
	})
	return out[:min(len(out), limit(f.Limit))], nil
}

// AppendMessage implements core.Store.
func (m *MemStore) AppendMessage(ctx context.Context, ch *core.MessageChange) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	msg := ch.Message
	if msg.Source != "" {
		for _, o := range m.messages {
			if o.Source == msg.Source {
				return core.ErrDuplicate
			}
		}
	}
	if ch.Conversation != nil {
		if ch.Conversation.ID != msg.ConversationID {
			return core.Errorf(core.CodeInvalid, "message of conversation %s created with %s", msg.ConversationID, ch.Conversation.ID)
		}
		if err := m.createConversation(ch.Conversation); err != nil {
			return err
		}
	}
	c, ok := m.conversations[msg.ConversationID]
	if !ok {
		return notFound("conversation")
	}
	if ch.Open && ch.Conversation == nil && c.State != core.ConversationOpen {
		return core.ErrConversationClosed
	}
	if msg.At.After(c.UpdatedAt) {
		c.UpdatedAt = msg.At
		m.conversations[c.ID] = c
	}
	msg.ID = int64(len(m.messages) + 1)
	m.messages = append(m.messages, *msg)
	m.queue(ch.Deliveries)
	return nil
}

// FindMessages implements core.Store.
func (m *MemStore) FindMessages(ctx context.Context, f core.MessageFilter) ([]*core.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*core.Message
	for _, msg := range m.messages {
		if msg.ConversationID == f.ConversationID && msg.ID > f.AfterID {
			out = append(out, &msg)
		}
	}
	if n := limit(f.Limit); len(out) > n {
		if f.Newest {
			out = out[len(out)-n:]
		} else {
			out = out[:n]
		}
	}
	return out, nil
}

// SetOptOut implements core.Store.
func (m *MemStore) SetOptOut(ctx context.Context, ep core.Endpoint, optedOut bool, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if optedOut {
		m.optOuts[ep] = true
	} else {
		delete(m.optOuts, ep)
	}
	return nil
}

// OptedOut implements core.Store.
func (m *MemStore) OptedOut(ctx context.Context, ep core.Endpoint) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.optOuts[ep], nil
}

// FindSession implements core.Store.
func (m *MemStore) FindSession(ctx context.Context, id string) (*core.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok {
		return nil, notFound("session")
	}
	return &s, nil
}

// FindSessionByPIN implements core.Store.
func (m *MemStore) FindSessionByPIN(ctx context.Context, pin string) (*core.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.sessions {
		if s.State.PINLive() && s.PIN == pin {
			return &s, nil
		}
	}
	return nil, notFound("session")
}

// FindSessions implements core.Store.
func (m *MemStore) FindSessions(ctx context.Context, f core.SessionFilter) ([]*core.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*core.Session
	for _, s := range m.sessions {
		state := s.State
		if !f.AsOf.IsZero() {
			state = s.Current(f.AsOf)
		}
		if len(f.States) > 0 && !slices.Contains(f.States, state) {
			continue
		}
		if f.ConversationID != "" && s.ConversationID != f.ConversationID {
			continue
		}
		if !f.ExpiresBefore.IsZero() && (!s.State.PINLive() || !s.PINExpiresAt.Before(f.ExpiresBefore)) {
			continue
		}
		if f.Agent != "" && s.Agent != f.Agent {
			continue
		}
		if f.Channel != "" && m.conversations[s.ConversationID].Customer.Channel != f.Channel {
			continue
		}
		if !f.Since.IsZero() && s.CreatedAt.Before(f.Since) || !f.Until.IsZero() && !s.CreatedAt.Before(f.Until) {
			continue
		}
		if f.AfterID != "" && cmp.Or(s.CreatedAt.Compare(f.AfterCreatedAt), cmp.Compare(s.ID, f.AfterID)) >= 0 {
			continue
		}
		s := s
		out = append(out, &s)
	}
	slices.SortFunc(out, func(a, b *core.Session) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	return out[:min(len(out), limit(f.Limit))], nil
}

func limit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// FindEvents implements core.Store.
func (m *MemStore) FindEvents(ctx context.Context, sessionID string) ([]core.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []core.Event
	for _, e := range m.events {
		if e.SessionID == sessionID {
			out = append(out, e)
		}
	}
	return out, nil
}

// ClaimDeliveries implements core.Store. A limit below 1 claims nothing.
func (m *MemStore) ClaimDeliveries(ctx context.Context, now time.Time, n int, lease time.Duration) ([]*core.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*core.Delivery
	if n < 1 {
		return out, nil
	}
	token := core.NewID()
	// blocked holds the ordering keys that have a queued delivery which is
	// not claimable: none of their later deliveries is either.
	blocked := map[orderKey]bool{}
	for i := range m.deliveries {
		d := &m.deliveries[i]
		if len(out) == n {
			break
		}
		k := orderKey{d.To, d.ConversationID}
		if d.Status != core.DeliveryQueued || blocked[k] || d.To.Channel == core.ChannelWebhook {
			continue
		}
		if d.NextAttemptAt.After(now) || d.ClaimUntil.After(now) {
			blocked[k] = true
			continue
		}
		d.Attempts++
		d.NextAttemptAt, d.ClaimUntil, d.ClaimToken = now.Add(lease), now.Add(lease), token
		c := *d
		out = append(out, &c)
	}
	return out, nil
}

// orderKey is what the outbox keeps deliveries in order by.
type orderKey struct {
	to             core.Endpoint
	conversationID string
}

// RenewClaim implements core.Store.
func (m *MemStore) RenewClaim(ctx context.Context, token string, until time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for i := range m.deliveries {
		d := &m.deliveries[i]
		if token == "" || d.ClaimToken != token {
			continue
		}
		d.ClaimUntil = until
		if d.Status == core.DeliveryQueued {
			d.NextAttemptAt = until
		}
		n++
	}
	return n, nil
}

// UpdateDelivery implements core.Store.
func (m *MemStore) UpdateDelivery(ctx context.Context, d *core.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d.ID < 1 || int(d.ID) > len(m.deliveries) {
		return notFound("delivery")
	}
	old := &m.deliveries[d.ID-1]
	if d.ClaimToken != "" && old.ClaimToken != d.ClaimToken {
		return core.ErrClaimLost
	}
	if old.Status == core.DeliveryDelivered || old.Status == core.DeliveryFailed {
		return core.ErrDeliveryFinal
	}
	old.Status, old.Reason, old.Attempts, old.NextAttemptAt = d.Status, d.Reason, d.Attempts, d.NextAttemptAt
	old.ExternalID, old.UpdatedAt = d.ExternalID, d.UpdatedAt
	if d.ClaimToken != "" {
		old.ClaimToken, old.ClaimUntil = "", time.Time{}
		d.ClaimToken, d.ClaimUntil = "", time.Time{}
	}
	return nil
}

// FindDelivery implements core.Store.
func (m *MemStore) FindDelivery(ctx context.Context, id int64) (*core.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || int(id) > len(m.deliveries) {
		return nil, notFound("delivery")
	}
	d := m.deliveries[id-1]
	return &d, nil
}

// FindDeliveries implements core.Store.
func (m *MemStore) FindDeliveries(ctx context.Context, f core.DeliveryFilter) ([]*core.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*core.Delivery
	for i := len(m.deliveries) - 1; i >= 0 && len(out) < limit(f.Limit); i-- {
		d := m.deliveries[i]
		if (f.SessionID != "" && d.SessionID != f.SessionID) ||
			(f.ConversationID != "" && d.ConversationID != f.ConversationID) ||
			(f.Status != "" && d.Status != f.Status) {
			continue
		}
		out = append(out, &d)
	}
	return out, nil
}

// FindDeliveryByExternalID implements core.Store.
func (m *MemStore) FindDeliveryByExternalID(ctx context.Context, channel, externalID string) (*core.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.deliveries {
		if d.To.Channel == channel && d.ExternalID == externalID && externalID != "" {
			return &d, nil
		}
	}
	return nil, notFound("delivery")
}

// Stats implements core.Store.
func (m *MemStore) Stats(ctx context.Context) (core.Stats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := core.Stats{Sessions: map[core.State]int{}}
	for _, s := range m.sessions {
		st.Sessions[s.State]++
	}
	for _, d := range m.deliveries {
		if d.Status == core.DeliveryQueued {
			st.QueuedDeliveries++
		}
	}
	return st, nil
}

// Ping implements core.Store.
func (m *MemStore) Ping(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return core.Errorf(core.CodeUnavailable, "store closed")
	}
	return nil
}

// Close implements core.Store.
func (m *MemStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.loseLocks()
	return nil
}
