// Package outbox delivers what assistbot's engine queues: links, alerts,
// card updates and relayed messages, each an entry the engine wrote in the
// same transaction as the change that made it.
//
// A Worker claims a batch of due deliveries under a lease, renews the
// lease while it works, and saves each outcome under the claim's token,
// so that a replica that lost its claim (a long pause, a lost database
// connection) has its save refused instead of overwriting another's.
// Deliveries to one recipient, and to one conversation's thread on a
// desk, go out in the order they were queued; different recipients are
// served at once. Failures are retried with exponential backoff, or when
// the platform's Retry-After says; a link whose code no longer opens is
// never sent.
package outbox
