package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core"
)

const conversationCols = `id, customer_channel, customer_address, customer_name,
	desk_channel, desk_address, desk_thread, locale, state, created_at, updated_at, version`

const insertConversationSQL = `INSERT INTO conversations (` + conversationCols + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`

const updateConversationSQL = `UPDATE conversations SET customer_channel = ?,
	customer_address = ?, customer_name = ?, desk_channel = ?, desk_address = ?,
	desk_thread = ?, locale = ?, state = ?, created_at = ?, updated_at = ?,
	version = version + 1
	WHERE id = ? AND version = ?`

const findConversationSQL = `SELECT ` + conversationCols + ` FROM conversations WHERE id = ?`

const findOpenConversationSQL = `SELECT ` + conversationCols + ` FROM conversations
	WHERE customer_channel = ? AND customer_address = ? AND state = 'open'
	AND (customer_channel <> '' OR customer_address <> '')`

// conversationArgs returns the arguments of insertConversationSQL.
func conversationArgs(c *core.Conversation) []driver.NamedValue {
	return rawsql.Named(c.ID, c.Customer.Channel, c.Customer.Address, c.CustomerName,
		c.Desk.Channel, c.Desk.Address, c.DeskThread, c.Locale, string(c.State),
		micros(c.CreatedAt), micros(c.UpdatedAt))
}

// insertConversation runs insertConversationSQL with args from
// conversationArgs for the conversation with id, and returns its seq.
func (c *wconn) insertConversation(id string, args []driver.NamedValue) (int64, error) {
	res, err := c.insConv.Run(args)
	if err != nil {
		switch constraintOf(err) {
		case openCustomer:
			return 0, core.ErrOpenConversation
		case duplicateID:
			return 0, core.Errorf(core.CodeConflict, "conversation %s already exists", id)
		}
		return 0, err
	}
	return res.LastInsertId()
}

// conversationSeq returns the seq of the conversation with id.
func (c *wconn) conversationSeq(id string) (int64, error) {
	seq, ok, err := c.convSeq.Returning(rawsql.Named(id))
	if err == nil && !ok {
		err = notFound("conversation")
	}
	return seq, err
}

// CreateConversation inserts c with Version 1.
func (s *Store) CreateConversation(ctx context.Context, c *core.Conversation) error {
	if c == nil {
		return fmt.Errorf("sqlite: create conversation: %w", core.Errorf(core.CodeInvalid, "no conversation"))
	}
	if s.closed.Load() {
		return fmt.Errorf("sqlite: create conversation: %w", errClosed())
	}
	id, args := c.ID, conversationArgs(c)
	err := s.w.Do(ctx, func(w *wconn) error {
		_, err := w.insertConversation(id, args)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create conversation: %w", err)
	}
	c.Version = 1
	return nil
}

// UpdateConversation saves c if its Version is the stored one, and bumps
// it.
func (s *Store) UpdateConversation(ctx context.Context, c *core.Conversation) error {
	if c == nil {
		return fmt.Errorf("sqlite: update conversation: %w", core.Errorf(core.CodeInvalid, "no conversation"))
	}
	if s.closed.Load() {
		return fmt.Errorf("sqlite: update conversation: %w", errClosed())
	}
	id := c.ID
	args := rawsql.Named(c.Customer.Channel, c.Customer.Address, c.CustomerName,
		c.Desk.Channel, c.Desk.Address, c.DeskThread, c.Locale, string(c.State),
		micros(c.CreatedAt), micros(c.UpdatedAt), id, int64(c.Version))
	err := s.w.Do(ctx, func(w *wconn) error {
		res, err := w.updConv.Run(args)
		if constraintOf(err) == openCustomer {
			return core.ErrOpenConversation
		}
		if err != nil {
			return err
		}
		return versionCheck(res, w.convExists, id, "conversation")
	})
	if err != nil {
		return fmt.Errorf("sqlite: update conversation: %w", err)
	}
	c.Version++
	return nil
}

// versionCheck turns an optimistic UPDATE that changed nothing into
// ErrVersion, or into CodeNotFound when the row does not exist at all.
func versionCheck(res rawsql.Result, exists *rawsql.Stmt, id, what string) error {
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return err
	}
	ok, err := exists.Exists(id)
	switch {
	case err != nil:
		return err
	case !ok:
		return notFound(what)
	}
	return core.ErrVersion
}

// FindConversation returns the conversation with id.
func (s *Store) FindConversation(ctx context.Context, id string) (*core.Conversation, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find conversation: %w", errClosed())
	}
	c, err := scanConversation(s.r.findConversation.QueryRowContext(ctx, id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: find conversation: %w", noRows(err, "conversation"))
	}
	return c, nil
}

// FindOpenConversation returns the open conversation of a customer
// endpoint; the zero endpoint has none.
func (s *Store) FindOpenConversation(ctx context.Context, customer core.Endpoint) (*core.Conversation, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find open conversation: %w", errClosed())
	}
	c, err := s.hot.findOpenConversation(ctx, customer)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find open conversation: %w", err)
	}
	return c, nil
}

func scanConversation(sc scanner) (*core.Conversation, error) {
	var c core.Conversation
	var state string
	var created, updated int64
	err := sc.Scan(&c.ID, &c.Customer.Channel, &c.Customer.Address, &c.CustomerName,
		&c.Desk.Channel, &c.Desk.Address, &c.DeskThread, &c.Locale, &state, &created, &updated, &c.Version)
	if err != nil {
		return nil, err
	}
	c.State = core.ConversationState(state)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}
