package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const insertConversationSQL = `INSERT INTO conversations (` + conversationCols + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1)`

// updateConversationSQL is the optimistic update: it matches no row when
// the version the caller read is no longer the stored one.
const updateConversationSQL = `UPDATE conversations SET customer_channel = $3,
	customer_address = $4, customer_name = $5, desk_channel = $6, desk_address = $7,
	desk_thread = $8, locale = $9, state = $10, created_at = $11, updated_at = $12,
	version = version + 1
	WHERE id = $1 AND version = $2`

const conversationExistsSQL = `SELECT EXISTS (SELECT 1 FROM conversations WHERE id = $1)`

const findConversationSQL = `SELECT ` + conversationCols + ` FROM conversations WHERE id = $1`

// findOpenConversationSQL is spelt as the partial index
// conversations_open_customer, so that the planner uses it.
const findOpenConversationSQL = `SELECT ` + conversationCols + ` FROM conversations
	WHERE customer_channel = $1 AND customer_address = $2
	AND state = 'open' AND (customer_channel <> '' OR customer_address <> '')`

const findConversationByThreadSQL = `SELECT ` + conversationCols + ` FROM conversations
	WHERE desk_channel = $1 AND desk_address = $2 AND desk_thread = $3 AND desk_thread <> ''`

// conversationArgs returns the arguments of insertConversationSQL.
func conversationArgs(c *core.Conversation) []any {
	return []any{c.ID, c.Customer.Channel, c.Customer.Address, c.CustomerName,
		c.Desk.Channel, c.Desk.Address, c.DeskThread, c.Locale, string(c.State),
		ts(c.CreatedAt), ts(c.UpdatedAt)}
}

// CreateConversation inserts c with Version 1.
func (s *Store) CreateConversation(ctx context.Context, c *core.Conversation) error {
	if c == nil {
		return fmt.Errorf("postgres: create conversation: %w", core.Errorf(core.CodeInvalid, "no conversation"))
	}
	args := conversationArgs(c)
	err := s.withConn(ctx, func(conn *pgxpool.Conn) error {
		_, err := conn.Exec(ctx, insertConversationSQL, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: create conversation: %w", constraintErr(err, keys{conversation: c.ID}))
	}
	c.Version = 1
	return nil
}

// UpdateConversation saves c if its Version is the stored one, and bumps
// it.
func (s *Store) UpdateConversation(ctx context.Context, c *core.Conversation) error {
	if c == nil {
		return fmt.Errorf("postgres: update conversation: %w", core.Errorf(core.CodeInvalid, "no conversation"))
	}
	args := []any{c.ID, c.Version, c.Customer.Channel, c.Customer.Address, c.CustomerName,
		c.Desk.Channel, c.Desk.Address, c.DeskThread, c.Locale, string(c.State),
		ts(c.CreatedAt), ts(c.UpdatedAt)}
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, updateConversationSQL, args...)
		if err != nil {
			return constraintErr(err, keys{conversation: c.ID})
		}
		if tag.RowsAffected() > 0 {
			return nil
		}
		return versionErr(ctx, tx, conversationExistsSQL, c.ID, "conversation")
	})
	if err != nil {
		return fmt.Errorf("postgres: update conversation: %w", err)
	}
	c.Version++
	return nil
}

// versionErr explains an optimistic update that matched no row: the row
// is gone (CodeNotFound) or changed since it was read (ErrVersion).
func versionErr(ctx context.Context, tx pgx.Tx, existsSQL, id, what string) error {
	var ok bool
	if err := tx.QueryRow(ctx, existsSQL, id).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return notFound(what)
	}
	return core.ErrVersion
}

// FindConversation returns the conversation with id.
func (s *Store) FindConversation(ctx context.Context, id string) (*core.Conversation, error) {
	c, err := s.findConversation(ctx, findConversationSQL, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: find conversation: %w", err)
	}
	return c, nil
}

// FindOpenConversation returns the open conversation of a customer
// endpoint; the zero endpoint has none.
func (s *Store) FindOpenConversation(ctx context.Context, customer core.Endpoint) (*core.Conversation, error) {
	c, err := s.findConversation(ctx, findOpenConversationSQL, customer.Channel, customer.Address)
	if err != nil {
		return nil, fmt.Errorf("postgres: find open conversation: %w", err)
	}
	return c, nil
}

// FindConversationByThread returns the conversation followed in thread
// under desk; the empty thread names none.
func (s *Store) FindConversationByThread(ctx context.Context, desk core.Endpoint, thread string) (*core.Conversation, error) {
	c, err := s.findConversation(ctx, findConversationByThreadSQL, desk.Channel, desk.Address, thread)
	if err != nil {
		return nil, fmt.Errorf("postgres: find conversation by thread: %w", err)
	}
	return c, nil
}

// findConversation runs a query for at most one conversation.
func (s *Store) findConversation(ctx context.Context, q string, args ...any) (*core.Conversation, error) {
	var c *core.Conversation
	err := s.withConn(ctx, func(conn *pgxpool.Conn) error {
		var err error
		c, err = scanConversation(conn.QueryRow(ctx, q, args...))
		return err
	})
	return c, noRows(err, "conversation")
}

// FindConversations returns the conversations matching f, most recently
// active first.
func (s *Store) FindConversations(ctx context.Context, f core.ConversationFilter) ([]*core.Conversation, error) {
	q, args := findConversationsSQL(f)
	var out []*core.Conversation
	err := s.withConn(ctx, func(conn *pgxpool.Conn) error {
		rows, err := conn.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanConversation)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find conversations: %w", err)
	}
	return out, nil
}

// findConversationsSQL returns the query of FindConversations for f, and
// its arguments.
func findConversationsSQL(f core.ConversationFilter) (string, []any) {
	var where []string
	var args []any
	if f.State == core.ConversationOpen {
		// Spelt as conversations_open_updated, so that a page reads only
		// the open conversations, however many are closed.
		where = append(where, "state = 'open'")
		f.State = ""
	}
	for _, c := range []struct{ col, val string }{
		{"state", string(f.State)},
		{"desk_channel", f.DeskChannel},
	} {
		if c.val != "" {
			args = append(args, c.val)
			where = append(where, c.col+" = $"+strconv.Itoa(len(args)))
		}
	}
	q := "SELECT " + conversationCols + " FROM conversations"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, clampLimit(f.Limit))
	q += " ORDER BY updated_at DESC NULLS LAST, id DESC LIMIT $" + strconv.Itoa(len(args))
	return q, args
}
