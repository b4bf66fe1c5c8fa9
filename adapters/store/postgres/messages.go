package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/assistbot/assistbot/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// touchConversationSQL records activity without moving a conversation
// back in time or bumping its version: it is not a change to its fields.
// It also locks the conversation's row until commit, before the message
// draws its id: two replicas appending to one conversation then commit
// its messages in id order, so a reader following the transcript by
// AfterID never skips one that commits late.
const touchConversationSQL = `UPDATE conversations SET updated_at = greatest(updated_at, $2) WHERE id = $1`

const insertMessageSQL = `INSERT INTO messages (conversation_id, direction, author, text, at, source)
	VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`

// insertOpenMessageSQL is insertMessageSQL for a conversation that must
// still be open: into a closed (or missing) one, its conversation_id is
// NULL, which the column refuses, and the whole batch rolls back. The
// touch before it holds the conversation's row, so a close cannot slip
// in between.
const insertOpenMessageSQL = `INSERT INTO messages (conversation_id, direction, author, text, at, source)
	VALUES ((SELECT id FROM conversations WHERE id = $1 AND state = 'open'), $2, $3, $4, $5, $6) RETURNING id`

const findMessagesSQL = `SELECT id, conversation_id, direction, author, text, at, source
	FROM messages WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT $3`

// findNewestMessagesSQL is findMessagesSQL for the newest: it reads them
// backwards along messages_conversation, then puts them in order.
const findNewestMessagesSQL = `SELECT * FROM (SELECT id, conversation_id, direction, author, text, at, source
	FROM messages WHERE conversation_id = $1 AND id > $2 ORDER BY id DESC LIMIT $3) newest ORDER BY id`

const setOptOutSQL = `INSERT INTO opt_outs (channel, address, at) VALUES ($1, $2, $3)
	ON CONFLICT (channel, address) DO NOTHING`

const clearOptOutSQL = `DELETE FROM opt_outs WHERE channel = $1 AND address = $2`

const optedOutSQL = `SELECT EXISTS (SELECT 1 FROM opt_outs WHERE channel = $1 AND address = $2)`

// AppendMessage adds a message to its conversation's transcript, with the
// conversation when it is new and the deliveries that relay it, in one
// transaction.
func (s *Store) AppendMessage(ctx context.Context, ch *core.MessageChange) error {
	if ch == nil || ch.Message == nil {
		return fmt.Errorf("postgres: append message: %w", core.Errorf(core.CodeInvalid, "no message to save"))
	}
	m := ch.Message
	if ch.Conversation != nil && ch.Conversation.ID != m.ConversationID {
		return fmt.Errorf("postgres: append message: %w", core.Errorf(core.CodeInvalid,
			"message of conversation %q saved with conversation %q", m.ConversationID, ch.Conversation.ID))
	}
	// What customers write reaches the database here. PostgreSQL cannot
	// store a NUL character, and in the simple query protocol one breaks
	// the statement itself: refuse it first, the same in every mode.
	text := []string{m.Text, m.Author, m.Source}
	if ch.Conversation != nil {
		text = append(text, ch.Conversation.CustomerName)
	}
	for _, t := range text {
		if strings.IndexByte(t, 0) >= 0 {
			return fmt.Errorf("postgres: append message: %w", errNUL())
		}
	}
	var stmts []stmt
	if ch.Conversation != nil {
		stmts = append(stmts, stmt{insertConversationSQL, conversationArgs(ch.Conversation)})
	}
	insert := insertMessageSQL
	if ch.Open && ch.Conversation == nil {
		insert = insertOpenMessageSQL
	}
	stmts = append(stmts,
		stmt{touchConversationSQL, []any{m.ConversationID, ts(m.At)}},
		stmt{insert, []any{m.ConversationID, string(m.Direction), m.Author, m.Text, ts(m.At), m.Source}})
	for i, d := range ch.Deliveries {
		if d == nil {
			return fmt.Errorf("postgres: append message: %w", core.Errorf(core.CodeInvalid, "delivery %d is missing", i))
		}
		args, err := deliveryArgs(d)
		if err != nil {
			return fmt.Errorf("postgres: append message: %w", err)
		}
		stmts = append(stmts, stmt{insertDeliverySQL, args})
	}
	// The message's id, then the deliveries'. An unknown conversation
	// touches no row and then fails the message's foreign key; a source
	// recorded before fails messages_source: either way the transaction
	// rolls back and writes nothing.
	ids := make([]int64, 1+len(ch.Deliveries))
	err := s.withBatch(ctx, func(c batcher) error {
		return sendBatch(ctx, c, stmts, ids)
	})
	if isNotNull(err, "messages") && insert == insertOpenMessageSQL {
		// No open conversation: it is closed, or is not there.
		err = s.withConn(ctx, func(c *pgxpool.Conn) error {
			var exists bool
			if err := c.QueryRow(ctx, conversationExistsSQL, m.ConversationID).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return notFound("conversation")
			}
			return core.ErrConversationClosed
		})
	}
	if err != nil {
		return fmt.Errorf("postgres: append message: %w", constraintErr(err, keys{conversation: m.ConversationID}))
	}
	m.ID = ids[0]
	if ch.Conversation != nil {
		ch.Conversation.Version = 1
	}
	for i, d := range ch.Deliveries {
		d.ID = ids[1+i]
	}
	return nil
}

// FindMessages returns messages of a conversation, oldest first.
func (s *Store) FindMessages(ctx context.Context, f core.MessageFilter) ([]*core.Message, error) {
	var out []*core.Message
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		find := findMessagesSQL
		if f.Newest {
			find = findNewestMessagesSQL
		}
		rows, err := c.Query(ctx, find, f.ConversationID, f.AfterID, clampLimit(f.Limit))
		if err != nil {
			return err
		}
		out, err = collect(rows, func(row pgx.Row) (*core.Message, error) {
			var m core.Message
			var dir string
			var at *time.Time
			if err := row.Scan(&m.ID, &m.ConversationID, &dir, &m.Author, &m.Text, &at, &m.Source); err != nil {
				return nil, err
			}
			m.Direction, m.At = core.Direction(dir), fromTS(at)
			return &m, nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: find messages: %w", err)
	}
	return out, nil
}

// SetOptOut records whether ep asked to receive nothing more. Opting out
// again keeps the time of the first request.
func (s *Store) SetOptOut(ctx context.Context, ep core.Endpoint, optedOut bool, at time.Time) error {
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		var err error
		if optedOut {
			_, err = c.Exec(ctx, setOptOutSQL, ep.Channel, ep.Address, ts(at))
		} else {
			_, err = c.Exec(ctx, clearOptOutSQL, ep.Channel, ep.Address)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: set opt-out: %w", constraintErr(err, keys{}))
	}
	return nil
}

// OptedOut reports whether ep asked to receive nothing more.
func (s *Store) OptedOut(ctx context.Context, ep core.Endpoint) (bool, error) {
	var out bool
	err := s.withConn(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, optedOutSQL, ep.Channel, ep.Address).Scan(&out)
	})
	if err != nil {
		return false, fmt.Errorf("postgres: opted out: %w", err)
	}
	return out, nil
}
