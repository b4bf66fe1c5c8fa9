package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/groupcommit"
	"github.com/assistbot/assistbot/adapters/store/sqlite/internal/rawsql"
	"github.com/assistbot/assistbot/core"
)

const insertMessageSQL = `INSERT INTO messages (conversation_seq, direction, author, text, at, source)
	VALUES (?, ?, ?, ?, ?, ?)`

// touchConversationSQL records activity without moving a conversation
// back in time or bumping its version: it is not a change to its fields.
const touchConversationSQL = `UPDATE conversations SET updated_at = max(updated_at, ?) WHERE seq = ?`

const findMessagesSQL = `SELECT m.seq, c.id, m.direction, m.author, m.text, m.at, m.source
	FROM messages m JOIN conversations c ON c.seq = m.conversation_seq
	WHERE c.id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?`

// findNewestMessagesSQL is findMessagesSQL for the newest: it reads them
// backwards along messages_conversation, then puts them in order.
const findNewestMessagesSQL = `SELECT * FROM (SELECT m.seq, c.id, m.direction, m.author, m.text, m.at, m.source
	FROM messages m JOIN conversations c ON c.seq = m.conversation_seq
	WHERE c.id = ? AND m.seq > ? ORDER BY m.seq DESC LIMIT ?) ORDER BY 1`

const findConversationByThreadSQL = `SELECT ` + conversationCols + ` FROM conversations
	WHERE desk_channel = ? AND desk_address = ? AND desk_thread = ? AND desk_thread <> ''`

const findConversationsSQL = `SELECT ` + conversationCols + ` FROM conversations
	WHERE (?1 = '' OR state = ?1) AND (?2 = '' OR desk_channel = ?2)
	ORDER BY updated_at DESC, id DESC LIMIT ?3`

// findOpenConversationsSQL is findConversationsSQL for the open ones,
// spelt as conversations_open_updated so that a page reads only them.
const findOpenConversationsSQL = `SELECT ` + conversationCols + ` FROM conversations
	WHERE state = 'open' AND (?1 = '' OR desk_channel = ?1)
	ORDER BY updated_at DESC, id DESC LIMIT ?2`

const setOptOutSQL = `INSERT INTO opt_outs (channel, address, at) VALUES (?, ?, ?)
	ON CONFLICT (channel, address) DO NOTHING`

const clearOptOutSQL = `DELETE FROM opt_outs WHERE channel = ? AND address = ?`

const optedOutSQL = `SELECT 1 FROM opt_outs WHERE channel = ? AND address = ?`

// AppendMessage adds a message to its conversation's transcript, with the
// conversation when it is new and the deliveries that relay it.
func (s *Store) AppendMessage(ctx context.Context, ch *core.MessageChange) error {
	if ch == nil || ch.Message == nil {
		return fmt.Errorf("sqlite: append message: %w", core.Errorf(core.CodeInvalid, "no message to save"))
	}
	if s.closed.Load() {
		return fmt.Errorf("sqlite: append message: %w", errClosed())
	}
	m := ch.Message
	if ch.Conversation != nil && ch.Conversation.ID != m.ConversationID {
		return fmt.Errorf("sqlite: append message: %w", core.Errorf(core.CodeInvalid,
			"message of conversation %q saved with conversation %q", m.ConversationID, ch.Conversation.ID))
	}
	var conv []driver.NamedValue
	var newConv *core.Conversation
	if ch.Conversation != nil {
		newConv, conv = ch.Conversation, conversationArgs(ch.Conversation)
	}
	deliveries := make([][]driver.NamedValue, len(ch.Deliveries))
	for i, d := range ch.Deliveries {
		if d == nil {
			return fmt.Errorf("sqlite: append message: %w", core.Errorf(core.CodeInvalid, "delivery %d is missing", i))
		}
		args, err := deliveryArgs(d)
		if err != nil {
			return fmt.Errorf("sqlite: append message: %w", err)
		}
		deliveries[i] = args
	}
	msg := rawsql.Named(int64(0), string(m.Direction), m.Author, m.Text, micros(m.At), m.Source)
	at := micros(m.At)
	var msgID int64
	ids := make([]int64, len(deliveries))
	err := s.w.Do(ctx, func(w *wconn) error {
		// Refusals first, before anything is written (see refusal).
		if m.Source != "" {
			if dup, err := w.msgSource.Exists(m.Source); err != nil {
				return err
			} else if dup {
				return groupcommit.Refuse(core.ErrDuplicate)
			}
		}
		var seq int64
		var err error
		if conv != nil {
			if newConv.State == core.ConversationOpen && !newConv.Customer.IsZero() {
				if taken, err := w.openTaken.Exists(newConv.Customer.Channel, newConv.Customer.Address, newConv.ID); err != nil {
					return err
				} else if taken {
					return groupcommit.Refuse(core.ErrOpenConversation)
				}
			}
			seq, err = w.insertConversation(newConv.ID, conv)
		} else {
			seq, err = w.conversationSeq(m.ConversationID)
			if core.ErrorCode(err) == core.CodeNotFound {
				return groupcommit.Refuse(err)
			}
			if err == nil && ch.Open {
				if _, open, err := w.openConvSeq.Returning(rawsql.Named(m.ConversationID)); err != nil {
					return err
				} else if !open {
					return groupcommit.Refuse(core.ErrConversationClosed)
				}
			}
		}
		if err != nil {
			return err
		}
		msg[0].Value = seq
		res, err := w.insMessage.Run(msg)
		if err != nil {
			return err
		}
		if msgID, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := w.touchConv.Do(at, seq); err != nil {
			return err
		}
		for i, args := range deliveries {
			if ids[i], err = w.insertDelivery(args); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: append message: %w", err)
	}
	m.ID = msgID
	if newConv != nil {
		newConv.Version = 1
	}
	for i, d := range ch.Deliveries {
		d.ID = ids[i]
	}
	return nil
}

// FindMessages returns messages of a conversation, oldest first.
func (s *Store) FindMessages(ctx context.Context, f core.MessageFilter) ([]*core.Message, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find messages: %w", errClosed())
	}
	find := s.r.findMessages
	if f.Newest {
		find = s.r.findNewestMessages
	}
	rows, err := find.QueryContext(ctx, f.ConversationID, f.AfterID, clampLimit(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: find messages: %w", err)
	}
	defer rows.Close()
	var out []*core.Message
	for rows.Next() {
		var m core.Message
		var dir string
		var at int64
		if err := rows.Scan(&m.ID, &m.ConversationID, &dir, &m.Author, &m.Text, &at, &m.Source); err != nil {
			return nil, fmt.Errorf("sqlite: find messages: %w", err)
		}
		m.Direction, m.At = core.Direction(dir), fromMicros(at)
		out = append(out, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find messages: %w", err)
	}
	return out, nil
}

// FindConversationByThread returns the conversation followed in thread
// under desk.
func (s *Store) FindConversationByThread(ctx context.Context, desk core.Endpoint, thread string) (*core.Conversation, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find conversation by thread: %w", errClosed())
	}
	c, err := scanConversation(s.r.findConversationByThread.QueryRowContext(ctx, desk.Channel, desk.Address, thread))
	if err != nil {
		return nil, fmt.Errorf("sqlite: find conversation by thread: %w", noRows(err, "conversation"))
	}
	return c, nil
}

// FindConversations returns the conversations matching f, most recently
// active first.
func (s *Store) FindConversations(ctx context.Context, f core.ConversationFilter) ([]*core.Conversation, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: find conversations: %w", errClosed())
	}
	var rows *sql.Rows
	var err error
	if f.State == core.ConversationOpen {
		rows, err = s.r.findOpenConversations.QueryContext(ctx, f.DeskChannel, clampLimit(f.Limit))
	} else {
		rows, err = s.r.findConversations.QueryContext(ctx, string(f.State), f.DeskChannel, clampLimit(f.Limit))
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: find conversations: %w", err)
	}
	defer rows.Close()
	var out []*core.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: find conversations: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: find conversations: %w", err)
	}
	return out, nil
}

// SetOptOut records whether ep asked to receive nothing more.
func (s *Store) SetOptOut(ctx context.Context, ep core.Endpoint, optedOut bool, at time.Time) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: set opt-out: %w", errClosed())
	}
	err := s.w.Do(ctx, func(w *wconn) error {
		if optedOut {
			return w.setOptOut.Do(ep.Channel, ep.Address, micros(at))
		}
		return w.clearOptOut.Do(ep.Channel, ep.Address)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set opt-out: %w", err)
	}
	return nil
}

// OptedOut reports whether ep asked to receive nothing more.
func (s *Store) OptedOut(ctx context.Context, ep core.Endpoint) (bool, error) {
	if s.closed.Load() {
		return false, fmt.Errorf("sqlite: opted out: %w", errClosed())
	}
	var one int
	switch err := s.r.optedOut.QueryRowContext(ctx, ep.Channel, ep.Address).Scan(&one); err {
	case nil:
		return true, nil
	case sql.ErrNoRows:
		return false, nil
	default:
		return false, fmt.Errorf("sqlite: opted out: %w", err)
	}
}
