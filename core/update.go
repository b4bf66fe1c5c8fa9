package core

// Update is published after every committed change: a session event, a
// delivery whose status changed, a message relayed, a conversation opened
// or closed.
type Update struct {
	// Session is the session after the change; nil for a delivery update
	// of a notice that belongs to no session.
	Session *Session
	// Event is the event the change recorded, if any.
	Event *Event
	// Delivery is the outbox entry the change created or updated, if any.
	Delivery *Delivery
	// Conversation is the conversation a message belongs to, or one that
	// was closed.
	Conversation *Conversation
	// Closer names who closed Conversation, on the update of its closing.
	Closer string
	// Message is a message added to a transcript.
	Message *Message
	// Heard marks an update another replica made, heard through the
	// store (Broadcaster): what is done once per change, such as a
	// note posted to a desk, is left to the replica that made it.
	Heard bool
}
